"""The path index: every path once, numbered so that a subtree is an id range, and each layer's
events in node ids."""

from __future__ import annotations

from pathlib import Path

from bloatscope.explore.index import PathIndex
from explore.support import report_of
from synth import Layer

# names that sort around "/": "-" and "." come before it, "0" and "~" after
TRICKY = ["a-c", "a.b", "a/b", "a/b/c", "a0", "a~", "a/b-x", "b"]


def test_preorder_numbering_with_subtrees_as_ranges(tmp_path: Path) -> None:
    layer = Layer()
    for path in TRICKY:
        layer.file(path if path != "a/b" else "a/b/z", b"x")
    index = PathIndex(report_of(tmp_path, layer).image.layers)
    assert index.paths == ["", "a", "a/b", "a/b/c", "a/b/z", "a/b-x", "a-c", "a.b", "a0", "a~", "b"]
    for node, path in enumerate(index.paths):
        below = {p for p in index.paths if path == "" or p.startswith(path + "/")} - {path}
        assert set(index.paths[node + 1 : index.ends[node]]) == below, path
        if node:
            assert index.paths[index.parents[node]] == path.rpartition("/")[0]
    assert [index.paths[c] for c in index.children(1)] == ["a/b", "a/b-x"]


def test_layer_events(tmp_path: Path) -> None:
    base = Layer().dir("d").file("d/x", b"x").file("f", b"f").file("deep/er/file", b"z")
    upper = (
        Layer()
        .whiteout("d/x")
        .file("f", b"now")
        .file("f", b"twice")
        .opaque("deep/er")
        .file("d", b"")  # a file where a directory was
    )
    index = PathIndex(report_of(tmp_path, base, upper).image.layers)
    ids = index.ids
    zero, one = index.events
    assert [index.paths[n] for n in zero.implicit] == ["deep", "deep/er"]
    assert not zero.duplicates
    assert [index.paths[n] for n in one.removals] == ["d/x"]
    assert [index.paths[n] for n in one.opaque] == ["deep/er"]
    assert [index.paths[n] for n in one.adds] == ["f", "f", "d"]
    assert list(one.add_entries) == [1, 2, 4]  # positions in the layer's entries
    assert [index.paths[n] for n in one.replaced] == ["d"]
    assert [index.paths[n] for n in one.implicit] == ["deep", "deep/er"]
    assert one.duplicates
    assert ids["d/x"] in range(ids["d"], index.ends[ids["d"]])
