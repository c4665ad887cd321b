"""The Python cataloger against hand-built trees (dist-info, egg-info, Debian's layout, hostile
metadata) and against the real pip-installed venv running these tests."""

from __future__ import annotations

import importlib.metadata
import os
import platform as host_platform
import re
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement as PepRequirement

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Platform
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.catalog import prepare_captured
from bloatscope.packages.python import CAPTURE, CAPTURE_SUFFIXES, PythonCataloger, canonical
from bloatscope.packages.python_env import (
    FALLBACK_PYTHON_VERSION,
    platform_machine,
    python_version_for,
)

SITE = "usr/local/lib/python3.11/site-packages"
DEBIAN_SITE = "usr/lib/python3/dist-packages"
ARM64 = Platform("linux", "arm64", "v8")


def metadata(name: str, version: str, *lines: str) -> bytes:
    headers = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *lines]
    # a body, as real METADATA has: it must not be read as headers
    return ("\n".join(headers) + "\n\nRequires-Dist: not-a-header\n").encode()


def record(*paths: str) -> bytes:
    return "".join(f"{path},sha256=abc,10\n" for path in paths).encode()


def catalog(
    contents: dict[str, bytes],
    other_paths: tuple[str, ...] = (),
    platform: Platform | None = None,
) -> tuple[list[PackageRecord], list[str]]:
    warnings: list[str] = []
    files = ImageFiles.from_mapping(contents, other_paths, platform)
    records = PythonCataloger().catalog(files, warnings.append)
    # The same tree with its RECORDs and METADATA parsed ahead, as the reader's workers do:
    # every test here also checks that both ways give the same records and warnings.
    prepared = prepare_captured([PythonCataloger()], contents)
    ahead = ImageFiles.from_mapping(contents, other_paths, platform, prepared)
    warnings_ahead: list[str] = []
    assert PythonCataloger().catalog(ahead, warnings_ahead.append) == records
    assert warnings_ahead == warnings
    return records, warnings


def only(records: list[PackageRecord]) -> PackageRecord:
    assert len(records) == 1, records
    return records[0]


def requirement_rows(found: PackageRecord) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(r.names[0], r.for_extra, r.extras) for r in found.requires}


# --- capture ---


@pytest.mark.parametrize(
    "path",
    [
        f"{SITE}/requests-2.31.0.dist-info/METADATA",
        f"{SITE}/requests-2.31.0.dist-info/RECORD",
        f"{SITE}/requests-2.31.0.dist-info/INSTALLER",
        f"{SITE}/requests-2.31.0.dist-info/REQUESTED",
        f"{SITE}/requests-2.31.0.dist-info/direct_url.json",
        "six-1.16.0.dist-info/METADATA",
        f"{DEBIAN_SITE}/six-1.16.0.egg-info/PKG-INFO",
        f"{DEBIAN_SITE}/six-1.16.0.egg-info/requires.txt",
        f"{SITE}/legacy-1.0-py3.11.egg-info/installed-files.txt",
        f"{DEBIAN_SITE}/python_apt-2.6.0.egg-info",
    ],
)
def test_capture_keeps_metadata_files(path: str) -> None:
    # the reader matches bytes, after a suffix prefilter that must let the name through
    assert re.search(CAPTURE.encode(), path.encode())
    assert path.endswith(CAPTURE_SUFFIXES)


@pytest.mark.parametrize(
    "path",
    [
        f"{SITE}/requests-2.31.0.dist-info/LICENSE",
        f"{SITE}/requests-2.31.0.dist-info/licenses/METADATA",
        f"{SITE}/requests-2.31.0.dist-info/METADATA.bak",
        f"{SITE}/.dist-info/METADATA",
        f"{SITE}/requests/dist-info/METADATA",
        f"{SITE}/legacy.egg-info/SOURCES.txt",
        f"{SITE}/legacy.egg-info/PKG-INFO/x",
        "src/project/PKG-INFO",
    ],
)
def test_capture_skips_other_files(path: str) -> None:
    assert not re.search(CAPTURE.encode(), path.encode())


# --- dist-info ---


