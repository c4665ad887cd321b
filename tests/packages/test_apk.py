"""The apk cataloger: installed-database records with their F:/R: file lists, dependency and
provider syntax, both database locations, the world file, and broken input giving one warning
that names the file."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.apk import (
    MAX_DEPENDENCY_NAMES,
    MAX_LINES,
    MAX_WORLD_NAMES,
    ApkCataloger,
)
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.catalog import capture_for

INSTALLED = "lib/apk/db/installed"
USR_INSTALLED = "usr/lib/apk/db/installed"
WORLD = "etc/apk/world"

MUSL = b"""\
C:Q1hJy/4ymTGKxSYR5sSrpYnRlQh2A=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Ter\xc3\xa4s <timo.teras@iki.fi>
t:1697036090
c:ab2d0c1e1d6d5d4f4c1e6f00ee4a3fce1e0c1c8a
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Dkq5kOUI1pCNuUgv8f9hSv8uyTE=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

"""

BUSYBOX = b"""\
C:Q1OyOYi3xQVyUXNyv5xrkjHv9u3rI=
P:busybox
V:1.36.1-r15
A:x86_64
T:Size optimized toolbox of many common UNIX utilities
o:busybox
D:so:libc.musl-x86_64.so.1
p:cmd:busybox=1.36.1-r15 cmd:sh=1.36.1-r15 /bin/sh
r:busybox-initscripts
F:bin
R:busybox
a:0:0:755
Z:Q1WUwBY0eOGgzgVxTZxJBZPyQUicI=
R:sh
a:0:0:777
Z:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=
F:etc
R:securetty
Z:Q1mB95Hq2NUTZ599RDiSsj9w5FrOM=
F:usr
F:usr/sbin

"""

BUILD_DEPS = b"""\
P:.build-deps
V:20240101.120000
A:noarch
D:gcc>=13 musl-dev make~4.4 !libressl-dev
I:0
T:virtual meta package

