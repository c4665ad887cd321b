"""The acceptance checks of the causes issue on naive-bert, the image the seed article analyzes.
It is 3.5 GB and takes minutes to build (../shared/corpus/build.sh naive-bert): scripts/test.sh
builds it, so under CI a missing image is an error; elsewhere these tests skip."""

from __future__ import annotations

import pytest

from bloatscope.model.finding import Finding
from bloatscope.model.report import Report


@pytest.fixture(scope="module")
def report(naive_bert_report: Report) -> Report:
    return naive_bert_report


def _kind(report: Report, cause: str, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.cause == cause and f.group == kind]


def _wheel_size(report: Report) -> int:
    node = next(node for path, node in report.filesystem.walk() if path.startswith("tmp/torch-"))
    return node.size


def test_build_context_junk_in_the_src_copy(report: Report) -> None:
    expected = {
        "git": 30_000_000,  # .git/objects/pack/pack-1.pack (prepare.sh)
        "venv": 20_000_000,
        "notebooks": 5_000_000,
        "pycache": 200_000,
        "data": 120_000_000,  # models/checkpoint-old.bin
        "wheels": _wheel_size(report),  # the torch wheel the context also holds
    }
    for kind, size in expected.items():
        found = _kind(report, "build-context", kind)
        assert [f.bytes for f in found] == [size], kind
        assert all(path.startswith("/src/") for path in found[0].paths), kind
        assert "COPY" in found[0].created_by and "/src/" in found[0].created_by


def test_the_wheel_left_in_tmp(report: Report) -> None:
    (wheel,) = _kind(report, "installer-left", "wheel")
    assert wheel.bytes == _wheel_size(report)
    assert wheel.paths[0].startswith("/tmp/torch-") and wheel.paths[0].endswith(".whl")
    assert "COPY" in wheel.created_by


def test_apt_caches_rewritten_by_a_later_update(report: Report) -> None:
    overwritten = [
        f
        for f in report.findings
        if f.cause == "overwritten" and "/var/cache/apt/pkgcache.bin" in f.paths
    ]
    assert len(overwritten) == 1
    assert "apt-get install" in overwritten[0].created_by  # python-full's apt layer
    (cache,) = _kind(report, "package-cache", "apt-cache")
    assert "apt-get install -y curl" in cache.created_by
    assert set(cache.paths) == {"/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin"}


def test_causes_add_up(report: Report) -> None:
    assert report.reclaimable_bytes == sum(f.bytes for f in report.findings)
    assert report.reclaimable_bytes <= report.image.size_bytes