def test_record_paths_become_normalized_root_relative_paths() -> None:
    info = f"{SITE}/charset_normalizer-3.3.2.dist-info"
    rows = record(
        "charset_normalizer/__init__.py",
        "charset_normalizer/./api.py",
        "charset_normalizer-3.3.2.dist-info/METADATA",
        "../../../bin/normalizer",
        "/etc/charset.conf",
        "../../../../../../../../../escape/attempt",
        "charset_normalizer/__init__.py",  # listed twice, kept once
    )
    rows += b'"charset_normalizer/odd,name.py",,\n\n'
    found = only(
        catalog(
            {
                f"{info}/METADATA": metadata("charset-normalizer", "3.3.2"),
                f"{info}/RECORD": rows,
                f"{info}/INSTALLER": b"pip\n",
            }
        )[0]
    )
    assert found.files == (
        f"{SITE}/charset_normalizer/__init__.py",
        f"{SITE}/charset_normalizer/api.py",
        f"{info}/METADATA",
        "usr/local/bin/normalizer",
        "etc/charset.conf",
        "escape/attempt",
        f"{SITE}/charset_normalizer/odd,name.py",
    )
    assert found.files_known
    assert (found.name, found.display_name, found.version) == (
        "charset-normalizer",
        "charset-normalizer",
        "3.3.2",
    )
    assert found.location == info
    assert found.ecosystem is Ecosystem.PYTHON


def test_names_are_pep503_normalized_and_display_names_kept() -> None:
    info = f"{SITE}/Zope.Interface_Extra-6.1.dist-info"
    found = only(
        catalog(
            {
                f"{info}/METADATA": metadata("Zope.Interface__Extra", "6.1"),
                f"{info}/RECORD": record("zope/__init__.py"),
            }
        )[0]
    )
    assert (found.name, found.display_name) == ("zope-interface-extra", "Zope.Interface__Extra")
    assert canonical("Zope.Interface__Extra") == "zope-interface-extra"


@pytest.mark.parametrize("as_content", [True, False], ids=["captured", "uncaptured"])
def test_requested_when_the_empty_requested_file_exists(as_content: bool) -> None:
    asked = f"{SITE}/rich-13.7.1.dist-info"
    pulled = f"{SITE}/mdurl-0.1.2.dist-info"
    contents = {
        f"{asked}/METADATA": metadata("rich", "13.7.1"),
        f"{asked}/RECORD": record("rich/__init__.py"),
        f"{asked}/INSTALLER": b"pip\n",
        f"{pulled}/METADATA": metadata("mdurl", "0.1.2"),
        f"{pulled}/RECORD": record("mdurl/__init__.py"),
        f"{pulled}/INSTALLER": b"pip\n",
    }
    other: tuple[str, ...] = ()
    if as_content:
        contents[f"{asked}/REQUESTED"] = b""
    else:
        other = (f"{asked}/REQUESTED",)
    records, warnings = catalog(contents, other)
    assert {r.name: r.requested for r in records} == {"rich": True, "mdurl": False}
    assert warnings == []


def test_record_without_installer_cannot_say_requested() -> None:
    # Debian bookworm's python3-pip: RECORD as built, no INSTALLER, no REQUESTED
    info = f"{DEBIAN_SITE}/pip-23.0.1.dist-info"
    contents = {
        f"{info}/METADATA": metadata("pip", "23.0.1"),
        f"{info}/RECORD": record("pip/__init__.py", "../../../bin/pip"),
    }
    found = only(catalog(contents, ("usr/bin/python3.11",))[0])
    assert found.requested is None
    assert found.files == (f"{DEBIAN_SITE}/pip/__init__.py", "usr/bin/pip")


def test_installer_alone_makes_it_pip_managed() -> None:
    info = f"{SITE}/idna-3.6.dist-info"
    found = only(
        catalog({f"{info}/METADATA": metadata("idna", "3.6"), f"{info}/INSTALLER": b"uv\n"})[0]
    )
    assert found.requested is False
    assert (found.files, found.files_known) == ((), False)


