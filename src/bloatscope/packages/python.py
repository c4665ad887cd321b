"""Python distributions installed anywhere in the image: every ``*.dist-info`` directory (pip,
uv and other wheel installers, Debian-built ones without RECORD) and every ``*.egg-info``
(setuptools directories, distutils single files), in any site-packages, dist-packages, venv or
``--target`` directory.

Names are compared PEP 503 normalized; files come from RECORD (dist-info) or
installed-files.txt (egg-info); requirements are evaluated against the marker environment of
the Python the install location belongs to, extras kept apart (``for_extra``). A dist-info
vendored inside another distribution (``setuptools/_vendor/*.dist-info``) is part of that
distribution, not a package of its own."""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from packaging.markers import Marker
from packaging.requirements import Requirement as PepRequirement
from packaging.utils import canonicalize_name

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import Cataloger, ImageFiles
from bloatscope.packages.database_files import ListedPaths, root_relative
from bloatscope.packages.python_env import MarkerEnvironments

_DIST_INFO_FILES = r"dist-info/(?:METADATA|RECORD|INSTALLER|REQUESTED|direct_url\.json)"
_EGG_INFO_FILES = r"egg-info(?:/(?:PKG-INFO|installed-files\.txt|requires\.txt))?"
CAPTURE = rf"(?:^|/)[^/]+\.(?:{_DIST_INFO_FILES}|{_EGG_INFO_FILES})$"
# The reader's prefilter: every name CAPTURE matches ends with one of these.
CAPTURE_SUFFIXES = (
    *(f".dist-info/{name}" for name in ("METADATA", "RECORD", "INSTALLER", "REQUESTED")),
    ".dist-info/direct_url.json",
    ".egg-info",
    *(f".egg-info/{name}" for name in ("PKG-INFO", "installed-files.txt", "requires.txt")),
)

