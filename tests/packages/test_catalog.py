"""The catalogers together: each one's capture pattern takes its databases and nothing near
them, through the reader's prefilter as well as the regex (a name the prefilter drops is never
captured, whatever the regex says)."""

from __future__ import annotations

import pytest

from bloatscope.packages.catalog import capture_for, catalogers

WANTED = [
    "var/lib/dpkg/status",
    "var/lib/dpkg/info/libc6:amd64.list",
    "var/lib/dpkg/info/bash.list",
    "var/lib/dpkg/status.d/base-files",
    "var/lib/dpkg/status.d/base-files.md5sums",
    "var/lib/apt/extended_states",
    "lib/apk/db/installed",
    "usr/lib/apk/db/installed",
    "etc/apk/world",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite-wal",
    "usr/local/lib/python3.11/dist-packages/torch-2.3.0.dist-info/METADATA",
    "usr/local/lib/python3.11/dist-packages/torch-2.3.0.dist-info/RECORD",
    "opt/venv/lib/python3.11/site-packages/black-24.1.dist-info/REQUESTED",
    "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
    "opt/conda/conda-meta/numpy-1.26.4-py311h0.json",
    "opt/conda/conda-meta/history",
    "app/node_modules/ms/package.json",
    "app/node_modules/@scope/pkg/package.json",
    "app/node_modules/.package-lock.json",
    "app/package.json",
    "app/package-lock.json",
]
NOT_WANTED = [
    "var/lib/dpkg/status-old",
    "var/lib/dpkg/info/bash.md5sums",
    "var/lib/dpkg/info/bash.postinst",
    "usr/share/doc/dpkg/status",
    "var/lib/rpm/Packages.bak",
    "usr/local/lib/python3.11/dist-packages/torch/__init__.py",
    "usr/local/lib/python3.11/dist-packages/torch-2.3.0.dist-info/LICENSE",
    "app/node_modules/ms/lib/package.json",
    "app/node_modules/ms/index.js",
    "etc/hostname",
]


@pytest.mark.parametrize("path", WANTED)
def test_database_files_are_captured(path: str) -> None:
    capture = capture_for(catalogers())
    assert capture.wants(path.encode())
    assert capture.suffixes  # every cataloger declares a prefilter, so it is on


@pytest.mark.parametrize("path", NOT_WANTED)
def test_other_files_are_not(path: str) -> None:
    assert not capture_for(catalogers()).wants(path.encode())


def test_each_cataloger_prefilter_admits_everything_its_pattern_matches() -> None:
    for cataloger in catalogers():
        alone = capture_for([cataloger])
        for path in WANTED:
            if alone.pattern.search(path.encode()):
                assert alone.wants(path.encode()), (type(cataloger).__name__, path)