def test_debian_dist_info_without_record_lists_no_files_and_cannot_say_requested() -> None:
    info = f"{DEBIAN_SITE}/requests-2.28.1.dist-info"
    found = only(
        catalog(
            {f"{info}/METADATA": metadata("requests", "2.28.1", "Requires-Dist: idna (<4,>=2.5)")},
            other_paths=("usr/lib/python3.11/os.py", "usr/bin/python3.11"),
        )[0]
    )
    assert (found.files, found.files_known, found.requested) == ((), False, None)
    assert found.requires == (Requirement(names=("idna",)),)
    assert found.location == info


def test_version_falls_back_to_the_directory_name() -> None:
    info = f"{SITE}/frozen_thing-0.4.2.dist-info"
    found = only(catalog({f"{info}/METADATA": b"Metadata-Version: 2.1\nName: frozen_thing\n"})[0])
    assert (found.name, found.version) == ("frozen-thing", "0.4.2")


def test_two_site_packages_with_the_same_project_give_two_records() -> None:
    venv_site = "opt/venv/lib/python3.12/site-packages"
    contents = {
        f"{SITE}/requests-2.28.0.dist-info/METADATA": metadata("requests", "2.28.0"),
        f"{SITE}/requests-2.28.0.dist-info/RECORD": record("requests/api.py"),
        f"{venv_site}/requests-2.31.0.dist-info/METADATA": metadata("requests", "2.31.0"),
        f"{venv_site}/requests-2.31.0.dist-info/RECORD": record("requests/api.py"),
    }
    records, _ = catalog(contents)
    assert [(r.name, r.version, r.location, r.files) for r in records] == [
        (
            "requests",
            "2.31.0",
            f"{venv_site}/requests-2.31.0.dist-info",
            (f"{venv_site}/requests/api.py",),
        ),
        ("requests", "2.28.0", f"{SITE}/requests-2.28.0.dist-info", (f"{SITE}/requests/api.py",)),
    ]
    assert len({r.key for r in records}) == 2


def test_vendored_dist_info_belongs_to_the_vendoring_distribution() -> None:
    vendored = f"{SITE}/setuptools/_vendor/packaging-24.0.dist-info"
    setuptools = f"{SITE}/setuptools-70.0.0.dist-info"
    contents = {
        f"{setuptools}/METADATA": metadata("setuptools", "70.0.0"),
        f"{setuptools}/RECORD": record(
            "setuptools/__init__.py",
            "setuptools/_vendor/packaging-24.0.dist-info/METADATA",
            "setuptools/_vendor/packaging-24.0.dist-info/RECORD",
            "setuptools/_vendor/packaging/version.py",
        ),
        f"{vendored}/METADATA": metadata("packaging", "24.0"),
        f"{vendored}/RECORD": record("packaging/version.py"),
        # the real, importable packaging next to it stays a package
        f"{SITE}/packaging-24.1.dist-info/METADATA": metadata("packaging", "24.1"),
        f"{SITE}/packaging-24.1.dist-info/RECORD": record("packaging/version.py"),
    }
    records, warnings = catalog(contents)
    assert [(r.name, r.version) for r in records] == [
        ("packaging", "24.1"),
        ("setuptools", "70.0.0"),
    ]
    assert warnings == []


# --- requirements and markers ---

MARKER_METADATA = metadata(
    "demo",
    "1.0",
    "Provides-Extra: Torch",
    "Provides-Extra: jax",
    "Provides-Extra: typing",
    "Requires-Dist: Foo_Bar[Fast,Extra_One]>=1",
    'Requires-Dist: tomli>=1.1; python_version < "3.11"',
    'Requires-Dist: exceptiongroup; python_version < "3.10"',
    'Requires-Dist: typing-extensions>=4; python_version >= "3.8"',
    'Requires-Dist: colorama; sys_platform == "win32"',
    'Requires-Dist: uvloop; platform_machine == "aarch64"',
    'Requires-Dist: torch>=2; extra == "torch"',
    'Requires-Dist: numpy; extra == "torch" or extra == "jax"',
    'Requires-Dist: mypy-extensions; python_version >= "3.8" or extra == "typing"',
    'Requires-Dist: jaxlib; extra == "jax" and python_version < "3.9"',
    "Requires-Dist: legacy-helper; extra == 'legacy'",
)


