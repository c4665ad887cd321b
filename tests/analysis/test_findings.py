"""Findings: each byte under one cause, grouped per cause and layer, adding up to the total."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.analysis.findings import find
from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.cli import main
from bloatscope.model.finding import Finding, Severity
from bloatscope.model.report import Report
from synth import Image, Layer, write_skopeo_archive


@pytest.fixture(scope="module")
def waste_zoo(corpus_dir: Path) -> Report:
    reference = f"docker-archive:{corpus_dir / 'waste-zoo.docker.tar'}"
    return analyze(reference, AnalyzeOptions(min_finding_bytes=0))


def _with_path(report: Report, cause: str, path: str) -> Finding:
    matches = [f for f in report.findings if f.cause == cause and path in f.paths]
    assert len(matches) == 1, (cause, path, report.findings)
    return matches[0]


def test_waste_zoo_overwritten_data_file(waste_zoo: Report) -> None:
    finding = _with_path(waste_zoo, "overwritten", "/opt/data.bin")
    assert (finding.bytes, finding.path_count) == (4_000_000, 1)
    assert "head -c 4000000 /dev/urandom > /opt/data.bin" in finding.created_by


def test_waste_zoo_deleted_artifact_and_assets(waste_zoo: Report) -> None:
    artifact = _with_path(waste_zoo, "deleted", "/tmp/build-artifact.tar")
    assert (artifact.bytes, artifact.path_count) == (3_000_000, 1)
    assets = _with_path(waste_zoo, "deleted", "/srv/assets/f1")
    assert (assets.bytes, assets.path_count) == (1_500_000, 3)
    assert set(assets.paths) == {"/srv/assets/f1", "/srv/assets/f2", "/srv/assets/f3"}


def test_waste_zoo_chmod_only(waste_zoo: Report) -> None:
    finding = _with_path(waste_zoo, "metadata-only", "/opt/blob-b")
    assert (finding.bytes, finding.path_count) == (2_000_000, 1)
    assert "COPY --chmod" in finding.fix
    assert finding.severity is Severity.HIGH


def test_findings_add_up_to_the_reclaimable_bytes(waste_zoo: Report) -> None:
    assert waste_zoo.reclaimable_bytes == sum(f.bytes for f in waste_zoo.findings)
    shadow = {"overwritten", "metadata-only", "deleted"}
    shadowed = sum(f.bytes for f in waste_zoo.findings if f.cause in shadow)
    assert shadowed == waste_zoo.reclaimable.total_bytes  # every hidden byte, once
    ids = [f.id for f in waste_zoo.findings]
    assert len(ids) == len(set(ids))
    sizes = [f.bytes for f in waste_zoo.findings]
    assert sizes == sorted(sizes, reverse=True)


class _Greedy(Analyzer):
    """Claims every visible file, so the ledger must keep the earlier analyzer's counts."""

    def __init__(self, cause: str) -> None:
        self.cause = cause

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        for path, node in data.nodes:
            if node.content is not None:
                yield Claim("", node.content, "/" + path, node.size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        return Description(self.cause, "fix", Severity.LOW)


def test_a_content_counts_for_the_first_analyzer_only(tmp_path: Path) -> None:
    archive = write_skopeo_archive(
        tmp_path / "x.tar",
        Image([Layer().file("a", b"1" * 10).file("b", b"2" * 20).build(), Layer().build()]),
    )
    report = analyze(str(archive))
    data = AnalysisInput.from_report(report)
    findings = find(data, (_Greedy("first"), _Greedy("second")))
    assert [(f.cause, f.bytes, f.path_count, f.layer) for f in findings] == [("first", 30, 2, 0)]
    assert findings[0].paths == ("/b", "/a")  # biggest first


def test_json_findings_carry_the_contract_keys(
    corpus_dir: Path, tmp_path: Path, waste_zoo: Report
) -> None:
    out = tmp_path / "report.json"
    archive = corpus_dir / "waste-zoo.docker.tar"
    assert main(["analyze", "-q", "-f", "json", "-o", str(out), str(archive)]) == 0
    document = json.loads(out.read_text())
    findings = document["findings"]
    assert document["image"]["reclaimable_bytes"] == sum(f["bytes"] for f in findings)
    keys = {"id", "cause", "severity", "bytes", "layer", "created_by", "paths", "path_count", "fix"}
    for finding in findings:
        assert keys <= set(finding)
    chmod = next(f for f in findings if f["cause"] == "metadata-only")
    assert (chmod["bytes"], chmod["paths"], chmod["severity"]) == (
        2_000_000,
        ["/opt/blob-b"],
        "high",
    )
    # the CLI leaves out findings under 10 kB; the fixture lists them all
    assert len(findings) == len([f for f in waste_zoo.findings if f.bytes >= 10_000])


def test_waste_zoo_duplicate_blob(waste_zoo: Report) -> None:
    # blob-b is a cp of blob-a (blob-hard, a hardlink, is the same content as blob-a); after the
    # chmod the visible blob-b is the later layer's copy, so that copy is the duplicate
    finding = _with_path(waste_zoo, "duplicate", "/opt/blob-b")
    assert (finding.bytes, finding.paths) == (2_000_000, ("/opt/blob-b",))
    assert "/opt/blob-hard" not in finding.paths and "/opt/blob-a" not in finding.paths
    assert "chmod 600 /opt/blob-b" in finding.created_by


def test_duplicates_are_copies_not_hardlinks_nor_small_files(tmp_path: Path) -> None:
    big = bytes(range(256)) * 80  # 20,480 bytes: above the 16 KiB floor
    layer = (
        Layer()
        .file("a", big)
        .file("b", big)
        .hardlink("c", "a")
        .file("d", big[::-1])
        .file("small1", b"x" * 100)
        .file("small2", b"x" * 100)
        .build()
    )
    archive = write_skopeo_archive(tmp_path / "x.tar", Image([layer]))
    report = analyze(str(archive), AnalyzeOptions(min_finding_bytes=0))
    duplicates = [f for f in report.findings if f.cause == "duplicate"]
    assert [(f.bytes, f.paths, f.path_count) for f in duplicates] == [(20_480, ("/b",), 1)]


def test_min_bytes_leaves_small_findings_out_of_the_total(corpus_dir: Path) -> None:
    reference = str(corpus_dir / "waste-zoo.docker.tar")
    report = analyze(reference, AnalyzeOptions(min_finding_bytes=1_000_000))
    assert report.findings
    assert all(f.bytes >= 1_000_000 for f in report.findings)
    assert report.reclaimable_bytes == sum(f.bytes for f in report.findings)


def test_model_size_option_sets_the_weights_threshold(tmp_path: Path) -> None:
    weights = bytes(range(256)) * 4096  # 1,048,576 bytes
    layer = Layer().dir("models").file("models/classifier.safetensors", weights).build()
    archive = write_skopeo_archive(tmp_path / "x.tar", Image([layer]))
    default = analyze(str(archive))
    assert [f for f in default.findings if f.cause == "model-weights"] == []
    low = analyze(str(archive), AnalyzeOptions(model_min_bytes=1_000_000))
    found = [(f.bytes, f.paths) for f in low.findings if f.cause == "model-weights"]
    assert found == [(1_048_576, ("/models/classifier.safetensors",))]
    out = tmp_path / "r.json"
    assert (
        main(["analyze", "-q", "-f", "json", "--model-size", "1MB", "-o", str(out), str(archive)])
        == 0
    )
    document = json.loads(out.read_text())
    assert [f["cause"] for f in document["findings"]] == ["model-weights"]
