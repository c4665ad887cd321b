"""What a finding or a package points at in the tree, and which layer wrote a path."""

from __future__ import annotations

import json

import pytest

from bloatscope.explore.links import finding_paths, layer_of, package_paths
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import Package
from bloatscope.model.report import Report
from explore.support import report_of
from synth import Layer

NPM = "usr/lib/node_modules"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    base = (
        Layer()
        .dir("usr")
        .dir("usr/bin")
        .file("usr/bin/dash", b"d" * 100, mode=0o755)
        .symlink("bin", "usr/bin")  # merged /usr: dpkg lists /bin/dash
        .file("var/lib/dpkg/status", b"Package: dash\nStatus: install ok installed\nVersion: 1\n\n")
        .file(
            "var/lib/dpkg/info/dash.list",
            b"/.\n/bin\n/bin/dash\n/usr/share/man/man1/dash.1.gz\n",  # no man page installed
        )
        .file(f"{NPM}/left-pad/package.json", json.dumps({"name": "left-pad"}).encode())
        .file(f"{NPM}/left-pad/index.js", b"pad")
        .file(f"{NPM}/left-pad/node_modules/ms/package.json", json.dumps({"name": "ms"}).encode())
        .file(f"{NPM}/left-pad/node_modules/ms/index.js", b"ms")
        .file("etc/conf", b"v1")
    )
    shipped = Layer().file("tmp/big", b"x" * 20_000).file("etc/conf", b"v2")
    deleted = Layer().whiteout("tmp/big")
    return report_of(tmp_path_factory.mktemp("links"), base, shipped, deleted, packages=True)


def _package(report: Report, ecosystem: Ecosystem, name: str) -> Package:
    assert report.packages is not None
    (found,) = [p for p in report.packages.packages if (p.ecosystem, p.name) == (ecosystem, name)]
    return found


def test_finding_paths_are_root_relative(report: Report) -> None:
    (deleted,) = [f for f in report.findings if f.cause == "deleted"]
    assert deleted.paths == ("/tmp/big",)
    assert finding_paths(report, deleted) == ("tmp/big",)


def test_package_files_through_symlinked_directories(report: Report) -> None:
    dash = _package(report, Ecosystem.DPKG, "dash")
    assert package_paths(report, dash) == {"bin", "usr/bin/dash"}
    assert package_paths(report, dash.record) == package_paths(report, dash)


def test_npm_tree_without_the_nested_package(report: Report) -> None:
    left_pad = _package(report, Ecosystem.NPM, "left-pad")
    assert package_paths(report, left_pad) == {
        f"{NPM}/left-pad",
        f"{NPM}/left-pad/package.json",
        f"{NPM}/left-pad/index.js",
        f"{NPM}/left-pad/node_modules",
    }
    ms = _package(report, Ecosystem.NPM, "ms")
    assert package_paths(report, ms) == {
        f"{NPM}/left-pad/node_modules/ms",
        f"{NPM}/left-pad/node_modules/ms/package.json",
        f"{NPM}/left-pad/node_modules/ms/index.js",
    }


def test_layer_of_the_final_version(report: Report) -> None:
    assert layer_of(report, "usr/bin/dash") == 0
    assert layer_of(report, "/bin/dash") == 0  # through the symlink, as the image resolves it
    assert layer_of(report, "etc/conf") == 1  # rewritten
    assert layer_of(report, "tmp") == 1  # a directory no entry describes: first needed there
    assert layer_of(report, "tmp/big") is None  # deleted
    assert layer_of(report, "") is None


def test_layer_of_the_version_a_layer_shows(report: Report) -> None:
    assert layer_of(report, "etc/conf", upto=0) == 0
    assert layer_of(report, "etc/conf", upto=2) == 1
    assert layer_of(report, "tmp/big", upto=0) is None  # not written yet
    assert layer_of(report, "tmp/big", upto=1) == 1
    assert layer_of(report, "tmp/big", upto=2) == 1  # deleted there: what was deleted
    assert layer_of(report, "bin/dash", upto=2) is None  # no layer has that literal path
