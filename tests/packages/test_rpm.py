"""The rpm cataloger: against a database Debian's real rpm wrote for three tiny packages it
built, against hand-laid headers and databases (multilib, boolean and install-only
requirements, a write-ahead log, hostile schemas), and fuzzed."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.rpm import RpmCataloger, installed_package, replay_wal
from bloatscope.packages.rpm_header import HeaderError, RpmHeader, Tag, Type
from packages.rpm_fixtures import (
    RPM_SCHEMA,
    RpmRoot,
    header_blob,
    package_header,
    rpm_root,
    sqlite_rpmdb,
)

VAR_DB = "var/lib/rpm/rpmdb.sqlite"
SYSIMAGE_DB = "usr/lib/sysimage/rpm/rpmdb.sqlite"
AMD64 = Platform("linux", "amd64")

# rpmds.h flags used below
SCRIPT_PRE = 1 << 9
SCRIPT_POST = 1 << 10
SCRIPT_PREUN = 1 << 11
SCRIPT_POSTUN = 1 << 12
INTERP = 1 << 8
MISSINGOK = 1 << 19
RPMLIB = 1 << 24


def catalog(
    contents: dict[str, bytes], other_paths: tuple[str, ...] = (), platform: Platform = AMD64
) -> tuple[list[PackageRecord], list[str]]:
    warnings: list[str] = []
    files = ImageFiles.from_mapping(contents, other_paths=other_paths, platform=platform)
    return RpmCataloger().catalog(files, warnings.append), warnings


def by_name(records: list[PackageRecord]) -> dict[str, PackageRecord]:
    return {record.name: record for record in records}


# --- a database written by rpm itself ----------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RpmRoot:
    return rpm_root(tmp_path_factory.mktemp("rpm"))


@pytest.fixture(scope="module")
def real_records(real: RpmRoot) -> dict[str, PackageRecord]:
    records, warnings = catalog({VAR_DB: real.database()})
    assert warnings == []
    return by_name(records)


def test_real_database_lists_what_rpm_lists(
    real: RpmRoot, real_records: dict[str, PackageRecord]
) -> None:
    listed = real.query("-qa", "--qf", "%{NAME}\t%{EVR}\n").splitlines()
    assert {name: record.version for name, record in real_records.items()} == dict(
        line.split("\t") for line in listed
    )
    assert {name: record.version for name, record in real_records.items()} == {
        "tiny-base": "2:1.2-3",
        "tiny-app": "0.9-1.fc40",
        "tiny-extra": "0:3.0~rc1-0.1",
    }
    for record in real_records.values():
        assert record.ecosystem is Ecosystem.RPM
        assert record.location == VAR_DB
        assert record.requested is None


def test_real_database_files_are_rpm_ql(
    real: RpmRoot, real_records: dict[str, PackageRecord]
) -> None:
    for name, record in real_records.items():
        listed = [line.lstrip("/") for line in real.query("-ql", name).splitlines()]
        assert list(record.files) == listed
    assert real_records["tiny-base"].files == (
        "usr/lib/tiny",
        "usr/lib/tiny/data.txt",
        "usr/lib/tiny/link",
        "usr/share/doc/tiny/README",
    )
    assert real_records["tiny-extra"].files == ("etc/tiny.conf", "var/log/tiny.log")


def test_real_database_requirements(real: RpmRoot, real_records: dict[str, PackageRecord]) -> None:
    assert real_records["tiny-base"].requires == ()
    assert real_records["tiny-app"].requires == (
        Requirement(("tiny-extra", "tiny-missing")),  # (tiny-extra or tiny-missing)
        # (tiny-missing if tiny-nothere): tiny-nothere is not installed, so nothing
        Requirement(("/bin/sh",)),
        Requirement(("/usr/lib/tiny/data.txt", "tiny-base")),  # the file's owner
        Requirement(("tiny-base",)),
        Requirement(("tiny-extra",), weak=True),  # Requires(post)
        Requirement(("tiny-nowhere",), weak=True),  # Recommends
    )
    assert real_records["tiny-extra"].requires == (
        Requirement(("tiny-base",)),  # (tiny-base if tiny-app), and tiny-app is installed
        Requirement(("/bin/sh",), weak=True),  # the %post interpreter
        Requirement(("config(tiny-extra)",)),
    )
    # Every plain requirement rpm -qR shows is there, under the same name.
    for name, record in real_records.items():
        shown = real.query("-q", "--qf", "[%{REQUIRENAME}\n]", name).splitlines()
        plain = {line for line in shown if not line.startswith(("rpmlib(", "("))}
        assert plain <= {requirement.names[0] for requirement in record.requires}


def test_real_database_provides(real: RpmRoot, real_records: dict[str, PackageRecord]) -> None:
    assert real_records["tiny-base"].provides == ("tiny-data",)
    assert real_records["tiny-app"].provides == ("/usr/libexec/tiny-helper", "tiny-virtual")
    assert real_records["tiny-extra"].provides == ("config(tiny-extra)",)
    for name, record in real_records.items():
        shown = real.query("-q", "--qf", "[%{PROVIDENAME}\n]", name).splitlines()
        assert record.provides == tuple(line for line in shown if line != name)


def test_real_database_under_sysimage_with_its_empty_wal(
    real: RpmRoot, real_records: dict[str, PackageRecord]
) -> None:
    wal = (real.root / real.dbpath / "rpmdb.sqlite-wal").read_bytes()
    assert wal == b""  # rpm checkpoints on close
    records, warnings = catalog({SYSIMAGE_DB: real.database(), SYSIMAGE_DB + "-wal": wal})
    assert warnings == []
    assert [record.location for record in records] == [SYSIMAGE_DB] * 3
    assert {record.name: record.files for record in records} == {
        name: record.files for name, record in real_records.items()
    }


def test_real_headers_parse_without_region_surprises(real: RpmRoot) -> None:
    connection = sqlite3.connect(":memory:")
    image = bytearray(real.database())
    image[18:20] = b"\x01\x01"
    connection.deserialize(bytes(image))
    blobs = [blob for (blob,) in connection.execute("SELECT blob FROM Packages ORDER BY hnum")]
    connection.close()
    names = [RpmHeader(blob).string(Tag.NAME) for blob in blobs]
    assert sorted(names) == ["tiny-app", "tiny-base", "tiny-extra"]  # type: ignore[type-var]
    # rpm writes the immutable region first; everything it adds on install comes after it.
    for blob in blobs:
        (first_tag,) = struct.unpack_from(">i", blob, 8)
        assert first_tag == 63


# --- choosing the database ---------------------------------------------------------------------


def test_capture_pattern_names_only_the_root_databases() -> None:
    capture = re.compile(RpmCataloger.capture)
    for path in (VAR_DB, SYSIMAGE_DB, VAR_DB + "-wal", SYSIMAGE_DB + "-wal"):
        assert capture.search(path), path
    for path in (
        VAR_DB + "-shm",
        "var/lib/rpm/Packages",
        "chroot/var/lib/rpm/rpmdb.sqlite",
        "var/lib/rpm/rpmdb.sqlite.bak",
        "usr/share/rpm/rpmdb.sqlite",
    ):
        assert not capture.search(path), path


def test_no_rpm_database_is_no_packages_and_no_warning() -> None:
    assert catalog({}, ("usr/bin/bash", "var/lib/dpkg/status")) == ([], [])


@pytest.mark.parametrize(
    ("path", "backend"),
    [("var/lib/rpm/Packages", "Berkeley DB"), ("usr/lib/sysimage/rpm/Packages.db", "NDB")],
)
def test_other_backends_are_reported_not_read(path: str, backend: str) -> None:
    records, warnings = catalog({}, (path, "var/lib/rpm/Name"))
    assert records == []
    assert warnings == [f"{path}: {backend} rpm database, not read (only sqlite is)"]


def test_database_too_large_to_capture_is_reported() -> None:
    assert catalog({}, (VAR_DB,)) == ([], [f"{VAR_DB}: present but not captured (too large?)"])


def test_sysimage_database_wins_over_a_different_var_lib_rpm_one() -> None:
    current = sqlite_rpmdb([package_header("bash", "5.2.26")])
    stale = sqlite_rpmdb([package_header("bash", "5.1.8")])
    records, warnings = catalog({SYSIMAGE_DB: current, VAR_DB: stale})
    assert [(record.name, record.version, record.location) for record in records] == [
        ("bash", "5.2.26-1", SYSIMAGE_DB)
    ]
    assert warnings == [f"{VAR_DB}: not read, {SYSIMAGE_DB} is the database in use"]
    # The same file seen at both paths is no conflict.
    assert catalog({SYSIMAGE_DB: current, VAR_DB: current})[1] == []


# --- records from hand-laid headers ------------------------------------------------------------


def test_header_fields_become_the_record() -> None:
    blob = package_header(
        "openssl-libs",
        "3.1.1",
        "4.fc39",
        epoch=1,
        files=["/usr/lib64/libssl.so.3", "/usr/lib64/libcrypto.so.3", "/usr/share/licenses/o/L"],
        provides=["libssl.so.3()(64bit)", "openssl-libs(x86-64)"],
        requires=["ld-linux-x86-64.so.2()(64bit)", "rpmlib(PayloadIsZstd)", "ca-certificates"],
    )
    records, warnings = catalog({VAR_DB: sqlite_rpmdb([blob])})
    assert warnings == []
    assert records == [
        PackageRecord(
            ecosystem=Ecosystem.RPM,
            name="openssl-libs",
            version="1:3.1.1-4.fc39",
            location=VAR_DB,
            files=(
                "usr/lib64/libssl.so.3",
                "usr/lib64/libcrypto.so.3",
                "usr/share/licenses/o/L",
            ),
            requires=(
                Requirement(("ld-linux-x86-64.so.2()(64bit)",)),
                Requirement(("ca-certificates",)),
            ),
            provides=("libssl.so.3()(64bit)", "openssl-libs(x86-64)"),
        )
    ]


def test_names_are_case_sensitive_and_paths_normalized() -> None:
    blob = package_header(
        "Perl-Foo", files=["/usr/../etc/x.conf", "//opt//a/./b", "/../../escape", "/"]
    )
    records, _ = catalog({VAR_DB: sqlite_rpmdb([blob, package_header("perl-foo")])})
    assert [record.name for record in records] == ["Perl-Foo", "perl-foo"]
    assert records[0].files == ("etc/x.conf", "opt/a/b", "escape")  # "/" itself is no file


def test_entries_added_on_install_replace_region_entries() -> None:
    blob = header_blob(
        {
            Tag.NAME: (Type.STRING, "zlib"),
            Tag.VERSION: (Type.STRING, "1.2.13"),
            Tag.RELEASE: (Type.STRING, "1"),
            Tag.ARCH: (Type.STRING, "x86_64"),
        },
        {Tag.RELEASE: (Type.STRING, "2")},
    )
    assert RpmHeader(blob).string(Tag.RELEASE) == "2"
    records, _ = catalog({VAR_DB: sqlite_rpmdb([blob])})
    assert records[0].version == "1.2.13-2"


def test_pre_rpm4_file_names() -> None:
    blob = header_blob(
        {
            Tag.NAME: (Type.STRING, "old"),
            Tag.VERSION: (Type.STRING, "1"),
            Tag.RELEASE: (Type.STRING, "1"),
            Tag.OLDFILENAMES: (Type.STRING_ARRAY, ["/bin/old", "/etc/old.rc"]),
        },
        region=False,
    )
    records, _ = catalog({VAR_DB: sqlite_rpmdb([blob])})
    assert records[0].files == ("bin/old", "etc/old.rc")


def test_signing_keys_are_not_packages() -> None:
    key = package_header("gpg-pubkey", "18b8e74c", "62f2920f", arch=None)
    records, warnings = catalog({VAR_DB: sqlite_rpmdb([key, package_header("bash")])})
    assert [record.name for record in records] == ["bash"]
    assert warnings == []


def test_multilib_and_installonly_copies_get_unique_names() -> None:
    blobs = [
        package_header("glibc", "2.38", "7.fc39", arch="i686", provides=["glibc(x86-32)"]),
        package_header("glibc", "2.38", "7.fc39", arch="x86_64", provides=["glibc(x86-64)"]),
        package_header("kernel-core", "6.5.6", "300.fc39"),
        package_header("kernel-core", "6.6.2", "200.fc39"),
        package_header("kernel-core", "6.6.2", "200.fc39"),  # the same NEVRA again
        package_header("tzdata", "2024a", "1", arch="noarch"),
    ]
    records, _ = catalog({VAR_DB: sqlite_rpmdb(blobs)})
    assert [(record.name, record.provides) for record in records] == [
        ("glibc.i686", ("glibc", "glibc(x86-32)")),
        ("glibc", ("glibc(x86-64)",)),
        ("kernel-core", ()),
        ("kernel-core-6.6.2-200.fc39.x86_64", ("kernel-core",)),
        ("tzdata", ()),
    ]
    i686_records, _ = catalog({VAR_DB: sqlite_rpmdb(blobs[:2])}, platform=Platform("linux", "386"))
    assert [record.name for record in i686_records] == ["glibc", "glibc.x86_64"]


@pytest.mark.parametrize(
    ("flags", "weak"),
    [
        (0, False),
        (SCRIPT_PRE, True),
        (SCRIPT_POST | INTERP, True),
        (SCRIPT_PRE | SCRIPT_POSTUN, False),  # needed to erase, too
        (SCRIPT_PREUN, False),
        (MISSINGOK, True),
        (1 << 26, True),  # KEYRING
        (SCRIPT_POST | 1 << 31, False),  # and PREUNTRANS, an erase-time scriptlet
    ],
)
def test_install_only_requirements_are_weak(flags: int, weak: bool) -> None:
    blob = package_header("httpd", requires=["shadow-utils"], require_flags=[flags])
    records, _ = catalog({VAR_DB: sqlite_rpmdb([blob])})
    assert records[0].requires == (Requirement(("shadow-utils",), weak=weak),)


def test_a_name_both_required_and_install_only_is_a_hard_requirement() -> None:
    blob = package_header(
        "httpd",
        requires=["/bin/sh", "/bin/sh", "rpmlib(Foo)", "systemd-rpm-macros"],
        require_flags=[SCRIPT_POST | INTERP, 0, RPMLIB, RPMLIB],
        recommends=["mod_http2", "/bin/sh"],
    )
    records, _ = catalog({VAR_DB: sqlite_rpmdb([blob])})
    assert records[0].requires == (
        Requirement(("/bin/sh",)),
        Requirement(("mod_http2",), weak=True),
    )


def _requires_of(expression: str) -> tuple[Requirement, ...]:
    installed = [
        package_header("a"),
        package_header("b"),
        package_header("perl-Foo", provides=["perl(Foo::Bar)"]),
        package_header("bash", files=["/usr/bin/bash"]),
        package_header("user", requires=[expression]),
    ]
    records, warnings = catalog({VAR_DB: sqlite_rpmdb(installed)})
    assert warnings == []
    return records[-1].requires


@pytest.mark.parametrize(
    ("expression", "requires"),
    [
        ("(a or b)", (("a", "b"),)),
        ("(a and (b or c))", (("a",), ("b", "c"))),
        ("(a >= 1.0 with a < 2)", (("a",),)),
        ("(c if a)", (("c",),)),
        ("(c if z)", ()),
        ("(c if z else b)", (("b",),)),
        ("(c unless a)", ()),
        ("(c unless a else b)", (("b",),)),
        ("(c unless z)", (("c",),)),
        ("(a without b)", (("a",),)),
        ("(c if (z or /usr/bin/bash))", (("c",),)),
        ("(c if (a and z))", ()),
        ("(perl(Foo::Bar) >= 1.2 if (b or z))", (("perl(Foo::Bar)",),)),
        ("((a or c) and b)", (("a", "c"), ("b",))),
        ("(a or", (("(a or",),)),  # not an expression: kept whole, nothing provides it
        ("(a >= )", (("(a >= )",),)),
        ("(a if b if c)", (("(a if b if c)",),)),
        ("(else a)", (("(else a)",),)),
        ("(" * 40 + "a" + ")" * 40, (("(" * 40 + "a" + ")" * 40,),)),
    ],
)
def test_boolean_requirements(expression: str, requires: tuple[tuple[str, ...], ...]) -> None:
    assert _requires_of(expression) == tuple(Requirement(names) for names in requires)


def test_file_requirements_name_their_owners() -> None:
    blobs = [
        package_header("python3", files=["/usr/bin/python3.12", "/usr/bin/python3"]),
        package_header("python3-alt", files=["/usr/bin/python3"]),
        package_header("bash", provides=["/bin/sh"], files=["/usr/bin/sh"]),
        package_header(
            "tool", requires=["/usr/bin/python3", "/bin/sh", "/usr/bin/missing", "/usr//bin/sh"]
        ),
    ]
    records, _ = catalog({VAR_DB: sqlite_rpmdb(blobs)})
    assert records[-1].requires == (
        Requirement(("/usr/bin/python3", "python3", "python3-alt")),
        Requirement(("/bin/sh",)),  # bash provides the path itself
        Requirement(("/usr/bin/missing",)),
        Requirement(("/usr//bin/sh", "bash")),
    )


# --- broken databases --------------------------------------------------------------------------


def test_corrupt_headers_are_skipped_and_named_once() -> None:
    good = package_header("bash")
    bad_count = struct.pack(">II", 0x10000, 0) + good[8:]
    truncated = good[:-3]
    unnamed = header_blob({Tag.VERSION: (Type.STRING, "1"), Tag.RELEASE: (Type.STRING, "1")})
    blobs = [good, bad_count, package_header("zsh"), truncated, unnamed, None, "text"]
    records, warnings = catalog({VAR_DB: sqlite_rpmdb(blobs, RPM_SCHEMA.replace(" NOT NULL", ""))})
    assert [record.name for record in records] == ["bash", "zsh"]
    assert warnings == [f"{VAR_DB}: skipped corrupt headers (hnum 2, 4, 5, 6, 7)"]


def test_many_corrupt_headers_make_one_warning() -> None:
    records, warnings = catalog({VAR_DB: sqlite_rpmdb([b"\x00" * 20] * 25)})
    assert records == []
    assert warnings == [
        f"{VAR_DB}: skipped corrupt headers (hnum 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 15 more)"
    ]


def test_one_corrupt_header() -> None:
    _, warnings = catalog({VAR_DB: sqlite_rpmdb([b"junk"])})
    assert warnings == [f"{VAR_DB}: skipped corrupt header (hnum 1)"]


@pytest.mark.parametrize(
    ("database", "problem"),
    [
        (b"", "not an sqlite database"),
        (b"\x00" * 4096, "not an sqlite database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "sqlite: "),
        (sqlite_rpmdb([]).replace(b"Packages", b"Pakkages"), "no Packages table"),
        (
            sqlite_rpmdb([], "CREATE TABLE Packages (hnum INTEGER, other BLOB)"),
            "Packages has no blob column",
        ),
        (
            sqlite_rpmdb(
                [], "CREATE TABLE Packages (hnum INTEGER, blob BLOB AS (zeroblob(1000000000)))"
            ),
            "Packages.blob is not a stored column",
        ),
    ],
)
def test_unreadable_database_is_one_warning(database: bytes, problem: str) -> None:
    records, warnings = catalog({VAR_DB: database})
    assert records == []
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{VAR_DB}: {problem}")


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        (
            "CREATE VIEW Packages AS WITH RECURSIVE n(hnum) AS (SELECT 1 UNION ALL "
            "SELECT hnum + 1 FROM n) SELECT hnum, zeroblob(9) AS blob FROM n",
            "view",
        ),
        ("CREATE VIRTUAL TABLE Packages USING fts4(hnum, blob)", "virtual table"),
    ],
)
def test_packages_must_be_an_ordinary_table(schema: str, kind: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute(schema)
    database = connection.serialize()
    connection.close()
    assert catalog({VAR_DB: database}) == ([], [f"{VAR_DB}: Packages is a {kind}, not a table"])


def test_truncated_database_is_one_warning_and_no_exception() -> None:
    database = sqlite_rpmdb([package_header(f"p{i}", files=[f"/x/{i}" * 50]) for i in range(60)])
    for cut in (100, 4096, len(database) // 2, len(database) - 1):
        records, warnings = catalog({VAR_DB: database[:cut]})
        assert len(warnings) <= 1
        assert len(records) <= 60


# --- the write-ahead log -------------------------------------------------------------------------


def _wal_database(directory: Path, batches: list[list[bytes]]) -> tuple[bytes, bytes]:
    """A database whose first batch is checkpointed into the file and whose later batches
    (one transaction each) are only in the WAL; read while the writer still has it open."""
    path = directory / "rpmdb.sqlite"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.execute(RPM_SCHEMA)
        for number, batch in enumerate(batches):
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in batch])
            connection.execute("COMMIT")
            if number == 0:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return path.read_bytes(), (directory / "rpmdb.sqlite-wal").read_bytes()
    finally:
        connection.close()


def test_committed_transactions_in_the_wal_are_read(tmp_path: Path) -> None:
    database, wal = _wal_database(
        tmp_path,
        [[package_header("bash")], [package_header("zsh")], [package_header("fish")]],
    )
    assert len(wal) > 0
    without, _ = catalog({VAR_DB: database})
    assert [record.name for record in without] == ["bash"]
    records, warnings = catalog({VAR_DB: database, VAR_DB + "-wal": wal})
    assert warnings == []
    assert [record.name for record in records] == ["bash", "zsh", "fish"]


def test_a_torn_or_damaged_last_transaction_is_not_read(tmp_path: Path) -> None:
    database, wal = _wal_database(
        tmp_path, [[package_header("bash")], [package_header("zsh")], [package_header("fish")]]
    )
    page_size = struct.unpack_from(">I", wal, 8)[0]
    frame = 24 + page_size
    frames = (len(wal) - 32) // frame
    torn = wal[:-10]
    damaged = bytearray(wal)
    damaged[32 + (frames - 1) * frame + 24 + 100] ^= 0xFF  # inside the last frame's page
    for broken in (torn, bytes(damaged)):
        records, _ = catalog({VAR_DB: database, VAR_DB + "-wal": broken})
        assert [record.name for record in records] == ["bash", "zsh"]


def test_a_wal_sqlite_would_ignore_changes_nothing(tmp_path: Path) -> None:
    database, wal = _wal_database(tmp_path, [[package_header("bash")], [package_header("zsh")]])
    other_salt = bytearray(wal)
    other_salt[16] ^= 1  # header salt: no frame matches (and the header checksum fails)
    for ignored in (b"junk", bytes(32), bytes(other_salt), wal[:32], b"\x37\x7f\x06\x82" * 8):
        assert replay_wal(database, ignored) == database
    # A page size that is no power of two, in a WAL header whose checksum holds (the
    # database's header tells the same lie).
    odd_database = database[:16] + struct.pack(">H", 1001) + database[18:]
    odd_header = wal[:8] + struct.pack(">I", 1001) + wal[12:24]
    odd_wal = odd_header + struct.pack(">2I", *_wal_header_checksum(odd_header)) + wal[32:]
    assert replay_wal(odd_database, odd_wal) == odd_database


def _wal_header_checksum(header: bytes) -> tuple[int, int]:
    """sqlite's WAL checksum (fileformat2.html) over the first 24 header bytes."""
    order = ">" if header[3] & 1 else "<"
    words = struct.unpack(f"{order}6I", header)
    first = second = 0
    for even, odd in zip(words[::2], words[1::2], strict=True):
        first = (first + even + second) & 0xFFFFFFFF
        second = (second + odd + first) & 0xFFFFFFFF
    return first, second