def _demo(platform: Platform | None = None) -> PackageRecord:
    info = f"{SITE}/demo-1.0.dist-info"
    contents = {f"{info}/METADATA": MARKER_METADATA, f"{info}/RECORD": record("demo.py")}
    records, warnings = catalog(contents, platform=platform)
    assert warnings == []
    return only(records)


def test_markers_are_evaluated_for_the_site_packages_python_and_the_image_platform() -> None:
    assert requirement_rows(_demo()) == {
        ("foo-bar", "", ("extra-one", "fast")),
        ("typing-extensions", "", ()),
        ("torch", "torch", ()),
        ("numpy", "torch", ()),
        ("numpy", "jax", ()),
        ("mypy-extensions", "", ()),
        ("legacy-helper", "legacy", ()),
    }
    assert _demo().extras == ("torch", "jax", "typing")


def test_platform_machine_follows_the_image_architecture() -> None:
    rows = requirement_rows(_demo(ARM64))
    assert ("uvloop", "", ()) in rows
    assert ("uvloop", "", ()) not in requirement_rows(_demo())


def test_python_version_markers_use_the_version_of_the_path() -> None:
    old_site = "usr/lib/python3.9/site-packages"
    info = f"{old_site}/demo-1.0.dist-info"
    records, _ = catalog({f"{info}/METADATA": MARKER_METADATA, f"{info}/RECORD": b""})
    rows = requirement_rows(only(records))
    assert ("tomli", "", ()) in rows
    assert ("exceptiongroup", "", ()) in rows
    assert ("jaxlib", "jax", ()) not in rows  # 3.9 is not < 3.9


def test_debian_dist_packages_takes_the_highest_python_of_the_image() -> None:
    info = f"{DEBIAN_SITE}/demo-1.0.dist-info"
    contents = {
        f"{info}/METADATA": metadata(
            "demo",
            "1.0",
            'Requires-Dist: old-only; python_version < "3.12"',
            'Requires-Dist: new-only; python_version >= "3.12"',
        )
    }
    with_312 = ("usr/lib/python3.11/os.py", "usr/lib/python3.12/os.py", "usr/bin/python3.12")
    assert requirement_rows(only(catalog(contents, with_312)[0])) == {("new-only", "", ())}
    with_311 = ("usr/lib/python3.11/os.py", "usr/lib/python3.11-config/x")
    assert requirement_rows(only(catalog(contents, with_311)[0])) == {("old-only", "", ())}


def test_invalid_requires_dist_lines_are_skipped_with_one_warning() -> None:
    info = f"{SITE}/sloppy-0.1.dist-info"
    contents = {
        f"{info}/METADATA": metadata(
            "sloppy",
            "0.1",
            "Requires-Dist: good-one>=1",
            "Requires-Dist: not a requirement !!",
            'Requires-Dist: odd; python_version ~= "abc"',
            "Requires-Dist: deep; " + "(" * 300 + 'python_version > "3"' + ")" * 300,
        ),
        f"{info}/RECORD": record("sloppy.py"),
    }
    records, warnings = catalog(contents)
    assert only(records).requires == (Requirement(names=("good-one",)),)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{info}/METADATA: 3 invalid Requires-Dist line(s) skipped")


def test_a_marker_naming_too_many_extras_is_an_invalid_line() -> None:
    info = f"{SITE}/hostile-1.0.dist-info"
    marker = " or ".join(f'extra == "e{n}"' for n in range(100))
    contents = {
        f"{info}/METADATA": metadata("hostile", "1.0", f"Requires-Dist: victim; {marker}"),
        f"{info}/RECORD": b"",
    }
    records, warnings = catalog(contents)
    assert only(records).requires == ()
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{info}/METADATA: 1 invalid Requires-Dist line(s) skipped")


