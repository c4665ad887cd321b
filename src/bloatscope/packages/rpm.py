"""rpm packages: rpm's sqlite database (rpm 4.16 and later: Fedora 33+, RHEL and UBI 9, Amazon
Linux 2023, Rocky and Alma 9), read without rpm or a file on disk.

The database sits in ``usr/lib/sysimage/rpm`` (Fedora 36+, openSUSE) or ``var/lib/rpm``; when
``var/lib/rpm`` is a symlink to the other, the reader already gives the file under its final
path. rpm leaves the database in WAL mode and checkpoints it on close, so the ``-wal`` file is
normally empty; committed transactions still in it are replayed the way sqlite would, so a
database captured mid-write shows what rpm would. Berkeley DB (``Packages``) and NDB
(``Packages.db``) databases are reported and not read.

Requirements are REQUIRENAME's names without rpmlib's own ``rpmlib(...)`` features. A file
requirement (``/usr/bin/python3``) keeps the path and adds, as alternatives, the packages whose
file lists hold it, since rpm satisfies it from file lists when no package provides the path.
Boolean requirements (``(a or b)``, ``(a if b)``) are decided against what the database holds:
``or`` becomes alternatives, ``and`` and ``with`` separate requirements, and a condition that
is false drops its branch. Requirements only install scriptlets need (``Requires(post)``) and
Recommends are weak: rpm erases their targets without complaint.

A name installed twice (multilib ``glibc.i686`` beside ``glibc.x86_64``, two kernels) gets
``name.arch`` or ``name-version.arch`` on the extra copies so record keys stay unique; imported
signing keys (``gpg-pubkey``) are not packages. rpm records no manual-install mark, so
``requested`` is None."""

from __future__ import annotations

import posixpath
import sqlite3
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import MAX_CAPTURED_BYTES, Cataloger, ImageFiles
from bloatscope.packages.database_files import normalized_paths, root_relative
from bloatscope.packages.rpm_header import HeaderError, RpmHeader, Tag

# The newer location first: when both hold a database, that is the one rpm uses.
DATABASES = ("usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite")
WAL_SUFFIX = "-wal"
_OTHER_BACKENDS = (("Packages", "Berkeley DB"), ("Packages.db", "NDB"))

# rpmds.h dependency flags: rpm skips install-only requirements when it checks an erase.
_RPMSENSE_SCRIPT_PRE = 1 << 9
_RPMSENSE_SCRIPT_POST = 1 << 10
_RPMSENSE_SCRIPT_PREUN = 1 << 11
_RPMSENSE_SCRIPT_POSTUN = 1 << 12
_RPMSENSE_PRETRANS = 1 << 7
_RPMSENSE_POSTTRANS = 1 << 5
_RPMSENSE_MISSINGOK = 1 << 19
_RPMSENSE_RPMLIB = 1 << 24
_RPMSENSE_KEYRING = 1 << 26
_RPMSENSE_POSTUNTRANS = 1 << 30
_RPMSENSE_PREUNTRANS = 1 << 31
_INSTALL_ONLY = (
    _RPMSENSE_SCRIPT_PRE
    | _RPMSENSE_SCRIPT_POST
    | _RPMSENSE_PRETRANS
    | _RPMSENSE_POSTTRANS
    | _RPMSENSE_KEYRING
)
_ERASE_SCRIPTS = (
    _RPMSENSE_SCRIPT_PREUN | _RPMSENSE_SCRIPT_POSTUN | _RPMSENSE_PREUNTRANS | _RPMSENSE_POSTUNTRANS
)

# Imported signing keys are listed as packages of this name; they own no files.
_PUBKEY = "gpg-pubkey"
# How many corrupt header numbers one warning names.
_NAMED_CORRUPT_HEADERS = 10
# sqlite work (virtual machine steps) allowed per byte of database before the read is given up:
# far above what scanning a real Packages table takes, it stops a crafted schema from spinning.
_STEPS_PER_BYTE = 100
_STEPS_PER_CHECK = 10_000

# OCI architecture -> the rpm architectures native to it, to tell a multilib copy (glibc.i686
# on x86_64) from the native one.
_NATIVE_ARCHITECTURES = {
    "amd64": frozenset({"x86_64", "amd64"}),
    "arm64": frozenset({"aarch64"}),
    "386": frozenset({"i386", "i486", "i586", "i686", "athlon"}),
    "arm": frozenset({"armv7hl", "armv7l", "armv6hl", "armhfp"}),
    "ppc64le": frozenset({"ppc64le"}),
    "ppc64": frozenset({"ppc64"}),
    "s390x": frozenset({"s390x"}),
    "riscv64": frozenset({"riscv64"}),
    "loong64": frozenset({"loongarch64"}),
    "mips64le": frozenset({"mips64el"}),
}