_DIST_INFO_FILE = re.compile(rf"(?:^|/)[^/]+\.{_DIST_INFO_FILES}$")
_EGG_INFO_FILE = re.compile(rf"(?:^|/)[^/]+\.{_EGG_INFO_FILES}$")
# extra names a marker compares against, either way round
_MARKER_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]*)['"]|['"]([^'"]*)['"]\s*==\s*extra\b""")
_QUOTED_LINE_LIMIT = 80
# The rows of a newline-joined list that need normalizing, as database_files.NEEDS_NORMALIZING
# finds them: absolute, or with ".", ".." or empty parts.
_ODD_ROWS = re.compile(r"^(?:|[/.][^\n]*|[^\n]*(?:/\.|//)[^\n]*|[^\n]*/)$", re.MULTILINE)
# The first column of each line of a RECORD without quotes (found in C, not line by line).
_RECORD_PATHS = re.compile(r"^([^,\r\n]+)", re.MULTILINE)
# Real markers name one to three extras; past this a marker is an attack, not metadata.
_MAX_EXTRAS_PER_MARKER = 64

Warn = Callable[[str], None]
_T = TypeVar("_T")


def canonical(name: str) -> str:
    """A Python project name as pip compares it (PEP 503); extras normalize the same (PEP 685)."""
    return str(canonicalize_name(name))


@dataclass(frozen=True, slots=True)
class _Metadata:
    display_name: str
    version: str
    requires_dist: tuple[str, ...]
    extras: tuple[str, ...]
    fallback_version: str  # the version its directory's name gives, used when it has none


@dataclass(frozen=True, slots=True)
class _Found:
    record: PackageRecord
    metadata_path: str  # the file whose presence in another distribution's list vendors it


class PythonCataloger(Cataloger):
    ecosystem = Ecosystem.PYTHON
    capture = CAPTURE
    capture_suffixes = CAPTURE_SUFFIXES

    def prepare(self, path: str, data: bytes) -> object | None:
        return _prepare(path, data)

    def catalog(self, files: ImageFiles, warn: Warn) -> list[PackageRecord]:
        environments = MarkerEnvironments(files)
        found: list[_Found] = []
        for directory in _dist_info_directories(files):
            found += _optional(_read_dist_info(files, directory, environments, warn))
        egg_directories, egg_files = _egg_infos(files)
        for directory in egg_directories:
            found += _optional(_read_egg_info_directory(files, directory, environments, warn))
        for path in egg_files:
            found += _optional(_read_egg_info_file(files, path, environments, warn))
        records = _without_vendored(found)
        return sorted(records, key=lambda record: record.location)


def _optional(found: _Found | None) -> list[_Found]:
    return [found] if found else []


# --- finding the metadata directories ---


def _dist_info_directories(files: ImageFiles) -> list[str]:
    return sorted({posixpath.dirname(path) for path in files.find(_DIST_INFO_FILE)})


def _egg_infos(files: ImageFiles) -> tuple[list[str], list[str]]:
    """The egg-info directories and the egg-info single files (distutils) of the tree."""
    captured = files.find(_EGG_INFO_FILE)
    directories = {posixpath.dirname(path) for path in captured if not path.endswith(".egg-info")}
    singles = [
        path
        for path in captured
        if path.endswith(".egg-info") and path not in directories and not files.listdir(path)
    ]
    return sorted(directories), singles


# --- dist-info ---


def _read_dist_info(
    files: ImageFiles, directory: str, environments: MarkerEnvironments, warn: Warn
) -> _Found | None:
    metadata_path = f"{directory}/METADATA"
    metadata = _read_metadata(files, metadata_path, _dist_info_version(directory), warn)
    if metadata is None:
        return None
    record_path = f"{directory}/RECORD"
    listed = _read_file_list(files, record_path, posixpath.dirname(directory), _record_rows, warn)
    requires = _requires_dist(metadata, environments.for_location(directory), metadata_path, warn)
    record = PackageRecord(
        ecosystem=Ecosystem.PYTHON,
        name=canonical(metadata.display_name),
        version=metadata.version,
        location=directory,
        files=listed or (),
        files_known=listed is not None,
        requires=requires,
        requested=_requested(files, directory),
        display_name=metadata.display_name,
        extras=metadata.extras,
    )
    return _Found(record, metadata_path)


def _requested(files: ImageFiles, directory: str) -> bool | None:
    """REQUESTED (usually empty) marks what the user asked for. Its absence means "pulled in"
    only where an installer that writes it left its INSTALLER: Debian-built dist-info has no
    INSTALLER, with RECORD (bookworm's pip) or without, and says nothing either way."""
    if files.exists(f"{directory}/REQUESTED"):
        return True
    return False if files.exists(f"{directory}/INSTALLER") else None


def _dist_info_version(directory: str) -> str:
    """``{name}-{version}.dist-info``: the name is escaped, so the first ``-`` ends it."""
    return posixpath.basename(directory).removesuffix(".dist-info").partition("-")[2]


def _record_rows(text: str) -> list[str]:
    """The path column of a RECORD (CSV: path, hash, size). Without a quote anywhere, the CSV
    is plain comma-separated lines: split them directly, five times faster than ``csv``."""
    if '"' not in text:
        return _RECORD_PATHS.findall(text)
    return [row[0] for row in csv.reader(io.StringIO(text, newline="")) if row and row[0]]


# --- egg-info ---


def _read_egg_info_directory(
    files: ImageFiles, directory: str, environments: MarkerEnvironments, warn: Warn
) -> _Found | None:
    metadata_path = f"{directory}/PKG-INFO"
    metadata = _read_metadata(files, metadata_path, _egg_info_version(directory), warn)
    if metadata is None:
        return None
    # installed-files.txt (written by pip for setup.py installs) is relative to the egg-info
    listed = _read_file_list(
        files, f"{directory}/installed-files.txt", directory, _text_lines, warn
    )
    environment = environments.for_location(directory)
    requires_path = f"{directory}/requires.txt"
    requires_txt = files.read(requires_path)
    extras = metadata.extras
    # Metadata's own Requires-Dist wins over requires.txt, as importlib.metadata decides.
    if metadata.requires_dist or requires_txt is None:
        requires = _requires_dist(metadata, environment, metadata_path, warn)
    else:
        text = requires_txt.decode("utf-8", "replace")
        requires, section_extras, invalid = _requires_txt(text, environment)
        _warn_invalid(requires_path, invalid, "requires.txt", warn)
        extras = _unique((*extras, *section_extras))
    record = PackageRecord(
        ecosystem=Ecosystem.PYTHON,
        name=canonical(metadata.display_name),
        version=metadata.version,
        location=directory,
        files=listed or (),
        files_known=listed is not None,
        requires=requires,
        display_name=metadata.display_name,
        extras=extras,
    )
    return _Found(record, metadata_path)


def _read_egg_info_file(
    files: ImageFiles, path: str, environments: MarkerEnvironments, warn: Warn
) -> _Found | None:
    """A distutils install: the egg-info is a PKG-INFO file of its own, listing no files."""
    metadata = _read_metadata(files, path, _egg_info_version(path), warn)
    if metadata is None:
        return None
    record = PackageRecord(
        ecosystem=Ecosystem.PYTHON,
        name=canonical(metadata.display_name),
        version=metadata.version,
        location=path,
        files_known=False,
        requires=_requires_dist(metadata, environments.for_location(path), path, warn),
        display_name=metadata.display_name,
        extras=metadata.extras,
    )
    return _Found(record, path)


def _egg_info_version(path: str) -> str:
    """``{name}-{version}-py3.11.egg-info`` or, for development installs, ``{name}.egg-info``."""
    parts = posixpath.basename(path).removesuffix(".egg-info").split("-")
    return parts[1] if len(parts) > 1 else ""


def _text_lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            yield stripped


def _requires_txt(
    text: str, environment: Mapping[str, str]
) -> tuple[tuple[Requirement, ...], tuple[str, ...], list[str]]:
    """setuptools' requires.txt: unconditional lines, then ``[extra]``, ``[extra:marker]`` and
    ``[:marker]`` sections. Returns the requirements that apply, the extras, the invalid lines."""
    requires: list[Requirement] = []
    extras: list[str] = []
    invalid: list[str] = []
    section_extra, section_applies = "", True
    for line in _text_lines(text):
        if line.startswith("#"):
            continue
        if line.startswith("["):
            parsed = _section(line, environment)
            if parsed is None:
                invalid.append(line)
                section_extra, section_applies = "", False
                continue
            section_extra, section_applies = parsed
            if section_extra:
                extras.append(section_extra)
            continue
        if not section_applies:
            continue
        try:
            requirement = PepRequirement(line)
            applies = requirement.marker is None or requirement.marker.evaluate(
                {**environment, "extra": section_extra}
            )
        except (ValueError, RecursionError):
            invalid.append(line)
            continue
        if applies:
            requires.append(_requirement(requirement, section_extra))
    return _unique(requires), _unique(extras), invalid


def _section(line: str, environment: Mapping[str, str]) -> tuple[str, bool] | None:
    """``[extra:marker]`` -> (the extra, whether the marker holds here); None if malformed."""
    if not line.endswith("]"):
        return None
    extra, _, marker_text = line[1:-1].partition(":")
    try:
        applies = not marker_text or Marker(marker_text).evaluate({**environment, "extra": extra})
    except (ValueError, RecursionError):
        return None
    return canonical(extra) if extra else "", applies


# --- METADATA / PKG-INFO ---


def _read_metadata(
    files: ImageFiles, path: str, version_of_path: str, warn: Warn
) -> _Metadata | None:
    prepared = files.prepared(path)
    if isinstance(prepared, _Metadata) and prepared.fallback_version == version_of_path:
        return prepared
    data = files.read(path)
    if data is None:
        problem = "not readable (too large, or not a file)" if files.exists(path) else "missing"
        warn(f"{path}: {problem}")
        return None
    metadata = _parse_metadata(data, version_of_path)
    if metadata is None:
        warn(f"{path}: no Name field, not a metadata file")
    return metadata


def _parse_metadata(data: bytes, fallback_version: str) -> _Metadata | None:
    """The fields we need of core metadata (RFC 822 headers); None without a Name."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    # The body is the long description, which can be megabytes nobody needs.
    raw = _header_fields(text.partition("\n\n")[0])
    name = raw.get("name", [""])[0]
    if not name:
        return None
    extras = _unique(canonical(extra) for extra in raw.get("provides-extra", []) if extra)
    return _Metadata(
        display_name=name,
        version=raw.get("version", [""])[0] or fallback_version,
        requires_dist=tuple(raw.get("requires-dist", [])),
        extras=extras,
        fallback_version=fallback_version,
    )


_WANTED_FIELDS = frozenset({"name", "version", "requires-dist", "provides-extra"})


def _header_fields(headers: str) -> dict[str, list[str]]:
    """The RFC 822 header fields we read, by lower-case name, values stripped; a folded line
    continues the field before it. (The email parser packaging uses costs ten times more, for
    fields and encodings core metadata does not use.)"""
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in headers.split("\n"):
        if line[:1] in (" ", "\t"):
            if current is not None:
                current[-1] = f"{current[-1]} {line.strip()}".strip()
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or key not in _WANTED_FIELDS:
            current = None
            continue
        current = fields.setdefault(key, [])
        current.append(value.strip())
    return fields


def _requires_dist(
    metadata: _Metadata, environment: Mapping[str, str], metadata_path: str, warn: Warn
) -> tuple[Requirement, ...]:
    requires: list[Requirement] = []
    invalid: list[str] = []
    for line in metadata.requires_dist:
        simple = _simple_requirement(line)
        if simple is not None:
            requires.append(simple)
            continue
        try:
            requirement = PepRequirement(line)
            requires += _applicable(requirement, environment)
        except (ValueError, RecursionError):
            invalid.append(line)
    _warn_invalid(metadata_path, invalid, "Requires-Dist", warn)
    return _unique(requires)


def _applicable(requirement: PepRequirement, environment: Mapping[str, str]) -> list[Requirement]:
    """The requirement once if it holds without extras, else once per extra that switches it
    on; nothing when it holds for neither (a marker for another Python or platform).

    Only the extras the marker compares against can switch it on (an extra it does not name
    compares as "" does), so those are the ones tried, Provides-Extra or not (old metadata
    forgot it): evaluating every extra of a package against every marker would let a hostile
    METADATA ask for billions of evaluations."""
    marker = requirement.marker
    if marker is None or marker.evaluate({**environment, "extra": ""}):
        return [_requirement(requirement, "")]
    candidates = _unique(_extras_in_marker(marker))
    if len(candidates) > _MAX_EXTRAS_PER_MARKER:
        raise ValueError(f"a marker naming {len(candidates)} extras")
    return [
        _requirement(requirement, extra)
        for extra in candidates
        if marker.evaluate({**environment, "extra": extra})
    ]


# The two shapes most Requires-Dist lines take: ``name[extras] (specifiers)`` with no marker, or
# with exactly ``; extra == "x"``. Read by one regex, they skip packaging's full parser and
# marker evaluation (a third of the cataloger's time on naive-bert); anything else goes there.
_VERSION = r"(?:===?|!=|~=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+"
_SIMPLE_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[\s*([A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*)?\s*\])?\s*"
    rf"(?:\(?\s*{_VERSION}(?:\s*,\s*{_VERSION})*\s*\)?)?\s*"
    r"""(?:;\s*extra\s*==\s*(?:"([A-Za-z0-9._-]+)"|'([A-Za-z0-9._-]+)'))?\s*$"""
)


def _simple_requirement(line: str) -> Requirement | None:
    match = _SIMPLE_REQUIREMENT.match(line)
    if match is None:
        return None
    name, extras, double, single = match.groups()
    return Requirement(
        names=(canonical(name),),
        extras=tuple(sorted({canonical(e.strip()) for e in extras.split(",")})) if extras else (),
        for_extra=canonical(double or single or ""),
    )


def _extras_in_marker(marker: Marker) -> list[str]:
    return [canonical(a or b) for a, b in _MARKER_EXTRA.findall(str(marker)) if a or b]


def _requirement(requirement: PepRequirement, for_extra: str) -> Requirement:
    return Requirement(
        names=(canonical(requirement.name),),
        extras=tuple(sorted({canonical(extra) for extra in requirement.extras})),
        for_extra=for_extra,
    )


def _warn_invalid(path: str, invalid: Sequence[str], what: str, warn: Warn) -> None:
    if invalid:
        first = invalid[0][:_QUOTED_LINE_LIMIT]
        warn(f"{path}: {len(invalid)} invalid {what} line(s) skipped, the first {first!r}")


# --- file lists ---


def _read_file_list(
    files: ImageFiles,
    path: str,
    base: str,
    entries: Callable[[str], Iterable[str]],
    warn: Warn,
) -> tuple[str, ...] | None:
    """The root-relative paths a RECORD or installed-files.txt lists (relative to ``base``);
    None when there is no list or it cannot be read (then warned)."""
    prepared = files.prepared(path)
    if isinstance(prepared, ListedPaths) and prepared.base == base:
        return prepared.paths
    data = files.read(path)
    if data is None:
        if files.exists(path):
            warn(f"{path}: not readable (too large, or not a file)")
        return None
    try:
        return _file_list(data, base, entries)
    except csv.Error as error:
        warn(f"{path}: {error}")
        return None


def _file_list(data: bytes, base: str, entries: Callable[[str], Iterable[str]]) -> tuple[str, ...]:
    """A file list's paths made root-relative; raises csv.Error for a broken RECORD."""
    # Same decoding as the reader gives tar member names, so the paths compare equal.
    text = data.decode("utf-8", "surrogateescape")
    rows = list(entries(text))
    if base and rows and not _any_odd("\n".join(rows)):
        # the usual RECORD: every row plain and relative, one search for all of them
        return tuple(dict.fromkeys([f"{base}/{row}" for row in rows]))
    # only the rows that need it go through normpath: found by one search over them all
    odd = set(_ODD_ROWS.findall("\n".join(rows))) if base else set(rows)
    listed = [root_relative(base, row) if row in odd else f"{base}/{row}" for row in rows]
    return tuple(dict.fromkeys(entry for entry in listed if entry))


def _prepare(path: str, data: bytes) -> object | None:
    """RECORDs and METADATA parsed ahead (see Cataloger.prepare): the paths a RECORD lists are
    most of the cataloger's work on an image with big packages."""
    if path.endswith(".dist-info/RECORD"):
        base = posixpath.dirname(posixpath.dirname(path))
        try:
            return ListedPaths.from_paths(base, _file_list(data, base, _record_rows))
        except csv.Error:
            return None  # catalog parses it again and says what is wrong
    if path.endswith(".dist-info/METADATA"):
        return _parse_metadata(data, _dist_info_version(posixpath.dirname(path)))
    return None


def _any_odd(rows: str) -> bool:
    """Whether any of these newline-joined rows needs normalizing (or is empty): substring
    tests, which run at memory speed where a multi-line regex steps through every character."""
    return (
        rows[0] in "./"
        or rows[-1] == "/"
        or "/." in rows
        or "//" in rows
        or "\n/" in rows
        or "\n." in rows
        or "/\n" in rows
        or "\n\n" in rows
    )


# --- vendored distributions ---


def _without_vendored(found: Sequence[_Found]) -> list[PackageRecord]:
    """Drops distributions whose metadata file another distribution installed from higher up
    the tree (pip's and setuptools' vendored dependencies carry dist-info directories)."""
    site_of = {item.metadata_path: _site(item.record) for item in found}
    vendored: set[str] = set()
    for item in found:
        owner_site = _site(item.record)
        # the set intersection runs in C: most RECORDs list no other metadata file
        for path in site_of.keys() & set(item.record.files):
            if _strictly_inside(site_of[path], owner_site):
                vendored.add(path)
    return [item.record for item in found if item.metadata_path not in vendored]


def _site(record: PackageRecord) -> str:
    return posixpath.dirname(record.location)


def _strictly_inside(path: str, directory: str) -> bool:
    return path != directory and (not directory or path.startswith(f"{directory}/"))


def _unique(items: Iterable[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))
