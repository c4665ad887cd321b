"""The layers pane: the keys and clicks that choose a layer, the compare modes, and the layer
list shown from the outline before the image is read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_support import (
    SAMPLE,
    app_of,
    choose_layer,
    drive,
    label_text,
    make_app,
    model_tree,
    press,
    rows_with_states,
    tree_of,
)

from bloatscope.explore.base import CompareMode
from bloatscope.tui.layers import LayersTable

LAYER, AGGREGATED = CompareMode.LAYER, CompareMode.AGGREGATED


def _shown(pilot: Pilot[int]) -> list[tuple[str, str]]:
    view = tree_of(pilot).view
    assert view is not None
    return rows_with_states(view)


def _expected(pilot: Pilot[int], layer: int, mode: CompareMode) -> list[tuple[str, str]]:
    app = app_of(pilot)
    assert app.report is not None
    return rows_with_states(model_tree(app.report, layer, mode, app.view_options))


def test_arrow_and_vi_keys_and_clicks_choose_the_layer_and_its_tree() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        table = app.query_one(LayersTable)
        assert app.focused is table  # the layers pane has the focus at the start
        seen = []
        for key, layer in (("down", 1), ("j", 2), ("j", 3), ("k", 2), ("up", 1), ("up", 0)):
            await press(pilot, key)
            assert (app.layer, table.cursor_row) == (layer, layer), key
            assert label_text(pilot, "#tree-title") == f"Current Layer Contents (layer {layer})"
            assert _shown(pilot) == _expected(pilot, layer, LAYER), key
            seen.append(_shown(pilot))
        # each layer shows its own changes: the trees of layers 0..3 differ
        assert len({tuple(rows) for rows in seen}) == 4
        await press(pilot, "up")  # at the top already
        assert app.layer == 0

        assert await pilot.click(LayersTable, offset=(20, 1 + 5))  # the header is line 0
        await press(pilot)
        assert (app.layer, table.cursor_row) == (5, 5)
        assert _shown(pilot) == _expected(pilot, 5, LAYER)

    drive(make_app(SAMPLE), script)


def test_ctrl_a_and_ctrl_l_switch_the_compare_mode() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        table = app.query_one(LayersTable)
        await choose_layer(pilot, 10)
        per_layer = _shown(pilot)
        assert per_layer == _expected(pilot, 10, LAYER)

        await press(pilot, "ctrl+a")
        assert app.mode is AGGREGATED
        assert label_text(pilot, "#tree-title") == "Aggregated Layer Contents (layer 10)"
        assert _shown(pilot) == _expected(pilot, 10, AGGREGATED)
        assert _shown(pilot) != per_layer  # layer 10 alone differs from layers 1..10
        # Cmp: layers 1..10 on top (green), layer 0 below (blue), layer 11 out of range
        colours = [str(table.get_cell(str(i), "cmp").style) for i in range(12)]
        assert colours == ["blue"] + ["green"] * 10 + [""]

        await press(pilot, "down")  # the mode stays while the layer changes
        assert (app.layer, app.mode) == (11, AGGREGATED)
        assert _shown(pilot) == _expected(pilot, 11, AGGREGATED)

        await press(pilot, "ctrl+l")
        assert app.mode is LAYER
        assert label_text(pilot, "#tree-title") == "Current Layer Contents (layer 11)"
        assert _shown(pilot) == _expected(pilot, 11, LAYER)
        colours = [str(table.get_cell(str(i), "cmp").style) for i in range(12)]
        assert colours == ["blue"] * 11 + ["green"]

    drive(make_app(SAMPLE), script)


def test_the_layer_list_shows_before_the_image_is_read(
    corpus_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # naive-bert: 3.5 GB, seconds of reading, long enough to look at the screen meanwhile
    reference = Path(corpus_dir) / "naive-bert.oci"
    if not (reference / "index.json").is_file():
        pytest.skip(f"{reference} is not built (../shared/corpus/build.sh naive-bert)")
    app = make_app(str(reference))
    assert app.outline is not None
    commands = [layer.created_by for layer in app.outline.layers]

    async def main() -> None:
        # no pilot pauses: they wait for the process to idle, and the read keeps it busy
        async with app.run_test():
            loading = [w for w in app.workers if w.group == "load"]
            assert loading and not loading[0].is_finished  # still reading
            table = app.query_one(LayersTable)
            assert table.row_count == len(commands)
            assert app.report is None
            size = str(table.get_cell("0", "size"))
            assert size.startswith("~")  # compressed, marked as an estimate
            app.exit()  # as q does (q itself is tested on the sample)

    asyncio.run(main())  # returns once the reading thread has stopped
    assert app.return_code == 0 and app.error is None and app.report is None
    # the read noticed the app had gone and stopped, saying nothing (it used to print
    # "RuntimeError: App is not running" tracebacks on the terminal it had handed back)
    assert capfd.readouterr().err == ""
