"""The source seam: a BlobStore gives named files of an image as byte ranges on disk."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass

from bloatscope.errors import BloatscopeError

MAX_JSON_BYTES = 4 << 20  # manifests and configs larger than this are hostile, not images


class SourceError(BloatscopeError):
    """A reference that cannot be opened, or a store that lacks a file it names."""


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A file of the image as a byte range of a file on disk. Picklable, so worker processes
    can open it themselves."""

    path: str
    offset: int
    size: int
    label: str  # how error messages name it, e.g. "x.tar: blobs/sha256/ab12"


class BlobStore(ABC):
    """Named files of one image container (a tar, a directory), read without extracting."""

    label: str

    @abstractmethod
    def names(self) -> frozenset[str]:
        """Every regular file (and resolvable link) the store holds."""

    @abstractmethod
    def locate(self, name: str) -> BlobRef:
        """Where ``name``'s bytes are; raises SourceError if it is missing."""

    def has(self, name: str) -> bool:
        return name in self.names()

    def read(self, name: str, limit: int = MAX_JSON_BYTES) -> bytes:
        ref = self.locate(name)
        if ref.size > limit:
            raise SourceError(
                f"{name} is {ref.size} bytes, over the {limit}-byte limit", path=self.label
            )
        with open(ref.path, "rb") as handle:
            handle.seek(ref.offset)
            data = handle.read(ref.size)
        if len(data) != ref.size:
            raise SourceError(f"{name} is truncated", path=self.label)
        return data

    def close(self) -> None:  # noqa: B027 - most stores hold nothing open
        """Releases temporary files; stores that hold none do nothing."""


class Source(ABC):
    """A transport: a file, a directory, later a registry or an engine."""

    transport: str

    @abstractmethod
    def open(self, location: str) -> BlobStore:
        """Opens ``location``; raises SourceError with one clear line when it cannot."""


def require_file(path: str) -> None:
    if not os.path.exists(path):
        raise SourceError("no such file or directory", path=path)
