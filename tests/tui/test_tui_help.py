"""The help screen (``?``) lists every key, and every key the app and its panes bind is in that
list: a key added to a widget without a line in ``KEYS`` fails here."""

from __future__ import annotations

import re

from textual.binding import Binding
from textual.pilot import Pilot
from tui_support import SAMPLE, app_of, drive, make_app, press, screen_text, typed

from bloatscope.tui.app import ExploreApp
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.layers import LayersTable
from bloatscope.tui.screens import KEYS, HelpScreen, PreviewScreen
from bloatscope.tui.tables import FindingsTable, PackagesTable

# Textual's key names as KEYS writes them
SHOWN_AS = {
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "pgup",
    "pagedown": "pgdn",
    "escape": "esc",
    "question_mark": "?",
    "slash": "/",
    "ctrl+slash": "ctrl+/",
    "plus": "+",
    "minus": "-",
    # what terminals send for ctrl+/ and ctrl+space
    "ctrl+underscore": "ctrl+/",
    "ctrl+@": "ctrl+space",
}
# the pane each class's own keys are listed under
WHERE = {
    ExploreApp: None,  # anywhere, or the pane its action works on
    FileTreeView: "file tree",
    LayersTable: "layers",
    FindingsTable: "findings",
    PackagesTable: "packages",
    HelpScreen: "help",
    PreviewScreen: "preview",
}


def _bound_keys(cls: type) -> list[str]:
    """The keys the class itself declares (not those it inherits from Textual)."""
    keys: list[str] = []
    for binding in cls.__dict__.get("BINDINGS", []):
        assert isinstance(binding, Binding)
        keys.extend(key.strip() for key in binding.key.split(","))
    return keys


def _tokens(keys: str) -> set[str]:
    """The keys of one line of KEYS: "← h, → l" and "+ (ctrl+space), -" are lists of keys; a
    "/" standing alone separates them ("ctrl+a / A"), unless it is the whole line."""
    if keys == "/":
        return {"/"}
    return {token for token in re.split(r"[\s,()]+", keys) if token and token != "/"}


def _listed_where(where: str | None) -> set[str]:
    rows = [row for row in KEYS if where is None or where in row[0].split(", ")]
    return set().union(*(_tokens(row[1]) for row in rows))


def test_every_bound_key_is_in_the_help() -> None:
    missing = []
    for cls, where in WHERE.items():
        listed = _listed_where(where)
        for key in _bound_keys(cls):
            if SHOWN_AS.get(key, key) not in listed:
                missing.append(f"{cls.__name__}: {key}")
    # n and N are told in the search line's description ("n next match, N previous")
    search = next(row for row in KEYS if row[1] == "/")
    assert "n next match" in search[2] and "N previous" in search[2]
    missing = [m for m in missing if m not in ("ExploreApp: n", "ExploreApp: N")]
    assert missing == []


def test_the_key_reader_reads_the_lines_of_keys() -> None:
    # the control for the test above: the shapes KEYS uses read back as their keys
    assert _tokens("← h, → l") == {"←", "h", "→", "l"}
    assert _tokens("+ (ctrl+space), -") == {"+", "ctrl+space", "-"}
    assert _tokens("l / f / p / i") == {"l", "f", "p", "i"}
    assert _tokens("ctrl+f, ctrl+/") == {"ctrl+f", "ctrl+/"}
    assert _tokens("/") == {"/"}
    assert "u" in _listed_where("file tree") and "u" not in _listed_where("layers")


def test_question_mark_shows_every_key_and_esc_q_and_question_mark_close_it() -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        for close in ("escape", "q", "question_mark"):
            await press(pilot, *typed("?"))
            assert isinstance(app.screen, HelpScreen)
            text = screen_text(app)
            lines = [" ".join(line.split()) for line in text.splitlines()]
            for where, keys, what in KEYS:
                assert any(keys in line and what in line for line in lines), (where, keys)
            await press(pilot, close)
            assert len(app.screen_stack) == 1, close
            assert app.is_running  # q closed the screen, not the app
        await press(pilot, *typed("\x10"))  # ctrl+p: Textual's palette is not one of the keys
        assert len(app.screen_stack) == 1

    drive(make_app(SAMPLE), script, size=(160, 48))
