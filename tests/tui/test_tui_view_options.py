"""What of the tree is shown: the hide keys for each change kind, the size order, the attribute
columns, the filter box and the search box with n / N. On the sample's layer 10, which adds,
modifies, removes and leaves files alone."""

from __future__ import annotations

import re

from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent
from tui_support import (
    SAMPLE,
    app_of,
    choose_layer,
    drawn_lines,
    drive,
    focus_tree,
    make_app,
    messages,
    model_tree,
    press,
    shown_paths,
    tree_of,
    typed,
)

from bloatscope.explore.base import CompareMode, SortOrder, ViewOptions
from bloatscope.model.tree import DiffState

ADDED, MODIFIED, REMOVED, UNMODIFIED = (
    DiffState.ADDED,
    DiffState.MODIFIED,
    DiffState.REMOVED,
    DiffState.UNMODIFIED,
)


def _expected(pilot: Pilot[int], options: ViewOptions) -> list[str]:
    app = app_of(pilot)
    assert app.report is not None
    return [row.path for row in model_tree(app.report, app.layer, CompareMode.LAYER, options)]


def _files_by_state(pilot: Pilot[int]) -> dict[DiffState, int]:
    view = tree_of(pilot).view
    assert view is not None
    counts = dict.fromkeys(DiffState, 0)
    for row in view:
        if not row.is_dir:
            counts[row.state] += 1
    return counts


def test_hide_keys_hide_and_show_each_change_kind() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        tree = await focus_tree(pilot)
        for keys, state, layer in (
            # layer 1 adds files; layer 10 modifies, removes and leaves files alone
            (["A"], ADDED, 1),
            (typed("\x01"), ADDED, 1),  # ctrl+a: in the file tree it hides Added, as in dive
            (["M"], MODIFIED, 10),
            (["R"], REMOVED, 10),
            (typed("\x12"), REMOVED, 10),  # ctrl+r
            (["U"], UNMODIFIED, 10),
            (typed("\x15"), UNMODIFIED, 10),  # ctrl+u
        ):
            await choose_layer(pilot, layer)
            everything = shown_paths(tree)
            assert _files_by_state(pilot)[state] > 0
            await press(pilot, *keys)
            assert app.view_options.hidden == {state}, keys
            assert shown_paths(tree) == _expected(pilot, ViewOptions(hidden=frozenset({state})))
            assert _files_by_state(pilot)[state] == 0, keys
            assert messages(app)[-1] == f"{state.name.lower()} files hidden"
            await press(pilot, *keys)
            assert app.view_options.hidden == frozenset(), keys
            assert shown_paths(tree) == everything, keys
            assert messages(app)[-1] == f"{state.name.lower()} files shown"
        assert app.mode is CompareMode.LAYER  # ctrl+a in the tree left the compare mode alone

        await press(pilot, "M", "U")  # together, and kept on another layer
        both = frozenset({MODIFIED, UNMODIFIED})
        await choose_layer(pilot, 11)
        assert app.view_options.hidden == both
        assert shown_paths(tree) == _expected(pilot, ViewOptions(hidden=both))
        assert _files_by_state(pilot) == dict.fromkeys(DiffState, 0)  # 11 only modifies

    drive(make_app(SAMPLE), script)


def test_ctrl_o_sorts_by_size_and_back_and_ctrl_b_hides_the_attributes() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        await choose_layer(pilot, 10)
        tree = await focus_tree(pilot)
        by_name = shown_paths(tree)
        await press(pilot, *typed("\x0f"))  # ctrl+o
        assert app.view_options.sort is SortOrder.SIZE
        by_size = shown_paths(tree)
        assert by_size == _expected(pilot, ViewOptions(sort=SortOrder.SIZE))
        assert sorted(by_size) == sorted(by_name) and by_size != by_name
        view = tree.view
        assert view is not None
        siblings: dict[str, list[int]] = {}
        for row in view:
            siblings.setdefault(row.path.rpartition("/")[0], []).append(row.size)
        assert all(sizes == sorted(sizes, reverse=True) for sizes in siblings.values())
        assert tree.current_path() == "bin"  # the cursor stayed on its path
        await press(pilot, "ctrl+o")
        assert app.view_options.sort is SortOrder.NAME
        assert shown_paths(tree) == by_name

        row = tree.current_row()
        assert row is not None
        line = drawn_lines(tree)[tree.cursor - tree.scroll_offset.y]
        assert line.startswith(f"{row.mode} ") and "0:0" in line
        await press(pilot, *typed("\x02"))  # ctrl+b
        assert not tree.show_attributes
        line = drawn_lines(tree)[tree.cursor - tree.scroll_offset.y]
        assert row.mode not in line and "0:0" not in line and "MB" not in line
        assert line.rstrip().endswith("▾ bin/")
        await press(pilot, "ctrl+b")
        assert tree.show_attributes
        assert drawn_lines(tree)[tree.cursor - tree.scroll_offset.y].startswith(f"{row.mode} ")

    drive(make_app(SAMPLE), script, size=(160, 40))  # wide enough for every column


