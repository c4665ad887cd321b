"""The layer and image details: what dive's Layer Details and Image Details panes say (id,
digest, size and full command; efficiency, wasted bytes and the inefficient files), and what
bloatscope adds (the reclaimable bytes its findings add up to)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

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


class DetailsPane(ScrollView):
    """A pane the app fills with the details above, scrolled by itself. Its content is
    rendered to lines once per change (and per width), and a new line count sets the scroll
    range without a layout of the screen: a layer switch, which replaces the layer details,
    would otherwise spend most of its time laying the whole screen out again."""

    DEFAULT_CSS = """
    DetailsPane {
        height: 1fr;
        overflow-y: scroll;
        overflow-x: hidden;
        padding: 0 1;
    }
    """

    def __init__(self, content: RenderableType = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = content
        self._lines: list[Strip] = []
        self._width = 0

    def show_text(self, content: RenderableType) -> None:
        self._content = content
        self._width = 0  # render again
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _draw_content(self, width: int) -> None:
        options = self.app.console.options.update_width(width)
        rendered = self.app.console.render_lines(self._content, options, pad=False)
        self._lines = [Strip(line) for line in rendered]
        self._width = width
        size = Size(width, len(self._lines))
        if size != self.virtual_size:
            # the bar is always there (overflow-y: scroll): no layout, only the scroll range
            self.set_reactive(DetailsPane.virtual_size, size)
            self._scroll_update(size)

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        if width and width != self._width:
            self._draw_content(width)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        return self._lines[index].apply_style(style).crop_extend(0, width, style)

    @property
    def text(self) -> str:
        """What the pane shows, as plain text (for the tests and for copying)."""
        return "\n".join(line.text.rstrip() for line in self._lines)
