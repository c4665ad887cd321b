"""Alpine packages: apk's installed database (``lib/apk/db/installed``, or under ``usr/`` where
newer Alpine keeps it) and the world file that says which packages were asked for.

The database is blank-line separated records of ``X:value`` lines; a file's path is the last
``F:`` directory before its ``R:`` name. A broken database (a line that is not ``X:value``, a
record without name or version, a file before any directory, a missing final newline) is
reported and skipped whole."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import Cataloger, ImageFiles
from bloatscope.packages.database_files import (
    MalformedError,
    normalized_paths,
    read_captured,
    strict_text,
)

DATABASES = ("lib/apk/db/installed", "usr/lib/apk/db/installed")
WORLD = "etc/apk/world"

# Far above any real database (a big Alpine image's has some hundred thousand lines); they
# bound what a hostile file can make us hold.
MAX_LINES = 4_000_000
MAX_PACKAGES = 200_000
MAX_DEPENDENCY_NAMES = 2_000_000
MAX_WORLD_NAMES = 100_000  # a world file names the handful of packages someone asked for

# A dependency or provider: an optional ``!`` (a conflict), the name, then any version
# constraint (``>=1.2``, ``=1.2``, ``~1.2``, ``<2``, ``><Q1...`` checksum) or repository tag.
_CONSTRAINT = re.compile(r"[<>=~@]")
_PACKAGE_NAME = re.compile(r"[A-Za-z0-9_.+\-]+")


@dataclass(slots=True)
class _Record:
    """One package record while its lines are read."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    directory: str | None = None  # the last F: line's directory; None before the first

    def add_line(self, key: str, value: str, number: int) -> None:
        if key == "F":
            self.directory = value
            self.files.append(value)
        elif key == "R":
            if self.directory is None:
                raise MalformedError(f"line {number}: a file before any F: directory")
            self.files.append(f"{self.directory}/{value}")
        elif key in "PVDp":
            self.fields[key] = value


class ApkCataloger(Cataloger):
    ecosystem = Ecosystem.APK
    capture = r"^(?:(?:usr/)?lib/apk/db/installed|etc/apk/world)$"
    capture_suffixes = ("/apk/db/installed", "/apk/world")

    def catalog(self, files: ImageFiles, warn: Callable[[str], None]) -> list[PackageRecord]:
        world = _world(files, warn)
        records: list[PackageRecord] = []
        for path in DATABASES:
            data = read_captured(files, path, warn)
            if data is None:
                continue
            try:
                records += _parse_database(data, path, world)
            except MalformedError as error:
                warn(f"{path}: {error}")
        return records


def _parse_database(
    data: bytes, location: str, world: frozenset[str] | None
) -> list[PackageRecord]:
    text = strict_text(data)
    if text and not text.endswith("\n"):
        raise MalformedError("missing final newline (truncated?)")
    if text.count("\n") > MAX_LINES:
        raise MalformedError(f"more than {MAX_LINES} lines")
    database = _Database(location, world)
    current = _Record()
    # iterated, not split: a list of every line would cost far more than the text
    for number, line_end in enumerate(io.StringIO(text), start=1):
        line = line_end[:-1]
        if not line:
            database.add(current)
            current = _Record()
        elif len(line) < 2 or line[1] != ":" or not line[0].isascii() or not line[0].isalpha():
            raise MalformedError(f"line {number}: not an 'X:value' line")
        else:
            current.add_line(line[0], line[2:], number)
    database.add(current)
    return database.records


class _Database:
    """The records of one database, as its complete records come in."""

    def __init__(self, location: str, world: frozenset[str] | None) -> None:
        self.location = location
        self.world = world
        self.records: list[PackageRecord] = []
        self.names: set[str] = set()
        self.record_count = 0
        self.dependency_names_left = MAX_DEPENDENCY_NAMES

    def add(self, record: _Record) -> None:
        """Adds a complete record (an empty one, from consecutive blank lines, is nothing)."""
        if not record.fields and not record.files:
            return
        self.record_count += 1
        name = record.fields.get("P", "")
        if not _PACKAGE_NAME.fullmatch(name):
            raise MalformedError(f"record {self.record_count}: missing or invalid P: (name)")
        if not record.fields.get("V"):
            raise MalformedError(f"package {name} has no V: (version)")
        if len(self.records) == MAX_PACKAGES:
            raise MalformedError(f"more than {MAX_PACKAGES} packages")
        if name not in self.names:
            self.names.add(name)
            self.records.append(self._package(record, name))

    def _package(self, record: _Record, name: str) -> PackageRecord:
        requires = tuple(Requirement((dep,)) for dep in self._names_in(record, "D"))
        provides = tuple(self._names_in(record, "p"))
        requested = None if self.world is None else bool(self.world & {name, *provides})
        return PackageRecord(
            ecosystem=Ecosystem.APK,
            name=name,
            version=record.fields["V"],
            location=self.location,
            files=normalized_paths(record.files),
            requires=requires,
            requested=requested,
            provides=provides,
            display_name=name,
        )

    def _names_in(self, record: _Record, key: str) -> list[str]:
        """A dependency field's names, counted against the database's budget before they
        are split out, so a hostile field is refused before it is held in pieces."""
        value = record.fields.get(key, "")
        self.dependency_names_left -= value.count(" ") + 1
        if self.dependency_names_left < 0:
            raise MalformedError(f"more than {MAX_DEPENDENCY_NAMES} dependency names")
        names = (dependency_name(token) for token in value.split(" "))
        return [name for name in names if name]


def dependency_name(token: str) -> str:
    """The name in one dependency (``so:libc.musl-x86_64.so.1``, ``cmd:foo>=1``,
    ``pkg@edge``), without version or tag; "" for a conflict (``!pkg``), which is no
    dependency."""
    if token.startswith("!"):
        return ""
    return _CONSTRAINT.split(token, maxsplit=1)[0]


def _world(files: ImageFiles, warn: Callable[[str], None]) -> frozenset[str] | None:
    """The names (and provider names) asked for; None when there is no readable world file."""
    data = read_captured(files, WORLD, warn)
    if data is None:
        return None
    try:
        return _world_names(strict_text(data))
    except MalformedError as error:
        warn(f"{WORLD}: {error}")
        return None


def _world_names(text: str) -> frozenset[str]:
    """One dependency per line, or several separated by spaces."""
    names: set[str] = set()
    for count, token in enumerate(re.finditer(r"\S+", text)):
        if count == MAX_WORLD_NAMES:
            raise MalformedError(f"more than {MAX_WORLD_NAMES} names")
        names.add(dependency_name(token[0]))
    names.discard("")
    return frozenset(names)
