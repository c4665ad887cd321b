"""Package-manager caches: each kind found by path, with its exact bytes and layer; lookalikes
and bytes that a clean-up would not free are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.caches import KINDS, PackageCacheAnalyzer, cache_kind
from bloatscope.analysis.findings import find
from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.model.finding import Finding, Severity
from bloatscope.model.report import Report
from synth import Image, Layer, write_skopeo_archive

# path -> kind (None: a lookalike that must not be claimed)
CACHED: dict[str, str | None] = {
    "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease": "apt-lists",
    "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4": (
        "apt-lists"
    ),
    "var/lib/apt/lists/lock": None,
    "var/lib/apt/lists/partial/x_Packages": None,
    "var/cache/apt/pkgcache.bin": "apt-cache",
    "var/cache/apt/srcpkgcache.bin": "apt-cache",
    "var/cache/apt/archives/curl_7.88_amd64.deb": "apt-archives",
    "var/cache/apt/archives/lock": None,
    "root/.cache/pip/http-v2/a/b/c": "pip",
    "home/alice/.cache/pip/wheels/x/tomli-1.0-py3-none-any.whl": "pip",
    "home/alice/.cache/pipx/thing": None,
    "root/.cache/uv/archive-v0/x/y.py": "uv",
    "opt/conda/pkgs/numpy-1.26-py311/info/index.json": "conda-pkgs",
    "root/miniconda3/pkgs/urls.txt": "conda-pkgs",
    "opt/app/pkgs/readme.txt": None,
    "root/.npm/_cacache/content-v2/sha512/ab/cd": "npm",
    "root/.npm/_logs/debug.log": None,
    "usr/local/share/.cache/yarn/v6/npm-left-pad/index.js": "yarn",
    "home/node/.cache/yarn/v6/x": "yarn",
    "root/.local/share/pnpm/store/v3/files/00/abc": "pnpm",
    "home/node/.pnpm-store/v3/files/01/def": "pnpm",
    "var/cache/apk/APKINDEX.abc.tar.gz": "apk",
    "root/.cache/go-build/ab/abcdef-d": "go-build",
    "go/pkg/mod/cache/download/golang.org/x/text/@v/v0.14.0.zip": "go-mod",
    "root/go/pkg/mod/cache/download/x.info": "go-mod",
    "go/pkg/mod/golang.org/x/text@v0.14.0/go.mod": None,
    "usr/local/cargo/registry/cache/index.crates.io-6f17d22bba15001f/serde-1.0.crate": "cargo",
    "root/.cargo/registry/index/x": "cargo",
    "usr/local/cargo/bin/cargo": None,
    "root/.m2/repository/org/slf4j/slf4j-api/2.0/slf4j-api-2.0.jar": "maven",
    "root/.m2/settings.xml": None,
    "usr/local/bundle/cache/rake-13.1.0.gem": "gem",
    "usr/local/lib/ruby/gems/3.2.0/cache/bundler-2.4.gem": "gem",
    "usr/local/lib/ruby/gems/3.2.0/gems/rake-13.1.0/lib/rake.rb": None,
    "usr/lib/python3/site-packages/pip/_vendor/cachecontrol/cache.py": None,
}


def _input(report: Report) -> AnalysisInput:
    return AnalysisInput.from_report(report)


@pytest.mark.parametrize("path", sorted(CACHED))
def test_kind_of_each_path(path: str) -> None:
    assert cache_kind(path) == CACHED[path]


def test_every_kind_is_described() -> None:
    analyzer = PackageCacheAnalyzer()
    for kind in KINDS:
        description = analyzer.describe(kind, ())
        assert description.title and description.fix
        assert description.severity is Severity.MEDIUM


def _by_group(findings: tuple[Finding, ...]) -> dict[tuple[str, int | None], Finding]:
    keyed = {(f.group, f.layer): f for f in findings}
    assert len(keyed) == len(findings)
    return keyed


def test_each_kind_in_a_synthetic_image(tmp_path: Path) -> None:
    # Every path gets its own size, so a finding's bytes tell exactly which files it counted.
    # apt paths in layer 0, the rest in layer 1.
    layers = [Layer(), Layer()]
    expected: dict[tuple[str, int], tuple[int, int]] = {}
    for number, path in enumerate(sorted(CACHED), start=1):
        layer = 0 if path.startswith("var/") else 1
        size = 100 * number
        layers[layer].file(path, b"x" * size)
        kind = CACHED[path]
        if kind is not None:
            total, count = expected.get((kind, layer), (0, 0))
            expected[(kind, layer)] = (total + size, count + 1)
    layers[1].file("root/.cache/pip/empty", b"")  # no bytes, no claim
    report = analyze(
        str(write_skopeo_archive(tmp_path / "c.tar", Image([layers[0].build(), layers[1].build()])))
    )
    findings = find(_input(report), (PackageCacheAnalyzer(),))
    found = {key: (f.bytes, f.path_count) for key, f in _by_group(findings).items()}
    assert found == expected
    assert {f.cause for f in findings} == {"package-cache"}
    assert set(KINDS) == {kind for kind, _layer in expected}  # the image has every kind
    apt = _by_group(findings)[("apt-lists", 0)]
    assert all(p.startswith("/var/lib/apt/lists/") for p in apt.paths)
    assert "rm -rf /var/lib/apt/lists/*" in apt.fix
    assert "--no-cache-dir" in _by_group(findings)[("pip", 1)].fix
    assert "--no-cache" in _by_group(findings)[("apk", 0)].fix


def test_hidden_and_hardlinked_bytes_are_not_claimed(tmp_path: Path) -> None:
    base = (
        Layer()
        .file("var/cache/apt/pkgcache.bin", b"a" * 1000)
        .file("opt/conda/pkgs/zlib-1.3/lib/libz.so.1", b"z" * 700)
        .hardlink("opt/conda/lib/libz.so.1", "opt/conda/pkgs/zlib-1.3/lib/libz.so.1")
        .file("opt/conda/pkgs/zlib-1.3/info/index.json", b"i" * 30)
    )
    # a later layer deletes the apt cache: those bytes are the "deleted" cause's, not this one's
    later = Layer().whiteout("var/cache/apt/pkgcache.bin")
    archive = write_skopeo_archive(tmp_path / "h.tar", Image([base.build(), later.build()]))
    findings = find(_input(analyze(str(archive))), (PackageCacheAnalyzer(),))
    assert [(f.group, f.layer, f.bytes, f.paths) for f in findings] == [
        ("conda-pkgs", 0, 30, ("/opt/conda/pkgs/zlib-1.3/info/index.json",))
    ]


@pytest.fixture(scope="module")
def waste_zoo(corpus_dir: Path) -> Report:
    return analyze(f"docker-archive:{corpus_dir / 'waste-zoo.docker.tar'}", AnalyzeOptions())


def test_waste_zoo_apt_and_pip_caches(waste_zoo: Report) -> None:
    data = _input(waste_zoo)
    findings = find(data, (PackageCacheAnalyzer(),))
    lists = {
        "/" + path: node.size
        for path, node in data.nodes
        if path.startswith("var/lib/apt/lists/")
        and node.content is not None
        and node.size > 0
        and path != "var/lib/apt/lists/lock"
        and not path.startswith("var/lib/apt/lists/partial/")
    }
    assert lists  # the planted waste: `apt-get update` without removing the lists
    apt_lists = [f for f in findings if f.group == "apt-lists"]
    assert sum(f.bytes for f in apt_lists) == sum(lists.values())
    assert sum(f.path_count for f in apt_lists) == len(lists)

    bins = ("var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin")
    nodes = [waste_zoo.filesystem.get(path) for path in bins]
    assert all(node is not None and node.size > 0 for node in nodes)
    apt_cache = [f for f in findings if f.group == "apt-cache"]
    assert sum(f.bytes for f in apt_cache) == sum(node.size for node in nodes if node)
    assert {p for f in apt_cache for p in f.paths} == {"/" + path for path in bins}

    pip = [f for f in findings if f.group == "pip"]
    assert len(pip) == 1
    assert "tomli-w" in pip[0].created_by
    assert pip[0].paths and all(p.startswith("/root/.cache/pip/") for p in pip[0].paths)
    assert any(p.endswith(".whl") and "tomli_w" in p for p in pip[0].paths)
    pip_bytes = sum(
        node.size
        for path, node in data.nodes
        if path.startswith("root/.cache/pip/") and node.content is not None
    )
    assert pip[0].bytes == pip_bytes > 0
