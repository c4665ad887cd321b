"""Helpers every cataloger needs to read its database files: the captured bytes (with a warning
when a file is there but was not captured), strict text, and paths made root-relative."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bloatscope.packages.base import ImageFiles

# What normpath would change in a path relative to a directory: a leading / or ., a /. or //
# inside, a trailing /.
NEEDS_NORMALIZING = re.compile(r"^[/.]|/\.|//|/$")


@dataclass(frozen=True, slots=True)
class ListedPaths:
    """A file list parsed ahead of cataloging (see Cataloger.prepare): the root-relative paths
    it names, and the directory relative paths in it were taken from.

    The paths travel from the worker process as one newline-joined string: one object to
    pickle and to keep while layers merge instead of one per path (naive-bert's RECORDs list
    57,000). No path holds a newline: ``from_paths`` refuses to prepare such a list."""

    base: str
    joined: str
    count: int

    @classmethod
    def from_paths(cls, base: str, paths: tuple[str, ...]) -> ListedPaths | None:
        joined = "\n".join(paths)
        if "\n" in "".join(paths):
            return None  # a path with a newline in it: left to the cataloger
        return cls(base, joined, len(paths))

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self.joined.split("\n")) if self.count else ()


class MalformedError(ValueError):
    """A database file its package manager would refuse (or one too big to be real)."""


def read_captured(files: ImageFiles, path: str, warn: Callable[[str], None]) -> bytes | None:
    """A captured file's bytes; None otherwise, with a warning if the file is there."""
    data = files.read(path)
    if data is None and files.exists(path):
        warn(f"{path}: present but not captured (too large?)")
    return data


def strict_text(data: bytes) -> str:
    """UTF-8 text without NUL bytes, as package managers write their databases."""
    if b"\0" in data:
        raise MalformedError("binary data (NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedError(f"not UTF-8 (byte {error.start})") from None


def root_relative(base: str, path: str) -> str:
    """``path`` (absolute, or relative to the root-relative directory ``base``) as a normalized
    root-relative path; ``..`` stops at the root as the kernel's does. "" for the root."""
    if path.startswith("/") and "//" not in path and "/." not in path and path[-1] != "/":
        return path[1:]  # an absolute path with nothing to normalize (rpm and dpkg lists)
    if not NEEDS_NORMALIZING.search(path):
        # nearly every RECORD row: nothing to normalize, and normpath is most of the cost
        return f"{base}/{path}" if base else path
    joined = path if path.startswith("/") else f"/{base}/{path}"
    return posixpath.normpath(joined).lstrip("/")


def normalized_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """Root-relative, normalized, ``..`` clamped at the root, each once; the root itself is
    dropped (it is no package's file)."""
    unique = dict.fromkeys(root_relative("", path) for path in paths)
    unique.pop("", None)
    return tuple(unique)
