"""Builders for the rpm cataloger's tests: stored rpm headers laid out the way rpm writes them
(immutable region first, its trailer, then entries added on install), sqlite rpmdbs holding
them, and real databases made by Debian's ``rpm`` from tiny spec files."""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bloatscope.packages.rpm_header import Tag, Type

REGION_TAG = 63
_INTEGER_CODES = {Type.INT8: "B", Type.INT16: "H", Type.INT32: "I", Type.INT64: "Q"}

# One value of a header entry: its type and what it holds.
Value = tuple[Type, "str | bytes | Sequence[str] | Sequence[int]"]


def header_blob(
    entries: dict[int, Value], added: dict[int, Value] | None = None, *, region: bool = True
) -> bytes:
    """A stored header: ``entries`` inside the immutable region, then ``added`` (entries rpm
    appends on install) outside it."""
    index: list[tuple[int, int, int, int]] = []
    data = bytearray()
    for tag, value in sorted(entries.items()):
        index.append(_append(data, tag, value))
    if region:
        trailer_offset = len(data)
        covered = len(index) + 1
        data += struct.pack(">iiii", REGION_TAG, Type.BIN, -covered * 16, 16)
        index.insert(0, (REGION_TAG, Type.BIN, trailer_offset, 16))
    for tag, value in sorted((added or {}).items()):
        index.append(_append(data, tag, value))
    head = struct.pack(">II", len(index), len(data))
    return head + b"".join(struct.pack(">iiii", *entry) for entry in index) + bytes(data)


def _append(data: bytearray, tag: int, value: Value) -> tuple[int, int, int, int]:
    kind, content = value
    if kind in _INTEGER_CODES:
        numbers = list(content)  # type: ignore[arg-type]
        code = _INTEGER_CODES[kind]
        data += bytes(-len(data) % struct.calcsize(code))
        offset = len(data)
        data += struct.pack(f">{len(numbers)}{code}", *numbers)
        return (tag, kind, offset, len(numbers))
    offset = len(data)
    if kind is Type.BIN:
        assert isinstance(content, bytes)
        data += content
        return (tag, kind, offset, len(content))
    strings = [content] if isinstance(content, str) else list(content)  # type: ignore[arg-type]
    for text in strings:
        data += str(text).encode() + b"\0"
    return (tag, kind, offset, len(strings))


def package_header(
    name: str,
    version: str = "1.0",
    release: str = "1",
    *,
    epoch: int | None = None,
    arch: str | None = "x86_64",
    files: Sequence[str] = (),
    provides: Sequence[str] = (),
    requires: Sequence[str] = (),
    require_flags: Sequence[int] | None = None,
    recommends: Sequence[str] = (),
) -> bytes:
    """A header for a package as rpm would store it (it always provides its own name)."""
    entries: dict[int, Value] = {
        Tag.NAME: (Type.STRING, name),
        Tag.VERSION: (Type.STRING, version),
        Tag.RELEASE: (Type.STRING, release),
        Tag.PROVIDENAME: (Type.STRING_ARRAY, [name, *provides]),
    }
    if epoch is not None:
        entries[Tag.EPOCH] = (Type.INT32, [epoch])
    if arch is not None:
        entries[Tag.ARCH] = (Type.STRING, arch)
    if files:
        entries.update(compressed_file_names(files))
    if requires:
        entries[Tag.REQUIRENAME] = (Type.STRING_ARRAY, list(requires))
        flags = list(require_flags) if require_flags is not None else [0] * len(requires)
        entries[Tag.REQUIREFLAGS] = (Type.INT32, flags)
    if recommends:
        entries[Tag.RECOMMENDNAME] = (Type.STRING_ARRAY, list(recommends))
    return header_blob(entries, {1008: (Type.INT32, [1_700_000_000])})  # INSTALLTIME


def compressed_file_names(paths: Sequence[str]) -> dict[int, Value]:
    """BASENAMES, DIRNAMES and DIRINDEXES for absolute ``paths``, as rpm splits them."""
    dirnames: list[str] = []
    basenames: list[str] = []
    indexes: list[int] = []
    for path in paths:
        directory, _, base = path.rpartition("/")
        directory += "/"
        if directory not in dirnames:
            dirnames.append(directory)
        basenames.append(base)
        indexes.append(dirnames.index(directory))
    return {
        Tag.BASENAMES: (Type.STRING_ARRAY, basenames),
        Tag.DIRNAMES: (Type.STRING_ARRAY, dirnames),
        Tag.DIRINDEXES: (Type.INT32, indexes),
    }


