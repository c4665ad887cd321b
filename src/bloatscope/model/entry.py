"""One entry of a layer tar, as read from its header: the unit every analysis works on."""

from __future__ import annotations

import enum
from typing import NamedTuple

# Go's os.FileMode bits, which dive writes as `fileMode` and compares entries by.
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_DEVICE = 1 << 26
GO_MODE_NAMED_PIPE = 1 << 25
GO_MODE_SOCKET = 1 << 24
GO_MODE_SETUID = 1 << 23
GO_MODE_SETGID = 1 << 22
GO_MODE_CHAR_DEVICE = 1 << 21
GO_MODE_STICKY = 1 << 20


class EntryType(enum.IntEnum):
    """The tar typeflag byte, normalized the way Go's archive/tar reports it."""

    FILE = ord("0")
    HARDLINK = ord("1")
    SYMLINK = ord("2")
    CHAR = ord("3")
    BLOCK = ord("4")
    DIR = ord("5")
    FIFO = ord("6")


class FileEntry(NamedTuple):
    """A layer entry. A NamedTuple because layers hold hundreds of thousands of them.

    ``path`` is normalized (no leading ``/`` or ``./``, no ``..``) and decoded with
    surrogateescape, so non-UTF-8 names round-trip to their original bytes.
    ``mode`` is the raw header mode (type bits included, as Go tar writers emit them).
    ``digest`` is an xxh3-64 of the content when it was needed (see reader.hashing), else None.
    """

    path: str
    typeflag: int
    size: int
    mode: int
    uid: int
    gid: int
    linkname: str
    offset: int
    digest: int | None = None

    @property
    def is_dir(self) -> bool:
        return self.typeflag == EntryType.DIR


def go_file_mode(mode: int, typeflag: int) -> int:
    """The os.FileMode that Go's tar Header.FileInfo().Mode() derives: bits, specials, type."""
    result = mode & 0o777
    if mode & 0o4000:
        result |= GO_MODE_SETUID
    if mode & 0o2000:
        result |= GO_MODE_SETGID
    if mode & 0o1000:
        result |= GO_MODE_STICKY
    type_bits = mode & ~0o7777 & 0o170000
    result |= _TYPE_BITS_TO_GO.get(type_bits, 0)
    result |= _TYPEFLAG_TO_GO.get(typeflag, 0)
    return result


_TYPE_BITS_TO_GO: dict[int, int] = {
    0o040000: GO_MODE_DIR,
    0o010000: GO_MODE_NAMED_PIPE,
    0o120000: GO_MODE_SYMLINK,
    0o060000: GO_MODE_DEVICE,
    0o020000: GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE,
    0o140000: GO_MODE_SOCKET,
}
_TYPEFLAG_TO_GO: dict[int, int] = {
    EntryType.SYMLINK: GO_MODE_SYMLINK,
    EntryType.CHAR: GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE,
    EntryType.BLOCK: GO_MODE_DEVICE,
    EntryType.DIR: GO_MODE_DIR,
    EntryType.FIFO: GO_MODE_NAMED_PIPE,
}
