"""The trees of waste-zoo, whose Dockerfile (../shared/corpus/images/waste-zoo/Dockerfile)
plants one kind of waste per layer: each planted path shows the state and size that layer
gave it, in the docker-archive (uncompressed layers, hashed where needed) and the OCI archive
(gzip layers, every file hashed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.explore.compare import TreeCache
from bloatscope.explore.view import TreeView
from bloatscope.model.report import Report
from bloatscope.model.tree import DiffState
from explore.support import AGGREGATED, LAYER, node

pytestmark = pytest.mark.corpus

ADDED, MODIFIED, REMOVED, UNMODIFIED = (
    DiffState.ADDED,
    DiffState.MODIFIED,
    DiffState.REMOVED,
    DiffState.UNMODIFIED,
)


@pytest.fixture(scope="module", params=["waste-zoo.docker.tar", "waste-zoo.oci.tar"])
def report(request: pytest.FixtureRequest, corpus_dir: Path) -> Report:
    return analyze(str(corpus_dir / request.param), AnalyzeOptions(packages=False))


@pytest.fixture(scope="module")
def cache(report: Report) -> TreeCache:
    return TreeCache(report, keep=64)


def step(report: Report, command: str, occurrence: int = 0) -> int:
    """The layer whose history command holds ``command`` (the ``occurrence``-th such)."""
    found = [layer.index for layer in report.image.layers if command in layer.created_by]
    return found[occurrence]


def test_rewritten_file(report: Report, cache: TreeCache) -> None:
    first = step(report, "/dev/urandom > /opt/data.bin", 0)
    second = step(report, "/dev/urandom > /opt/data.bin", 1)
    assert second == first + 1
    written = node(cache, first, LAYER, "opt/data.bin")
    assert (written.state, written.size) == (ADDED, 4_000_000)
    rewritten = node(cache, second, LAYER, "opt/data.bin")
    assert (rewritten.state, rewritten.size) == (MODIFIED, 4_000_000)
    assert node(cache, second, LAYER, "opt").state is MODIFIED
    assert node(cache, second, AGGREGATED, "opt/data.bin").state is ADDED  # not in layer 0


def test_file_deleted_in_a_later_layer(report: Report, cache: TreeCache) -> None:
    made = step(report, "> /tmp/build-artifact.tar")
    deleted = step(report, "rm /tmp/build-artifact.tar")
    assert node(cache, made, LAYER, "tmp/build-artifact.tar").state is ADDED
    gone = node(cache, deleted, LAYER, "tmp/build-artifact.tar")
    assert (gone.state, gone.size) == (REMOVED, 3_000_000)
    assert node(cache, deleted, LAYER, "tmp").state is MODIFIED
    assert "tmp/build-artifact.tar" not in cache.tree(deleted + 1, LAYER)
    last = len(report.image.layers) - 1
    still = node(cache, last, AGGREGATED, "tmp/build-artifact.tar")
    assert (still.state, still.size) == (REMOVED, 3_000_000)
    # the directory's size does not count what was deleted from it
    tmp = cache.tree(last, AGGREGATED).get("tmp")
    assert tmp is not None and tmp.size < 3_000_000


def test_directory_replaced_with_an_opaque_whiteout(report: Report, cache: TreeCache) -> None:
    made = step(report, "mkdir -p /srv/assets")
    replaced = step(report, "rm -rf /srv/assets")
    assets = node(cache, made, LAYER, "srv/assets")
    assert (assets.state, assets.size) == (ADDED, 1_500_000)
    for name in ("f1", "f2", "f3"):
        assert node(cache, made, LAYER, f"srv/assets/{name}").size == 500_000
        # dive ignores the opaque marker: the old files stay, untouched
        assert node(cache, replaced, LAYER, f"srv/assets/{name}").state is UNMODIFIED
    assert node(cache, replaced, LAYER, "srv/assets/index.txt").state is ADDED
    assert node(cache, replaced, LAYER, "srv/assets").state is MODIFIED
    honored = TreeCache(report, honor_opaque=True)
    for name in ("f1", "f2", "f3"):
        gone = node(honored, replaced, LAYER, f"srv/assets/{name}")
        assert (gone.state, gone.size) == (REMOVED, 500_000)
    assert node(honored, replaced, LAYER, "srv/assets").size == 4  # "new\n"


def test_same_bytes_twice_and_a_hardlink(report: Report, cache: TreeCache) -> None:
    layer = step(report, "ln /opt/blob-a /opt/blob-hard")
    for name in ("blob-a", "blob-b"):
        blob = node(cache, layer, LAYER, f"opt/{name}")
        assert (blob.state, blob.size) == (ADDED, 2_000_000)
    view = TreeView(cache.tree(layer, LAYER))
    line = view.index_of("opt/blob-hard")
    assert line is not None
    hard = view.row(line)
    assert (hard.state, hard.size, hard.linkname) == (ADDED, 0, "opt/blob-a")


def test_permissions_only_change(report: Report, cache: TreeCache) -> None:
    layer = step(report, "chmod 600 /opt/blob-b")
    view = TreeView(cache.tree(layer, LAYER))
    line = view.index_of("opt/blob-b")
    assert line is not None
    row = view.row(line)
    assert (row.state, row.size, row.mode) == (MODIFIED, 2_000_000, "-rw-------")
    assert node(cache, layer, LAYER, "opt/blob-a").state is UNMODIFIED


def test_final_trees_hold_the_final_bytes(report: Report, cache: TreeCache) -> None:
    last = len(report.image.layers) - 1
    honored = TreeCache(report, honor_opaque=True)
    assert honored.tree(last, LAYER).total_size == report.final_size_bytes
    assert honored.tree(last, AGGREGATED).total_size == report.final_size_bytes
    # ignoring the opaque marker, as dive does, keeps the three replaced 500 kB files
    assert cache.tree(last, LAYER).total_size == report.final_size_bytes + 1_500_000


def test_layer_trees_agree_with_the_readers_states(report: Report, cache: TreeCache) -> None:
    """Every entry of every layer shows in its LAYER tree with the state the reader's merge
    gave it (whiteout markers aside). The tree takes the reader's comparison for entries it
    finds below, so this checks what the tree decides itself: what is new, and directories
    merged with their children."""
    for layer in report.image.layers:
        tree = cache.tree(layer.index, LAYER)
        states = report.changes[layer.index].states
        for entry, state in zip(layer.entries, states, strict=True):
            if "/.wh." in "/" + entry.path:
                continue
            shown = tree.get(entry.path)
            assert shown is not None, entry.path
            assert shown.state == state, (layer.index, entry.path)
