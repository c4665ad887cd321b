"""Debian packages: dpkg's status database (or distroless ``status.d``), the file lists dpkg
keeps in ``info/``, and apt's automatic-install marks.

A database dpkg itself would refuse (a stanza without Package, a missing final newline, an
unknown state) is reported and skipped whole. A broken file list costs only its package its
files; a broken ``extended_states`` costs every package its requested mark."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import Cataloger, ImageFiles
from bloatscope.packages.database_files import (
    ListedPaths,
    MalformedError,
    normalized_paths,
    read_captured,
    strict_text,
)

STATUS = "var/lib/dpkg/status"
STATUS_DIR = "var/lib/dpkg/status.d"
INFO_DIR = "var/lib/dpkg/info"
EXTENDED_STATES = "var/lib/apt/extended_states"
MD5SUMS_SUFFIX = ".md5sums"

# Every state in which dpkg has put (some of) the package's files on disk: their bytes are the
# package's whether or not its maintainer scripts ran. config-files and not-installed packages
# keep at most leftover conffiles and are not packages of the image.
ON_DISK_STATES = frozenset(
    {
        "installed",
        "triggers-pending",
        "triggers-awaiting",
        "half-configured",
        "unpacked",
        "half-installed",
    }
)
KNOWN_STATES = ON_DISK_STATES | {"not-installed", "config-files"}

# apt keeps Recommends installed on autoremove, so they hold a package in as Depends do; but
# removing a recommended package breaks nothing, so they are weak requirements.
RELATION_FIELDS = ("pre-depends", "depends", "recommends")
PACKAGE_FIELDS = frozenset(
    {"package", "status", "version", "architecture", "multi-arch", "essential", "provides"}
) | frozenset(RELATION_FIELDS)
MARK_FIELDS = frozenset({"package", "architecture", "auto-installed"})

# Far above any real database (Debian has ~65,000 packages per architecture, each naming a
# handful of others); they bound what a hostile file can make us hold.
MAX_STANZAS = 200_000
MAX_RELATION_NAMES = 2_000_000
MAX_LIST_LINES = 2_000_000  # the biggest real packages list some hundred thousand paths

# A field line starts with a name of printable ASCII other than colon and space, then a colon;
# other lines are blank or continuation lines (leading space or tab).
_NOT_A_FIELD_LINE = re.compile(r"^(?!\Z|[ \t\n]|[!-9;-~]++:)", re.MULTILINE)
# A stanza is a run of non-blank lines (blank: nothing but spaces and tabs). Possessive
# quantifiers keep a hostile line of spaces from costing quadratic time.
_STANZA = re.compile(r"^(?:[ \t]*+[^ \t\n][^\n]*+\n)++", re.MULTILINE)

# dpkg's rule for package names (it lower-cases them on parse).
_PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.\-]*")
_ARCHITECTURE = re.compile(r"[a-z0-9][a-z0-9\-]*")
# The name at the start of one alternative: up to a version, arch qualifier or restriction.
_RELATION_NAME = re.compile(r"\s*([^\s(\[<:|,]+)")
_MD5SUM_LINE = re.compile(r"[0-9a-fA-F]{32} [ *].")
_MD5SUM_PATH_START = 34

# OCI architecture -> dpkg architecture, to tell the native copy of a package installed for
# two architectures from the foreign one ("arm" depends on the variant).
_DEBIAN_ARCHITECTURES = {
    "amd64": "amd64",
    "arm64": "arm64",
    "386": "i386",
    "ppc64le": "ppc64el",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "mips64le": "mips64el",
    "loong64": "loong64",
}


@dataclass(frozen=True, slots=True)
class _Installed:
    """One package with files on disk, as its stanza describes it."""

    name: str
    version: str
    architecture: str
    multi_arch_same: bool
    essential: bool
    requires: tuple[Requirement, ...]
    provides: tuple[str, ...]
    location: str
    md5sums: str | None = None  # status.d only: the file listing the package's files


class DpkgCataloger(Cataloger):
    ecosystem = Ecosystem.DPKG
    capture = r"^var/lib/(?:dpkg/(?:status|info/[^/]+\.list|status\.d/[^/]+)|apt/extended_states)$"
    capture_suffixes = ("/dpkg/status", ".list", "/apt/extended_states")
    capture_directories = ("/dpkg/status.d",)  # distroless names these after their package

    def prepare(self, path: str, data: bytes) -> object | None:
        """The ``info/*.list`` files parsed ahead: one path per installed file."""
        if path.startswith(INFO_DIR) and path.endswith(".list"):
            try:
                return ListedPaths.from_paths("", _parse_file_list(data))
            except MalformedError:
                return None  # catalog reads it again and says what is wrong
        return None

    def catalog(self, files: ImageFiles, warn: Callable[[str], None]) -> list[PackageRecord]:
        installed = _status_packages(files, warn) + _distroless_packages(files, warn)
        installed = _unique_names(installed, files.platform)
        auto_marks = _auto_marks(files, warn)
        return [_record(package, files, auto_marks, warn) for package in installed]


# --- deb822 ------------------------------------------------------------------------------


def parse_stanzas(data: bytes, keep: frozenset[str]) -> list[dict[str, str]]:
    """The stanzas of a deb822 file, each holding only the fields named in ``keep`` (lower
    case; a multi-line value keeps its continuation lines after newlines). Linear in the size
    of ``data``; only the kept fields are held in memory."""
    text = strict_text(data)
    if text and not text.endswith("\n"):
        raise MalformedError("missing final newline (truncated?)")
    bad_line = _NOT_A_FIELD_LINE.search(text)
    if bad_line is not None:
        raise MalformedError(
            f"line {_line_number(text, bad_line.start())}: not a 'Field: value' line"
        )
    kept_fields = _kept_fields_pattern(keep)
    stanzas: list[dict[str, str]] = []
    for stanza in _STANZA.finditer(text):
        if text[stanza.start()] in " \t":
            line = _line_number(text, stanza.start())
            raise MalformedError(f"line {line}: continuation line outside a field")
        if len(stanzas) == MAX_STANZAS:
            raise MalformedError(f"more than {MAX_STANZAS} stanzas")
        fields = kept_fields.finditer(text, stanza.start(), stanza.end())
        stanzas.append({field[1].lower(): field[2].strip() for field in fields})
    return stanzas


@functools.lru_cache(maxsize=8)
def _kept_fields_pattern(keep: frozenset[str]) -> re.Pattern[str]:
    """Matches a kept field with its continuation lines; within one stanza every line that
    starts with a space or tab continues the field above it."""
    names = "|".join(re.escape(name) for name in sorted(keep))
    return re.compile(rf"^({names}):([^\n]*+(?:\n[ \t][^\n]*+)*+)", re.MULTILINE | re.IGNORECASE)


def _line_number(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class _NameBudget:
    """How many more relation names the database may hold before it is too big to be real;
    counted before splitting, so a hostile field is refused before it is held in pieces."""

    def __init__(self) -> None:
        self.left = MAX_RELATION_NAMES

    def relations(self, value: str) -> list[tuple[str, ...]]:
        self.left -= value.count(",") + value.count("|") + 1
        if self.left < 0:
            raise MalformedError(f"more than {MAX_RELATION_NAMES} dependency names")
        return relation_names(value)


def relation_names(value: str) -> list[tuple[str, ...]]:
    """A relationship field (``a (>= 1) | b:any <!nocheck>, c``) as the alternatives of each
    item, names lower-cased, without versions, architecture qualifiers or restrictions."""
    items: list[tuple[str, ...]] = []
    for item in value.split(","):
        names = []
        for alternative in item.split("|"):
            match = _RELATION_NAME.match(alternative)
            if match:
                names.append(match[1].lower())
        if names:
            items.append(tuple(names))
    return items


# --- the status database and status.d --------------------------------------------------------


def _status_packages(files: ImageFiles, warn: Callable[[str], None]) -> list[_Installed]:
    data = read_captured(files, STATUS, warn)
    if data is None:
        return []
    try:
        return _installed(parse_stanzas(data, PACKAGE_FIELDS), STATUS, status_required=True)
    except MalformedError as error:
        warn(f"{STATUS}: {error}")
        return []


def _distroless_packages(files: ImageFiles, warn: Callable[[str], None]) -> list[_Installed]:
    """Distroless images have no status file but a small one per package in status.d."""
    packages: list[_Installed] = []
    for file_name in files.listdir(STATUS_DIR):
        path = f"{STATUS_DIR}/{file_name}"
        if file_name.endswith(MD5SUMS_SUFFIX) or files.listdir(path):
            continue  # md5sums are read with their package; status.d holds no directories
        data = read_captured(files, path, warn)
        if data is None:
            continue
        try:
            found = _installed(parse_stanzas(data, PACKAGE_FIELDS), path, status_required=False)
        except MalformedError as error:
            warn(f"{path}: {error}")
            continue
        packages += [_with_md5sums(package, file_name, len(found)) for package in found]
    return packages


def _with_md5sums(package: _Installed, file_name: str, package_count: int) -> _Installed:
    """A status.d file's md5sums lists its package's files; when the file describes several
    packages, only the one named like the file can claim them."""
    if package_count > 1 and package.name != file_name:
        return package
    return replace(package, md5sums=package.location + MD5SUMS_SUFFIX)


def _installed(
    stanzas: list[dict[str, str]], location: str, *, status_required: bool
) -> list[_Installed]:
    """The stanzas' packages that have files on disk; raises on a stanza dpkg would refuse."""
    budget = _NameBudget()
    packages = []
    for number, stanza in enumerate(stanzas, start=1):
        name = stanza.get("package", "")
        if not _PACKAGE_NAME.fullmatch(name):
            raise MalformedError(f"stanza {number}: missing or invalid Package field")
        if "status" in stanza or status_required:
            state = _state(stanza.get("status", ""), name)
        else:
            state = "installed"  # distroless writes only what is installed, without Status
        if state not in ON_DISK_STATES:
            continue
        if not stanza.get("version"):
            raise MalformedError(f"package {name} has no Version")
        packages.append(_package(stanza, location, budget))
    return packages


def _state(status: str, package: str) -> str:
    """The third word of ``Status: want flag state``."""
    words = status.split()
    if len(words) != 3 or words[2] not in KNOWN_STATES:
        raise MalformedError(f"package {package} has an invalid Status {status[:60]!r}")
    return words[2]


def _package(stanza: dict[str, str], location: str, budget: _NameBudget) -> _Installed:
    requires = tuple(
        Requirement(names, weak=field == "recommends")
        for field in RELATION_FIELDS
        for names in budget.relations(stanza.get(field, ""))
    )
    provides = tuple(names[0] for names in budget.relations(stanza.get("provides", "")))
    return _Installed(
        name=stanza["package"].lower(),
        version=stanza["version"],
        architecture=stanza.get("architecture", ""),
        multi_arch_same=stanza.get("multi-arch", "").lower() == "same",
        essential=stanza.get("essential", "").lower() == "yes",
        requires=requires,
        provides=provides,
        location=location,
    )


def _unique_names(packages: list[_Installed], platform: Platform) -> list[_Installed]:
    """A package installed for two architectures (libc6:amd64 and libc6:i386) keeps its plain
    name only for the native one; the foreign copy is named ``name:arch`` so each record's key
    stays unique. A repeated stanza is dropped."""
    architectures: dict[str, set[str]] = {}
    for package in packages:
        architectures.setdefault(package.name, set()).add(package.architecture)
    native = _native_architecture(platform)
    seen: set[tuple[str, str]] = set()
    unique = []
    for package in packages:
        named = package
        if len(architectures[package.name]) > 1 and package.architecture not in (native, "all"):
            named = replace(package, name=f"{package.name}:{package.architecture}")
        if (named.name, named.location) not in seen:
            seen.add((named.name, named.location))
            unique.append(named)
    return unique


def _native_architecture(platform: Platform) -> str:
    if platform.architecture == "arm":
        return "armel" if platform.variant in ("v5", "v6") else "armhf"
    return _DEBIAN_ARCHITECTURES.get(platform.architecture, platform.architecture)


# --- one record and its files ----------------------------------------------------------------


def _record(
    package: _Installed,
    files: ImageFiles,
    auto_marks: _AutoMarks | None,
    warn: Callable[[str], None],
) -> PackageRecord:
    owned = _owned_files(package, files, warn)
    return PackageRecord(
        ecosystem=Ecosystem.DPKG,
        name=package.name,
        version=package.version,
        location=package.location,
        files=owned or (),
        files_known=owned is not None,
        requires=package.requires,
        requested=None if auto_marks is None else not auto_marks.is_auto(package),
        essential=package.essential,
        provides=package.provides,
        display_name=package.name,
    )


def _owned_files(
    package: _Installed, files: ImageFiles, warn: Callable[[str], None]
) -> tuple[str, ...] | None:
    """The package's paths, or None when no intact list of them is in the image."""
    if package.location == STATUS:
        path, parse = _list_path(package, files), _parse_file_list
        prepared = files.prepared(path) if path is not None else None
        if isinstance(prepared, ListedPaths):
            return prepared.paths
    else:
        path, parse = package.md5sums, _parse_md5sums
    data = None if path is None else read_captured(files, path, warn)
    if path is None or data is None:
        return None
    try:
        return parse(data)
    except MalformedError as error:
        warn(f"{path}: {error}")
        return None


def _list_path(package: _Installed, files: ImageFiles) -> str | None:
    """``info/<name>.list``, or ``info/<name>:<arch>.list`` for Multi-Arch: same packages
    (dpkg qualifies those so that both architectures' lists can coexist)."""
    name = package.name.partition(":")[0]
    plain = f"{INFO_DIR}/{name}.list"
    candidates = [plain]
    if _ARCHITECTURE.fullmatch(package.architecture):
        qualified = f"{INFO_DIR}/{name}:{package.architecture}.list"
        candidates = [qualified, plain] if package.multi_arch_same else [plain, qualified]
    return next((path for path in candidates if files.exists(path)), None)


def _parse_file_list(data: bytes) -> tuple[str, ...]:
    """A dpkg ``.list``: one absolute path per line (paths need not be UTF-8)."""
    if data.endswith(b"\n") and b"\0" not in data and data.count(b"\n") <= MAX_LIST_LINES:
        text = data.decode("utf-8", "surrogateescape")
        lines = text.split("\n")[:-1]
        listed = [line for line in lines if line != "/."]
        if listed and _clean_absolute("\n".join(listed)):
            # the usual list, checked with one search: every line absolute and clean
            return tuple(dict.fromkeys([line[1:] for line in listed]))
    return normalized_paths(_lines(data, valid=_is_absolute))


def _parse_md5sums(data: bytes) -> tuple[str, ...]:
    """``md5sum`` output: 32 hex digits, a space, a mode character, a root-relative path."""
    lines = _lines(data, valid=_is_md5sum_line)
    return normalized_paths(line[_MD5SUM_PATH_START:] for line in lines)


def _is_absolute(line: str) -> bool:
    return line.startswith("/")


def _is_md5sum_line(line: str) -> bool:
    return _MD5SUM_LINE.match(line) is not None


def _lines(data: bytes, valid: Callable[[str], bool]) -> list[str]:
    if b"\0" in data:
        raise MalformedError("binary data (NUL bytes)")
    if data and not data.endswith(b"\n"):
        raise MalformedError("missing final newline (truncated?)")
    if data.count(b"\n") > MAX_LIST_LINES:
        raise MalformedError(f"more than {MAX_LIST_LINES} lines")
    # surrogateescape: the reader names non-UTF-8 paths the same way
    lines = data.decode("utf-8", "surrogateescape").split("\n")[:-1]
    for number, line in enumerate(lines, start=1):
        if not valid(line):
            raise MalformedError(f"line {number}: unexpected {line[:60]!r}")
    return lines


def _clean_absolute(lines: str) -> bool:
    """Whether every one of these newline-joined lines is an absolute path normpath leaves
    alone: substring tests over the whole list, which run at memory speed."""
    return (
        lines.startswith("/")
        and lines.count("\n") == lines.count("\n/")
        and "/." not in lines
        and "//" not in lines
        and "/\n" not in lines
        and not lines.endswith("/")
    )


# --- apt's marks -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AutoMarks:
    """The packages apt installed only as dependencies, by (name, architecture)."""

    marked: frozenset[tuple[str, str]]
    names: frozenset[str]

    def is_auto(self, package: _Installed) -> bool:
        name = package.name.partition(":")[0]
        # apt before multi-arch wrote no Architecture
        if (name, package.architecture) in self.marked or (name, "") in self.marked:
            return True
        # apt files an Architecture: all package under the native architecture
        return package.architecture in ("all", "") and name in self.names


def _auto_marks(files: ImageFiles, warn: Callable[[str], None]) -> _AutoMarks | None:
    """None when there is no (readable) extended_states: nothing says what was asked for."""
    data = read_captured(files, EXTENDED_STATES, warn)
    if data is None:
        return None
    try:
        stanzas = parse_stanzas(data, MARK_FIELDS)
    except MalformedError as error:
        warn(f"{EXTENDED_STATES}: {error}")
        return None
    marked = [
        (stanza.get("package", "").lower(), stanza.get("architecture", ""))
        for stanza in stanzas
        if stanza.get("auto-installed") == "1"
    ]
    return _AutoMarks(frozenset(marked), frozenset(name for name, _ in marked))
