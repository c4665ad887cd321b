"""Writing a file of one layer, or a directory's files as the layer has them, to local disk.

Names from an image are untrusted. Entry paths are already normalized by the reader (no
``..``, no leading ``/``), and every name is checked again here before it is used; every
directory below the destination is opened with ``O_NOFOLLOW`` relative to its parent, and
every file is created with ``O_EXCL | O_NOFOLLOW``, so nothing is written through a symlink
that is already in the destination, and nothing outside it. Symlinks, devices and whiteouts
are never created: they are listed as skipped. Files get the permission bits the layer gives
them, never setuid, setgid or sticky, and no owner. An existing file is replaced only when
asked, and then by renaming a finished copy over it (a symlink there is replaced, not
followed).
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from bloatscope.errors import BloatscopeError
from bloatscope.model.entry import EntryType, FileEntry
from bloatscope.reader.file_content import FileContentError, LayerFiles
from bloatscope.reader.layer import normalize_path

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIRECTORIES = 64  # directory descriptors kept while writing a tree


class ExtractError(BloatscopeError):
    """The destination cannot take the files as asked (it exists, or a name is refused)."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """What an extraction did: the local files written, and each entry left out and why."""

    written: tuple[str, ...]
    skipped: tuple[str, ...]
    bytes_written: int


def extract(
    files: LayerFiles,
    layer_index: int,
    path: str,
    destination: str,
    *,
    overwrite: bool = False,
) -> Extracted:
    """Writes ``path`` as layer ``layer_index`` has it, as ``cp -r`` would: into
    ``destination`` under its own name when that is an existing directory, else as
    ``destination`` (whose parent must exist). A directory brings the regular files (hardlinks
    as copies) and directories that the layer has beneath it; ``/`` brings the whole layer."""
    key = normalize_path(path.encode("utf-8", "surrogateescape"))
    name = key.rpartition("/")[2]
    if files.is_directory(layer_index, key):
        listing = ((layer_index, entry) for entry in files.under(layer_index, key))
        return _extract_directory(files, listing, key, destination, overwrite)
    source_layer, entry = files.regular_entry(layer_index, key)
    if os.path.isdir(destination):
        anchor, target = destination, name
    else:
        anchor, target = os.path.dirname(destination) or ".", os.path.basename(destination)
        if not target:
            raise ExtractError("names no file to write", path=destination)
    fd = _open_anchor(anchor)
    try:
        size = _write_file(
            files,
            source_layer,
            entry,
            dir_fd=fd,
            name=target,
            shown_dir=anchor,
            overwrite=overwrite,
        )
    finally:
        os.close(fd)
    return Extracted((os.path.join(anchor, target),), (), size)


def extract_listing(
    files: LayerFiles,
    path: str,
    listing: Iterable[tuple[int, FileEntry]],
    destination: str,
    *,
    overwrite: bool = False,
) -> Extracted:
    """Writes the directory ``path`` as ``listing`` has it: (layer, entry) pairs beneath it,
    each entry read from its own layer. A file tree's view of a directory mixes layers (each
    path as the last layer to write it left it); ``extract`` gives one layer's alone."""
    key = normalize_path(path.encode("utf-8", "surrogateescape"))
    return _extract_directory(files, listing, key, destination, overwrite)


def _extract_directory(
    files: LayerFiles,
    listing: Iterable[tuple[int, FileEntry]],
    key: str,
    destination: str,
    overwrite: bool,
) -> Extracted:
    top: tuple[str, ...] = ()
    if os.path.isdir(destination):
        if key:
            top = (_checked_name(key.rpartition("/")[2], key),)
    elif os.path.lexists(destination):
        raise ExtractError("exists and is not a directory", path=destination)
    else:
        try:
            os.mkdir(destination, 0o755)
        except OSError as exc:
            raise ExtractError(f"cannot create it: {exc.strerror}", path=destination) from None
    prefix = len(key) + 1 if key else 0
    plan: list[tuple[tuple[str, ...], int, FileEntry]] = []
    skipped: list[str] = []
    directories: list[tuple[str, ...]] = [top] if top else []
    for layer_index, entry in listing:
        parts = top + tuple(_checked_name(p, entry.path) for p in entry.path[prefix:].split("/"))
        reason = _left_out(entry)
        if reason:
            skipped.append(reason)
        elif entry.typeflag == EntryType.DIR:
            directories.append(parts)
        else:
            plan.append((parts, layer_index, entry))
    sources = []
    for parts, layer_index, entry in plan:
        try:
            sources.append((parts, *files.regular_entry(layer_index, entry.path)))
        except FileContentError as exc:  # a dangling hardlink, say: the rest still comes out
            skipped.append(str(exc))
    if not overwrite:
        for parts, _layer, _entry in sources:
            shown = os.path.join(destination, *parts)
            if os.path.lexists(shown):
                raise ExtractError("exists; not overwritten", path=shown)
    # in blob order, so that a compressed layer is decoded once, front to back
    sources.sort(key=lambda item: (item[1], item[2].offset))
    tree = _Tree(destination)
    written = []
    total = 0
    try:
        for parts in directories:
            tree.directory(parts)
        for parts, source_layer, entry in sources:
            fd = tree.directory(parts[:-1])
            total += _write_file(
                files,
                source_layer,
                entry,
                dir_fd=fd,
                name=parts[-1],
                shown_dir=tree.shown(parts[:-1]),
                overwrite=overwrite,
            )
            written.append(tree.shown(parts))
    finally:
        tree.close()
    return Extracted(tuple(written), tuple(skipped), total)


