"""The dpkg cataloger: status stanzas and their file lists (multi-arch list names, continuation
lines, relationship syntax, which states count), distroless status.d with md5sums, apt's auto
marks, and every kind of broken file giving one warning that names it."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.catalog import capture_for, prepare_captured
from bloatscope.packages.dpkg import MAX_RELATION_NAMES, DpkgCataloger

STATUS = "var/lib/dpkg/status"
INFO = "var/lib/dpkg/info"
STATUS_D = "var/lib/dpkg/status.d"
EXTENDED_STATES = "var/lib/apt/extended_states"
AMD64 = Platform("linux", "amd64")
EMPTY_MD5 = b"d41d8cd98f00b204e9800998ecf8427e"

LIBC6 = b"""\
Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12988
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Replaces: libc6-amd64
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Suggests: glibc-doc, debconf | debconf-2.0, libc-l10n, locales, libnss-nis, libnss-nisplus
Breaks: aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6)
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 This package includes shared versions of the standard C library.
Homepage: https://www.gnu.org/software/libc/libc.html

"""

DASH = b"""\
Package: dash
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Multi-Arch: foreign
Version: 0.5.12-2
Pre-Depends: libc6 (>= 2.34)
Depends: debianutils (>= 5.6-0.1)
Description: POSIX-compliant shell
 The Debian Almquist Shell (dash) is a POSIX-compliant shell derived
 from ash.

"""


def catalog(
    contents: dict[str, bytes],
    other_paths: tuple[str, ...] = (),
    platform: Platform = AMD64,
) -> tuple[list[PackageRecord], list[str]]:
    warnings: list[str] = []
    files = ImageFiles.from_mapping(contents, other_paths=other_paths, platform=platform)
    records = DpkgCataloger().catalog(files, warnings.append)
    # The same tree with its .list files parsed ahead, as the reader's workers do: every test
    # here also checks that both ways give the same records and warnings.
    prepared = prepare_captured([DpkgCataloger()], contents)
    ahead = ImageFiles.from_mapping(contents, other_paths, platform, prepared)
    warnings_ahead: list[str] = []
    assert DpkgCataloger().catalog(ahead, warnings_ahead.append) == records
    assert warnings_ahead == warnings
    return records, warnings


def by_name(records: list[PackageRecord]) -> dict[str, PackageRecord]:
    return {record.name: record for record in records}


def stanza(name: str, version: str = "1.0", status: str = "installed", **fields: str) -> bytes:
    lines = [f"Package: {name}", f"Status: install ok {status}", f"Version: {version}"]
    lines += [f"{key.replace('_', '-')}: {value}" for key, value in fields.items()]
    return ("\n".join(lines) + "\n\n").encode()


# --- the status file and its lists ------------------------------------------------------------


def test_installed_packages_with_their_lists() -> None:
    records, warnings = catalog(
        {
            STATUS: LIBC6 + DASH,
            f"{INFO}/libc6:amd64.list": b"/.\n/etc\n/etc/ld.so.conf.d\n"
            b"/etc/ld.so.conf.d/x86_64-linux-gnu.conf\n/lib/x86_64-linux-gnu/libc.so.6\n",
            f"{INFO}/dash.list": b"/.\n/bin\n/bin/dash\n/usr/share/man/man1/dash.1.gz\n",
        }
    )
    assert warnings == []
    assert records == [
        PackageRecord(
            ecosystem=Ecosystem.DPKG,
            name="libc6",
            version="2.36-9+deb12u4",
            location=STATUS,
            files=(
                "etc",
                "etc/ld.so.conf.d",
                "etc/ld.so.conf.d/x86_64-linux-gnu.conf",
                "lib/x86_64-linux-gnu/libc.so.6",
            ),
            requires=(Requirement(("libgcc-s1",)), Requirement(("libidn2-0",), weak=True)),
            display_name="libc6",
        ),
        PackageRecord(
            ecosystem=Ecosystem.DPKG,
            name="dash",
            version="0.5.12-2",
            location=STATUS,
            files=("bin", "bin/dash", "usr/share/man/man1/dash.1.gz"),
            requires=(Requirement(("libc6",)), Requirement(("debianutils",))),
            essential=True,
            display_name="dash",
        ),
    ]


def test_multi_arch_same_list_is_found_under_either_name() -> None:
    # dpkg before multi-arch (and a converted database) wrote the plain name
    records, warnings = catalog(
        {STATUS: LIBC6, f"{INFO}/libc6.list": b"/lib/x86_64-linux-gnu/libc.so.6\n"}
    )
    assert warnings == []
    assert records[0].files == ("lib/x86_64-linux-gnu/libc.so.6",)


def test_qualified_list_wins_for_multi_arch_same_and_plain_one_otherwise() -> None:
    foreign = stanza("tzdata", Architecture="all", Multi_Arch="foreign")
    records, _ = catalog(
        {
            STATUS: LIBC6 + foreign,
            f"{INFO}/libc6:amd64.list": b"/qualified\n",
            f"{INFO}/libc6.list": b"/plain\n",
            f"{INFO}/tzdata.list": b"/usr/share/zoneinfo\n",
            f"{INFO}/tzdata:all.list": b"/wrong\n",
        }
    )
    files = {record.name: record.files for record in records}
    assert files == {"libc6": ("qualified",), "tzdata": ("usr/share/zoneinfo",)}


def test_missing_list_means_files_unknown_without_a_warning() -> None:
    records, warnings = catalog({STATUS: DASH})
    assert warnings == []
    assert (records[0].files, records[0].files_known) == ((), False)


def test_empty_list_means_no_files() -> None:
    records, warnings = catalog({STATUS: DASH, f"{INFO}/dash.list": b""})
    assert warnings == []
    assert (records[0].files, records[0].files_known) == ((), True)


def test_list_paths_are_normalized_and_keep_non_utf8_bytes() -> None:
    records, warnings = catalog(
        {
            STATUS: stanza("odd"),
            f"{INFO}/odd.list": b"/.\n/usr/./lib/\n/usr/share/../bin/x\n/../../etc/y\n"
            b"//srv//z\n/opt/caf\xe9\n/usr/lib\n",
        }
    )
    assert warnings == []
    assert records[0].files == ("usr/lib", "usr/bin/x", "etc/y", "srv/z", "opt/caf\udce9")


def test_continuation_lines_and_fields_after_them() -> None:
    status = b"""\
