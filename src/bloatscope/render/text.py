"""The terminal report: a summary line, the layer table, the largest paths and the waste."""

from __future__ import annotations

import io
import math

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bloatscope.dockerfile.history_formats import reconstruct
from bloatscope.model.layer import Layer
from bloatscope.model.report import Report, SizedPath
from bloatscope.render.escape import one_line, safe
from bloatscope.render.packages import largest_packages_table
from bloatscope.render.units import human_bytes, percent

__all__ = ["CAUSE_LABELS", "TextRenderer", "one_line", "safe"]

_COMMAND_WIDTH = 70
CAUSE_LABELS = {
    "overwritten": "overwritten in a later layer",
    "metadata-only": "re-shipped by a chmod/chown/touch",
    "deleted": "deleted in a later layer, still shipped",
    "duplicate": "duplicate content",
    "build-context": "build-context junk copied in",
    "package-cache": "package-manager caches",
    "installer-left": "installers and archives left behind",
    "model-weights": "model weights in the image",
    "runtime-unneeded": "files a runtime rarely needs",
    "dev-packages": "development tools in the runtime image",
    "ai-stack": "ML stack heavier than the image needs",
    "full-base": "full base image where a slim one would do",
}


def title_line(report: Report) -> Text:
    """The reference, printed on a line of its own and never broken or cropped: a path stays one
    string to copy."""
    image = report.image
    title = Text()
    title.append(safe(image.reference), style="bold")
    title.append(f"  ({image.source_format}, {image.platform})", style="dim")
    return title


def summary_line(report: Report) -> Text:
    """The sizes, which fit in 80 columns."""
    image = report.image
    waste = report.reclaimable_bytes
    text = Text()
    text.append(f"{human_bytes(image.size_bytes)} in {len(image.layers)} layers, ")
    text.append(f"{human_bytes(image.compressed_size_bytes)} compressed. ")
    text.append(f"{human_bytes(waste)} reclaimable", style="bold yellow" if waste else "bold green")
    text.append(f" ({percent(waste, image.size_bytes)}).")
    return text


def layer_instruction(report: Report, layer: Layer) -> str:
    """What made the layer: its Dockerfile line when a Dockerfile was given and matched, else
    the instruction read back from the history (``RUN apt-get ...`` rather than
    ``/bin/sh -c apt-get ...``)."""
    source = report.dockerfile
    if source is not None and layer.index in source.layers:
        line, text = source.layers[layer.index]
        return f"{line}: {text}"
    if layer.history is None:
        return ""
    return reconstruct(layer.history).text


def layer_table(report: Report, width: int | None) -> Table:
    table = Table(title="Layers", title_justify="left", expand=True, show_edge=False)
    for column in ("#", "Size", "Compressed", "Files", "+ / ~ / -", "Reclaimable"):
        table.add_column(column, justify="right", no_wrap=True)
    source = report.dockerfile
    title = "Dockerfile line" if source is not None else "Instruction (from history)"
    table.add_column(title, overflow="ellipsis", no_wrap=True, ratio=1, min_width=20)
    for layer, changes in zip(report.image.layers, report.changes, strict=True):
        shadowed = report.reclaimable_in_layer(layer.index)
        table.add_row(
            str(layer.index),
            human_bytes(layer.size_bytes),
            human_bytes(layer.compressed_size_bytes),
            str(layer.file_count),
            f"{changes.added} / {changes.modified} / {changes.removed}",
            Text(human_bytes(shadowed), style="yellow") if shadowed else Text("-", style="dim"),
            escape(one_line(layer_instruction(report, layer), width) or "(no history)"),
        )
    return table


def _paths_table(title: str, items: tuple[SizedPath, ...], show_layer: bool) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("Size", justify="right", no_wrap=True)
    if show_layer:
        table.add_column("Layer", justify="right", no_wrap=True)
    table.add_column("Path", overflow="fold")
    for item in items:
        row = [human_bytes(item.size_bytes)]
        if show_layer:
            row.append(str(item.layer) if item.layer is not None else "")
        row.append(escape(safe(item.path)))
        table.add_row(*row)
    return table


