"""An OCI image layout directory: files are read in place."""

from __future__ import annotations

import os

from bloatscope.sources.base import BlobRef, BlobStore, SourceError


class DirectoryStore(BlobStore):
    """A directory on disk; names are relative paths that may not leave it."""

    def __init__(self, path: str) -> None:
        if not os.path.isdir(path):
            raise SourceError("not a directory", path=path)
        self.path = os.path.realpath(path)
        self.label = path
        self._names: frozenset[str] | None = None

    def _full(self, name: str) -> str:
        full = os.path.realpath(os.path.join(self.path, name))
        if not full.startswith(self.path + os.sep):
            raise SourceError(f"{name!r} points outside the layout", path=self.label)
        return full

    def names(self) -> frozenset[str]:
        if self._names is None:
            found = set()
            for root, _dirs, files in os.walk(self.path):
                for file in files:
                    found.add(os.path.relpath(os.path.join(root, file), self.path))
            self._names = frozenset(found)
        return self._names

    def has(self, name: str) -> bool:
        return os.path.isfile(self._full(name))

    def locate(self, name: str) -> BlobRef:
        full = self._full(name)
        try:
            size = os.stat(full).st_size
        except FileNotFoundError:
            raise SourceError(
                f"names {name}, which the layout does not contain", path=self.label
            ) from None
        if not os.path.isfile(full):
            raise SourceError(f"{name} is not a file", path=self.label)
        return BlobRef(full, 0, size, f"{self.label}: {name}")
