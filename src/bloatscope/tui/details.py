"""The layer and image details: what dive's Layer Details and Image Details panes say (id,
digest, size and full command; efficiency, wasted bytes and the inefficient files), and what
bloatscope adds (the reclaimable bytes its findings add up to)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from bloatscope.model.report import Report
from bloatscope.render.escape import safe
from bloatscope.render.units import human_bytes

_INEFFICIENT_SHOWN = 12


def layer_details(report: Report, index: int) -> Text:
    layer = report.image.layers[index]
    text = Text()
    text.append("Id: ", style="bold").append(f"{layer.location}\n")
    text.append("Digest: ", style="bold").append(f"{layer.diff_id}\n")
    text.append("Size: ", style="bold").append(human_bytes(layer.size_bytes))
    text.append(f" ({human_bytes(layer.compressed_size_bytes)} compressed)\n")
    wasted = report.reclaimable_in_layer(index)
    if wasted:
        text.append("Findings: ", style="bold").append(human_bytes(wasted), style="red")
        text.append(" could go (the Findings tab says how)\n")
    text.append("Command:\n", style="bold").append(safe(layer.created_by or "(none)"))
    return text


def image_details(report: Report) -> Table:
    dive = report.dive
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    # names from the image go in as Text: a str cell is Rich markup, and a path holding "[/]"
    # would not parse (explore stopped on such an image)
    table.add_row("Image", Text(safe(report.image.reference)))
    table.add_row("Total size", human_bytes(report.image.size_bytes))
    table.add_row("Reclaimable", f"{human_bytes(report.reclaimable_bytes)} (bloatscope findings)")
    table.add_row("Wasted (dive)", human_bytes(dive.wasted_bytes))
    table.add_row("Efficiency", f"{int(100 * dive.efficiency)} %")
    files = Table(box=None, padding=(0, 1), show_edge=False)
    files.add_column("Count", justify="right")
    files.add_column("Total", justify="right")
    files.add_column("Path")
    for item in dive.inefficient_files[:_INEFFICIENT_SHOWN]:
        files.add_row(str(item.count), human_bytes(item.cumulative_bytes), Text(safe(item.path)))
    grid = Table.grid()
    grid.add_row(table)
    grid.add_row(files)
    return grid


class DetailsPane(Static):
    """A static pane the app fills with the details above."""

    DEFAULT_CSS = """
    DetailsPane {
        height: auto;
        padding: 0 1;
    }
    """

    _height: int | None = None  # lines of the text shown, when it is a Text

    def show_text(self, content: Text | Table | str) -> None:
        # A layer switch replaces the layer details: a layout of the whole screen only when the
        # new text takes another number of lines (a layout is most of a switch's time).
        height = None
        if isinstance(content, Text) and self.content_size.width:
            height = len(content.wrap(self.app.console, self.content_size.width))
        same = height is not None and height == self._height
        self._height = height
        self.update(content, layout=not same)
