"""One rpm header as rpm's database stores it: the tag index and the data store it points into.

A stored header has no lead magic: ``il`` (index entries) and ``dl`` (data bytes), both
big-endian uint32, then ``il`` 16-byte entries (tag, type, offset, count), then ``dl`` bytes of
data. The first entry is usually the immutable region (tag 63), whose data is a copy of an index
entry marking which entries came from the package file; the entries after it were added on
install. rpm lets those added entries replace region entries of the same tag, so the last entry
of a tag wins here too.

Headers come from untrusted images: every offset and count is checked against ``il`` and
``dl`` before anything is read or allocated, with rpm's own limits, and reading one tag takes
time and memory linear in the header's size."""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

# rpm's hdrchkTags / hdrchkData limits.
MAX_INDEX_ENTRIES = 0xFFFF
MAX_DATA_BYTES = 0x0FFFFFFF

_PREAMBLE = struct.Struct(">II")
_ENTRY = struct.Struct(">iiii")
# Tags that describe the header's own layout rather than the package.
_REGION_TAGS = frozenset({61, 62, 63})


class Tag(enum.IntEnum):
    """The rpmtag.h numbers the rpm cataloger reads."""

    NAME = 1000
    VERSION = 1001
    RELEASE = 1002
    EPOCH = 1003
    ARCH = 1022
    OLDFILENAMES = 1027
    PROVIDENAME = 1047
    REQUIREFLAGS = 1048
    REQUIRENAME = 1049
    DIRINDEXES = 1116
    BASENAMES = 1117
    DIRNAMES = 1118
    RECOMMENDNAME = 5046


class Type(enum.IntEnum):
    NULL = 0
    CHAR = 1
    INT8 = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    STRING = 6
    BIN = 7
    STRING_ARRAY = 8
    I18NSTRING = 9


_INTEGER_FORMATS = {
    Type.CHAR: "B",
    Type.INT8: "B",
    Type.INT16: "H",
    Type.INT32: "I",
    Type.INT64: "Q",
}
_STRING_TYPES = frozenset({Type.STRING, Type.STRING_ARRAY, Type.I18NSTRING})


class HeaderError(ValueError):
    """A header rpm itself would refuse to load; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class _Entry:
    type: Type
    offset: int
    count: int


class RpmHeader:
    """The entries of one header, decoded on demand. Accessors raise HeaderError when the entry
    of the tag asked for is malformed or of an unexpected type; an absent tag is empty."""

    def __init__(self, blob: bytes) -> None:
        index_count, data_length = _preamble(blob)
        self._blob = blob
        self._base = _PREAMBLE.size + index_count * _ENTRY.size  # where the data starts
        self._data_length = data_length
        self._entries = _index(blob, index_count, data_length)

    def __contains__(self, tag: int) -> bool:
        return tag in self._entries

    def string(self, tag: int) -> str | None:
        """A STRING entry (or the first string of an I18NSTRING one); None if absent."""
        entry = self._entries.get(tag)
        if entry is None:
            return None
        if entry.type not in (Type.STRING, Type.I18NSTRING):
            raise HeaderError(f"tag {tag}: type {entry.type.name} where a string was expected")
        return self._strings(tag, entry)[0]

    def strings(self, tag: int) -> tuple[str, ...]:
        """A STRING_ARRAY (or STRING, I18NSTRING) entry's strings; empty if absent."""
        entry = self._entries.get(tag)
        if entry is None:
            return ()
        if entry.type not in _STRING_TYPES:
            raise HeaderError(f"tag {tag}: type {entry.type.name} where strings were expected")
        return tuple(self._strings(tag, entry))

    def integers(self, tag: int) -> tuple[int, ...]:
        """An integer entry's values, unsigned as rpm reads them; empty if absent."""
        entry = self._entries.get(tag)
        if entry is None:
            return ()
        code = _INTEGER_FORMATS.get(entry.type)
        if code is None:
            raise HeaderError(f"tag {tag}: type {entry.type.name} where integers were expected")
        if entry.offset + entry.count * struct.calcsize(code) > self._data_length:
            raise HeaderError(f"tag {tag}: {entry.count} values overrun the data")
        return struct.unpack_from(f">{entry.count}{code}", self._blob, self._base + entry.offset)

    def integer(self, tag: int) -> int | None:
        """The first value of an integer entry; None if absent."""
        values = self.integers(tag)
        return values[0] if values else None

    def _strings(self, tag: int, entry: _Entry) -> list[str]:
        # Each string takes at least its NUL, so a count the data cannot hold fails up front.
        if entry.offset + entry.count > self._data_length:
            raise HeaderError(f"tag {tag}: {entry.count} strings overrun the data")
        rest = self._blob[self._base + entry.offset :]
        parts = rest.split(b"\0", entry.count)
        if len(parts) <= entry.count:
            raise HeaderError(f"tag {tag}: string not terminated inside the data")
        return [part.decode("utf-8", "surrogateescape") for part in parts[: entry.count]]


