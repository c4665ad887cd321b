"""The findings and packages panes: bloatscope's causes of waste with their bytes and fixes,
and the image's packages by size. Selecting a row tells the app which files and layer to
show; the app does the jumping."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from bloatscope.model.finding import Finding, Severity
from bloatscope.model.package import Package
from bloatscope.render.escape import one_line, safe
from bloatscope.render.units import human_bytes

_SEVERITY_STYLES = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "dim"}


class FindingsTable(DataTable[Text]):
    """One row per finding, largest first, as the report orders them."""

    class Chosen(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.findings: tuple[Finding, ...] = ()

    def on_mount(self) -> None:
        for label, width in (("Bytes", 9), ("Layer", 5), ("Cause", 40), ("Fix", None)):
            self.add_column(label, width=width)

    def set_findings(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings
        self.clear()
        for index, finding in enumerate(findings):
            self.add_row(
                Text(human_bytes(finding.bytes), justify="right"),
                Text("" if finding.layer is None else str(finding.layer), justify="right"),
                Text(one_line(finding.title, 40), style=_SEVERITY_STYLES[finding.severity]),
                Text(one_line(finding.fix, 300)),
                key=str(index),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.findings[event.cursor_row]))


class PackagesTable(DataTable[Text]):
    """Packages by the bytes they hold in the final tree, largest first."""

    class Chosen(Message):
        def __init__(self, package: Package) -> None:
            super().__init__()
            self.package = package

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.packages: tuple[Package, ...] = ()

    def on_mount(self) -> None:
        for label, width in (
            ("Size", 9),
            ("Kind", 6),
            ("Package", 34),
            ("Layer", 5),
            ("Note", None),
        ):
            self.add_column(label, width=width)

    def set_packages(self, packages: tuple[Package, ...]) -> None:
        self.packages = tuple(sorted(packages, key=lambda p: (-p.size_bytes, p.name)))
        self.clear()
        for index, package in enumerate(self.packages):
            note = f"dev: {package.dev_only}" if package.dev_only else ""
            self.add_row(
                Text(human_bytes(package.size_bytes), justify="right"),
                Text(package.ecosystem.value),
                Text(safe(f"{package.name} {package.record.version}")),
                Text("" if package.layer is None else str(package.layer), justify="right"),
                Text(one_line(note, 200), style="yellow" if note else ""),
                key=str(index),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.packages[event.cursor_row]))
