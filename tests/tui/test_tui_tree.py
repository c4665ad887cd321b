"""The file-tree pane's keys and mouse: moving, paging, going up and into directories,
collapsing and expanding them, clicks, double-clicks and the wheel. On the sample's last layer
(57 lines: more than two screens at 24 rows)."""

from __future__ import annotations

from textual.events import MouseScrollDown
from textual.pilot import Pilot
from tui_support import (
    SAMPLE,
    choose_layer,
    drawn_lines,
    drive,
    focus_tree,
    make_app,
    press,
    shown_paths,
    typed,
)

from bloatscope.tui.filetree import FileTreeView

SHORT = (120, 24)


async def _last_layer_tree(pilot: Pilot[int]) -> FileTreeView:
    await choose_layer(pilot, 11)
    tree = await focus_tree(pilot)
    assert tree.current_path() == "bin"  # kept from layer 0's tree
    await press(pilot, "home")
    return tree


def _on_screen(tree: FileTreeView) -> bool:
    """The cursor's line is in the pane, and the pane draws that line's name there."""
    top = tree.scroll_offset.y
    row = tree.current_row()
    assert row is not None
    inside = top <= tree.cursor < top + tree.size.height
    name = row.name + ("/" if row.is_dir else "") + (f" → {row.linkname}" if row.linkname else "")
    return inside and drawn_lines(tree)[tree.cursor - top].rstrip().endswith(name)


def test_moving_paging_and_going_up_and_into_directories() -> None:
    async def script(pilot: Pilot[int]) -> None:
        tree = await _last_layer_tree(pilot)
        rows = tree.rows
        page = tree.size.height - 1
        assert rows > 2 * page + 1  # more than two pages
        for key, expected in (
            ("down", 1),
            ("j", 2),
            ("k", 1),
            ("up", 0),
            ("up", 0),  # stays at the top
            ("pagedown", page),
            ("d", 2 * page),
            ("pagedown", rows - 1),  # stops at the end
            ("down", rows - 1),
            ("pageup", rows - 1 - page),
            ("u", rows - 1 - 2 * page),
            ("home", 0),
            ("end", rows - 1),
            ("u", rows - 1 - page),
        ):
            await press(pilot, key)
            assert tree.cursor == expected, key
            assert _on_screen(tree), key

        # left goes to the parent directory, right into a directory
        paths = shown_paths(tree)
        tree.cursor = paths.index("app/assets/a.bin")
        for key, path in (("left", "app/assets"), ("h", "app"), ("h", "app")):
            await press(pilot, key)
            assert tree.current_path() == path, key
        await press(pilot, "right")  # an expanded directory: to its first line
        assert tree.current_path() == "app/assets"
        await press(pilot, "space")
        assert shown_paths(tree)[tree.cursor + 1] == "app/libdemo-hardlink.so.1"
        await press(pilot, "l")  # a collapsed one: it opens, the cursor stays
        assert tree.current_path() == "app/assets"
        assert "app/assets/a.bin" in shown_paths(tree)
        await press(pilot, "l")
        assert tree.current_path() == "app/assets/a.bin"
        await press(pilot, "l")  # a file: nothing to go into
        assert tree.current_path() == "app/assets/a.bin"
        assert shown_paths(tree) == paths

    drive(make_app(SAMPLE), script, size=SHORT)


def test_space_and_enter_toggle_a_directory_and_plus_minus_all_of_them() -> None:
    async def script(pilot: Pilot[int]) -> None:
        tree = await _last_layer_tree(pilot)
        everything = shown_paths(tree)
        top_level = [path for path in everything if "/" not in path]
        assert tree.current_path() == "app"

        await press(pilot, "space")
        under_app = [p for p in everything if p.startswith("app/")]
        assert shown_paths(tree) == [p for p in everything if p not in under_app]
        row = tree.current_row()
        assert row is not None and row.path == "app" and not row.expanded
        assert drawn_lines(tree)[0].rstrip().endswith("▸ app/")
        await press(pilot, "space")
        assert shown_paths(tree) == everything
        assert drawn_lines(tree)[0].rstrip().endswith("▾ app/")
        await press(pilot, "enter")  # on a directory, enter toggles it too (no preview)
        assert shown_paths(tree) == [p for p in everything if p not in under_app]
        assert len(pilot.app.screen_stack) == 1
        await press(pilot, "enter")
        assert shown_paths(tree) == everything

        tree.cursor = everything.index("var/cache/apt/archives/partial")
        await press(pilot, "minus")
        assert shown_paths(tree) == top_level
        assert tree.current_path() == "var"  # the top-level directory that held the cursor
        await press(pilot, "plus")
        assert shown_paths(tree) == everything
        assert tree.current_path() == "var"

        # ctrl+space as a terminal sends it (NUL), then +'s own byte
        await press(pilot, "minus")
        await press(pilot, *typed("\x00"))
        assert shown_paths(tree) == everything
        await press(pilot, "minus", *typed("+"))
        assert shown_paths(tree) == everything

    drive(make_app(SAMPLE), script, size=SHORT)


def test_clicks_double_clicks_and_the_wheel() -> None:
    async def script(pilot: Pilot[int]) -> None:
        tree = await _last_layer_tree(pilot)
        everything = shown_paths(tree)
        assert await pilot.click(FileTreeView, offset=(40, 3))
        assert tree.cursor == 3 and tree.current_path() == everything[3]
        assert pilot.app.focused is tree

        # a double-click on a directory folds it (a single click did not)
        assert tree.current_path() == "app/libdemo-hardlink.so.1"
        assert await pilot.double_click(FileTreeView, offset=(40, 1))
        assert tree.current_path() == "app/assets"
        assert "app/assets/a.bin" not in shown_paths(tree)
        assert await pilot.double_click(FileTreeView, offset=(40, 1))
        assert shown_paths(tree) == everything

        # the wheel scrolls the lines; the cursor stays on its path
        await pilot._post_mouse_events([MouseScrollDown], FileTreeView, offset=(40, 5), times=3)
        await press(pilot)
        top = tree.scroll_offset.y
        assert top > 0
        assert drawn_lines(tree)[0].rstrip().endswith(everything[top].rpartition("/")[2])
        assert tree.current_path() == "app/assets"
        # a click below the last line does nothing
        await press(pilot, "minus")
        assert tree.rows < tree.size.height - 1 and tree.current_path() == "app"
        assert await pilot.click(FileTreeView, offset=(40, tree.size.height - 1))
        assert tree.current_path() == "app"

    drive(make_app(SAMPLE), script, size=SHORT)
