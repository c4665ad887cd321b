"""Build-context junk: only layers that copied a context directory, each kind with its bytes
and the .dockerignore lines that would have kept it out."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.support import analysis_input
from bloatscope.analysis.context_junk import BuildContextAnalyzer
from bloatscope.analysis.findings import find
from bloatscope.model.finding import Finding, Severity
from synth import Layer

MB = 1_000_000


def _context_layer() -> bytes:
    files = {
        "src/.git/objects/pack/pack-1.pack": 3000,
        "src/.git/HEAD": 23,
        "src/venv/lib/python3.11/site-packages/pkg/__pycache__/m.pyc": 400,
        "src/venv/bin/python": 500,
        "src/env2/pyvenv.cfg": 30,  # a virtualenv by another name
        "src/env2/lib/x.py": 70,
        "src/__pycache__/a.pyc": 200,
        "src/pkg/__pycache__/b.pyc": 100,
        "src/notebooks/explore.ipynb": 5000,
        "src/top.ipynb": 10,
        "src/.ipynb_checkpoints/top-checkpoint.ipynb": 11,
        "src/.pytest_cache/v/cache/nodeids": 60,
        "src/.mypy_cache/3.11/x.json": 40,
        "src/web/node_modules/left-pad/index.js": 77,
        "src/.DS_Store": 6,
        "src/assets/Thumbs.db": 8,
        "src/.idea/workspace.xml": 33,
        "src/.main.py.swp": 12,
        "src/logs/train.log": 90,
        "src/models/checkpoint.bin": 2 * MB,
        "src/data/big.csv": MB + 500_000,
        "src/torch-1.0-py3-none-any.whl": 700,
        # lookalikes
        "src/data/small.csv": 100,  # local data, but too small to matter
        "src/app/main.py": 50,
        "src/lib/site-packages/pkg/__pycache__/c.pyc": 20,  # an installed package's bytecode
    }
    layer = Layer()
    for path, size in files.items():
        layer.file(path, b"x" * size)
    return layer.build()


COMMANDS = [
    "/bin/sh -c git clone https://example.com/repo /opt/repo",
    "/bin/sh -c #(nop) COPY dir:5a275d92e1ad00599f6db4bc74f6e06e in /src/ ",
    "COPY . /app/ # buildkit",
    "COPY --from=builder . /out/ # buildkit",
    "/bin/sh -c #(nop) COPY file:abc in /tmp/ ",
]


@pytest.fixture
def junk(tmp_path: Path) -> tuple[BuildContextAnalyzer, tuple[Finding, ...]]:
    layers = [
        Layer()
        .file("opt/repo/.git/objects/pack/p.pack", b"g" * 1000)
        .file("opt/repo/.git/HEAD", b"h" * 10)
        .file("usr/lib/python3/dist-packages/x/__pycache__/m.pyc", b"p" * 30)
        .build(),
        _context_layer(),
        Layer().file("app/.git/config", b"c" * 44).file("app/main.py", b"m" * 5).build(),
        Layer().file("out/.git/HEAD", b"o" * 9).build(),
        Layer().file("tmp/x.log", b"l" * 7).build(),
    ]
    data = analysis_input(tmp_path, layers, COMMANDS)
    analyzer = BuildContextAnalyzer()
    return analyzer, find(data, (analyzer,))


def test_each_kind_with_its_bytes_and_layer(
    junk: tuple[BuildContextAnalyzer, tuple[Finding, ...]],
) -> None:
    _analyzer, findings = junk
    found = {(f.group, f.layer): (f.bytes, f.path_count) for f in findings}
    assert found == {
        ("git", 1): (3023, 2),
        ("venv", 1): (1000, 4),
        ("pycache", 1): (300, 2),
        ("notebooks", 1): (5021, 3),
        ("tool-caches", 1): (100, 2),
        ("node_modules", 1): (77, 1),
        ("os-junk", 1): (14, 2),
        ("editor", 1): (45, 2),
        ("logs", 1): (90, 1),
        ("data", 1): (3_500_000, 2),
        ("wheels", 1): (700, 1),
        ("git", 2): (44, 1),
    }
    for finding in findings:
        assert finding.cause == "build-context"
        assert finding.severity is Severity.HIGH


def test_dockerignore_lines_are_relative_to_the_copy_destination(
    junk: tuple[BuildContextAnalyzer, tuple[Finding, ...]],
) -> None:
    analyzer, findings = junk
    expected = {
        ("git", 1): (".git",),
        ("venv", 1): ("env2/", "venv/"),
        ("pycache", 1): ("**/__pycache__",),
        ("notebooks", 1): ("**/*.ipynb", "**/.ipynb_checkpoints", "*.ipynb"),
        ("tool-caches", 1): (".mypy_cache", ".pytest_cache"),
        ("node_modules", 1): ("web/node_modules",),
        ("os-junk", 1): ("**/.DS_Store", "**/Thumbs.db"),
        ("editor", 1): ("*.swp", ".idea"),
        ("logs", 1): ("**/*.log",),
        ("data", 1): ("data/", "models/"),
        ("wheels", 1): ("*.whl",),
        ("git", 2): (".git",),
    }
    for (group, layer), lines in expected.items():
        assert analyzer.ignore_lines(group, layer) == lines, group
    for finding in findings:
        assert finding.layer is not None
        for line in analyzer.ignore_lines(finding.group, finding.layer):
            assert f"`{line}`" in finding.fix
    git = next(f for f in findings if (f.group, f.layer) == ("git", 1))
    assert git.title == "build context copied without a .dockerignore: .git"
    assert "COPY dir:" in git.created_by


def test_lookalikes_are_not_claimed(
    junk: tuple[BuildContextAnalyzer, tuple[Finding, ...]],
) -> None:
    _analyzer, findings = junk
    paths = {path for finding in findings for path in finding.paths}
    for path in (
        "/opt/repo/.git/HEAD",  # RUN git clone: the clone is the point, not context junk
        "/usr/lib/python3/dist-packages/x/__pycache__/m.pyc",
        "/src/lib/site-packages/pkg/__pycache__/c.pyc",
        "/src/data/small.csv",
        "/src/app/main.py",
        "/out/.git/HEAD",  # COPY --from a stage, not the context
        "/tmp/x.log",  # COPY of a single file
    ):
        assert path not in paths
    assert {f.layer for f in findings} == {1, 2}


def test_no_context_copy_means_no_findings(tmp_path: Path) -> None:
    data = analysis_input(
        tmp_path,
        [Layer().file("src/.git/HEAD", b"h" * 10).file("src/a.log", b"l" * 5).build()],
        ["/bin/sh -c mkdir -p /src && git init /src"],
    )
    assert find(data, (BuildContextAnalyzer(),)) == ()


def test_describe_without_claims_falls_back_to_the_paths() -> None:
    description = BuildContextAnalyzer().describe("git", ("/src/.git/HEAD",))
    assert "`src/.git`" in description.fix
    assert description.severity is Severity.HIGH
