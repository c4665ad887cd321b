"""The lines of a tree: order, expansion, hidden kinds, the filter, size order, find, and the
rows' attribute columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bloatscope.explore.base import SortOrder, ViewOptions
from bloatscope.explore.compare import FileTree, TreeCache
from bloatscope.explore.view import TreeView
from bloatscope.model.tree import DiffState
from explore.support import LAYER, report_of
from synth import Layer

ALL_LINES = [
    "etc",
    "etc/new.conf",
    "etc/passwd",
    "tmp",
    "usr",
    "usr/bin",
    "usr/bin/Zed",  # byte order, as dive sorts: capitals first
    "usr/bin/tool",
    "usr/lib",
    "usr/lib/libA.so",
    "usr/lib/libb.so",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> FileTree:
    base = (
        Layer()
        .dir("usr")
        .dir("usr/lib")
        .file("usr/lib/libA.so", b"a" * 100)
        .file("usr/lib/libb.so", b"b" * 300)
        .dir("usr/bin")
        .file("usr/bin/tool", b"t" * 50, mode=0o4755)
        .file("usr/bin/Zed", b"z" * 10, mode=0o2644, uid=1000, gid=100)
        .dir("etc")
        .file("etc/passwd", b"p" * 20)
        .dir("tmp", mode=0o1777)
    )
    upper = Layer().dir("etc").file("etc/new.conf", b"n" * 5).file("usr/lib/libb.so", b"B" * 300)
    return TreeCache(report_of(tmp_path_factory.mktemp("view"), base, upper)).tree(1, LAYER)


def paths(view: TreeView) -> list[str]:
    return [row.path for row in view]


def test_every_directory_starts_expanded_in_name_order(tree: FileTree) -> None:
    view = TreeView(tree)
    assert paths(view) == ALL_LINES
    assert [row.depth for row in view] == [0, 1, 1, 0, 0, 1, 2, 2, 1, 2, 2]
    assert all(row.expanded for row in view if row.is_dir)


def test_collapsed_at_start_on_request(tree: FileTree) -> None:
    view = TreeView(tree, expanded=False)
    assert paths(view) == ["etc", "tmp", "usr"]
    assert not view.row(0).expanded
    assert view.row(0).has_children
    assert not view.row(1).has_children  # tmp is empty


def test_rows_carry_the_attribute_columns(tree: FileTree) -> None:
    view = TreeView(tree)
    rows = {row.path: row for row in view}
    assert rows["usr/bin/tool"].mode == "-rwsr-xr-x"
    assert rows["usr/bin/Zed"].mode == "-rw-r-Sr--"
    assert (rows["usr/bin/Zed"].uid, rows["usr/bin/Zed"].gid) == (1000, 100)
    assert rows["tmp"].mode == "drwxrwxrwt"
    assert rows["usr"].mode == "drwxr-xr-x"
    assert rows["usr/lib/libb.so"].state is DiffState.MODIFIED
    assert rows["etc/new.conf"].state is DiffState.ADDED
    assert rows["usr/bin"].state is DiffState.UNMODIFIED
    assert rows["usr"].size == 460
    assert rows["usr"].fraction == pytest.approx(460 / 485)
    assert rows["usr/lib/libA.so"].fraction == pytest.approx(100 / 485)
    assert (rows["usr/lib"].name, rows["usr/lib"].linkname) == ("lib", "")


def test_toggle_collapses_and_expands_a_directory(tree: FileTree) -> None:
    view = TreeView(tree)
    view.toggle(ALL_LINES.index("usr/bin"))
    assert paths(view) == [p for p in ALL_LINES if not p.startswith("usr/bin/")]
    assert not view.row(view.index_of("usr/bin") or 0).expanded
    view.toggle(ALL_LINES.index("usr"))
    assert paths(view) == ["etc", "etc/new.conf", "etc/passwd", "tmp", "usr"]
    view.toggle(4)  # usr again: usr/bin stays collapsed inside
    assert paths(view) == [p for p in ALL_LINES if not p.startswith("usr/bin/")]
    view.toggle(1)  # a file: nothing happens
    assert len(view) == len(ALL_LINES) - 2


def test_expand_all_and_collapse_all(tree: FileTree) -> None:
    view = TreeView(tree)
    view.collapse_all()
    assert paths(view) == ["etc", "tmp", "usr"]
    view.toggle(2)
    assert paths(view) == ["etc", "tmp", "usr", "usr/bin", "usr/lib"]
    view.expand_all()
    assert paths(view) == ALL_LINES


def test_index_of_reveal_and_parent_index(tree: FileTree) -> None:
    view = TreeView(tree, expanded=False)
    assert view.index_of("usr/lib/libA.so") is None  # collapsed away
    assert view.index_of("/usr") == 2  # a leading slash is accepted
    assert view.index_of("nowhere") is None
    line = view.reveal("usr/lib/libA.so")
    assert paths(view) == ["etc", "tmp", "usr", "usr/bin", *ALL_LINES[8:]]
    assert line == 5
    assert not view.row(3).expanded  # usr/bin was not on the way
    assert view.parent_index(5) == 4
    assert view.parent_index(4) == 2
    assert view.parent_index(2) is None
    assert view.reveal("etc/passwd") == 2


def test_sort_by_size_largest_first_ties_by_name(tmp_path: Path) -> None:
    layer = Layer().file("d/small", b"s").file("d/big", b"b" * 9).file("d/tie-b", b"tt")
    layer.file("d/tie-a", b"tt").file("e/x", b"x" * 20)
    tree = TreeCache(report_of(tmp_path, layer)).tree(0, LAYER)
    view = TreeView(tree, ViewOptions(sort=SortOrder.SIZE))
    assert paths(view) == ["e", "e/x", "d", "d/big", "d/tie-a", "d/tie-b", "d/small"]
    view.toggle(0)
    assert paths(view) == ["e", "d", "d/big", "d/tie-a", "d/tie-b", "d/small"]
    assert view.index_of("d/tie-b") == 4
    assert view.parent_index(4) == 1
    view.set_options(ViewOptions())
    assert paths(view) == ["d", "d/big", "d/small", "d/tie-a", "d/tie-b", "e"]  # e still closed


def test_hidden_kinds_keep_the_directories_of_what_shows(tree: FileTree) -> None:
    view = TreeView(tree, ViewOptions(hidden=frozenset({DiffState.UNMODIFIED})))
    assert paths(view) == ["etc", "etc/new.conf", "usr", "usr/lib", "usr/lib/libb.so"]
    view.set_options(ViewOptions(hidden=frozenset({DiffState.MODIFIED})))
    # etc is Modified but holds an Added file, so it stays
    assert "etc" in paths(view) and "etc/new.conf" in paths(view)
    assert "usr/lib/libb.so" not in paths(view)
    assert "usr/lib/libA.so" in paths(view)
    view.set_options(ViewOptions(hidden=frozenset(DiffState)))
    assert len(view) == 0


def test_filter_keeps_ancestors_of_matches(tree: FileTree) -> None:
    view = TreeView(tree)
    view.set_options(ViewOptions(pattern=r"lib/lib[A-Z]"))
    assert paths(view) == ["usr", "usr/lib", "usr/lib/libA.so"]
    view.set_options(ViewOptions(pattern="^/etc"))  # paths are matched as dive writes them
    assert paths(view) == ["etc", "etc/new.conf", "etc/passwd"]
    view.set_options(ViewOptions(pattern="^/usr/bin$"))  # a directory matching alone
    assert paths(view) == ["usr", "usr/bin"]
    assert not view.row(1).has_children


def test_plain_text_filter_matches_as_the_regular_expression_does(tree: FileTree) -> None:
    """Text without regex syntax is matched by substring (faster); across the leading "/"
    too. Each result is checked against re.search on the absolute path of each line."""
    view = TreeView(tree)
    view.set_options(ViewOptions(pattern="/usr/b"))  # spans the "/" dive writes first
    assert paths(view) == ["usr", "usr/bin", "usr/bin/Zed", "usr/bin/tool"]
    view.set_options(ViewOptions(pattern="b/"))
    assert paths(view) == ["usr", "usr/lib", "usr/lib/libA.so", "usr/lib/libb.so"]
    for pattern in ["/", "/e", "/Z", "/z", "r/l", "usr", "/usr/lib/", "lib", "-", " ", "#"]:
        view.set_options(ViewOptions(pattern=pattern))
        shown = [
            line
            for line in ALL_LINES
            if any(
                re.search(pattern, "/" + other)
                for other in ALL_LINES
                if other == line or other.startswith(line + "/")
            )
        ]
        assert paths(view) == shown, pattern


def test_filter_and_hidden_kinds_together(tree: FileTree) -> None:
    hidden = frozenset({DiffState.UNMODIFIED})
    view = TreeView(tree, ViewOptions(hidden=hidden, pattern="lib"))
    assert paths(view) == ["usr", "usr/lib", "usr/lib/libb.so"]


def test_bad_pattern_raises_and_leaves_the_view_as_it_was(tree: FileTree) -> None:
    view = TreeView(tree)
    view.set_options(ViewOptions(pattern="etc"))
    before = paths(view)
    with pytest.raises(re.error):
        view.set_options(ViewOptions(pattern="lib["))
    assert paths(view) == before
    assert view.options.pattern == "etc"


def test_options_keep_collapsed_directories(tree: FileTree) -> None:
    view = TreeView(tree)
    view.toggle(ALL_LINES.index("usr/lib"))
    view.set_options(ViewOptions(pattern="lib"))
    assert paths(view) == ["usr", "usr/lib"]
    assert not view.row(1).expanded
    view.set_options(ViewOptions())
    assert "usr/lib/libA.so" not in paths(view)


def test_find_searches_collapsed_directories_and_wraps(tree: FileTree) -> None:
    view = TreeView(tree, expanded=False)
    line = view.find("LIB", 0)  # any case
    assert line is not None and view.row(line).path == "usr/lib"
    line = view.find("lib", line)
    assert line is not None and view.row(line).path == "usr/lib/libA.so"  # revealed
    line = view.find("lib", view.index_of("usr/lib/libb.so") or 0)  # the last: wraps around
    assert line is not None and view.row(line).path == "usr/lib"
    back = view.find("lib", line, backwards=True)  # and back across the start
    assert back is not None and view.row(back).path == "usr/lib/libb.so"
    only = view.find("passwd", view.reveal("etc/passwd") or 0)
    assert only is not None and view.row(only).path == "etc/passwd"  # itself, last
    assert view.find("nothing-like-this", 0) is None
    assert view.find("", 0) is None


def test_find_skips_what_the_options_hide(tree: FileTree) -> None:
    view = TreeView(tree, ViewOptions(hidden=frozenset({DiffState.UNMODIFIED})))
    line = view.find("lib", 0)
    assert line is not None and view.row(line).path == "usr/lib"
    line = view.find("lib", line)
    assert line is not None and view.row(line).path == "usr/lib/libb.so"  # libA is hidden


def test_find_follows_size_order(tmp_path: Path) -> None:
    layer = Layer().file("a/x-small", b"s").file("b/x-big", b"b" * 9)
    tree = TreeCache(report_of(tmp_path, layer)).tree(0, LAYER)
    view = TreeView(tree, ViewOptions(sort=SortOrder.SIZE), expanded=False)
    assert paths(view) == ["b", "a"]
    first = view.find("x-", -1)
    assert first is not None and view.row(first).path == "b/x-big"
    second = view.find("x-", first)
    assert second is not None and view.row(second).path == "a/x-small"