# --- the header parser on hostile input --------------------------------------------------------


def test_parser_limits_are_checked_before_reading() -> None:
    def fails(blob: bytes, message: str, tag: Tag | None = None) -> None:
        with pytest.raises(HeaderError, match=message):
            header = RpmHeader(blob)
            if tag is None:
                installed_package(1, header)
            elif tag is Tag.EPOCH:
                header.integers(tag)
            else:
                header.strings(tag)

    fails(b"\x00\x00\x00", "too short")
    fails(struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF), "4294967295 index entries")
    fails(struct.pack(">II", 1, 0x10000000), "268435456 data bytes")
    fails(struct.pack(">II", 1, 4) + struct.pack(">iiii", 1000, 6, 0, 1) + b"ab\0\0x", "bytes")

    def one_entry(tag: int, kind: int, offset: int, count: int, data: bytes) -> bytes:
        entry = struct.pack(">iiii", tag, kind, offset, count)
        return struct.pack(">II", 1, len(data)) + entry + data

    fails(one_entry(1000, 6, 0, 1, b"bash"), "not terminated")
    fails(one_entry(1117, 8, 0, 0x10000000, b"a\0"), "count 268435456")
    fails(one_entry(1117, 8, 0, 0x0FFFFFFF, b"a\0"), "overrun", Tag.BASENAMES)
    fails(one_entry(1117, 8, 0, 3, b"a\0b\0"), "not terminated", Tag.BASENAMES)
    fails(one_entry(1117, 8, 2, 2, b"a\0bc"), "not terminated", Tag.BASENAMES)
    fails(one_entry(1000, 6, 5, 1, b"a\0"), "offset 5 outside")
    fails(one_entry(1000, 6, -1, 1, b"a\0"), "offset -1 outside")
    fails(one_entry(1000, 6, 0, 2, b"a\0b\0"), "STRING with count 2")
    fails(one_entry(1000, 12, 0, 1, b"a\0"), "unknown type 12")
    fails(one_entry(1000, 4, 0, 1, b"\0\0\0\0"), "type INT32 where a string")
    fails(one_entry(1003, 4, 2, 1, b"\0" * 8), "misaligned")
    fails(one_entry(1003, 4, 0, 3, b"\0" * 8), "overrun", Tag.EPOCH)
    fails(one_entry(1003, 6, 0, 1, b"1\0"), "type STRING where integers", Tag.EPOCH)
    fails(one_entry(63, 7, 0, 16, struct.pack(">iiii", 63, 7, 16, 16)), "region tag 63: trailer")
    fails(one_entry(63, 7, 8, 16, bytes(16)), "region tag 63: type 7 offset 8")