def _left_out(entry: FileEntry) -> str:
    """Why an entry is not written ("" if it is)."""
    name = entry.path.rpartition("/")[2]
    if name.startswith(".wh."):
        return f"/{entry.path}: a whiteout"
    if entry.typeflag == EntryType.SYMLINK:
        return f"/{entry.path}: a symlink to {entry.linkname}"
    if entry.typeflag in (EntryType.FILE, 0x37, EntryType.HARDLINK, EntryType.DIR):
        return ""
    return f"/{entry.path}: not a regular file"


def _checked_name(name: str, path: str) -> str:
    """One path component from the image, refused unless it is a plain name."""
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise ExtractError(f"refusing the name {name!r} in /{path}")
    return name


def _open_anchor(path: str) -> int:
    """The directory the user named, which may itself be a symlink: the user chose it."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ExtractError(f"cannot open the directory: {exc.strerror}", path=path) from None


class _Tree:
    """Directories below a destination, created as needed and opened without following
    symlinks; descriptors are kept for the directories in use."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._fds: dict[tuple[str, ...], int] = {(): _open_anchor(root)}

    def shown(self, parts: tuple[str, ...]) -> str:
        return os.path.join(self._root, *parts)

    def directory(self, parts: tuple[str, ...]) -> int:
        fd = self._fds.get(parts)
        if fd is not None:
            return fd
        parent = self.directory(parts[:-1])
        name = parts[-1]
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ExtractError(f"cannot create: {exc.strerror}", path=self.shown(parts)) from None
        try:
            fd = os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise ExtractError(
                    "is a symlink or not a directory; not followed", path=self.shown(parts)
                ) from None
            raise ExtractError(f"cannot open: {exc.strerror}", path=self.shown(parts)) from None
        if len(self._fds) >= _OPEN_DIRECTORIES:
            self._forget(keep=parts)
        self._fds[parts] = fd
        return fd

    def _forget(self, keep: tuple[str, ...]) -> None:
        """Closes the descriptors that are not the root or an ancestor of ``keep``."""
        for parts in list(self._fds):
            if parts and parts != keep[: len(parts)]:
                os.close(self._fds.pop(parts))

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def _write_file(
    files: LayerFiles,
    layer_index: int,
    entry: FileEntry,
    *,
    dir_fd: int,
    name: str,
    shown_dir: str,
    overwrite: bool,
) -> int:
    """Writes the entry's content as ``name`` in ``dir_fd``; returns the bytes written."""
    shown = os.path.join(shown_dir, name)
    # a new name for the copy when replacing, so that a failure leaves the old file whole
    temporary = f".bloatscope-{secrets.token_hex(8)}.part" if overwrite else name
    try:
        fd = os.open(temporary, _CREATE_FLAGS, 0o600, dir_fd=dir_fd)
    except FileExistsError:
        raise ExtractError("exists; not overwritten", path=shown) from None
    except OSError as exc:
        raise ExtractError(f"cannot create: {exc.strerror}", path=shown) from None
    try:
        with open(fd, "wb", closefd=False) as out:
            size = files.copy(layer_index, entry, out.write)
        os.fchmod(fd, entry.mode & 0o777)
        os.close(fd)
        fd = -1
        if overwrite:
            os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException as exc:
        if fd >= 0:
            os.close(fd)
        os.unlink(temporary, dir_fd=dir_fd)
        if isinstance(exc, OSError):
            raise ExtractError(f"cannot write: {exc.strerror}", path=shown) from None
        raise
    return size
