"""Tar containers (docker-archive, oci-archive): one pass over the headers builds an index of
members, then members are read by seeking. Member order is never assumed."""

from __future__ import annotations

import contextlib
import os
import posixpath

from bloatscope.reader.tarfields import NotTarError
from bloatscope.reader.tarstream import FileWindow, TarWalker
from bloatscope.sources.base import BlobRef, BlobStore, SourceError, require_file

_MAX_LINK_HOPS = 8


class TarArchiveStore(BlobStore):
    """A tar file on disk (possibly a spooled copy of a compressed one)."""

    def __init__(self, path: str, label: str | None = None, cleanup: bool = False) -> None:
        require_file(path)
        self.path = path
        self.label = label or path
        self._cleanup = cleanup
        self._files: dict[str, tuple[int, int]] = {}
        self._links: dict[str, str] = {}
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            walker = TarWalker(FileWindow(fd, 0, size), self.label)
            self._index(walker)
        except NotTarError:
            raise SourceError(
                "is not an image (neither a tar, nor a gzip or zstd file, nor a directory)",
                path=self.label,
            ) from None
        finally:
            os.close(fd)
        self._names = frozenset(self._files) | frozenset(
            name for name in self._links if self._resolve(name) is not None
        )

    def _index(self, walker: TarWalker) -> None:
        for name, typeflag, member_size, _m, _u, _g, link, offset, _p in walker.members():
            key = _clean(name.decode("utf-8", "surrogateescape"))
            if typeflag in (0x30, 0x37):
                self._files[key] = (offset, member_size)
                self._links.pop(key, None)
            elif typeflag == 0x32:  # symlink: relative to the member's directory
                target = link.decode("utf-8", "surrogateescape")
                self._links[key] = _clean(posixpath.join(posixpath.dirname(key), target))
            elif typeflag == 0x31:  # hardlink: relative to the archive root
                self._links[key] = _clean(link.decode("utf-8", "surrogateescape"))

    def names(self) -> frozenset[str]:
        return self._names

    def _resolve(self, name: str) -> str | None:
        for _ in range(_MAX_LINK_HOPS):
            if name in self._files:
                return name
            if name not in self._links:
                return None
            name = self._links[name]
        return None

    def locate(self, name: str) -> BlobRef:
        real = self._resolve(_clean(name))
        if real is None:
            raise SourceError(f"names {name}, which the archive does not contain", path=self.label)
        offset, size = self._files[real]
        return BlobRef(self.path, offset, size, f"{self.label}: {name}")

    def close(self) -> None:
        if self._cleanup:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def _clean(name: str) -> str:
    normal = posixpath.normpath("/" + name).lstrip("/")
    if normal.startswith("../") or normal == "..":
        raise SourceError(f"archive member {name!r} points outside the archive")
    return normal