def _valid_blob() -> bytes:
    return package_header(
        "coreutils",
        "9.3",
        "4.fc39",
        epoch=3,
        files=["/usr/bin/ls", "/usr/bin/cp", "/usr/share/doc/coreutils/README"],
        provides=["/bin/ls"],
        requires=["(a or b)", "libc.so.6()(64bit)"],
        require_flags=[0, SCRIPT_PRE],
        recommends=["c"],
    )


def _decode_everything(blob: bytes) -> None:
    """Parse ``blob`` and read every tag the cataloger reads; only HeaderError may escape."""
    try:
        header = RpmHeader(blob)
        installed_package(1, header)
        for tag in Tag:
            if tag in header:
                for read in (header.strings, header.integers):
                    with contextlib.suppress(HeaderError):
                        read(tag)
    except HeaderError:
        pass


@settings(max_examples=150, deadline=1000)
@given(st.binary(max_size=600))
def test_random_blobs_only_raise_header_error(blob: bytes) -> None:
    _decode_everything(blob)


@settings(max_examples=100, deadline=1000)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_mutated_headers_only_raise_header_error(changes: list[tuple[int, int]]) -> None:
    blob = bytearray(_valid_blob())
    for position, value in changes:
        blob[position % len(blob)] = value
    _decode_everything(bytes(blob))


