"""Starting and stopping explore: q and ctrl+c, q while the image is still read (the read is
cancelled), an image that fails halfway through the read (in the app and from the command line),
a bad reference (one line, before any screen), small and large terminals, and NO_COLOR."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Footer, ProgressBar
from tui_support import (
    SAMPLE,
    app_of,
    choose_layer,
    drawn_lines,
    drive,
    focus_tree,
    label_text,
    make_app,
    press,
    screen_strips,
    tree_of,
    typed,
)

import bloatscope.api
from bloatscope.tui.app import ExploreApp
from bloatscope.tui.layers import LayersTable


def _corrupt_copy(tmp_path: Path) -> str:
    """The sample as an OCI layout whose base layer blob has its second half zeroed: the
    manifest, config and blob sizes are intact, so the outline reads; the layer does not."""
    root = tmp_path / "corrupt"
    with tarfile.open(SAMPLE) as archive:
        archive.extractall(root, filter="data")
    index = json.loads((root / "index.json").read_text())
    manifest = root / "blobs/sha256" / index["manifests"][0]["digest"].removeprefix("sha256:")
    base = json.loads(manifest.read_text())["layers"][0]["digest"].removeprefix("sha256:")
    blob = root / "blobs/sha256" / base
    data = blob.read_bytes()
    blob.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    return str(root)


async def _until_it_exits(app: ExploreApp) -> None:
    async with app.run_test():
        for _ in range(3000):  # the read fails within a second; 30 s before giving up
            if app.return_code is not None:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the app is still running")


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bloatscope", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_an_image_that_fails_halfway_ends_the_app_with_2_and_one_line(tmp_path: Path) -> None:
    reference = _corrupt_copy(tmp_path)
    app = make_app(reference)  # the outline reads: the layers are listed
    assert app.outline is not None and len(app.outline.layers) == 12

    asyncio.run(_until_it_exits(app))
    assert app.return_code == 2 and app.failure is None
    assert app.error is not None and "\n" not in app.error
    assert app.error.startswith(reference) and "corrupt" in app.error


def test_the_command_says_why_in_one_line_after_the_screen_is_gone(tmp_path: Path) -> None:
    reference = _corrupt_copy(tmp_path)
    done = _run_cli("explore", reference)
    assert done.returncode == 2
    # without a terminal Textual draws on stderr; the message comes after the screen is reset
    # (alternate screen left: CSI ?1049l)
    screen, _, after = done.stderr.rpartition("\x1b[?1049l")
    assert screen
    message = after[after.index("bloatscope: error:") :]
    assert message.endswith("\n") and message.count("\n") == 1
    assert reference in message and "corrupt" in message


def test_a_bad_reference_fails_on_one_line_without_a_screen(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    done = _run_cli("explore", str(missing))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"bloatscope: error: {missing}: no such file or directory\n"


def test_an_internal_error_while_reading_ends_the_app_with_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a bug cannot be had from a real image on purpose: the analysis is made to raise one
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("no such node")

    app = make_app(SAMPLE)
    monkeypatch.setattr(bloatscope.api, "analyze", broken)

    asyncio.run(_until_it_exits(app))
    assert app.return_code == 3
    assert isinstance(app.failure, KeyError)  # the command raises it for cli.main to report
    assert app.error == "internal error: KeyError: 'no such node'"


@pytest.mark.parametrize(("size", "quit_key"), [((80, 24), "q"), ((200, 60), "\x03")])
def test_small_and_large_terminals_and_quitting_with_0(
    size: tuple[int, int], quit_key: str
) -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        width, height = size
        tree = tree_of(pilot)
        layers = app.query_one(LayersTable)
        await choose_layer(pilot, 11)
        assert tree.size.height >= height - 3  # all but the title and the footer
        lines = drawn_lines(tree)
        shown = min(tree.rows, tree.size.height)
        assert all(line.strip() for line in lines[:shown])  # a row on every line it can
        assert "▾ app/" in lines[0]
        # names first: the narrow pane drops the attributes before any name is cut
        assert lines[0].rstrip().endswith("▾ app/") and len(lines[0]) == tree.size.width
        if width >= 200:
            assert lines[0].startswith("drwxr-xr-x")
        assert layers.row_count == 12 and layers.size.height >= 5
        assert app.query_one(Footer).region.y == height - 1
        everything = screen_strips(app)
        assert len(everything) == height
        colours = {
            (c.triplet.red, c.triplet.green, c.triplet.blue)
            for line in everything
            for s in line
            if s.style is not None
            for c in (s.style.color, s.style.bgcolor)
            if c is not None and c.triplet is not None
        }
        assert any(not r == g == b for r, g, b in colours)  # in colour (NO_COLOR: below)
        await focus_tree(pilot)
        await press(pilot, "end")
        row = tree.current_row()
        assert row is not None and row.path == "var/cache/apt/archives/partial"
        assert drawn_lines(tree)[tree.cursor - tree.scroll_offset.y].rstrip().endswith("partial/")

        assert app.return_code is None
        await pilot.press(*typed(quit_key))  # q, or ctrl+c as a terminal sends it
        assert app.return_code == 0  # set by the key, before the test's end closes the app
        assert app.error is None

    drive(make_app(SAMPLE), script, size=size)


@pytest.mark.parametrize("workers", [0, 1], ids=["worker-processes", "in-process"])
def test_q_while_the_image_is_read_cancels_the_read_and_exits_with_0(
    corpus_dir: Path, capfd: pytest.CaptureFixture[str], workers: int
) -> None:
    # naive-bert: 3.5 GB, seconds of reading; q comes once its first layer is read
    reference = Path(corpus_dir) / "naive-bert.oci"
    if not (reference / "index.json").is_file():
        pytest.skip(f"{reference} is not built (../shared/corpus/build.sh naive-bert)")
    app = make_app(str(reference))
    app.options = replace(app.options, workers=workers)  # 0: worker processes, as the command

    async def main() -> None:
        async with app.run_test() as pilot:
            bar = app.query_one(ProgressBar)
            for _ in range(3000):  # no pilot pauses: the read keeps the process busy
                if bar.progress > 0:
                    break
                await asyncio.sleep(0.01)
            assert bar.progress > 0 and label_text(pilot, "#tree-title") == "Reading layers…"
            await pilot.press("q")
            assert app.return_code == 0

    asyncio.run(main())  # returns once the reading thread has stopped
    # the analysis stopped at the cancel flag quitting set, inside the read, and said nothing
    assert app.read_cancelled
    assert app.return_code == 0 and app.error is None and app.failure is None
    assert app.report is None
    assert multiprocessing.active_children() == []
    assert capfd.readouterr().err == ""


def test_no_color_draws_in_shades_of_grey_and_spells_the_change_kinds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Textual 8 reads NO_COLOR when the app is made: app.no_color, and a monochrome filter
    # over every line (colours become greys); it leaves os.environ as it is
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(SAMPLE)
    assert app.no_color and os.environ["NO_COLOR"] == "1"

    async def script(pilot: Pilot[int]) -> None:
        await choose_layer(pilot, 10)
        colours = {
            (c.triplet.red, c.triplet.green, c.triplet.blue)
            for line in screen_strips(app)
            for s in line
            if s.style is not None
            for c in (s.style.color, s.style.bgcolor)
            if c is not None and c.triplet is not None
        }
        assert colours and all(r == g == b for r, g, b in colours)
        lines = [line.strip() for line in drawn_lines(tree_of(pilot))]
        # removed, modified and unmodified told apart without colour
        assert any(line.endswith("-b.bin") for line in lines)
        assert any(line.endswith("~a.bin") for line in lines)
        assert any(line.endswith(" model.bin") for line in lines)
        cmp = [str(app.query_one(LayersTable).get_cell(str(i), "cmp")) for i in range(12)]
        assert cmp == ["░░"] * 10 + ["██", ""]  # the compare bar as shading

    drive(app, script)