"""


def catalog(
    contents: dict[str, bytes], other_paths: tuple[str, ...] = ()
) -> tuple[list[PackageRecord], list[str]]:
    warnings: list[str] = []
    files = ImageFiles.from_mapping(contents, other_paths=other_paths)
    return ApkCataloger().catalog(files, warnings.append), warnings


def test_records_with_their_files_dependencies_and_providers() -> None:
    records, warnings = catalog({INSTALLED: MUSL + BUSYBOX})
    assert warnings == []
    assert records == [
        PackageRecord(
            ecosystem=Ecosystem.APK,
            name="musl",
            version="1.2.4_git20230717-r4",
            location=INSTALLED,
            files=("lib", "lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"),
            provides=("so:libc.musl-x86_64.so.1",),
            display_name="musl",
        ),
        PackageRecord(
            ecosystem=Ecosystem.APK,
            name="busybox",
            version="1.36.1-r15",
            location=INSTALLED,
            files=("bin", "bin/busybox", "bin/sh", "etc", "etc/securetty", "usr", "usr/sbin"),
            requires=(Requirement(("so:libc.musl-x86_64.so.1",)),),
            provides=("cmd:busybox", "cmd:sh", "/bin/sh"),
            display_name="busybox",
        ),
    ]


def test_dependency_constraints_are_stripped_and_conflicts_dropped() -> None:
    records, warnings = catalog({INSTALLED: BUILD_DEPS})
    assert warnings == []
    assert records[0].name == ".build-deps"
    assert records[0].requires == (
        Requirement(("gcc",)),
        Requirement(("musl-dev",)),
        Requirement(("make",)),
    )
    assert (records[0].files, records[0].files_known) == ((), True)


@pytest.mark.parametrize(
    ("token", "name"),
    [
        ("so:libz.so.1", "so:libz.so.1"),
        ("cmd:python3>=3.11", "cmd:python3"),
        ("pc:libffi=3.4.4", "pc:libffi"),
        ("py3-six~1.16", "py3-six"),
        ("openssl<3.2", "openssl"),
        ("openssl>3", "openssl"),
        ("openssl<=3.2", "openssl"),
        ("libcurl><Q1abcdef=", "libcurl"),
        ("nodejs@edge", "nodejs"),
        ("/bin/sh", "/bin/sh"),
    ],
)
def test_one_dependency_token(token: str, name: str) -> None:
    record = b"P:x\nV:1\nD:" + token.encode() + b"\n\n"
    records, _ = catalog({INSTALLED: record})
    assert records[0].requires == (Requirement((name,)),)


def test_root_directory_files_and_paths_are_normalized() -> None:
    record = (
        b"P:odd\nV:1\nF:\nR:.PKGINFO-like\nF:usr/../etc/\nR:x\nF:../../srv\nR:y\nF:usr//lib\n\n"
    )
    records, warnings = catalog({INSTALLED: record})
    assert warnings == []
    assert records[0].files == (".PKGINFO-like", "etc", "etc/x", "srv", "srv/y", "usr/lib")


def test_database_under_usr_lib() -> None:
    records, warnings = catalog({USR_INSTALLED: MUSL})
    assert warnings == []
    assert [(r.name, r.location) for r in records] == [("musl", USR_INSTALLED)]


def test_blank_line_runs_and_a_missing_trailing_blank_line_are_fine() -> None:
    records, warnings = catalog({INSTALLED: b"\n\n" + MUSL + b"\n\n" + BUSYBOX.rstrip() + b"\n"})
    assert warnings == []
    assert [record.name for record in records] == ["musl", "busybox"]


def test_world_file_says_what_was_requested() -> None:
    world = b"alpine-baselayout>=3.4\nbusybox@main\n.build-deps\n!libressl\ncmd:sh\n"
    records, warnings = catalog(
        {
            INSTALLED: MUSL + BUSYBOX + BUILD_DEPS + b"P:libressl\nV:3.8\n\nP:zlib\nV:1.3\n\n",
            WORLD: world,
        }
    )
    assert warnings == []
    assert {record.name: record.requested for record in records} == {
        "musl": False,
        "busybox": True,  # by name and as the provider of cmd:sh
        ".build-deps": True,
        "libressl": False,  # the world forbids it
        "zlib": False,
    }


def test_world_on_one_line_separated_by_spaces() -> None:
    records, _ = catalog({INSTALLED: MUSL + BUSYBOX, WORLD: b"busybox musl=1.2.4_git20230717-r4"})
    assert [record.requested for record in records] == [True, True]


def test_without_world_requested_is_unknown() -> None:
    records, _ = catalog({INSTALLED: MUSL})
    assert records[0].requested is None


def test_no_database_no_records() -> None:
    assert catalog({WORLD: b"busybox\n"}) == ([], [])


# --- broken input: one warning naming the file, nothing raised -------------------------------

BROKEN_DATABASES = {
    "binary garbage": bytes(range(256)) * 4,
    "record without P": MUSL + b"V:1.0\nF:usr\n\n",
    "truncated": (MUSL + BUSYBOX)[: len(MUSL) + 60],
    "non-UTF-8": MUSL.replace(b"Ter\xc3\xa4s", b"Ter\xe4s"),
    "line without a colon": MUSL.replace(b"V:1.2.4", b"V 1.2.4"),
    "long key": MUSL.replace(b"V:1.2.4", b"VV:1.2.4"),
    "leading space": MUSL.replace(b"V:1.2.4", b" V:1.2.4"),
    "file before any directory": b"P:x\nV:1\nR:orphan\n\n",
    "record without V": b"P:x\nF:usr\n\n",
    "invalid name": b"P:../../x\nV:1\n\n",
}


@pytest.mark.parametrize("kind", sorted(BROKEN_DATABASES))
def test_broken_database_is_one_warning_and_no_records(kind: str) -> None:
    records, warnings = catalog({INSTALLED: BROKEN_DATABASES[kind], WORLD: b"musl\n"})
    assert records == []
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{INSTALLED}: ")


def test_a_broken_database_leaves_the_other_one_counted() -> None:
    records, warnings = catalog({INSTALLED: b"garbage\n", USR_INSTALLED: MUSL})
    assert [record.name for record in records] == ["musl"]
    assert warnings == [f"{INSTALLED}: line 1: not an 'X:value' line"]


@pytest.mark.parametrize(
    "world",
    [b"musl\x00\n", b"mus\xffl\n", b"a " * (MAX_WORLD_NAMES + 1)],
    ids=["binary", "non-UTF-8", "too many names"],
)
def test_broken_world_costs_the_requested_marks(world: bytes) -> None:
    records, warnings = catalog({INSTALLED: MUSL, WORLD: world})
    assert [(r.name, r.requested) for r in records] == [("musl", None)]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{WORLD}: ")


def test_database_present_but_not_captured_is_a_warning() -> None:
    assert catalog({}, other_paths=(INSTALLED,)) == (
        [],
        [f"{INSTALLED}: present but not captured (too large?)"],
    )


def test_too_many_lines_is_refused_quickly() -> None:
    started = time.monotonic()
    records, warnings = catalog({INSTALLED: b"P:x\nV:1\nF:d\n" + b"R:f\n" * MAX_LINES})
    assert time.monotonic() - started < 2
    assert (records, warnings) == ([], [f"{INSTALLED}: more than {MAX_LINES} lines"])


def test_too_many_dependency_names_is_refused_before_they_are_held() -> None:
    started = time.monotonic()
    records, warnings = catalog(
        {INSTALLED: b"P:x\nV:1\nD:" + b"a " * MAX_DEPENDENCY_NAMES + b"\n\n"}
    )
    assert time.monotonic() - started < 2
    assert (records, warnings) == (
        [],
        [f"{INSTALLED}: more than {MAX_DEPENDENCY_NAMES} dependency names"],
    )


def test_a_long_line_of_spaces_parses_in_linear_time() -> None:
    started = time.monotonic()
    records, warnings = catalog({INSTALLED: b"P:x\nV:1\nT:" + b" " * (16 << 20) + b"\n\n"})
    assert time.monotonic() - started < 2
    assert (len(records), warnings) == (1, [])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                b"P:a\n",
                b"P:b\n",
                b"V:1\n",
                b"F:usr\n",
                b"R:x\n",
                b"D:a b>=1\n",
                b"\n",
                b"Q",
                b"\xc3",
            ]
        ),
        max_size=30,
    )
)
def test_any_database_gives_records_or_one_warning(pieces: list[bytes]) -> None:
    records, warnings = catalog({INSTALLED: b"".join(pieces)})
    assert len(warnings) <= 1
    assert not (records and warnings)
    for record in records:
        assert record.name in ("a", "b") and record.version == "1"


# --- capture -------------------------------------------------------------------------------

CAPTURE = capture_for([ApkCataloger()])  # the regex behind its prefilter, as the reader runs it


@pytest.mark.parametrize("path", [INSTALLED, USR_INSTALLED, WORLD])
def test_capture_keeps_the_database_files(path: str) -> None:
    assert CAPTURE.wants(path.encode())
    assert CAPTURE.suffixes  # the prefilter is on


@pytest.mark.parametrize(
    "path",
    [
        "lib/apk/db/installed.old",
        "lib/apk/db/scripts.tar",
        "lib/apk/db/triggers",
        "etc/apk/world.apk-new",
        "etc/apk/repositories",
        "home/user/lib/apk/db/installed",
        "var/lib/apk/db/installed",
    ],
)
def test_capture_skips_other_files(path: str) -> None:
    assert not CAPTURE.wants(path.encode())
