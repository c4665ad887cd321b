"""Installers and archives left behind: claimed in /tmp, /var/tmp, /root and the WORKDIR, by
suffix kind, never in caches, site-packages or node_modules, and never counted twice when run
with the cache analyzer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.caches import PackageCacheAnalyzer
from bloatscope.analysis.findings import find
from bloatscope.analysis.installers import InstallerAnalyzer, installer_kind
from bloatscope.api import analyze
from bloatscope.model.finding import Severity
from bloatscope.model.report import Report
from synth import Image, Layer, write_skopeo_archive

# path -> kind claimed by the installer cause (None: not claimed by it)
LEFT: dict[str, str | None] = {
    "tmp/torch-2.1.0-cp311-cp311-linux_x86_64.whl": "wheel",
    "tmp/build/pkg.deb": "deb",
    "var/tmp/tool.rpm": "rpm",
    "root/musl.apk": "apk",
    "root/downloads/rake-13.gem": "gem",
    "tmp/node-v20-linux-x64.tar.xz": "archive",
    "tmp/src.tar.gz": "archive",
    "tmp/src.TGZ": "archive",
    "tmp/x.tar.bz2": "archive",
    "tmp/x.tar.zst": "archive",
    "tmp/x.tar": "archive",
    "app/models.zip": "archive",  # in the WORKDIR
    "app/vendor/lib.whl": "wheel",
    "tmp/app.jar": None,  # jars are what runs
    "tmp/notes.txt": None,
    "opt/tool.tar.gz": None,  # not a place installs start from
    "root/.cache/pip/wheels/ab/x-1.0-py3-none-any.whl": None,  # the pip cache's
    "var/cache/apt/archives/curl_7.88_amd64.deb": None,  # the apt cache's
    "usr/lib/python3/site-packages/x/y.zip": None,
    "app/node_modules/pkg/fixture.tar.gz": None,
    "root/.venv/lib/python3.11/site-packages/z/data.zip": None,
}


def _input(report: Report) -> AnalysisInput:
    return AnalysisInput.from_report(report)


def _image(tmp_path: Path, layers: list[Layer], workdir: str = "/app") -> Report:
    image = Image(
        [layer.build() for layer in layers],
        extra_config={"config": {"Env": ["PATH=/bin"], "WorkingDir": workdir}},
    )
    return analyze(str(write_skopeo_archive(tmp_path / "i.tar", image)))


@pytest.mark.parametrize("name", ["a.whl", "a.tar.gz", "a.ZIP", "a.gem", "a.deb"])
def test_kind_by_suffix(name: str) -> None:
    assert installer_kind(name) is not None


@pytest.mark.parametrize("name", ["a.jar", "a.gz", "a.py", "a.whl.txt", "tar"])
def test_not_an_installer(name: str) -> None:
    assert installer_kind(name) is None


def test_each_kind_in_its_places(tmp_path: Path) -> None:
    layers = [Layer(), Layer()]
    expected: dict[tuple[str, int], tuple[int, int]] = {}
    for number, path in enumerate(sorted(LEFT), start=1):
        layer = number % 2
        size = 10 * number
        layers[layer].file(path, b"x" * size)
        kind = LEFT[path]
        if kind is not None:
            total, count = expected.get((kind, layer), (0, 0))
            expected[(kind, layer)] = (total + size, count + 1)
    findings = find(_input(_image(tmp_path, layers)), (InstallerAnalyzer(),))
    found = {(f.group, f.layer): (f.bytes, f.path_count) for f in findings}
    assert len(found) == len(findings)
    assert found == expected
    claimed = {p for f in findings for p in f.paths}
    assert claimed == {"/" + path for path, kind in LEFT.items() if kind is not None}
    wheel = next(f for f in findings if f.group == "wheel")
    assert wheel.cause == "installer-left" and wheel.severity is Severity.MEDIUM
    assert "--mount=type=bind" in wheel.fix and "same RUN" in wheel.fix


def test_root_workdir_is_not_every_path(tmp_path: Path) -> None:
    layer = Layer().file("opt/tool.tar.gz", b"x" * 50).file("tmp/tool.tar.gz", b"y" * 70)
    findings = find(_input(_image(tmp_path, [layer], workdir="/")), (InstallerAnalyzer(),))
    assert [(f.group, f.bytes, f.paths) for f in findings] == [
        ("archive", 70, ("/tmp/tool.tar.gz",))
    ]


def test_with_the_cache_analyzer_nothing_counts_twice(tmp_path: Path) -> None:
    layer = (
        Layer()
        .file("var/cache/apt/archives/curl.deb", b"a" * 300)
        .file("root/.cache/pip/wheels/x/y-1.0-py3-none-any.whl", b"b" * 200)
        .file("tmp/z-1.0-py3-none-any.whl", b"c" * 100)
        .file("tmp/copy.whl", b"b" * 200)  # same bytes, its own content: its own claim
        .hardlink("tmp/linked.whl", "tmp/z-1.0-py3-none-any.whl")  # shares z's bytes
    )
    data = _input(_image(tmp_path, [layer]))
    findings = find(data, (PackageCacheAnalyzer(), InstallerAnalyzer()))
    summary = sorted((f.cause, f.group, f.bytes, f.path_count) for f in findings)
    assert summary == [
        ("installer-left", "wheel", 300, 2),
        ("package-cache", "apt-archives", 300, 1),
        ("package-cache", "pip", 200, 1),
    ]
    assert sum(f.bytes for f in findings) == 800
    paths = [p for f in findings for p in f.paths]
    assert len(paths) == len(set(paths))
    # the other order: each analyzer already leaves the other's paths alone
    again = find(data, (InstallerAnalyzer(), PackageCacheAnalyzer()))
    assert sorted((f.cause, f.group, f.bytes) for f in again) == [
        (c, g, b) for c, g, b, _n in summary
    ]


def test_naive_bert_wheel_in_tmp(corpus_dir: Path) -> None:
    archive = corpus_dir / "naive-bert.docker.tar"
    if not archive.exists():
        pytest.skip(f"{archive} is not built (`../shared/corpus/build.sh naive-bert`)")
    report = analyze(f"docker-archive:{archive}")
    data = _input(report)
    findings = [f for f in find(data, (InstallerAnalyzer(),)) if f.group == "wheel"]
    tmp_wheels = [f for f in findings if any(p.startswith("/tmp/") for p in f.paths)]
    assert len(tmp_wheels) == 1
    wheel = tmp_wheels[0]
    node = report.filesystem.get(wheel.paths[0].lstrip("/"))
    assert node is not None and wheel.bytes >= node.size > 0
    assert wheel.paths[0].endswith(".whl")
