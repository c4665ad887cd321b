"""Reports of synthetic images for the browsing model's tests: real layer tars, analyzed."""

from __future__ import annotations

from pathlib import Path

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.explore.base import CompareMode
from bloatscope.explore.compare import TreeCache, TreeNode
from bloatscope.model.report import Report
from bloatscope.model.tree import DiffState
from synth import Image, Layer, write_skopeo_archive

LAYER = CompareMode.LAYER
AGGREGATED = CompareMode.AGGREGATED


def report_of(tmp_path: Path, *layers: Layer, packages: bool = False) -> Report:
    """The report of an image made of ``layers`` (base first), as a skopeo docker-archive:
    uncompressed layers, so content digests exist only where the reader needed them."""
    image = Image([layer.build() for layer in layers])
    archive = write_skopeo_archive(tmp_path / "image.tar", image)
    return analyze(str(archive), AnalyzeOptions(packages=packages, min_finding_bytes=1))


def states(cache: TreeCache, layer: int, mode: CompareMode) -> dict[str, DiffState]:
    """Every path of a tree with its state."""
    return {node.path: node.state for node in cache.tree(layer, mode)}


def node(cache: TreeCache, layer: int, mode: CompareMode, path: str) -> TreeNode:
    found = cache.tree(layer, mode).get(path)
    assert found is not None, f"{path} is not in the tree of layer {layer} ({mode.value})"
    return found
