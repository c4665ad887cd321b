"""One file of the tree: looking inside it (enter / v), extracting it or a directory (ctrl+e /
x), copying its path (y). The bytes are checked against api.read_file of the layer that wrote
the version the tree shows. In the sample's last layer /app holds files four layers wrote."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Label, Log
from tui_support import SAMPLE, app_of, choose_layer, drive, focus_tree, make_app, messages, press

from bloatscope.api import read_file
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.screens import PreviewScreen

# who wrote what under /app, as the sample's Dockerfile says: model.bin rewritten by layer 8,
# tool.bin chmod-ed (so shipped again) by layer 11, a.bin remade by layer 10, b.bin written by
# layer 6 and removed by layer 10
WRITTEN_BY = {
    "app/model.bin": 8,
    "app/tool.bin": 11,
    "app/assets/a.bin": 10,
    "app/libdemo-hardlink.so.1": 5,
}


def _bytes(layer: int, path: str) -> bytes:
    return read_file(SAMPLE, layer, path, limit=1 << 20).data


def _put_cursor(tree: FileTreeView, path: str) -> None:
    assert tree.view is not None
    line = tree.view.reveal(path)
    assert line is not None, path
    tree.changed(path)


async def _preview(pilot: Pilot[int], key: str) -> tuple[str, list[str]]:
    await press(pilot, key)
    screen = pilot.app.screen
    assert isinstance(screen, PreviewScreen), key
    title = str(screen.query_one(Label).render())
    return title, list(screen.query_one(Log).lines)


def _hex_head(data: bytes) -> str:
    """hexdump -C's first line, up to the ASCII column."""
    return f"00000000  {data[:8].hex(' ')}  {data[8:16].hex(' ')}"


def test_enter_and_v_show_the_bytes_the_layer_wrote_and_esc_and_q_close() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        await choose_layer(pilot, 11)
        tree = await focus_tree(pilot)

        _put_cursor(tree, "app/tool.bin")  # modified in layer 11: its new bytes
        data = _bytes(11, "app/tool.bin")
        title, lines = await _preview(pilot, "enter")
        assert title == "/app/tool.bin as layer 11 wrote it (49.2 kB)"
        assert lines[0].startswith(_hex_head(data))  # random bytes: a hex dump
        assert len(lines) == len(data) // 16
        await press(pilot, "escape")
        assert len(app.screen_stack) == 1 and app.focused is tree

        _put_cursor(tree, "app/model.bin")  # unmodified here: layer 8's bytes, not layer 1's
        title, lines = await _preview(pilot, "v")
        assert title == "/app/model.bin as layer 8 wrote it (98.3 kB)"
        assert lines[0].startswith(_hex_head(_bytes(8, "app/model.bin")))
        assert not lines[0].startswith(_hex_head(_bytes(1, "app/model.bin")))
        await press(pilot, "q")  # closes the preview, not the app
        assert len(app.screen_stack) == 1 and app.is_running

        _put_cursor(tree, "etc/passwd")  # text: its lines
        title, lines = await _preview(pilot, "enter")
        assert title == "/etc/passwd as layer 0 wrote it (30 B)"
        assert lines == _bytes(0, "etc/passwd").decode().splitlines()
        await press(pilot, "escape")

        await choose_layer(pilot, 10)  # removed in layer 10: the bytes that were removed
        await focus_tree(pilot)
        _put_cursor(tree, "app/assets/b.bin")
        title, lines = await _preview(pilot, "enter")
        assert title == "/app/assets/b.bin as layer 6 wrote it (16.4 kB)"
        assert lines[0].startswith(_hex_head(_bytes(6, "app/assets/b.bin")))
        await press(pilot, "escape")
        assert len(app.screen_stack) == 1

    drive(make_app(SAMPLE), script)


def test_ctrl_e_and_x_extract_files_and_directories_and_y_copies_the_path(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()

    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        await choose_layer(pilot, 11)
        tree = await focus_tree(pilot)

        _put_cursor(tree, "app/tool.bin")
        await press(pilot, "y")
        assert app.clipboard == "/app/tool.bin"
        assert messages(app)[-1] == "copied /app/tool.bin"

        await press(pilot, "ctrl+e")
        assert (out / "tool.bin").read_bytes() == _bytes(11, "app/tool.bin")
        assert messages(app)[-1] == (
            f"extracted 1 file(s), 49.2 kB, of /app/tool.bin from layer 11 into {out}"
        )
        _put_cursor(tree, "app/model.bin")
        await press(pilot, "x")
        assert (out / "model.bin").read_bytes() == _bytes(8, "app/model.bin")

        _put_cursor(tree, "app/tool.bin")
        await press(pilot, "x")  # never overwritten
        assert messages(app)[-1].endswith("tool.bin: exists; not overwritten")
        assert (out / "tool.bin").read_bytes() == _bytes(11, "app/tool.bin")

        # a directory: each file as the tree shows it, from the layer that wrote that version
        _put_cursor(tree, "app")
        await press(pilot, "ctrl+e")
        extracted = out / "app"
        for path, layer in WRITTEN_BY.items():
            assert (extracted / path.removeprefix("app/")).read_bytes() == _bytes(layer, path)
        # the hardlink comes out as a copy of its target; the symlink and removed b.bin do not
        assert (extracted / "libdemo.so.1").read_bytes() == _bytes(5, "app/libdemo.so.1")
        assert not (extracted / "libdemo.so").exists()
        assert not (extracted / "assets/b.bin").exists()
        written = sorted(str(p.relative_to(extracted)) for p in extracted.rglob("*"))
        assert written == [
            "assets",
            "assets/a.bin",
            "libdemo-hardlink.so.1",
            "libdemo.so.1",
            "model.bin",
            "tool.bin",
        ]
        assert "left out 1" in messages(app)[-1]  # the symlink, said

    drive(make_app(SAMPLE, extract_to=out), script)