def test_thousands_of_extras_and_requirements_stay_linear() -> None:
    # every requirement against every extra would be 9 million marker evaluations
    count = 3000
    lines = [f"Provides-Extra: e{n}" for n in range(count)]
    lines += [f'Requires-Dist: dep{n}; extra == "e{n}"' for n in range(count)]
    info = f"{SITE}/wide-1.0.dist-info"
    records, warnings = catalog({f"{info}/METADATA": metadata("wide", "1.0", *lines)})
    found = only(records)
    assert warnings == []
    assert len(found.requires) == count
    assert found.requires[1234] == Requirement(names=("dep1234",), for_extra="e1234")


# --- egg-info ---


def test_egg_info_directory_with_installed_files_and_requires_txt() -> None:
    egg = f"{SITE}/legacy_pkg-2.0-py3.11.egg-info"
    requires_txt = b"""requests>=2

[:python_version < "3.8"]
importlib-metadata

[Socks]
PySocks!=1.5.7,>=1.5.6

[security:sys_platform == "win32"]
pywin32

[test]
pytest; platform_machine == "x86_64"
"""
    contents = {
        f"{egg}/PKG-INFO": b"Metadata-Version: 1.2\nName: Legacy_Pkg\nVersion: 2.0\n",
        f"{egg}/installed-files.txt": b"../legacy_pkg/__init__.py\n../../../../bin/legacy\n"
        b"PKG-INFO\n\n./\n",
        f"{egg}/requires.txt": requires_txt,
    }
    records, warnings = catalog(contents)
    found = only(records)
    assert warnings == []
    assert (found.name, found.display_name, found.version, found.location) == (
        "legacy-pkg",
        "Legacy_Pkg",
        "2.0",
        egg,
    )
    assert found.files == (
        f"{SITE}/legacy_pkg/__init__.py",
        "usr/local/bin/legacy",
        f"{egg}/PKG-INFO",
        egg,
    )
    assert found.files_known
    assert found.requested is None
    assert requirement_rows(found) == {
        ("requests", "", ()),
        ("pysocks", "socks", ()),
        ("pytest", "test", ()),
    }
    assert found.extras == ("socks", "security", "test")


def test_egg_info_requires_dist_in_pkg_info_wins_over_requires_txt() -> None:
    egg = f"{SITE}/both-1.0.egg-info"
    contents = {
        f"{egg}/PKG-INFO": metadata("both", "1.0", "Requires-Dist: from-metadata"),
        f"{egg}/requires.txt": b"from-requires-txt\n",
    }
    found = only(catalog(contents)[0])
    assert requirement_rows(found) == {("from-metadata", "", ())}
    assert (found.files, found.files_known) == ((), False)


def test_distutils_egg_info_file() -> None:
    path = f"{DEBIAN_SITE}/python_apt-2.6.0.egg-info"
    contents = {path: b"Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\nSummary: x\n"}
    found = only(catalog(contents, ("usr/bin/python3.11",))[0])
    assert (found.name, found.version, found.location) == ("python-apt", "2.6.0", path)
    assert (found.files, found.files_known, found.requested) == ((), False, None)


def test_malformed_requires_txt_section_warns_once_and_skips_the_section() -> None:
    egg = f"{SITE}/weird-1.0.egg-info"
    contents = {
        f"{egg}/PKG-INFO": b"Name: weird\nVersion: 1.0\n",
        f"{egg}/requires.txt": b"kept\n[broken\nlost\n[ok]\nextra-dep\n[:not a marker]\nlost2\n",
    }
    records, warnings = catalog(contents)
    assert requirement_rows(only(records)) == {("kept", "", ()), ("extra-dep", "ok", ())}
    assert warnings == [
        f"{egg}/requires.txt: 2 invalid requires.txt line(s) skipped, the first '[broken'"
    ]


# --- broken databases ---


def test_metadata_without_name_warns_once_and_is_skipped() -> None:
    broken = f"{SITE}/garbage-1.0.dist-info"
    fine = f"{SITE}/fine-1.0.dist-info"
    contents = {
        f"{broken}/METADATA": b"\x00\xff\xfe binary \x89PNG\r\n\x1a\n" * 50,
        f"{broken}/RECORD": record("garbage.py"),
        f"{fine}/METADATA": metadata("fine", "1.0"),
    }
    records, warnings = catalog(contents)
    assert [r.name for r in records] == ["fine"]
    assert warnings == [f"{broken}/METADATA: no Name field, not a metadata file"]


