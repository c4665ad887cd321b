"""The tree of a layer in each compare mode: dive's four states (§1.5), whiteouts (§1.6),
directory sizes (§1.7), and the places bloatscope departs from dive, on real layer tars."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloatscope.explore.compare import TreeCache, build_tree, compare
from bloatscope.explore.view import TreeView
from bloatscope.model.entry import EntryType, FileEntry
from bloatscope.model.tree import DiffState
from explore.support import AGGREGATED, LAYER, node, report_of, states
from synth import Layer

ADDED, MODIFIED, REMOVED, UNMODIFIED = (
    DiffState.ADDED,
    DiffState.MODIFIED,
    DiffState.REMOVED,
    DiffState.UNMODIFIED,
)


def _etc() -> Layer:
    return Layer().dir("etc").file("etc/a", b"aaaa").file("etc/b", b"bb")


def test_layer_zero_is_all_added_in_both_modes(tmp_path: Path) -> None:
    cache = TreeCache(report_of(tmp_path, _etc(), Layer().file("x", b"x")))
    expected = {"etc": ADDED, "etc/a": ADDED, "etc/b": ADDED}
    assert states(cache, 0, LAYER) == expected
    assert cache.tree(0, AGGREGATED) is cache.tree(0, LAYER)
    assert cache.tree(0, LAYER).total_size == 6
    assert node(cache, 0, LAYER, "etc").size == 6


def test_added_file_makes_its_directory_modified(tmp_path: Path) -> None:
    cache = TreeCache(report_of(tmp_path, _etc(), Layer().dir("etc").file("etc/c", b"ccc")))
    assert states(cache, 1, LAYER) == {
        "etc": MODIFIED,  # its own entry is unchanged; a child was added
        "etc/a": UNMODIFIED,
        "etc/b": UNMODIFIED,
        "etc/c": ADDED,
    }
    assert node(cache, 1, LAYER, "etc/c").size == 3
    assert node(cache, 1, LAYER, "etc").size == 9
    assert cache.tree(1, LAYER).total_size == 9


def test_same_bytes_and_attributes_again_is_unmodified(tmp_path: Path) -> None:
    cache = TreeCache(report_of(tmp_path, _etc(), Layer().dir("etc").file("etc/a", b"aaaa")))
    assert states(cache, 1, LAYER) == {"etc": UNMODIFIED, "etc/a": UNMODIFIED, "etc/b": UNMODIFIED}


@pytest.mark.parametrize(
    ("data", "attributes"),
    [
        (b"AAAA", {}),  # same size, other bytes
        (b"aaaa", {"mode": 0o600}),
        (b"aaaa", {"uid": 1000}),
        (b"aaaa", {"gid": 50}),
    ],
    ids=["content", "mode", "uid", "gid"],
)
def test_modified_by_content_mode_or_owner(
    tmp_path: Path, data: bytes, attributes: dict[str, int]
) -> None:
    upper = Layer().dir("etc").file("etc/a", data, **attributes)
    cache = TreeCache(report_of(tmp_path, _etc(), upper))
    assert states(cache, 1, LAYER) == {"etc": MODIFIED, "etc/a": MODIFIED, "etc/b": UNMODIFIED}
    assert states(cache, 1, AGGREGATED) == states(cache, 1, LAYER)


def test_symlink_with_a_new_target_only_is_unmodified_as_in_dive(tmp_path: Path) -> None:
    base = Layer().dir("real").dir("other").symlink("lnk", "real")
    cache = TreeCache(report_of(tmp_path, base, Layer().symlink("lnk", "other")))
    found = node(cache, 1, LAYER, "lnk")
    assert found.state is UNMODIFIED  # dive hashes a link's empty content, not its target
    assert found.entry is not None and found.entry.linkname == "other"
    view = TreeView(cache.tree(1, LAYER))
    line = view.index_of("lnk")
    assert line is not None
    row = view.row(line)
    assert (row.linkname, row.mode, row.size, row.is_dir) == ("other", "lrwxrwxrwx", 0, False)


def test_whiteout_marks_the_file_removed_and_keeps_it_with_its_size(tmp_path: Path) -> None:
    layers = (
        _etc(),
        Layer().dir("etc").file("etc/c", b"ccc"),
        Layer().whiteout("etc/a"),
        Layer().file("later", b"L"),
    )
    cache = TreeCache(report_of(tmp_path, *layers))
    assert states(cache, 2, LAYER) == {
        "etc": MODIFIED,  # no entry of its own in the layer: the removed child decides
        "etc/a": REMOVED,
        "etc/b": UNMODIFIED,
        "etc/c": UNMODIFIED,
    }
    assert node(cache, 2, LAYER, "etc/a").size == 4
    assert node(cache, 2, LAYER, "etc/a").layer == 0  # the version deleted
    assert node(cache, 2, LAYER, "etc/c").layer == 1
    assert node(cache, 2, LAYER, "etc").layer == 1  # its last entry
    assert node(cache, 2, LAYER, "etc").size == 5  # removed children do not count
    assert cache.tree(2, LAYER).total_size == 5
    assert "etc/a" not in cache.tree(3, LAYER)  # gone from the stack below
    # aggregated: layer 0's etc/a is deleted, etc/c is new
    assert states(cache, 2, AGGREGATED) == {
        "etc": MODIFIED,
        "etc/a": REMOVED,
        "etc/b": UNMODIFIED,
        "etc/c": ADDED,
    }
    assert node(cache, 3, AGGREGATED, "etc/a").state is REMOVED  # removed paths stay shown


def test_whiteout_of_a_directory_removes_everything_below_it(tmp_path: Path) -> None:
    base = (
        Layer()
        .dir("srv")
        .file("srv/keep", b"k")
        .dir("srv/assets")
        .file("srv/assets/f1", b"111")
        .dir("srv/assets/sub")
        .file("srv/assets/sub/f2", b"22222")
    )
    cache = TreeCache(report_of(tmp_path, base, Layer().whiteout("srv/assets")))
    assert states(cache, 1, LAYER) == {
        "srv": MODIFIED,
        "srv/keep": UNMODIFIED,
        "srv/assets": REMOVED,
        "srv/assets/f1": REMOVED,
        "srv/assets/sub": REMOVED,
        "srv/assets/sub/f2": REMOVED,
    }
    # a removed directory shows the bytes it deleted; its parent no longer counts them
    assert node(cache, 1, LAYER, "srv/assets").size == 8
    assert node(cache, 1, LAYER, "srv/assets/sub").size == 5
    assert node(cache, 1, LAYER, "srv").size == 1
    assert cache.tree(1, LAYER).total_size == 1


def _opaque_image(tmp_path: Path) -> TreeCache:
    base = Layer().dir("srv").dir("srv/assets").file("srv/assets/f1", b"111")
    base.file("srv/assets/f2", b"2222")
    upper = Layer().dir("srv/assets").opaque("srv/assets").file("srv/assets/new", b"n")
    return TreeCache(report_of(tmp_path, base, upper))


def test_opaque_whiteout_is_ignored_as_dive_ignores_it(tmp_path: Path) -> None:
    cache = _opaque_image(tmp_path)
    expected = {
        "srv": MODIFIED,
        "srv/assets": MODIFIED,
        "srv/assets/f1": UNMODIFIED,  # still shown: dive never applies opaque markers
        "srv/assets/f2": UNMODIFIED,
        "srv/assets/new": ADDED,
    }
    assert states(cache, 1, LAYER) == expected
    assert "srv/assets/.wh..wh..opq" not in cache.tree(1, LAYER)
    assert cache.tree(1, LAYER).total_size == 8
    assert node(cache, 1, AGGREGATED, "srv/assets/f1").state is UNMODIFIED


def test_opaque_whiteout_applied_on_request(tmp_path: Path) -> None:
    report = _opaque_image(tmp_path).report
    cache = TreeCache(report, honor_opaque=True)
    assert states(cache, 1, LAYER) == {
        "srv": MODIFIED,
        "srv/assets": MODIFIED,
        "srv/assets/f1": REMOVED,
        "srv/assets/f2": REMOVED,
        "srv/assets/new": ADDED,
    }
    assert node(cache, 1, LAYER, "srv/assets").size == 1
    assert cache.tree(1, LAYER).total_size == report.final_size_bytes == 1
    assert node(cache, 1, AGGREGATED, "srv/assets/f2").state is REMOVED


def test_hardlink_adds_nothing_and_shows_its_target(tmp_path: Path) -> None:
    base = Layer().dir("bin").file("bin/sh", b"x" * 3000, mode=0o755)
    base.hardlink("bin/sh-hard", "bin/sh", mode=0o755)
    cache = TreeCache(report_of(tmp_path, base))
    hard = node(cache, 0, LAYER, "bin/sh-hard")
    assert hard.size == 0
    assert node(cache, 0, LAYER, "bin").size == 3000
    view = TreeView(cache.tree(0, LAYER))
    line = view.index_of("bin/sh-hard")
    assert line is not None
    row = view.row(line)
    assert (row.linkname, row.mode, row.size) == ("bin/sh", "-rwxr-xr-x", 0)


def test_directory_merges_its_children(tmp_path: Path) -> None:
    base = Layer().dir("a").file("a/one", b"1").dir("b").file("b/one", b"1")
    upper = (
        Layer()
        .dir("a")
        .file("a/one", b"1")  # a: every child unchanged
        .dir("b")
        .file("b/one", b"9")  # b: a child modified
        .dir("c")
        .file("c/new", b"n")  # c: new with everything in it
    )
    cache = TreeCache(report_of(tmp_path, base, upper))
    assert states(cache, 1, LAYER) == {
        "a": UNMODIFIED,
        "a/one": UNMODIFIED,
        "b": MODIFIED,
        "b/one": MODIFIED,
        "c": ADDED,
        "c/new": ADDED,
    }


def test_implicit_directories(tmp_path: Path) -> None:
    # no directory entries at all: the directories exist because deeper paths do
    cache = TreeCache(
        report_of(tmp_path, Layer().file("a/b/c", b"c"), Layer().file("a/b/d", b"dd"))
    )
    assert states(cache, 0, LAYER) == {"a": ADDED, "a/b": ADDED, "a/b/c": ADDED}
    assert states(cache, 1, LAYER) == {
        "a": MODIFIED,
        "a/b": MODIFIED,
        "a/b/c": UNMODIFIED,
        "a/b/d": ADDED,
    }
    assert node(cache, 1, LAYER, "a").entry is None
    view = TreeView(cache.tree(1, LAYER))
    row = view.row(0)
    assert (row.path, row.mode, row.is_dir, row.size) == ("a", "d---------", True, 3)


def test_layer_and_aggregated_modes_differ(tmp_path: Path) -> None:
    layers = (
        Layer().dir("opt").file("opt/x", b"one"),
        Layer().file("opt/x", b"two").file("opt/tmp", b"12345"),
        Layer().file("opt/x", b"one").whiteout("opt/tmp"),  # x back as layer 0 had it
        Layer().file("opt/late", b"z"),
    )
    cache = TreeCache(report_of(tmp_path, *layers))
    assert states(cache, 1, LAYER) == {"opt": MODIFIED, "opt/x": MODIFIED, "opt/tmp": ADDED}
    assert states(cache, 1, AGGREGATED) == states(cache, 1, LAYER)
    assert states(cache, 2, LAYER) == {"opt": MODIFIED, "opt/x": MODIFIED, "opt/tmp": REMOVED}
    # against layer 0, x is as it was; tmp came and went
    assert states(cache, 2, AGGREGATED) == {
        "opt": MODIFIED,
        "opt/x": UNMODIFIED,
        "opt/tmp": REMOVED,
    }
    assert node(cache, 2, AGGREGATED, "opt/tmp").size == 5
    assert states(cache, 3, LAYER) == {"opt": MODIFIED, "opt/x": UNMODIFIED, "opt/late": ADDED}
    assert states(cache, 3, AGGREGATED) == {
        "opt": MODIFIED,
        "opt/x": UNMODIFIED,
        "opt/tmp": REMOVED,
        "opt/late": ADDED,
    }
    assert node(cache, 3, AGGREGATED, "opt").size == 4  # x and late; the removed tmp is not
    assert cache.tree(3, AGGREGATED).total_size == cache.tree(3, LAYER).total_size == 4


def test_deleted_then_restored_compares_with_layer_zero(tmp_path: Path) -> None:
    layers = (
        Layer().dir("etc").file("etc/conf", b"v1"),
        Layer().whiteout("etc/conf"),
        Layer().file("etc/conf", b"v1"),
    )
    cache = TreeCache(report_of(tmp_path, *layers))
    assert node(cache, 1, AGGREGATED, "etc/conf").state is REMOVED
    assert node(cache, 2, LAYER, "etc/conf").state is ADDED  # not in the stack below
    # dive keeps it Removed for good; bloatscope compares it with layer 0's copy again
    assert node(cache, 2, AGGREGATED, "etc/conf").state is UNMODIFIED


def test_file_and_directory_replacing_each_other(tmp_path: Path) -> None:
    base = Layer().dir("d").file("d/x", b"xx").file("f", b"fff")
    upper = Layer().file("d", b"now a file").file("f/inner", b"i")
    cache = TreeCache(report_of(tmp_path, base, upper, Layer().file("z", b"")))
    assert states(cache, 1, LAYER) == {
        "d": MODIFIED,
        "d/x": REMOVED,  # a file in a directory's place takes what was below with it
        "f": MODIFIED,
        "f/inner": ADDED,
    }
    assert node(cache, 1, LAYER, "d").size == 10
    assert node(cache, 1, LAYER, "f").entry is None  # now a directory no entry describes
    assert "d/x" not in cache.tree(2, LAYER)
    assert node(cache, 1, AGGREGATED, "d/x").state is REMOVED


def test_a_path_twice_in_one_layer_is_compared_by_its_last_copy(tmp_path: Path) -> None:
    base = Layer().file("a", b"1")
    upper = Layer().file("a", b"2").file("a", b"1")  # the last one wins, as unpacking does
    cache = TreeCache(report_of(tmp_path, base, upper))
    assert node(cache, 1, LAYER, "a").state is UNMODIFIED


def test_trees_in_any_order_match_trees_built_alone(tmp_path: Path) -> None:
    """A cache moves one layer stack up and down between trees, undoing layers; each tree
    must be the one a fresh cache builds from layer 0."""
    layers = (
        Layer().dir("d").file("d/x", b"xx").file("f", b"fff").dir("srv").file("srv/a", b"a"),
        Layer().file("d", b"now a file").file("f/inner", b"i").file("g/h/deep", b"deep"),
        Layer().dir("srv").opaque("srv").file("srv/b", b"bb").whiteout("g/h"),
        Layer().file("a", b"2").file("a", b"1").whiteout("d").file("g/h/again", b"!"),
        Layer().dir("d").file("d/x", b"back").whiteout("srv/b").file("f/inner", b"I"),
        Layer().file("late/dir/x", b"x"),
    )
    report = report_of(tmp_path, *layers)
    # an aggregated tree of layer n stands on layers 0..n, a per-layer one on 0..n-1
    order = [(5, AGGREGATED), (2, AGGREGATED), (0, LAYER), (4, LAYER), (3, AGGREGATED)]
    order += [(1, LAYER), (5, LAYER), (1, AGGREGATED), (4, AGGREGATED), (2, LAYER)]
    for honor_opaque in (False, True):
        moved = TreeCache(report, keep=1, honor_opaque=honor_opaque)
        for layer, mode in order:
            alone = TreeCache(report, keep=1, honor_opaque=honor_opaque).tree(layer, mode)
            assert list(moved.tree(layer, mode)) == list(alone), (layer, mode, honor_opaque)


def _file(**changes: object) -> FileEntry:
    entry = FileEntry("a", EntryType.FILE, 4, 0o100644, 0, 0, "", 512, 7)
    return entry._replace(**changes)


def test_compare_without_digests_says_modified() -> None:
    # the reader hashes every file whose path recurs in another layer; a missing digest
    # (a layer the archive left out) cannot prove the bytes equal
    assert compare(_file(digest=None), _file(digest=None)) == MODIFIED
    assert compare(_file(), _file(digest=None)) == MODIFIED
    assert compare(_file(), _file(offset=9000)) == UNMODIFIED
    assert compare(_file(), _file(size=5, digest=8)) == MODIFIED
    link = FileEntry("l", EntryType.SYMLINK, 0, 0o120777, 0, 0, "x", 0)
    assert compare(link, link._replace(linkname="y")) == UNMODIFIED  # no content to compare


def test_cache_keeps_the_last_trees(tmp_path: Path) -> None:
    layers = (_etc(), Layer().file("x", b"x"), Layer().file("y", b"y"))
    report = report_of(tmp_path, *layers)
    cache = TreeCache(report, keep=2)
    first = cache.tree(1, LAYER)
    assert cache.tree(1, LAYER) is first
    cache.tree(2, LAYER)
    cache.tree(2, AGGREGATED)  # pushes layer 1 out
    again = cache.tree(1, LAYER)
    assert again is not first
    assert list(again) == list(first)
    assert list(build_tree(report, 2, AGGREGATED)) == list(cache.tree(2, AGGREGATED))
    assert build_tree(report, 2, AGGREGATED) is build_tree(report, 2, AGGREGATED)  # kept
    with pytest.raises(IndexError):
        cache.tree(3, LAYER)


def test_a_path_and_its_whiteout_in_one_layer_keep_the_path(tmp_path: Path) -> None:
    base = Layer().file("a", b"old").file("b", b"b")
    upper = Layer().whiteout("a").file("a", b"new").whiteout("never-there")
    cache = TreeCache(report_of(tmp_path, base, upper, Layer().file("c", b"")))
    assert states(cache, 1, LAYER) == {"a": MODIFIED, "b": UNMODIFIED}  # as the OCI spec says
    kept = node(cache, 2, LAYER, "a")
    assert (kept.state, kept.layer) == (UNMODIFIED, 1)
    assert "never-there" not in cache.tree(1, LAYER)  # dive: a path error, no UI at all
