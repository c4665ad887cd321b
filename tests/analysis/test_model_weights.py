"""Model weights baked into the image, and the three path analyzers run together counting no
content twice."""

from __future__ import annotations

from pathlib import Path

from analysis.support import analysis_input
from bloatscope.analysis.context_junk import BuildContextAnalyzer
from bloatscope.analysis.findings import find
from bloatscope.analysis.model_weights import ModelWeightsAnalyzer
from bloatscope.analysis.runtime_extras import RuntimeExtrasAnalyzer
from bloatscope.model.finding import Severity
from synth import Layer


def _layer(files: dict[str, int]) -> bytes:
    layer = Layer()
    for path, size in files.items():
        layer.file(path, b"w" * size)
    return layer.build()


def test_weights_above_the_threshold_outside_packages(tmp_path: Path) -> None:
    data = analysis_input(
        tmp_path,
        [
            _layer({"usr/local/lib/python3.11/site-packages/foo/model.bin": 200}),
            _layer(
                {
                    "models/bert.safetensors": 150,
                    "models/small.onnx": 50,  # below the threshold
                    "models/readme.txt": 500,  # not weights
                }
            ),
            _layer({"opt/llm.gguf": 100, "opt/w.pt": 120}),
        ],
        [
            "/bin/sh -c pip install foo",
            "/bin/sh -c #(nop) COPY file:abc in /models/ ",
            "/bin/sh -c curl -o /opt/llm.gguf https://example.com/llm.gguf",
        ],
    )
    findings = find(data, (ModelWeightsAnalyzer(min_bytes=100),))
    found = {(f.group, f.layer): (f.bytes, f.path_count) for f in findings}
    assert found == {("weights", 1): (150, 1), ("weights", 2): (220, 2)}
    late = next(f for f in findings if f.layer == 2)
    assert late.paths == ("/opt/w.pt", "/opt/llm.gguf")
    assert late.cause == "model-weights"
    assert late.severity is Severity.MEDIUM
    assert "own late layer" in late.fix
    assert "curl" in late.created_by


def test_default_threshold() -> None:
    assert ModelWeightsAnalyzer().min_bytes == 50_000_000


def test_three_analyzers_together_count_no_content_twice(tmp_path: Path) -> None:
    mb = 1_000_000
    data = analysis_input(
        tmp_path,
        [
            _layer(
                {
                    "usr/share/doc/x/changelog.gz": 100,
                    "usr/local/lib/python3.11/site-packages/p/tests/t.py": 30,
                }
            ),
            _layer(
                {
                    "src/models/checkpoint.bin": 2 * mb,  # context data and weights
                    "src/venv/lib/python3.11/site-packages/q/tests/t.py": 40,  # venv and tests
                    "src/venv/include/site/python3.11/x.h": 8,
                    "src/.git/HEAD": 23,
                    "src/app.py": 11,
                }
            ),
            _layer({"opt/weights.pt": 3 * mb}),
        ],
        [
            "/bin/sh -c pip install p",
            "COPY . /src/ # buildkit",
            "/bin/sh -c curl -o /opt/weights.pt https://example.com/w.pt",
        ],
    )
    analyzers = (
        BuildContextAnalyzer(),
        ModelWeightsAnalyzer(min_bytes=mb),
        RuntimeExtrasAnalyzer(),
    )
    findings = find(data, analyzers)
    found = {(f.cause, f.group, f.layer): f.bytes for f in findings}
    assert found == {
        ("build-context", "data", 1): 2 * mb,
        ("build-context", "venv", 1): 48,
        ("build-context", "git", 1): 23,
        ("model-weights", "weights", 2): 3 * mb,
        ("runtime-unneeded", "docs", 0): 100,
        ("runtime-unneeded", "tests", 0): 30,
    }
    every = [path for finding in findings for path in finding.paths]
    assert len(every) == len(set(every))
    sizes = {path: node.size for path, node in data.nodes if node.content}
    assert sum(f.bytes for f in findings) == sum(sizes["/".join(p.split("/")[1:])] for p in every)
