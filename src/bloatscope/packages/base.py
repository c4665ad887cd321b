"""The cataloger seam: a cataloger reads one ecosystem's package database out of the image's
final tree and returns PackageRecords. Catalogers never extract or fetch anything; the reader
keeps the bytes of the database files they name (``capture``) while it streams the layers."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord

# Database files larger than this are not kept (an rpmdb.sqlite of a big Fedora image is
# ~20 MB); the cataloger then reports the database as unreadable.
MAX_CAPTURED_BYTES = 64 * 1024 * 1024


class ImageFiles:
    """What a cataloger sees of the final tree: the content of every captured database file
    (by final path), and which paths exist.

    ``read`` follows no symlinks of its own: the paths given are final-tree paths, and the
    reader has already resolved hardlinks and symlinked parent directories."""

    def __init__(
        self,
        contents: Mapping[str, bytes],
        exists: Callable[[str], bool],
        listdir: Callable[[str], list[str]],
        platform: Platform,
        prepared: Mapping[str, object] | None = None,
    ) -> None:
        self._contents = contents
        self._exists = exists
        self._listdir = listdir
        self.platform = platform
        self._prepared = prepared or {}

    @classmethod
    def from_mapping(
        cls,
        contents: Mapping[str, bytes],
        other_paths: Iterable[str] = (),
        platform: Platform | None = None,
        prepared: Mapping[str, object] | None = None,
    ) -> ImageFiles:
        """For tests and scripts: a tree that holds ``contents`` plus ``other_paths`` (files whose
        content nobody reads), with every parent directory implied; ``prepared``: values
        catalogers' ``prepare`` made of some of the contents."""
        paths = set(contents) | set(other_paths)
        children: dict[str, set[str]] = {}
        for path in paths:
            parts = path.split("/")
            for depth in range(len(parts)):
                parent = "/".join(parts[:depth])
                children.setdefault(parent, set()).add(parts[depth])
        known = paths | set(children)

        def listdir(path: str) -> list[str]:
            return sorted(children.get(path, ()))

        platform = platform or Platform("linux", "amd64")
        return cls(contents, known.__contains__, listdir, platform, prepared)

    def read(self, path: str) -> bytes | None:
        """The content of a captured file, or None if it is not in the final tree (or was too
        large to keep)."""
        return self._contents.get(path)

    def prepared(self, path: str) -> object | None:
        """What a cataloger's ``prepare`` made of this file, if it ran (see Cataloger.prepare);
        the bytes are always there to parse instead."""
        return self._prepared.get(path)

    def find(self, pattern: re.Pattern[str]) -> list[str]:
        """Captured final paths that ``pattern`` matches (``search``), sorted."""
        return sorted(path for path in self._contents if pattern.search(path))

    def exists(self, path: str) -> bool:
        return self._exists(path)

    def listdir(self, path: str) -> list[str]:
        """Names in a directory of the final tree, sorted; empty if it is not a directory."""
        return self._listdir(path)


class CatalogError(Exception):
    """A database that is there but cannot be read; the cataloger's other databases still
    count. Carries the database path."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class Cataloger(ABC):
    """One ecosystem's database reader."""

    ecosystem: Ecosystem
    # Which layer paths (root-relative, no leading slash) the reader must keep the bytes of;
    # matched with ``search`` against entry names, so keep it anchored and cheap.
    capture: str
    # A prefilter run before the regex on every entry name: every name ``capture`` matches
    # must end with one of ``capture_suffixes`` or sit directly in a directory whose path ends
    # with one of ``capture_directories`` (for databases whose file names vary).
    capture_suffixes: tuple[str, ...] = ()
    capture_directories: tuple[str, ...] = ()

    def prepare(self, path: str, data: bytes) -> object | None:
        """A value to compute from one captured file before the final tree is known: the
        reader's worker processes run this while the main process merges layers, so parsing
        what needs no tree (file lists, say) leaves the package stage. ``path`` is where the
        layer wrote the file; ``catalog`` finds the value with ``files.prepared``, only for
        files the final tree shows at that same path. None: nothing prepared. Must not raise:
        a file it cannot parse is left to ``catalog``, which reports it."""
        return None

    @abstractmethod
    def catalog(self, files: ImageFiles, warn: Callable[[str], None]) -> list[PackageRecord]:
        """Every package the databases in ``files`` list. A broken database is reported through
        ``warn`` (one line naming the file) and skipped, never raised."""