def waste_section(report: Report, top: int) -> RenderableType:
    """What could go: the findings, largest first, each with the paths and the fix."""
    dive = report.dive
    total = report.reclaimable_bytes
    parts: list[RenderableType] = [
        Text(f"Waste: {human_bytes(total)} could go", style="bold"),
    ]
    by_cause: dict[str, int] = {}
    for finding in report.findings:
        by_cause[finding.cause] = by_cause.get(finding.cause, 0) + finding.bytes
    for cause, size in sorted(by_cause.items(), key=lambda item: -item[1]):
        parts.append(Text(f"  {human_bytes(size):>9}  {CAUSE_LABELS.get(cause, cause)}"))
    if not report.findings:
        parts.append(Text("  nothing found", style="green"))
    if report.findings:
        parts.append(findings_table(report, top))
    user = (
        "n/a" if math.isnan(dive.user_wasted_percent) else f"{100 * dive.user_wasted_percent:.2f}%"
    )
    parts.append(
        Text(
            f"  dive-compatible: efficiency {100 * dive.efficiency:.4f}%, "
            f"wasted {human_bytes(dive.wasted_bytes)} ({dive.wasted_bytes} bytes), "
            f"user wasted {user}, {len(dive.inefficient_files)} inefficient files",
            style="dim",
        )
    )
    return Group(*parts)


def findings_table(report: Report, top: int) -> Table:
    table = Table(show_edge=False, box=None, padding=(0, 1), show_header=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Layer", justify="right", no_wrap=True)
    table.add_column("What, and the fix", overflow="fold")
    for finding in report.findings[:top]:
        shown = ", ".join(safe(path) for path in finding.paths[:3])
        more = finding.path_count - min(3, len(finding.paths))
        what = Text()
        what.append(f"{finding.title}: {shown}" + (f" (+{more} more)" if more > 0 else ""))
        made_by = (
            layer_instruction(report, report.image.layers[finding.layer])
            if finding.layer is not None
            else finding.created_by
        )
        what.append(f"\n{one_line(made_by, _COMMAND_WIDTH)}", style="dim")
        what.append(f"\nfix: {finding.fix}", style="cyan")
        table.add_row(
            human_bytes(finding.bytes),
            str(finding.layer) if finding.layer is not None else "",
            what,
        )
    return table


def build(report: Report, width: int | None, top: int) -> RenderableType:
    parts: list[RenderableType] = [
        summary_line(report),
        Text(""),
        layer_table(report, width),
        Text(""),
    ]
    parts.append(_paths_table("Largest files", report.largest_files[:top], show_layer=True))
    parts.append(Text(""))
    parts.append(
        _paths_table("Largest directories", report.largest_directories[:top], show_layer=False)
    )
    parts.append(Text(""))
    if report.packages is not None and report.packages.packages:
        parts += [largest_packages_table(report.packages, top), Text("")]
    parts.append(waste_section(report, top))
    for warning in report.image.warnings:
        parts.append(Text(f"warning: {safe(warning)}", style="yellow"))
    return Group(*parts)


class TextRenderer:
    """Renders through rich; ``color`` False gives plain text (files, NO_COLOR, pipes)."""

    def __init__(self, *, color: bool, width: int | None = None, top: int = 10) -> None:
        self._color = color
        self._width = width
        self._top = top

    def print(self, report: Report, console: Console) -> None:
        console.print(title_line(report), soft_wrap=True)
        console.print(build(report, _COMMAND_WIDTH, self._top))

    def render(self, report: Report) -> str:
        console = Console(  # recorded, not printed: export_text gives the document
            width=self._width or 120,
            no_color=not self._color,
            record=True,
            file=io.StringIO(),
            color_system="standard" if self._color else None,
        )
        self.print(report, console)
        return console.export_text(styles=self._color)