def test_dist_info_without_metadata_warns_once() -> None:
    info = f"{SITE}/orphan-1.0.dist-info"
    records, warnings = catalog({f"{info}/RECORD": record("orphan.py")})
    assert records == []
    assert warnings == [f"{info}/METADATA: missing"]


def test_unreadable_record_warns_once_and_keeps_the_package_without_files() -> None:
    info = f"{SITE}/huge-1.0.dist-info"
    contents = {
        f"{info}/METADATA": metadata("huge", "1.0"),
        # one field past the csv module's limit
        f"{info}/RECORD": b"ok.py,,\n" + b'"' + b"x" * 200_000 + b'",,\n',
        f"{info}/REQUESTED": b"",
    }
    records, warnings = catalog(contents)
    found = only(records)
    assert (found.name, found.files, found.files_known, found.requested) == (
        "huge",
        (),
        False,
        True,
    )
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{info}/RECORD: field larger than field limit")


def test_egg_info_directory_without_pkg_info_warns_once() -> None:
    egg = f"{SITE}/headless-1.0.egg-info"
    records, warnings = catalog({f"{egg}/requires.txt": b"dep\n"})
    assert records == []
    assert warnings == [f"{egg}/PKG-INFO: missing"]


def test_metadata_too_large_to_capture_warns_once() -> None:
    info = f"{SITE}/big-1.0.dist-info"
    records, warnings = catalog(
        {f"{info}/RECORD": record("big.py")}, other_paths=(f"{info}/METADATA",)
    )
    assert records == []
    assert warnings == [f"{info}/METADATA: not readable (too large, or not a file)"]


_HEADERS = st.sampled_from(
    [b"Name: x\n", b"Version: 1\n", b"Requires-Dist: ", b"Provides-Extra: ", b"extra == ", b"\n\n"]
)


@settings(max_examples=60, deadline=None)
@given(
    metadata_bytes=st.lists(st.binary(max_size=40) | _HEADERS, max_size=12).map(b"".join),
    record_bytes=st.binary(max_size=300),
    requires_txt=st.lists(st.binary(max_size=30) | st.sampled_from([b"[", b"]", b":", b"\n"])).map(
        b"".join
    ),
)
def test_arbitrary_bytes_never_raise(
    metadata_bytes: bytes, record_bytes: bytes, requires_txt: bytes
) -> None:
    info = f"{SITE}/fuzz-1.0.dist-info"
    egg = f"{SITE}/fuzz_egg-1.0.egg-info"
    contents = {
        f"{info}/METADATA": metadata_bytes,
        f"{info}/RECORD": record_bytes,
        f"{egg}/PKG-INFO": metadata_bytes,
        f"{egg}/requires.txt": requires_txt,
        f"{egg}/installed-files.txt": record_bytes,
    }
    records, warnings = catalog(contents)
    assert len(records) <= 2
    assert all(w.startswith((f"{info}/", f"{egg}/")) for w in warnings)
    for found in records:
        assert all(path and not path.startswith("/") for path in found.files)


# --- the marker environment ---


@pytest.mark.parametrize(
    ("architecture", "variant", "machine"),
    [
        ("amd64", "", "x86_64"),
        ("arm64", "v8", "aarch64"),
        ("386", "", "i686"),
        ("arm", "v7", "armv7l"),
        ("arm", "v6", "armv6l"),
        ("arm", "", "armv7l"),
        ("ppc64le", "", "ppc64le"),
        ("s390x", "", "s390x"),
        ("riscv64", "", "riscv64"),
    ],
)
def test_platform_machine(architecture: str, variant: str, machine: str) -> None:
    assert platform_machine(Platform("linux", architecture, variant)) == machine


