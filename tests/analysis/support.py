"""Building an analysis input from layers made in the test, each with its history command."""

from __future__ import annotations

from pathlib import Path

from bloatscope.analysis.base import AnalysisInput
from bloatscope.api import analyze
from synth import Image, write_skopeo_archive


def analysis_input(tmp_path: Path, layers: list[bytes], commands: list[str]) -> AnalysisInput:
    image = Image(layers, history=[{"created_by": command} for command in commands])
    report = analyze(str(write_skopeo_archive(tmp_path / "image.tar", image)))
    return AnalysisInput.from_report(report)