Package: multi
Status: install ok installed
Description: a package whose fields span lines
 continued here
 .
 and after an empty line
Depends: alpha (>= 1),
 beta | gamma,
\tdelta
Version: 3.1

"""
    records, warnings = catalog({STATUS: status})
    assert warnings == []
    assert records[0].version == "3.1"
    assert records[0].requires == (
        Requirement(("alpha",)),
        Requirement(("beta", "gamma")),
        Requirement(("delta",)),
    )


def test_relationship_syntax_is_reduced_to_names() -> None:
    status = stanza(
        "rich",
        Pre_Depends="init-system-helpers (>= 1.54~)",
        Depends="libc6 (>= 2.34), default-mta | mail-transport-agent, python3:any (>= 3.9~), "
        "Foo:amd64, bar <!nocheck> <!cross>, baz [amd64] | qux (<< 2) [!i386],",
        Recommends="ca-certificates",
        Suggests="not-a-requirement",
        Provides="mail-transport-agent, libfoo (= 1.2), python3-Bar",
    )
    records, warnings = catalog({STATUS: status})
    assert warnings == []
    assert records[0].requires == (
        Requirement(("init-system-helpers",)),
        Requirement(("libc6",)),
        Requirement(("default-mta", "mail-transport-agent")),
        Requirement(("python3",)),
        Requirement(("foo",)),
        Requirement(("bar",)),
        Requirement(("baz", "qux")),
        Requirement(("ca-certificates",), weak=True),  # Recommends
    )
    assert records[0].provides == ("mail-transport-agent", "libfoo", "python3-bar")


def test_field_names_are_case_insensitive_and_package_names_lower_cased() -> None:
    status = b"PACKAGE: Mixed.Case+Pkg\nstatus: install ok installed\nVERSION: 1:2.0~rc1\n\n"
    records, warnings = catalog({STATUS: status, f"{INFO}/mixed.case+pkg.list": b"/x\n"})
    assert warnings == []
    assert (records[0].name, records[0].display_name) == ("mixed.case+pkg", "mixed.case+pkg")
    assert (records[0].version, records[0].files) == ("1:2.0~rc1", ("x",))


def test_only_packages_with_files_on_disk_count() -> None:
    status = b"".join(
        [
            stanza("kept", status="installed"),
            stanza("unpacked-only", status="unpacked"),
            stanza("half-configured", status="half-configured"),
            stanza("awaiting", status="triggers-awaiting"),
            stanza("pending", status="triggers-pending"),
            stanza("half-installed", status="half-installed"),
            stanza("removed", status="config-files"),
            b"Package: purged\nStatus: purge ok not-installed\n\n",  # no Version: fine
        ]
    )
    records, warnings = catalog({STATUS: status})
    assert warnings == []
    assert [record.name for record in records] == [
        "kept",
        "unpacked-only",
        "half-configured",
        "awaiting",
        "pending",
        "half-installed",
    ]


def test_essential_means_essential_yes_only() -> None:
    status = stanza("a", Essential="yes") + stanza("b", Priority="required")
    status += stanza("c", Essential="no")
    records, _ = catalog({STATUS: status})
    assert {record.name: record.essential for record in records} == {
        "a": True,
        "b": False,
        "c": False,
    }


def test_package_installed_for_two_architectures_keeps_unique_names() -> None:
    i386 = LIBC6.replace(b"Architecture: amd64", b"Architecture: i386")
    i386 = i386.replace(b"Version: 2.36-9+deb12u4", b"Version: 2.36-9+deb12u3")
    records, warnings = catalog(
        {
            STATUS: i386 + LIBC6,
            f"{INFO}/libc6:amd64.list": b"/lib/x86_64-linux-gnu/libc.so.6\n",
            f"{INFO}/libc6:i386.list": b"/lib/i386-linux-gnu/libc.so.6\n",
        }
    )
    assert warnings == []
    assert [(r.name, r.version, r.files) for r in records] == [
        ("libc6:i386", "2.36-9+deb12u3", ("lib/i386-linux-gnu/libc.so.6",)),
        ("libc6", "2.36-9+deb12u4", ("lib/x86_64-linux-gnu/libc.so.6",)),
    ]
    # on an i386 image the i386 copy is the native one
    records, _ = catalog({STATUS: i386 + LIBC6}, platform=Platform("linux", "386"))
    assert [record.name for record in records] == ["libc6", "libc6:amd64"]


def test_no_database_no_records() -> None:
    assert catalog({}, other_paths=("etc/debian_version",)) == ([], [])


# --- apt's marks ---------------------------------------------------------------------------


def test_extended_states_marks_auto_installed_packages_unrequested() -> None:
    status = stanza("curl", Architecture="amd64") + stanza("libcurl4", Architecture="amd64")
    status += stanza("ca-certificates", Architecture="all") + stanza("zlib1g", Architecture="i386")
    extended = (
        b"Package: libcurl4\nArchitecture: amd64\nAuto-Installed: 1\n\n"
        b"Package: ca-certificates\nArchitecture: amd64\nAuto-Installed: 1\n\n"
        b"Package: curl\nArchitecture: amd64\nAuto-Installed: 0\n\n"
        b"Package: zlib1g\nArchitecture: amd64\nAuto-Installed: 1\n\n"
    )
    records, warnings = catalog({STATUS: status, EXTENDED_STATES: extended})
    assert warnings == []
    assert {record.name: record.requested for record in records} == {
        "curl": True,
        "libcurl4": False,
        "ca-certificates": False,  # apt files arch:all packages under the native architecture
        "zlib1g": True,  # the mark is for another architecture's copy
    }


def test_without_extended_states_requested_is_unknown() -> None:
    records, _ = catalog({STATUS: DASH})
    assert records[0].requested is None


# --- distroless status.d -------------------------------------------------------------------


def test_distroless_status_d_with_md5sums() -> None:
    base_files = b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n\n"
    tzdata = (
        b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nProvides: tzdata-bookworm\n"
    )
    records, warnings = catalog(
        {
            f"{STATUS_D}/base-files": base_files,
            f"{STATUS_D}/base-files.md5sums": EMPTY_MD5 + b"  etc/debian_version\n"
            b"0123456789abcdef0123456789ABCDEF *usr/lib/os-release\n",
            f"{STATUS_D}/tzdata": tzdata,
        }
    )
    assert warnings == []
    assert records == [
        PackageRecord(
            ecosystem=Ecosystem.DPKG,
            name="base-files",
            version="12.4+deb12u5",
            location=f"{STATUS_D}/base-files",
            files=("etc/debian_version", "usr/lib/os-release"),
            display_name="base-files",
        ),
        PackageRecord(
            ecosystem=Ecosystem.DPKG,
            name="tzdata",
            version="2024a-0+deb12u1",
            location=f"{STATUS_D}/tzdata",
            files_known=False,
            provides=("tzdata-bookworm",),
            display_name="tzdata",
        ),
    ]


def test_status_d_honours_a_status_field_and_several_stanzas() -> None:
    file = stanza("libssl3") + stanza("openssl", status="config-files") + stanza("libcrypto")
    records, warnings = catalog(
        {
            f"{STATUS_D}/libssl3": file,
            f"{STATUS_D}/libssl3.md5sums": EMPTY_MD5 + b"  usr/lib/libssl.so.3\n",
        }
    )
    assert warnings == []
    assert [(r.name, r.files, r.files_known) for r in records] == [
        ("libssl3", ("usr/lib/libssl.so.3",), True),
        ("libcrypto", (), False),  # the md5sums is named after libssl3 only
    ]


def test_status_and_status_d_both_count() -> None:
    records, _ = catalog({STATUS: DASH, f"{STATUS_D}/tzdata": stanza("tzdata")})
    assert [(r.name, r.location) for r in records] == [
        ("dash", STATUS),
        ("tzdata", f"{STATUS_D}/tzdata"),
    ]


# --- broken input: one warning naming the file, nothing raised -------------------------------

BROKEN_DATABASES = {
    "binary garbage": bytes(range(256)) * 4,
    "garbage without NUL": b"\x89PNG\r\n\x1a\n\xff\xfe" * 100 + b"\n",
    "stanza without Package": DASH + b"Status: install ok installed\nVersion: 1\n\n",
    "truncated": (LIBC6 + DASH)[: len(LIBC6) + 40],
    "non-UTF-8": DASH.replace(b"POSIX", b"P\xd6SIX"),
    "line without a colon": DASH.replace(b"Version: 0.5.12-2", b"Version 0.5.12-2"),
    "field name with a space": DASH.replace(b"Multi-Arch:", b"Multi Arch:"),
    "continuation outside a field": b" orphan\n" + DASH,
    "continuation after a blank line": DASH + b" orphan\n",
    "invalid state": DASH.replace(b"ok installed", b"ok sideways"),
    "status with two words": DASH.replace(b"install ok installed", b"install installed"),
    "no Status": DASH.replace(b"Status: install ok installed\n", b""),
    "installed without Version": DASH.replace(b"Version: 0.5.12-2\n", b""),
    "invalid package name": DASH.replace(b"Package: dash", b"Package: ../../etc"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_DATABASES))
def test_broken_status_file_is_one_warning_and_no_records(kind: str) -> None:
    records, warnings = catalog({STATUS: BROKEN_DATABASES[kind], f"{INFO}/dash.list": b"/x\n"})
    assert records == []
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{STATUS}: ")


def test_broken_status_d_file_costs_only_its_own_packages() -> None:
    records, warnings = catalog(
        {f"{STATUS_D}/bad": b"Version: 1\n\n", f"{STATUS_D}/good": stanza("good")}
    )
    assert [record.name for record in records] == ["good"]
    assert warnings == [f"{STATUS_D}/bad: stanza 1: missing or invalid Package field"]


BROKEN_LISTS = {
    "truncated": b"/bin\n/bin/da",
    "relative path": b"/bin\nbin/dash\n",
    "empty line": b"/bin\n\n/bin/dash\n",
    "binary": b"/bin\n\x00\x01\x02\n",
}


@pytest.mark.parametrize("kind", sorted(BROKEN_LISTS))
def test_broken_list_costs_only_its_package_its_files(kind: str) -> None:
    records, warnings = catalog(
        {
            STATUS: DASH + LIBC6,
            f"{INFO}/dash.list": BROKEN_LISTS[kind],
            f"{INFO}/libc6.list": b"/l\n",
        }
    )
    assert [(r.name, r.files, r.files_known) for r in records] == [
        ("dash", (), False),
        ("libc6", ("l",), True),
    ]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{INFO}/dash.list: ")


@pytest.mark.parametrize(
    "md5sums",
    [b"not a checksum line\n", EMPTY_MD5 + b"  etc/x", b"d41d8cd98f00b204e9\n"],
)
def test_broken_md5sums_costs_only_its_package_its_files(md5sums: bytes) -> None:
    records, warnings = catalog(
        {f"{STATUS_D}/tzdata": stanza("tzdata"), f"{STATUS_D}/tzdata.md5sums": md5sums}
    )
    assert [(r.name, r.files_known) for r in records] == [("tzdata", False)]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{STATUS_D}/tzdata.md5sums: ")


def test_broken_extended_states_costs_the_requested_marks() -> None:
    records, warnings = catalog({STATUS: DASH, EXTENDED_STATES: b"Package: dash\nAuto-Inst"})
    assert [(r.name, r.requested) for r in records] == [("dash", None)]
    assert warnings == [f"{EXTENDED_STATES}: missing final newline (truncated?)"]


def test_database_present_but_not_captured_is_a_warning() -> None:
    # the reader keeps no bytes of a file above its size limit; the path still exists
    records, warnings = catalog({}, other_paths=(STATUS,))
    assert (records, warnings) == ([], [f"{STATUS}: present but not captured (too large?)"])


def test_list_present_but_not_captured_is_a_warning() -> None:
    records, warnings = catalog({STATUS: DASH}, other_paths=(f"{INFO}/dash.list",))
    assert [(r.name, r.files_known) for r in records] == [("dash", False)]
    assert warnings == [f"{INFO}/dash.list: present but not captured (too large?)"]


def test_too_many_dependency_names_is_refused_before_they_are_held() -> None:
    status = stanza("hog", Depends="a," * MAX_RELATION_NAMES)
    started = time.monotonic()
    records, warnings = catalog({STATUS: status})
    assert time.monotonic() - started < 2
    assert records == []
    assert warnings == [f"{STATUS}: more than {MAX_RELATION_NAMES} dependency names"]


@pytest.mark.parametrize(
    "hostile",
    [
        b" " * (4 << 20) + b"\n",  # a blank line of spaces: quadratic if matched naively
        b"Package: a\nStatus: install ok installed\nVersion: 1\nX:" + b" " * (4 << 20) + b"\n\n",
        b"\n" * (4 << 20),
        (
            b"Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n"
            + b" .\n" * (1 << 20)
            + b"\n"
        ),
    ],
    ids=["spaces", "long-value", "newlines", "long-description"],
)
def test_hostile_shapes_parse_in_linear_time(hostile: bytes) -> None:
    started = time.monotonic()
    catalog({STATUS: hostile})
    assert time.monotonic() - started < 3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                b"Package: a\n",
                b"Package: b\n",
                b"Status: install ok installed\n",
                b"Status: deinstall ok config-files\n",
                b"Version: 1\n",
                b"Depends: a | b (>= 1), c:any\n",
                b"Provides: v\n",
                b" continued\n",
                b"\n",
                b"\t\n",
                b"junk",
                b"\xff",
                b":\n",
            ]
        ),
        max_size=30,
    )
)
def test_any_status_file_gives_records_or_one_warning(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    records, warnings = catalog({STATUS: data, f"{INFO}/a.list": b"/a\n"})
    assert len(warnings) <= 1
    assert not (records and warnings)
    for record in records:
        assert record.name in ("a", "b") and record.version == "1"


# --- capture -------------------------------------------------------------------------------

CAPTURE = capture_for([DpkgCataloger()])  # the regex behind its prefilter, as the reader runs it


@pytest.mark.parametrize(
    "path",
    [
        STATUS,
        f"{INFO}/dash.list",
        f"{INFO}/libc6:amd64.list",
        f"{STATUS_D}/base-files",
        f"{STATUS_D}/base-files.md5sums",
        EXTENDED_STATES,
    ],
)
def test_capture_keeps_the_database_files(path: str) -> None:
    assert CAPTURE.wants(path.encode())
    assert CAPTURE.suffixes  # the prefilter is on


@pytest.mark.parametrize(
    "path",
    [
        "var/lib/dpkg/status-old",
        "var/lib/dpkg/available",
        f"{INFO}/dash.md5sums",
        f"{INFO}/dash.postinst",
        f"{INFO}/sub/dash.list",
        f"{STATUS_D}/sub/file",
        "var/lib/apt/extended_states.old",
        "srv/chroot/var/lib/dpkg/status",
        "usr/share/doc/var/lib/dpkg/status",
    ],
)
def test_capture_skips_other_files(path: str) -> None:
    assert not CAPTURE.wants(path.encode())