class DatabaseError(ValueError):
    """A database file that cannot be read as rpm's sqlite database; the message says why."""


@dataclass(frozen=True, slots=True)
class _Dependency:
    """One REQUIRENAME or RECOMMENDNAME entry, as written (perhaps a boolean expression)."""

    text: str
    weak: bool


@dataclass(frozen=True, slots=True)
class _Installed:
    """One package's header, decoded."""

    hnum: int
    name: str
    version: str
    architecture: str
    files: tuple[str, ...]
    provides: tuple[str, ...]
    requires: tuple[_Dependency, ...]


class RpmCataloger(Cataloger):
    ecosystem = Ecosystem.RPM
    # Only the root's database: a database elsewhere (a build chroot) lists another root's files.
    capture = r"^(?:var/lib/rpm|usr/lib/sysimage/rpm)/rpmdb\.sqlite(?:-wal)?$"
    capture_suffixes = ("/rpmdb.sqlite", "/rpmdb.sqlite-wal")

    def catalog(self, files: ImageFiles, warn: Callable[[str], None]) -> list[PackageRecord]:
        found = _database(files, warn)
        if found is None:
            return []
        path, data = found
        try:
            rows = stored_headers(data, files.read(path + WAL_SUFFIX))
        except DatabaseError as error:
            warn(f"{path}: {error}")
            return []
        installed, corrupt = _decoded(rows)
        if corrupt:
            warn(f"{path}: {_corrupt_message(corrupt)}")
        installed = _unique_names(installed, files.platform)
        return _records(installed, path)


# --- which database ----------------------------------------------------------------------


def _database(files: ImageFiles, warn: Callable[[str], None]) -> tuple[str, bytes] | None:
    """The captured sqlite database to read, and its bytes; None (with a warning when there is
    a database this cataloger cannot read) otherwise."""
    captured = [(path, data) for path in DATABASES if (data := files.read(path)) is not None]
    if captured:
        (chosen, data), *others = captured
        for other, other_data in others:
            if other_data != data:
                warn(f"{other}: not read, {chosen} is the database in use")
        return chosen, data
    for path in DATABASES:
        if files.exists(path):
            warn(f"{path}: present but not captured (too large?)")
            return None
    for path in DATABASES:
        directory = posixpath.dirname(path)
        for name, backend in _OTHER_BACKENDS:
            if files.exists(f"{directory}/{name}"):
                warn(f"{directory}/{name}: {backend} rpm database, not read (only sqlite is)")
                return None
    return None


# --- sqlite ------------------------------------------------------------------------------


def stored_headers(database: bytes, wal: bytes | None = None) -> list[tuple[int, object]]:
    """Every (hnum, blob) row of rpm's Packages table, in hnum order. Raises DatabaseError."""
    image = replay_wal(database, wal) if wal else database
    connection = _connect(image)
    try:
        _check_schema(connection)
        rows = connection.execute('SELECT hnum, blob FROM "Packages" ORDER BY hnum').fetchall()
    except (sqlite3.Error, UnicodeDecodeError) as error:
        # sqlite's message can quote the database's own (undecodable) bytes
        raise DatabaseError(f"sqlite: {error}") from None
    finally:
        connection.close()
    if not all(isinstance(hnum, int) for hnum, _blob in rows):
        raise DatabaseError("Packages.hnum holds something other than integers")
    return [(hnum, blob) for hnum, blob in rows]


