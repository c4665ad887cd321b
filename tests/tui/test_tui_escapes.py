"""Names from an image are untrusted: file names, link targets and commands holding terminal
escape sequences, control characters or Rich markup are drawn escaped, never interpreted, in
the tree, the layers pane, the details, the preview and the notifications."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Label, Log
from tui_support import (
    app_of,
    choose_layer,
    drawn_lines,
    drive,
    focus_tree,
    make_app,
    messages,
    press,
    screen_text,
    tree_of,
)

from bloatscope.tui.screens import PreviewScreen
from synth import EPOCH, Image, Layer, write_oci_dir

TITLE = "evil\x1b]0;pwned\x07"  # sets the terminal's title
RED = "a\x1b[31mred"
TAB = "tab\there"
NEWLINE = "new\nline"
MARKUP = "[bold]markup"
# directory "x[" holding "]y": the path x[/]y is Rich markup that does not parse (a closing tag
# with nothing to close), a crash wherever it were read as markup
UNBALANCED = "x[/]y"
CLEAR = "/bin/sh -c printf '\x1b[2J' [/] [red]x"
CONTENT = b"a line of text (one control character in 20 at most) \x1b[2J and more\n"


def _image(tmp_path: Path) -> str:
    base = (
        Layer()
        .file(TITLE, CONTENT)
        .file(RED, b"r")
        .file(TAB, b"t")
        .file(NEWLINE, b"n")
        .file(MARKUP, b"m")
        .file(UNBALANCED, b"first")
        .symlink("link", "target\x1b[2J")
    )
    again = Layer().file(UNBALANCED, b"second")  # twice: in the Image tab's inefficient files
    history = [
        {"created": EPOCH, "created_by": CLEAR},
        {"created": EPOCH, "created_by": "/bin/sh -c echo [/]"},
    ]
    image = Image([base.build(), again.build()], history=history)
    return str(write_oci_dir(tmp_path / "evil", [image], compression="none"))


def _raw_controls(text: str) -> set[str]:
    return {c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0}


def test_names_commands_and_contents_are_drawn_escaped(tmp_path: Path) -> None:
    reference = _image(tmp_path)

    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        tree = tree_of(pilot)
        assert app.report is not None
        lines = "\n".join(line.rstrip() for line in drawn_lines(tree))
        for shown in (
            "evil\\x1b]0;pwned\\x07",
            "a\\x1b[31mred",
            "tab\\there",
            "new\\nline",
            "[bold]markup",
            "x[/",
            "]y",
            "link → target\\x1b[2J",
        ):
            assert shown in lines, shown
        assert _raw_controls(lines) == set()

        screen = screen_text(app)  # the layers pane's commands too, and nothing raw anywhere
        assert "printf '\\x1b[2J' [/] [red]x" in screen
        assert _raw_controls(screen) == set()

        await press(pilot, "i")  # the inefficient files list the unbalanced markup name
        screen = screen_text(app)
        assert "/x[/]y" in screen and _raw_controls(screen) == set()
        await press(pilot, "l")
        assert "[red]x" in screen_text(app)  # the command in the layer details

        await focus_tree(pilot)
        assert tree.view is not None
        tree.changed(TITLE)
        assert tree.current_path() == TITLE
        await press(pilot, "y")
        assert app.clipboard == "/" + TITLE  # the real name, sent base64-encoded (OSC 52)
        assert messages(app)[-1] == "copied /evil\\x1b]0;pwned\\x07"

        await press(pilot, "enter")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        title = str(preview.query_one(Label).render())
        assert title == f"/evil\\x1b]0;pwned\\x07 as layer 0 wrote it ({len(CONTENT)} B)"
        shown = "a line of text (one control character in 20 at most) \\x1b[2J and more"
        assert list(preview.query_one(Log).lines) == [shown]
        assert _raw_controls(screen_text(app)) == set()
        await press(pilot, "escape")

        await press(pilot, "x")
        done = f"extracted 1 file(s), {len(CONTENT)} B, of /evil\\x1b]0;pwned\\x07 "
        assert messages(app)[-1].startswith(done)
        assert (tmp_path / "out" / TITLE).read_bytes() == CONTENT

        await choose_layer(pilot, 1)  # its command, in the layer details
        assert "/bin/sh -c echo [/]" in screen_text(app)

    (tmp_path / "out").mkdir()
    drive(make_app(reference, extract_to=tmp_path / "out"), script)