@pytest.mark.parametrize(
    ("location", "others", "version"),
    [
        ("opt/venv/lib/python3.12/site-packages/x-1.dist-info", (), (3, 12)),
        ("usr/lib64/python3.9/site-packages/x-1.dist-info", (), (3, 9)),
        ("root/.local/lib/python3.13t/site-packages/x-1.dist-info", (), (3, 13)),
        (f"{DEBIAN_SITE}/x-1.dist-info", ("usr/lib/python3.11/os.py",), (3, 11)),
        (f"{DEBIAN_SITE}/x-1.dist-info", ("usr/bin/python3.10", "usr/bin/python3.9"), (3, 10)),
        ("app/deps/x-1.dist-info", ("usr/local/bin/python3.12", "usr/bin/python3.11"), (3, 12)),
        ("app/deps/x-1.dist-info", ("usr/bin/python2.7",), FALLBACK_PYTHON_VERSION),
    ],
)
def test_python_version_of_a_location(
    location: str, others: tuple[str, ...], version: tuple[int, int]
) -> None:
    files = ImageFiles.from_mapping({}, others)
    assert python_version_for(files, location) == version


# --- the real venv ---

_OCI_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}


def _host_site() -> Path:
    site = Path(sysconfig.get_paths()["purelib"])
    expected = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if site.parent.name != expected or host_platform.machine() not in _OCI_ARCHITECTURES:
        pytest.skip("needs a lib/pythonX.Y/site-packages on x86_64 or aarch64 Linux")
    return site


def _image_of(site: Path) -> ImageFiles:
    capture = re.compile(CAPTURE)
    contents: dict[str, bytes] = {}
    for entry in site.iterdir():
        if entry.name.endswith(".dist-info"):
            for path in entry.iterdir():
                relative = str(path).lstrip("/")
                if capture.search(relative):
                    contents[relative] = path.read_bytes()
    architecture = _OCI_ARCHITECTURES[host_platform.machine()]
    return ImageFiles.from_mapping(contents, platform=Platform("linux", architecture))


def _expected_requires(dist: importlib.metadata.Distribution) -> set[tuple[str, str]]:
    """(name, for_extra) as the host interpreter itself evaluates the markers."""
    rows: set[tuple[str, str]] = set()
    extras = [canonical(e) for e in dist.metadata.get_all("Provides-Extra") or []]
    for line in dist.requires or []:
        requirement = PepRequirement(line)
        marker = requirement.marker
        if marker is None or marker.evaluate({"extra": ""}):
            rows.add((canonical(requirement.name), ""))
            continue
        rows |= {(canonical(requirement.name), e) for e in extras if marker.evaluate({"extra": e})}
    return rows


def test_agrees_with_importlib_metadata_on_the_running_venv() -> None:
    site = _host_site()
    warnings: list[str] = []
    records = PythonCataloger().catalog(_image_of(site), warnings.append)
    assert warnings == []
    ours = {r.name: r for r in records}
    dists = {
        canonical(d.metadata["Name"]): d for d in importlib.metadata.distributions(path=[str(site)])
    }
    assert {"packaging", "pytest", "pluggy"} <= set(dists)
    assert set(ours) == set(dists)
    for name, dist in dists.items():
        found = ours[name]
        assert found.version == dist.version, name
        assert dist.files is not None
        listed = {os.path.normpath(str(f.locate())).lstrip("/") for f in dist.files}
        assert set(found.files) == listed, name
        assert len(found.files) == len(listed), name
        assert found.requested == (dist.read_text("REQUESTED") is not None), name
        assert {(r.names[0], r.for_extra) for r in found.requires} == _expected_requires(dist)
    assert ("pluggy", "") in {(r.names[0], r.for_extra) for r in ours["pytest"].requires}


@given(st.lists(st.text(alphabet="ab./_", max_size=8), min_size=1, max_size=12))
def test_odd_rows_found_in_one_search_are_the_rows_normpath_would_change(
    rows: list[str],
) -> None:
    from bloatscope.packages.database_files import NEEDS_NORMALIZING  # noqa: PLC0415
    from bloatscope.packages.python import _ODD_ROWS  # noqa: PLC0415

    expected = {row for row in rows if not row or NEEDS_NORMALIZING.search(row)}
    assert set(_ODD_ROWS.findall("\n".join(rows))) == expected