def test_the_filter_narrows_the_tree_as_a_pattern_is_typed() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        await choose_layer(pilot, 11)
        tree = await focus_tree(pilot)
        everything = shown_paths(tree)
        box = app.query_one("#filter", Input)
        assert not box.display

        await press(pilot, *typed("\x06"))  # ctrl+f
        assert box.display and app.focused is box
        await press(pilot, *"^/app/lib")  # letters the app binds go into the box
        assert box.value == "^/app/lib" and app.view_options.pattern == "^/app/lib"
        assert app.query_one(TabbedContent).active == "layer-tab"  # "l" and "i" were typed
        narrowed = shown_paths(tree)
        assert narrowed == _expected(pilot, ViewOptions(pattern="^/app/lib"))
        files = [p for p in narrowed if "/" in p and p != "app"]
        assert files and all(re.search("^/app/lib", "/" + p) for p in files)
        assert len(narrowed) < len(everything)

        await press(pilot, *"(")  # does not compile yet: the last pattern that did stays
        assert app.view_options.pattern == "^/app/lib" and shown_paths(tree) == narrowed
        await press(pilot, "enter")  # still not a pattern: said, and the last good one kept
        assert not box.display and app.focused is tree
        assert messages(app)[-1].startswith("not a regular expression:")
        assert app.view_options.pattern == "^/app/lib" and shown_paths(tree) == narrowed

        await press(pilot, *typed("\x1f"))  # ctrl+/ from a terminal: the box, with the pattern
        assert box.display and box.value == "^/app/lib"
        await press(pilot, *"model", "enter")  # typing replaces it
        assert app.view_options.pattern == "model"
        assert shown_paths(tree) == ["app", "app/model.bin"]
        assert app.focused is tree

        await choose_layer(pilot, 8)  # the filter stays on another layer
        assert shown_paths(tree) == ["app", "app/model.bin"]
        await focus_tree(pilot)
        await press(pilot, "ctrl+f")
        await press(pilot, *["backspace"] * len(box.value))
        assert app.view_options.pattern is None
        await press(pilot, "escape")  # closes the box; the (empty) filter stays
        assert not box.display and app.focused is tree
        assert shown_paths(tree) == _expected(pilot, ViewOptions())

    drive(make_app(SAMPLE), script)


def test_search_finds_names_with_n_and_shift_n() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        await choose_layer(pilot, 11)
        tree = await focus_tree(pilot)
        await press(pilot, "home")
        everything = shown_paths(tree)
        matches = [p for p in everything if "libdemo" in p.rpartition("/")[2].lower()]
        assert len(matches) == 4
        box = app.query_one("#search", Input)

        await press(pilot, "slash")
        assert box.display and app.focused is box
        await press(pilot, *"LibDemo", "enter")  # ignoring case
        assert not box.display and app.focused is tree
        assert tree.current_path() == matches[0]
        for key, expected in (
            ("n", matches[1]),
            ("n", matches[2]),
            ("n", matches[3]),
            ("n", matches[0]),  # wraps round
            ("N", matches[3]),
            ("N", matches[2]),
        ):
            await press(pilot, key)
            assert tree.current_path() == expected, key
        assert shown_paths(tree) == everything  # the search moves, the tree stays

        await press(pilot, "minus", "down")  # collapsed directories are searched and opened
        assert tree.current_path() == "bin"
        await press(pilot, "n")
        assert tree.current_path() == matches[3]
        assert matches[3] in shown_paths(tree)

        await press(pilot, "slash", *"zzz", "enter")
        assert tree.current_path() == matches[3]
        assert messages(app)[-1] == "no file name contains 'zzz'"
        await press(pilot, "slash")
        assert box.value == "zzz"
        await press(pilot, "escape")
        assert not box.display and app.focused is tree

    drive(make_app(SAMPLE), script)