def _connect(image: bytes) -> sqlite3.Connection:
    if not image.startswith(b"SQLite format 3\x00") or len(image) < 100:
        raise DatabaseError("not an sqlite database")
    # An in-memory database cannot be in WAL mode; bytes 18 and 19 (the file format's write and
    # read versions) say 2 for WAL, 1 for the rollback journal that deserialize accepts.
    writable = bytearray(image)
    writable[18:20] = b"\x01\x01"
    connection = sqlite3.connect(":memory:")
    # Text in a hostile database need not be UTF-8; names are decoded where they are read.
    connection.text_factory = bytes
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_CAPTURED_BYTES)
        connection.deserialize(writable)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("PRAGMA trusted_schema = OFF")
    except (sqlite3.Error, UnicodeDecodeError) as error:
        connection.close()
        raise DatabaseError(f"sqlite: {error}") from None
    budget = [len(image) * _STEPS_PER_BYTE // _STEPS_PER_CHECK + 1_000]

    def exhausted() -> bool:
        budget[0] -= 1
        return budget[0] < 0

    connection.set_progress_handler(exhausted, _STEPS_PER_CHECK)
    return connection


def _check_schema(connection: sqlite3.Connection) -> None:
    """Packages must be an ordinary table with stored columns: a view, virtual table or
    generated column would run whatever SQL the image chose on every row."""
    kinds = connection.execute(
        "SELECT type, sql FROM sqlite_schema WHERE name = 'Packages' COLLATE NOCASE"
    ).fetchall()
    if not kinds:
        raise DatabaseError("no Packages table")
    kind, sql = (_text(value) for value in kinds[0])
    if sql.lstrip().upper().startswith("CREATE VIRTUAL"):
        kind = "virtual table"
    if kind != "table":
        raise DatabaseError(f"Packages is a {kind}, not a table")
    columns = {
        _text(name).lower(): hidden
        for _cid, name, *_rest, hidden in connection.execute('PRAGMA table_xinfo("Packages")')
    }
    for needed in ("hnum", "blob"):
        if needed not in columns:
            raise DatabaseError(f"Packages has no {needed} column")
        if columns[needed] != 0:
            raise DatabaseError(f"Packages.{needed} is not a stored column")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# --- the write-ahead log -------------------------------------------------------------------

_WAL_HEADER = struct.Struct(">8I")
_FRAME_HEADER = struct.Struct(">6I")
_WAL_MAGIC_LITTLE = 0x377F0682
_WAL_MAGIC_BIG = 0x377F0683
_MASK = 0xFFFFFFFF
_PAGE_SIZES = frozenset(1 << bits for bits in range(9, 17))


def replay_wal(database: bytes, wal: bytes) -> bytes:
    """The database with the WAL's committed frames applied, as sqlite recovers it: frames
    count while their salts match the WAL header and their running checksum holds, up to the
    last commit frame among them. A WAL sqlite would ignore leaves the database as it is."""
    if len(wal) < _WAL_HEADER.size or len(database) < 100:
        return database
    magic, _version, page_size, _sequence, *salts, sum1, sum2 = _WAL_HEADER.unpack_from(wal)
    if magic not in (_WAL_MAGIC_LITTLE, _WAL_MAGIC_BIG) or page_size != _page_size(database):
        return database
    if page_size not in _PAGE_SIZES:
        return database
    order = ">" if magic == _WAL_MAGIC_BIG else "<"
    if _wal_checksum(order, wal[:24], (0, 0)) != (sum1, sum2):
        return database
    committed, page_count = _committed_frames(wal, page_size, tuple(salts), order, (sum1, sum2))
    # The database can only grow by pages the WAL holds, which bounds what a lying commit
    # frame can make us allocate.
    if page_count == 0 or page_count * page_size > len(database) + len(wal):
        return database
    image = bytearray(database[: page_count * page_size])
    image.extend(bytes(page_count * page_size - len(image)))
    for page, at in committed.items():
        if page <= page_count:
            image[(page - 1) * page_size : page * page_size] = wal[at : at + page_size]
    return bytes(image)


def _committed_frames(
    wal: bytes, page_size: int, salts: tuple[int, ...], order: str, running: tuple[int, int]
) -> tuple[dict[int, int], int]:
    """Page number -> offset of its newest committed content, and the database's size in pages
    after the last commit (0 when nothing was committed)."""
    committed: dict[int, int] = {}
    pending: dict[int, int] = {}
    page_count = 0
    offset = _WAL_HEADER.size
    while offset + _FRAME_HEADER.size + page_size <= len(wal):
        page, size_after, salt1, salt2, sum1, sum2 = _FRAME_HEADER.unpack_from(wal, offset)
        if page == 0 or (salt1, salt2) != salts:
            break
        content = offset + _FRAME_HEADER.size
        running = _wal_checksum(order, wal[offset : offset + 8], running)
        running = _wal_checksum(order, wal[content : content + page_size], running)
        if running != (sum1, sum2):
            break
        pending[page] = content
        if size_after:
            committed.update(pending)
            pending.clear()
            page_count = size_after
        offset = content + page_size
    return committed, page_count


def _wal_checksum(order: str, data: bytes, running: tuple[int, int]) -> tuple[int, int]:
    first, second = running
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for even, odd in zip(words[::2], words[1::2], strict=True):
        first = (first + even + second) & _MASK
        second = (second + odd + first) & _MASK
    return first, second


def _page_size(database: bytes) -> int:
    (size,) = struct.unpack_from(">H", database, 16)
    return 65536 if size == 1 else size


# --- headers -----------------------------------------------------------------------------


def _decoded(rows: Iterable[tuple[int, object]]) -> tuple[list[_Installed], list[int]]:
    """The packages of the rows, and the hnums of headers that could not be decoded."""
    installed: list[_Installed] = []
    corrupt: list[int] = []
    for hnum, blob in rows:
        try:
            if not isinstance(blob, bytes):
                raise HeaderError("blob is not a BLOB")
            package = installed_package(hnum, RpmHeader(blob))
        except HeaderError:
            corrupt.append(hnum)
            continue
        if package is not None:
            installed.append(package)
    return installed, corrupt


def installed_package(hnum: int, header: RpmHeader) -> _Installed | None:
    """The package a header describes; None for a signing key. Raises HeaderError."""
    name = header.string(Tag.NAME)
    version = header.string(Tag.VERSION)
    release = header.string(Tag.RELEASE)
    if not name or version is None or release is None:
        raise HeaderError("no NAME, VERSION or RELEASE")
    architecture = header.string(Tag.ARCH)
    if name == _PUBKEY and architecture is None:
        return None
    epoch = header.integer(Tag.EPOCH)
    evr = f"{version}-{release}" if epoch is None else f"{epoch}:{version}-{release}"
    return _Installed(
        hnum=hnum,
        name=name,
        version=evr,
        architecture=architecture or "",
        files=_files(header),
        provides=tuple(dict.fromkeys(header.strings(Tag.PROVIDENAME))),
        requires=_dependencies(header),
    )


def _dependencies(header: RpmHeader) -> tuple[_Dependency, ...]:
    """Requires without rpmlib's own features, then Recommends (weak)."""
    names = header.strings(Tag.REQUIRENAME)
    flags = header.integers(Tag.REQUIREFLAGS) or (0,) * len(names)
    if len(flags) != len(names):
        raise HeaderError(f"{len(names)} REQUIRENAME but {len(flags)} REQUIREFLAGS")
    requires = [
        _Dependency(name, _install_only(flag))
        for name, flag in zip(names, flags, strict=True)
        if not flag & _RPMSENSE_RPMLIB and not name.startswith("rpmlib(")
    ]
    recommends = [_Dependency(name, True) for name in header.strings(Tag.RECOMMENDNAME)]
    return tuple(dict.fromkeys(requires + recommends))


def _install_only(flags: int) -> bool:
    """A requirement only install scriptlets need (``Requires(pre)``, ``Requires(post)``) or
    marked missing-ok: rpm erases its target without complaint, so it is weak."""
    if flags & _RPMSENSE_MISSINGOK:
        return True
    return bool(flags & _INSTALL_ONLY) and not flags & _ERASE_SCRIPTS


def _files(header: RpmHeader) -> tuple[str, ...]:
    """Every path the header lists, normalized, each once."""
    return normalized_paths(_file_paths(header))


def _file_paths(header: RpmHeader) -> list[str]:
    """Directory name by index plus base name, or (headers from before rpm 4) whole names."""
    if Tag.BASENAMES not in header:
        return list(header.strings(Tag.OLDFILENAMES))
    basenames = header.strings(Tag.BASENAMES)
    dirnames = header.strings(Tag.DIRNAMES)
    indexes = header.integers(Tag.DIRINDEXES)
    if len(indexes) != len(basenames):
        raise HeaderError(f"{len(basenames)} BASENAMES but {len(indexes)} DIRINDEXES")
    if indexes and max(indexes) >= len(dirnames):
        raise HeaderError(f"DIRINDEXES {max(indexes)} beyond {len(dirnames)} DIRNAMES")
    return [dirnames[index] + basename for basename, index in zip(basenames, indexes, strict=True)]


def _corrupt_message(hnums: Sequence[int]) -> str:
    named = ", ".join(str(hnum) for hnum in hnums[:_NAMED_CORRUPT_HEADERS])
    more = len(hnums) - _NAMED_CORRUPT_HEADERS
    suffix = f" and {more} more" if more > 0 else ""
    noun = "header" if len(hnums) == 1 else "headers"
    return f"skipped corrupt {noun} (hnum {named}{suffix})"


def _unique_names(packages: list[_Installed], platform: Platform) -> list[_Installed]:
    """A name installed twice keeps its plain name for one native (or noarch) copy; a
    multilib copy becomes ``name.arch`` and another version ``name-version.arch`` (rpm's
    NEVRA), so every record's key is unique. The copies still provide the plain name. An
    exact duplicate is dropped."""
    counts: dict[str, int] = {}
    for package in packages:
        counts[package.name] = counts.get(package.name, 0) + 1
    native = _NATIVE_ARCHITECTURES.get(platform.architecture, frozenset()) | {"noarch", ""}
    # Native copies first so the plain name goes to one of them.
    ordered = sorted(packages, key=lambda package: package.architecture not in native)
    taken: set[str] = set()
    unique: dict[int, _Installed] = {}
    for package in ordered:
        name = package.name
        if counts[name] > 1:
            for candidate in _duplicate_names(package, native):
                if candidate not in taken:
                    name = candidate
                    break
            else:
                continue
        taken.add(name)
        unique[package.hnum] = replace(package, name=name)
    return [unique[package.hnum] for package in packages if package.hnum in unique]


def _duplicate_names(package: _Installed, native: frozenset[str]) -> tuple[str, ...]:
    nevra = f"{package.name}-{package.version}.{package.architecture}".rstrip(".")
    if package.architecture in native:
        return (package.name, nevra)
    return (f"{package.name}.{package.architecture}", nevra)


# --- records -----------------------------------------------------------------------------


def _records(packages: Sequence[_Installed], location: str) -> list[PackageRecord]:
    available = _Available(packages)
    requirements = [_requirements(package, available.holds) for package in packages]
    owners = available.owners(
        {name for needed in requirements for names in needed for name in names}
    )
    return [
        PackageRecord(
            ecosystem=Ecosystem.RPM,
            name=package.name,
            version=package.version,
            location=location,
            files=package.files,
            requires=tuple(
                Requirement(_with_owners(names, owners), weak=weak)
                for names, weak in needed.items()
            ),
            provides=tuple(name for name in package.provides if name != package.name),
        )
        for package, needed in zip(packages, requirements, strict=True)
    ]


def _requirements(package: _Installed, holds: Callable[[str], bool]) -> dict[tuple[str, ...], bool]:
    """Each requirement's alternatives -> whether it is weak (only when every entry making it
    is)."""
    needed: dict[tuple[str, ...], bool] = {}
    for dependency in package.requires:
        for names in _needed(dependency.text, holds):
            needed[names] = needed.get(names, True) and dependency.weak
    return needed


class _Available:
    """What the installed packages offer: their names, provided names and files."""

    def __init__(self, packages: Sequence[_Installed]) -> None:
        self._packages = packages
        self._names = {package.name for package in packages}
        self._names.update(name for package in packages for name in package.provides)
        self._files = {path for package in packages for path in package.files}

    def holds(self, name: str) -> bool:
        """Whether an installed package satisfies the dependency ``name``, as rpm decides: by a
        provided name, or for a path by a file list."""
        if name in self._names:
            return True
        return name.startswith("/") and root_relative("", name) in self._files

    def owners(self, names: set[str]) -> dict[str, tuple[str, ...]]:
        """File requirement -> the packages whose file lists hold it, for the paths among
        ``names`` (only those: a map of every file would hold the whole tree)."""
        wanted: dict[str, list[str]] = {}
        for name in names:
            if name.startswith("/") and root_relative("", name) in self._files:
                wanted.setdefault(root_relative("", name), []).append(name)
        owners: dict[str, list[str]] = {}
        for package in self._packages:
            for path in package.files:
                for name in wanted.get(path, ()):
                    owners.setdefault(name, []).append(package.name)
        return {name: tuple(dict.fromkeys(found)) for name, found in owners.items()}


def _with_owners(names: tuple[str, ...], owners: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    extra = (owner for name in names for owner in owners.get(name, ()))
    return tuple(dict.fromkeys((*names, *extra)))


# --- boolean dependencies ------------------------------------------------------------------

_MAX_NESTING = 32
_OPERATORS = frozenset({"and", "or", "if", "else", "with", "without", "unless"})
_CHAINED = frozenset({"and", "or", "with"})
_CONDITIONAL = frozenset({"if", "unless"})


class _RichError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class _Name:
    name: str


@dataclass(frozen=True, slots=True)
class _Expression:
    """``if`` and ``unless`` hold (then, condition[, else])."""

    operator: str
    operands: tuple[_Name | _Expression, ...]


_Node = _Name | _Expression


def _needed(text: str, holds: Callable[[str], bool]) -> list[tuple[str, ...]]:
    """The requirements one REQUIRENAME entry makes, each a tuple of alternatives. A plain name
    is one requirement; a boolean expression as many as it needs given what is installed. An
    expression that does not parse stays one name, which nothing provides."""
    if not text.startswith("("):
        return [(text,)]
    try:
        tokens = _tokens(text)
        tree, end = _parse_group(tokens, 0, 0)
        if end != len(tokens):
            raise _RichError("text after the expression")
    except _RichError:
        return [(text,)]
    return _required(tree, holds)


def _tokens(text: str) -> list[str]:
    """Parentheses, operators and dependency words. A word may hold balanced parentheses of
    its own (``perl(Foo::Bar)``, ``python3dist(foo)``)."""
    tokens: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append(char)
            position += 1
        else:
            start, depth = position, 0
            while position < len(text) and not text[position].isspace():
                if text[position] == "(":
                    depth += 1
                elif text[position] == ")":
                    if depth == 0:
                        break
                    depth -= 1
                position += 1
            tokens.append(text[start:position])
    return tokens


def _parse_group(tokens: list[str], position: int, depth: int) -> tuple[_Node, int]:
    if depth > _MAX_NESTING:
        raise _RichError("nested too deep")
    if _token(tokens, position) != "(":
        raise _RichError("expected (")
    first, position = _parse_operand(tokens, position + 1, depth)
    operator = _token(tokens, position)
    if operator == ")":
        return first, position + 1
    if operator not in _OPERATORS or operator == "else":
        raise _RichError(f"unexpected {operator!r}")
    operands = [first]
    while _token(tokens, position) == operator:
        operand, position = _parse_operand(tokens, position + 1, depth)
        operands.append(operand)
        if operator not in _CHAINED:
            break
    if operator in _CONDITIONAL and _token(tokens, position) == "else":
        operand, position = _parse_operand(tokens, position + 1, depth)
        operands.append(operand)
    if _token(tokens, position) != ")":
        raise _RichError("expected )")
    return _Expression(operator, tuple(operands)), position + 1


def _parse_operand(tokens: list[str], position: int, depth: int) -> tuple[_Node, int]:
    token = _token(tokens, position)
    if token == "(":
        return _parse_group(tokens, position, depth + 1)
    if not token or token in _OPERATORS or token == ")":
        raise _RichError(f"expected a name, got {token!r}")
    position += 1
    comparison = _token(tokens, position)
    # A version comparison (``foo >= 1.2``) belongs to the name before it.
    if comparison and set(comparison) <= set("<=>"):
        version = _token(tokens, position + 1)
        if version in ("", "(", ")"):
            raise _RichError("comparison without a version")
        position += 2
    return _Name(token), position


def _token(tokens: list[str], position: int) -> str:
    return tokens[position] if position < len(tokens) else ""


def _required(node: _Node, holds: Callable[[str], bool]) -> list[tuple[str, ...]]:
    """The requirements ``node`` makes; ``or`` is loosened to one requirement naming every
    name below it (any of them installed satisfies it)."""
    if isinstance(node, _Name):
        return [(node.name,)]
    operator, operands = node.operator, node.operands
    if operator in ("and", "with"):
        return [names for operand in operands for names in _required(operand, holds)]
    if operator == "or":
        return [tuple(dict.fromkeys(_names_in(node)))]
    if operator == "without":
        return _required(operands[0], holds)
    then, condition, *otherwise = operands
    if (operator == "if") == _holds(condition, holds):
        return _required(then, holds)
    return _required(otherwise[0], holds) if otherwise else []


def _holds(node: _Node, holds: Callable[[str], bool]) -> bool:
    """Whether what is installed satisfies ``node``."""
    if isinstance(node, _Name):
        return holds(node.name)
    values = [_holds(operand, holds) for operand in node.operands]
    if node.operator in ("and", "with"):
        return all(values)
    if node.operator == "or":
        return any(values)
    if node.operator == "without":
        return values[0]
    then, condition, *otherwise = values
    if node.operator == "unless":
        condition = not condition
    if condition:
        return then
    return otherwise[0] if otherwise else True


def _names_in(node: _Node) -> Iterator[str]:
    if isinstance(node, _Name):
        yield node.name
        return
    for operand in node.operands:
        yield from _names_in(operand)