RPM_SCHEMA = "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"


def sqlite_rpmdb(blobs: Sequence[object], schema: str = RPM_SCHEMA) -> bytes:
    """The bytes of an sqlite rpmdb whose Packages rows hold ``blobs`` (hnum 1, 2, ...), in WAL
    mode like rpm leaves it."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(schema)
        if blobs:
            connection.executemany(
                "INSERT INTO Packages (hnum, blob) VALUES (?, ?)",
                [(hnum, blob) for hnum, blob in enumerate(blobs, start=1)],
            )
        connection.commit()
        image = bytearray(connection.serialize())
    finally:
        connection.close()
    image[18:20] = b"\x02\x02"
    return bytes(image)


# --- real databases made by rpm --------------------------------------------------------------

SPECS = {
    "tiny-base": """\
Name: tiny-base
Version: 1.2
Release: 3
Epoch: 2
Summary: base
License: MIT
BuildArch: noarch
Provides: tiny-data = 1.2
%description
base
%install
mkdir -p %{buildroot}/usr/lib/tiny %{buildroot}/usr/share/doc/tiny
echo hello > %{buildroot}/usr/lib/tiny/data.txt
printf 'abcdefgh' > %{buildroot}/usr/share/doc/tiny/README
ln -s data.txt %{buildroot}/usr/lib/tiny/link
%files
%dir /usr/lib/tiny
/usr/lib/tiny/data.txt
/usr/lib/tiny/link
/usr/share/doc/tiny/README
""",
    "tiny-app": """\
Name: tiny-app
Version: 0.9
Release: 1.fc40
Summary: app
License: MIT
BuildArch: noarch
Requires: tiny-base >= 1.0
Requires: /bin/sh
Requires: /usr/lib/tiny/data.txt
Requires(post): tiny-extra
Requires: (tiny-extra or tiny-missing)
Requires: (tiny-missing if tiny-nothere)
Recommends: tiny-nowhere
Provides: tiny-virtual
Provides: /usr/libexec/tiny-helper
%description
app
%install
mkdir -p %{buildroot}/usr/bin
printf '#!/bin/sh\\necho hi\\n' > %{buildroot}/usr/bin/tiny-app
%files
%attr(0755,root,root) /usr/bin/tiny-app
""",
    "tiny-extra": """\
Name: tiny-extra
Version: 3.0~rc1
Release: 0.1
Epoch: 0
Summary: extra
License: MIT
BuildArch: noarch
Requires: (tiny-base if tiny-app)
%description
extra
%install
mkdir -p %{buildroot}/etc %{buildroot}/var/log
echo x=1 > %{buildroot}/etc/tiny.conf
touch %{buildroot}/var/log/tiny.log
%post
true
%files
%config(noreplace) /etc/tiny.conf
%ghost /var/log/tiny.log
""",
}


@dataclass(frozen=True)
class RpmRoot:
    """A root that rpm installed the tiny packages into."""

    root: Path
    dbpath: str  # root-relative

    def query(self, *arguments: str) -> str:
        return _run(["rpm", "--root", str(self.root), "--dbpath", "/" + self.dbpath, *arguments])

    def database(self) -> bytes:
        return (self.root / self.dbpath / "rpmdb.sqlite").read_bytes()


def rpm_root(workdir: Path, dbpath: str = "var/lib/rpm") -> RpmRoot:
    """Build the tiny packages with rpmbuild and install them with rpm into a fresh root.
    Skips the test when rpm is not installed, except in CI, where it must be."""
    missing = [tool for tool in ("rpm", "rpmbuild") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install rpm)"
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(f"{message}; CI=true, where rpm must be installed")
        pytest.skip(message)
    topdir = workdir / "rpmbuild"
    spec_paths = []
    for name, text in SPECS.items():
        spec = workdir / f"{name}.spec"
        spec.write_text(text)
        spec_paths.append(str(spec))
    # Without the post-install brp scripts and payload compression, which these packages do
    # not need, the build takes half the time.
    fast = ["--define", "__os_install_post %{nil}", "--define", "_binary_payload w0.ufdio"]
    _run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {topdir}", *fast, *spec_paths])
    packages = sorted(str(path) for path in (topdir / "RPMS").rglob("*.rpm"))
    rpm = RpmRoot(workdir / "root", dbpath)
    backend = ["--define", "_db_backend sqlite"]
    rpm.query(*backend, "--initdb")
    rpm.query(*backend, "-i", "--nodeps", "--noscripts", "--ignorearch", *packages)
    return rpm


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout
