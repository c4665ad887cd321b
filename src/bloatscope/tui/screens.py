"""The modal screens of explore: every key (``?``), and a look inside one file at one layer
(text, or a hex dump for binary content)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Log, Static

from bloatscope.render.escape import safe

KEYS: tuple[tuple[str, str, str], ...] = (
    # (where, keys, what) — the help screen and the docs list the same table
    ("anywhere", "q, ctrl+c", "quit"),
    ("anywhere", "tab, shift+tab", "next / previous pane"),
    ("anywhere", "?", "this help"),
    ("anywhere", "ctrl+f, ctrl+/", "filter the tree by a regular expression on the path"),
    ("anywhere", "/", "search file names; n next match, N previous"),
    ("anywhere", "l / f / p / i", "layer details / findings / packages / image details tab"),
    ("layers", "↑ ↓ k j, click", "choose a layer"),
    ("layers", "ctrl+l", "compare mode: this layer against the layers below (dive's default)"),
    ("layers", "ctrl+a", "compare mode: layers 1..n stacked, against layer 0 (aggregated)"),
    ("file tree", "↑ ↓ k j, pgup pgdn u d, home end", "move"),
    ("file tree", "← h, → l", "to the parent directory / into a directory"),
    ("file tree", "space, double-click", "collapse or expand a directory"),
    ("file tree", "+ (ctrl+space), -", "expand / collapse every directory"),
    ("file tree", "ctrl+a / A", "hide or show Added files"),
    ("file tree", "ctrl+r / R", "hide or show Removed files"),
    ("file tree", "M", "hide or show Modified files (dive's ctrl+m is Enter in terminals)"),
    ("file tree", "ctrl+u / U", "hide or show Unmodified files"),
    ("file tree", "ctrl+o", "sort by name or by size"),
    ("file tree", "ctrl+b", "show or hide permissions, owner and size"),
    ("file tree", "enter, v", "look inside the file, as this layer has it"),
    ("file tree", "ctrl+e, x", "extract the file or directory into the current directory"),
    ("file tree", "y", "copy the path to the clipboard"),
    ("findings, packages", "enter, click", "show its files in the tree and its layer"),
    ("help", "esc, q, ?", "close"),
    ("preview", "esc, q", "close"),
)


def keys_table(keys: Iterable[tuple[str, str, str]] = KEYS) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("Where")
    table.add_column("Keys", style="bold cyan")
    table.add_column("Does")
    for where, combination, what in keys:
        table.add_row(where, combination, what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(Text("bloatscope explore: keys", style="bold"))
            yield Static(keys_table())
            yield Label("The mouse works too: click a row, scroll, double-click a directory.")


class PreviewScreen(ModalScreen[None]):
    """A file's first bytes as the chosen layer wrote them, already turned into safe lines."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    PreviewScreen { align: center middle; }
    PreviewScreen > Vertical {
        width: 95%; height: 95%; border: round $accent; background: $surface;
    }
    PreviewScreen Log { height: 1fr; }
    """

    def __init__(self, title: str, lines: Sequence[str]) -> None:
        super().__init__()
        self._title = title
        self._lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(safe(self._title), style="bold"))
            yield Log(id="preview-log", auto_scroll=False)

    def on_mount(self) -> None:
        log = self.query_one(Log)
        log.write_lines(self._lines)
        log.scroll_home(animate=False)
        log.focus()