def _preamble(blob: bytes) -> tuple[int, int]:
    if len(blob) < _PREAMBLE.size:
        raise HeaderError(f"{len(blob)} bytes, too short for a header")
    index_count, data_length = _PREAMBLE.unpack_from(blob)
    if not 1 <= index_count <= MAX_INDEX_ENTRIES:
        raise HeaderError(f"{index_count} index entries")
    if data_length > MAX_DATA_BYTES:
        raise HeaderError(f"{data_length} data bytes")
    expected = _PREAMBLE.size + index_count * _ENTRY.size + data_length
    if len(blob) != expected:
        raise HeaderError(
            f"{len(blob)} bytes where il={index_count} dl={data_length} make {expected}"
        )
    return index_count, data_length


def _index(blob: bytes, index_count: int, data_length: int) -> dict[int, _Entry]:
    entries: dict[int, _Entry] = {}
    for number in range(index_count):
        tag, type_code, offset, count = _ENTRY.unpack_from(
            blob, _PREAMBLE.size + number * _ENTRY.size
        )
        if tag in _REGION_TAGS:
            if number == 0:
                _check_region(blob, (tag, type_code, offset, count), index_count, data_length)
            continue
        entry = _checked_entry(tag, type_code, offset, count, data_length)
        if entry is not None:
            entries[tag] = entry
    return entries


def _check_region(
    blob: bytes, entry: tuple[int, int, int, int], index_count: int, data_length: int
) -> None:
    """The region entry points at a trailer: a copy of itself whose offset is minus the size of
    the index entries the region covers (old packages name HEADERIMAGE there instead)."""
    tag, type_code, offset, count = entry
    if type_code != Type.BIN or count != _ENTRY.size or not 0 <= offset <= data_length - count:
        raise HeaderError(f"region tag {tag}: type {type_code} offset {offset} count {count}")
    base = _PREAMBLE.size + index_count * _ENTRY.size
    trailer_tag, _type, trailer_offset, _count = _ENTRY.unpack_from(blob, base + offset)
    covered = -trailer_offset // _ENTRY.size
    if (
        trailer_tag not in _REGION_TAGS
        or trailer_offset % _ENTRY.size
        or not 1 <= covered <= index_count
    ):
        raise HeaderError(f"region tag {tag}: trailer offset {trailer_offset}")


def _checked_entry(
    tag: int, type_code: int, offset: int, count: int, data_length: int
) -> _Entry | None:
    """The entry if its fields are sane (rpm's hdrchkType, hdrchkAlign, hdrchkRange,
    hdrchkData); None for a NULL entry, which holds nothing."""
    if not Type.NULL <= type_code <= Type.I18NSTRING:
        raise HeaderError(f"tag {tag}: unknown type {type_code}")
    kind = Type(type_code)
    if kind is Type.NULL:
        return None
    if not 0 <= offset < data_length:
        raise HeaderError(f"tag {tag}: offset {offset} outside {data_length} data bytes")
    if not 1 <= count <= MAX_DATA_BYTES:
        raise HeaderError(f"tag {tag}: count {count}")
    if kind is Type.STRING and count != 1:
        raise HeaderError(f"tag {tag}: STRING with count {count}")
    code = _INTEGER_FORMATS.get(kind)
    if code is not None and offset % struct.calcsize(code):
        raise HeaderError(f"tag {tag}: offset {offset} misaligned for {kind.name}")
    return _Entry(kind, offset, count)