@settings(max_examples=100, deadline=1000)
@given(
    st.integers(0, 60),
    st.sampled_from([-(2**31), -1, 0, 1, 2, 3, 0xFFFF, 0x10000, 0x0FFFFFFF, 2**31 - 1]),
)
def test_hostile_index_fields_only_raise_header_error(field: int, value: int) -> None:
    """Overwrite one int32 of the index (tag, type, offset or count of some entry)."""
    blob = bytearray(_valid_blob())
    (index_count,) = struct.unpack_from(">I", blob)
    position = 8 + 4 * (field % (4 * index_count))
    struct.pack_into(">i", blob, position, value)
    _decode_everything(bytes(blob))


_FUZZ_DATABASE = sqlite_rpmdb([_valid_blob(), package_header("bash", files=["/usr/bin/bash"])])


@settings(
    max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.integers(0, len(_FUZZ_DATABASE) - 1), st.integers(0, 255)), max_size=6)
)
def test_mutated_databases_warn_at_most_once(changes: list[tuple[int, int]]) -> None:
    database = bytearray(_FUZZ_DATABASE)
    for position, value in changes:
        database[position] = value
    started = time.monotonic()
    records, warnings = catalog({VAR_DB: bytes(database)})
    assert time.monotonic() - started < 5
    assert len(warnings) <= 1
    assert len(records) <= 2


def test_huge_string_array_count_is_refused_without_work() -> None:
    blob = struct.pack(">II", 1, 2) + struct.pack(">iiii", 1117, 8, 0, 0x0FFFFFFF) + b"a\0"
    header = RpmHeader(blob)
    started = time.monotonic()
    with pytest.raises(HeaderError, match="overrun"):
        header.strings(Tag.BASENAMES)
    assert time.monotonic() - started < 0.1
