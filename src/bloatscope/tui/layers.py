"""The layers pane: one line per layer with dive's compare bar, its size and the command that
made it. It is filled from the image outline first (compressed sizes, before any layer is
read), then from the analysis (the sizes dive shows, and the bytes each layer wastes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from bloatscope.explore.base import CompareMode
from bloatscope.render.escape import one_line
from bloatscope.render.units import human_bytes

_COMMAND_WIDTH = 200  # cut here; the layer details show the whole command
_TOP = "green"  # the layers compared (dive: the top of the compare range)
_BOTTOM = "blue"  # what they are compared with


class LayerLine(NamedTuple):
    size: int
    command: str
    exact: bool  # False while only the compressed size is known
    wasted: int = 0  # what bloatscope's findings blame on this layer


class LayersTable(DataTable[Text]):
    """The cursor row is the selected layer. ctrl+a / ctrl+l switch the compare mode here,
    as in dive."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+a", "mode('aggregated')", "Aggregated"),
        Binding("ctrl+l", "mode('layer')", "Per layer"),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
    ]
    DEFAULT_CSS = """
    LayersTable {
        height: auto;
        max-height: 45%;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.lines: tuple[LayerLine, ...] = ()
        self.mode = CompareMode.LAYER
        self._bars: list[tuple[str, str]] = []  # the Cmp cells as drawn: text and style

    def on_mount(self) -> None:
        self.add_column("Cmp", key="cmp", width=3)
        self.add_column("Size", key="size", width=9)
        self.add_column("Waste", key="waste", width=9)
        self.add_column("Command", key="command")

    def set_lines(self, lines: Sequence[LayerLine]) -> None:
        """Fill or refill the table, keeping the selected layer."""
        selected = self.cursor_row
        self.lines = tuple(lines)
        self.clear()
        self._bars = []
        for index, line in enumerate(self.lines):
            size = human_bytes(line.size) if line.exact else f"~{human_bytes(line.size)}"
            waste = human_bytes(line.wasted) if line.wasted else ""
            self.add_row(
                self._bar(index, selected),
                Text(size, justify="right"),
                Text(waste, justify="right", style="red" if line.wasted else ""),
                Text(one_line(line.command, _COMMAND_WIDTH) or "(no command)"),
                key=str(index),
            )
        if self.lines:
            self.move_cursor(row=min(max(selected, 0), len(self.lines) - 1))

    def action_mode(self, mode: str) -> None:
        self.mode = CompareMode(mode)
        self.refresh_bars()
        self.post_message(self.ModeChanged(self.mode))

    def refresh_bars(self) -> None:
        selected = self.cursor_row
        bars = [self._bar(index, selected) for index in range(len(self.lines))]
        drawn = [(bar.plain, str(bar.style)) for bar in bars]  # Text equality ignores style
        for index, bar in enumerate(bars):
            # only the bars that change: each update_cell redraws the whole table
            if index >= len(self._bars) or self._bars[index] != drawn[index]:
                self.update_cell(str(index), "cmp", bar)
        self._bars = drawn

    def _bar(self, index: int, selected: int) -> Text:
        """dive's Cmp column: which layers the file tree shows compared with which."""
        if index > selected:
            return Text("")
        # per layer: the chosen layer on top; aggregated: layers 1..chosen on top of layer 0
        top = index == selected if self.mode is CompareMode.LAYER else index > 0 or selected == 0
        if self.app.no_color:  # the two colours told apart by their shading instead
            return Text("██" if top else "░░")
        return Text("██", style=_TOP if top else _BOTTOM)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # the event goes on to the app, which shows that layer's tree
        if self.lines:
            self.refresh_bars()

    class ModeChanged(Message):
        def __init__(self, mode: CompareMode) -> None:
            super().__init__()
            self.mode = mode
