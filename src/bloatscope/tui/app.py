"""``bloatscope explore``: the Textual app. Layers on the left with their details, the image's
details, the findings and the packages; the file tree of the chosen layer on the right.

The image is read in a worker thread: the layer list comes first (from the manifest and config
alone), the file tree when the analysis is done, with a progress bar meanwhile."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Label,
    ProgressBar,
    TabbedContent,
    TabPane,
)

from bloatscope.cli_common import EXIT_BAD_INPUT, EXIT_INTERNAL
from bloatscope.explore.base import CompareMode, SortOrder, ViewOptions
from bloatscope.model.tree import DiffState
from bloatscope.render.escape import safe
from bloatscope.render.units import human_bytes
from bloatscope.tui.details import DetailsPane, image_details, layer_details
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.layers import LayerLine, LayersTable
from bloatscope.tui.screens import HelpScreen, PreviewScreen
from bloatscope.tui.tables import FindingsTable, PackagesTable

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.notifications import SeverityLevel

    from bloatscope.api import AnalyzeOptions
    from bloatscope.explore.compare import TreeCache
    from bloatscope.explore.view import TreeView
    from bloatscope.model.entry import FileEntry
    from bloatscope.model.outline import ImageOutline
    from bloatscope.model.report import Report
    from bloatscope.reader.extract import Extracted
    from bloatscope.reader.file_content import FileContent, LayerFiles

_TREES_KEPT = 4  # built trees kept for quick switching back; each holds every path
_PREVIEW_BYTES = 256 << 10
_TITLES = {
    CompareMode.LAYER: "Current Layer Contents",
    CompareMode.AGGREGATED: "Aggregated Layer Contents",
}
_KIND_KEYS = {
    "added": DiffState.ADDED,
    "modified": DiffState.MODIFIED,
    "removed": DiffState.REMOVED,
    "unmodified": DiffState.UNMODIFIED,
}


def _one_line(error: Exception) -> str:
    """What went wrong, on one line: an OSError as the command line words it."""
    from bloatscope.errors import BloatscopeError, os_error_line  # noqa: PLC0415

    if isinstance(error, OSError) and not isinstance(error, BloatscopeError):
        return safe(os_error_line(error))
    if isinstance(error, BloatscopeError):
        return safe(str(error))
    return safe(f"internal error: {type(error).__name__}: {error}")


def _outline_lines(sketch: ImageOutline) -> list[LayerLine]:
    """Before the layers are read: their compressed sizes, marked as such."""
    return [
        LayerLine(layer.compressed_size_bytes, layer.created_by, exact=False)
        for layer in sketch.layers
    ]


class AppClosing(Exception):
    """The app quit while a worker thread was still at work: the worker stops where it can."""


class ThreadProgress:
    """The core's progress observer, drawn by the app. Calls come from the reading thread (the
    reader reports its pool's work from there too); once the app is closing they raise
    AppClosing there, which stops the read if the cancel flag has not yet. Updates are thinned
    to ~20 a second, so drawing never slows the read."""

    def __init__(self, app: ExploreApp) -> None:
        self._app = app
        self._done = 0
        self._shown = 0.0
        self._reading_thread = threading.get_ident()

    def start(self, label: str, total: int) -> None:
        self._done = 0
        self._show(self._app.progress_start, label, total)

    def advance(self, amount: int) -> None:
        self._done += amount
        now = time.monotonic()
        if now - self._shown >= 0.05:
            self._shown = now
            self._show(self._app.progress_to, self._done)

    def finish(self) -> None:
        self._show(self._app.progress_to, self._done)

    def _show(self, update: Callable[..., None], *args: object) -> None:
        try:
            self._app.from_worker(update, *args)
        except AppClosing:
            if threading.get_ident() == self._reading_thread:
                raise  # the read stops here, and the command exits without waiting for it


class ExploreApp(App[int]):
    """Returns the exit code: 0, 2 when the image could not be read, 3 on an internal error
    while it was read (``failure``, which the command raises again for cli.main)."""

    TITLE = "bloatscope explore"
    # Textual's ctrl+p palette (themes, screenshots) is not one of explore's keys: the help
    # lists every key there is
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #left { width: 45%; min-width: 40; border-right: vkey $panel-lighten-2; }
    #right { width: 1fr; }
    .pane-title { background: $boost; text-style: bold; width: 100%; padding: 0 1; }
    #tree-progress { margin: 1 2; }
    #filter, #search { display: none; dock: bottom; }
    #filter.visible, #search.visible { display: block; }
    TabbedContent { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", priority=True),
        # not a priority key: on the help and preview screens q closes the screen, in a text box
        # it is a letter
        Binding("q", "quit", "Quit", show=False),
        Binding("question_mark", "help", "Keys"),
        # ctrl+/ reaches Textual as ctrl+_ (0x1f) from most terminals
        Binding("ctrl+f,ctrl+slash,ctrl+underscore", "open_filter", "Filter"),
        Binding("slash", "open_search", "Search"),
        Binding("n", "find(False)", "Next", show=False),
        Binding("N", "find(True)", "Previous", show=False),
        Binding("ctrl+b", "attributes", "Attributes", show=False),
        Binding("ctrl+o", "sort", "Sort"),
        Binding("A", "hide('added')", "Hide added", show=False),
        Binding("M", "hide('modified')", "Hide modified", show=False),
        Binding("R,ctrl+r", "hide('removed')", "Hide removed", show=False),
        Binding("U,ctrl+u", "hide('unmodified')", "Hide unmodified", show=False),
        Binding("enter,v", "preview", "View", show=False),
        Binding("ctrl+e,x", "extract", "Extract"),
        Binding("y", "copy_path", "Copy path", show=False),
        Binding("l", "tab('layer-tab')", "Layer", show=False),
        Binding("i", "tab('image-tab')", "Image", show=False),
        Binding("f", "tab('findings-tab')", "Findings"),
        Binding("p", "tab('packages-tab')", "Packages"),
    ]

    def __init__(
        self,
        reference: str,
        options: AnalyzeOptions,
        *,
        outline: ImageOutline | None = None,
        extract_to: str = ".",
    ) -> None:
        super().__init__()
        self.reference = reference
        self.outline = outline
        self.options = options
        self.extract_to = extract_to
        self.report: Report | None = None
        self.mode = CompareMode.LAYER
        self.view_options = ViewOptions()
        self.layer = 0
        self.search_text = ""
        self._trees: TreeCache | None = None
        self._files: LayerFiles | None = None  # the image opened once for previews and extracts
        self._view: TreeView | None = None
        self.error: str | None = None  # why the image could not be read, on one line
        self.failure: Exception | None = None  # a bug that stopped the read: the command raises it
        self.extracted: Extracted | None = None  # the last extraction, for the tests
        # set on the UI thread when the app starts to exit; also the analysis's cancel flag
        self._exiting = threading.Event()
        self.read_cancelled = False  # the analysis stopped at that flag (for the tests)

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield Label("Layers", classes="pane-title")
                yield LayersTable(id="layers")
                with TabbedContent(initial="layer-tab"):
                    with TabPane("Layer", id="layer-tab"):
                        yield DetailsPane("Reading the image…", id="layer-details")
                    with TabPane("Image", id="image-tab"):
                        yield DetailsPane("Reading the image…", id="image-details")
                    with TabPane("Findings", id="findings-tab"):
                        yield FindingsTable(id="findings")
                    with TabPane("Packages", id="packages-tab"):
                        yield PackagesTable(id="packages")
            with Vertical(id="right"):
                yield Label(_TITLES[self.mode], id="tree-title", classes="pane-title")
                yield ProgressBar(id="tree-progress", show_eta=True)
                yield FileTreeView(id="tree")
                yield Input(placeholder="filter: a regular expression on the path", id="filter")
                yield Input(placeholder="search: part of a file name", id="search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LayersTable).focus()
        if self.outline is not None:  # the layer list at once; the tree when the read is done
            self.show_layers(_outline_lines(self.outline))
        self.load()

    # -- reading the image (a worker thread) -------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        from bloatscope.api import analyze, outline  # noqa: PLC0415 - off the UI thread
        from bloatscope.errors import BloatscopeError, Cancelled  # noqa: PLC0415

        # quitting sets the flag: the analysis stops within moments, its worker processes
        # gone, so the app exits at once instead of when the read would have ended
        options = replace(self.options, cancel=self._exiting)
        try:
            if self.outline is None:
                sketch = outline(self.reference, self.options.platform)
                self.from_worker(self.show_layers, _outline_lines(sketch))
            report = analyze(self.reference, options, ThreadProgress(self))
            self.from_worker(self.show_report, report)
        except Cancelled:
            self.read_cancelled = True  # quit while reading: nobody is waiting for the report
        except AppClosing:
            return  # the same, noticed by the progress bar before the flag
        except (BloatscopeError, OSError) as error:
            self._from_worker_if_open(self.fail, _one_line(error), EXIT_BAD_INPUT)
        except Exception as error:  # a bug: the command says so, as for any other command
            self.failure = error
            self._from_worker_if_open(self.fail, _one_line(error), EXIT_INTERNAL)

    def exit(
        self, result: int | None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        self._exiting.set()  # before the screen goes: worker threads stop drawing from now on
        super().exit(result, return_code, message)

    def from_worker(self, update: Callable[..., None], *args: object) -> None:
        """Runs ``update(*args)`` on the UI thread and waits for it; raises AppClosing (and
        runs nothing) once the app is exiting, so that a worker thread never draws on a
        screen that is gone."""
        if not self._exiting.is_set():
            try:
                self.call_from_thread(self._unless_exiting, update, *args)
                return
            except RuntimeError:
                if self.is_running and not self._exiting.is_set():
                    raise  # from update itself: a bug, not the app going
        raise AppClosing

    def _unless_exiting(self, update: Callable[..., None], *args: object) -> None:
        if self._exiting.is_set():  # checked on the UI thread, where exit() sets it
            raise AppClosing
        update(*args)

    def _from_worker_if_open(self, update: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(AppClosing):
            self.from_worker(update, *args)

    def progress_start(self, label: str, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=total, progress=0)
        self.query_one("#tree-title", Label).update(f"{label}…")

    def progress_to(self, done: int) -> None:
        self.query_one(ProgressBar).update(progress=done)

    def fail(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        # the command line prints it, on one line, once the terminal is back
        self.error = message
        self.exit(code, return_code=code)

    def show_layers(self, lines: list[LayerLine]) -> None:
        self.query_one(LayersTable).set_lines(lines)

    def show_report(self, report: Report) -> None:
        self.report = report
        lines = [
            LayerLine(
                layer.size_bytes,
                layer.created_by,
                exact=True,
                wasted=report.reclaimable_in_layer(layer.index),
            )
            for layer in report.image.layers
        ]
        self.query_one(LayersTable).set_lines(lines)
        self.query_one(ProgressBar).display = False
        self.query_one("#image-details", DetailsPane).show_text(image_details(report))
        self.query_one(FindingsTable).set_findings(report.findings)
        if report.packages is not None:
            self.query_one(PackagesTable).set_packages(report.packages.packages)
        self.select_layer(self.query_one(LayersTable).cursor_row)

    # -- the tree of the chosen layer ---------------------------------------------------------

    def select_layer(self, layer: int) -> None:
        from bloatscope.explore.view import TreeView  # noqa: PLC0415

        if self.report is None or not 0 <= layer < len(self.report.image.layers):
            return
        self.layer = layer
        tree_pane = self.query_one(FileTreeView)
        keep = tree_pane.current_path()
        if self._trees is None:
            from bloatscope.explore.compare import TreeCache  # noqa: PLC0415

            # opaque whiteouts applied, unlike dive: otherwise a directory a layer replaced
            # shows its deleted files as still there (docs/explore.md)
            self._trees = TreeCache(self.report, keep=_TREES_KEPT, honor_opaque=True)
        view = TreeView(self._trees.tree(layer, self.mode))
        try:
            view.set_options(self.view_options)
        except re.error:  # cannot happen: a pattern is checked before it is kept
            self.view_options = replace(self.view_options, pattern=None)
        self._view = view
        tree_pane.show(view, keep=keep)
        title = f"{_TITLES[self.mode]} (layer {layer})"  # one line, the pane's width: no layout
        self.query_one("#tree-title", Label).update(title, layout=False)
        self.query_one("#layer-details", DetailsPane).show_text(layer_details(self.report, layer))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, LayersTable) and event.cursor_row != self.layer:
            self.select_layer(event.cursor_row)

    def on_layers_table_mode_changed(self, event: LayersTable.ModeChanged) -> None:
        self.mode = event.mode
        self.select_layer(self.layer)

    def _apply(self, options: ViewOptions) -> bool:
        """Show the tree with other options; False (and a message) for a bad pattern."""
        if self._view is not None:
            tree = self.query_one(FileTreeView)
            keep = tree.current_path()
            try:
                self._view.set_options(options)
            except re.error as error:
                self.tell(f"not a regular expression: {error}", "error")
                return False
            tree.changed(keep)
        self.view_options = options
        return True

    def action_hide(self, kind: str) -> None:
        state = _KIND_KEYS[kind]
        hidden = self.view_options.hidden ^ {state}
        self._apply(replace(self.view_options, hidden=frozenset(hidden)))
        shown = "hidden" if state in hidden else "shown"
        self.tell(f"{kind} files {shown}", timeout=2)

    def action_sort(self) -> None:
        order = SortOrder.SIZE if self.view_options.sort is SortOrder.NAME else SortOrder.NAME
        self._apply(replace(self.view_options, sort=order))
        self.tell(f"sorted by {order.value}", timeout=2)

    def action_attributes(self) -> None:
        tree = self.query_one(FileTreeView)
        tree.show_attributes = not tree.show_attributes

    # -- filter and search ---------------------------------------------------------------------

    def action_open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self.view_options.pattern or ""
        box.add_class("visible")
        box.focus()

    def action_open_search(self) -> None:
        box = self.query_one("#search", Input)
        box.value = self.search_text
        box.add_class("visible")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            # live, as in dive; a half-typed pattern that does not compile waits for more
            pattern = event.value or None
            try:
                if pattern is not None:
                    re.compile(pattern)
            except re.error:
                return
            self._apply(replace(self.view_options, pattern=pattern))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.remove_class("visible")
        if event.input.id == "search":
            self.search_text = event.value
            self.query_one(FileTreeView).focus()
            self.action_find(False)
        else:
            self._apply(replace(self.view_options, pattern=event.value or None))
            self.query_one(FileTreeView).focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key == "escape":
            for box in self.query(Input):
                if box.has_class("visible"):
                    box.remove_class("visible")
                    self.query_one(FileTreeView).focus()

    def action_find(self, backwards: bool) -> None:
        tree = self.query_one(FileTreeView)
        if not self.search_text or self._view is None:
            return
        found = self._view.find(self.search_text, tree.cursor, backwards=backwards)
        if found is None:
            self.tell(f"no file name contains {self.search_text!r}", "warning")
            return
        tree.changed(self._view.row(found).path)

    # -- findings and packages -------------------------------------------------------------

    def on_findings_table_chosen(self, event: FindingsTable.Chosen) -> None:
        from bloatscope.explore.links import finding_paths  # noqa: PLC0415

        assert self.report is not None
        paths = finding_paths(self.report, event.finding)
        self._choose_layer(event.finding.layer)
        self._highlight(frozenset(paths), paths[0] if paths else None)

    def on_packages_table_chosen(self, event: PackagesTable.Chosen) -> None:
        from bloatscope.explore.links import package_paths  # noqa: PLC0415

        assert self.report is not None
        paths = package_paths(self.report, event.package)
        self._choose_layer(event.package.layer)  # the layer that wrote most of its bytes
        self._highlight(paths, min(paths) if paths else None)
        self.tell(f"{len(paths)} file(s) of {event.package.name} highlighted", timeout=3)

    def _choose_layer(self, layer: int | None) -> None:
        if layer is not None:
            self.query_one(LayersTable).move_cursor(row=layer)
            self.select_layer(layer)

    def _highlight(self, paths: frozenset[str], first: str | None) -> None:
        tree = self.query_one(FileTreeView)
        tree.highlighted = paths
        if first is not None and self._view is not None:
            self._view.reveal(first)  # its directories opened, unless the options hide it
            tree.changed(first)
        tree.refresh()
        tree.focus()

    # -- one file ---------------------------------------------------------------------------

    def action_preview(self) -> None:
        tree = self.query_one(FileTreeView)
        row = tree.current_row()
        if row is None or self.report is None:
            return
        if row.is_dir:
            tree.action_toggle_dir()
            return
        self.read_preview(row.path, self._layer_of(row.path))

    def _open_files(self) -> LayerFiles:
        """The image opened once (in a worker thread) for every preview and extract, with the
        analysis's layers, so that no layer is scanned a second time."""
        if self._files is None:
            from bloatscope.api import open_files  # noqa: PLC0415

            assert self.report is not None
            files = open_files(self.reference, self.options.platform)
            for layer in self.report.image.layers:
                files.add_layer(layer)
            self._files = files
        return self._files

    @work(thread=True, exclusive=True, group="file")
    def read_preview(self, path: str, layer: int) -> None:
        try:  # a deep read of a gzip layer takes seconds: never on the UI thread
            content = self._open_files().read(layer, path, _PREVIEW_BYTES)
        except Exception as error:  # a bug too: said in a message, and the session goes on
            self._from_worker_if_open(self.tell, _one_line(error), "error")
            return
        self._from_worker_if_open(self.show_preview, path, layer, content)

    def show_preview(self, path: str, layer: int, content: FileContent) -> None:
        from bloatscope.render.preview import preview_lines  # noqa: PLC0415

        title = f"/{path} as layer {layer} wrote it ({human_bytes(content.size)}"
        title += (
            f", the first {human_bytes(len(content.data))} shown)" if content.truncated else ")"
        )
        lines = preview_lines(content.data, limit=_PREVIEW_BYTES, truncated=content.truncated)
        self.push_screen(PreviewScreen(title, lines))

    def _layer_of(self, path: str) -> int:
        """The layer whose version of ``path`` the tree shows (for a removed path, the layer
        that wrote what was removed)."""
        shown = self._view.tree.get(path) if self._view is not None else None
        return shown.layer if shown is not None else self.layer

    def action_extract(self) -> None:
        from bloatscope.explore.links import shown_under  # noqa: PLC0415

        row = self.query_one(FileTreeView).current_row()
        if row is None or self._view is None:
            return
        # a directory comes out as the tree lists it: each file from the layer that wrote the
        # version shown, removed ones left out
        listing = shown_under(self._view.tree, row.path) if row.is_dir else None
        self.extract_path(row.path, self._layer_of(row.path), listing)

    @work(thread=True, exclusive=True, group="file")
    def extract_path(
        self, path: str, layer: int, listing: list[tuple[int, FileEntry]] | None
    ) -> None:
        from bloatscope.reader.extract import extract, extract_listing  # noqa: PLC0415

        try:
            files = self._open_files()
            if listing is None:
                done = extract(files, layer, path, self.extract_to)
            else:
                done = extract_listing(files, path, listing, self.extract_to)
        except Exception as error:  # a bug too: said in a message, and the session goes on
            self._from_worker_if_open(self.tell, _one_line(error), "error")
            return
        where = os.path.abspath(self.extract_to)
        source = f"layer {layer}" if listing is None else f"the tree of layer {self.layer}"
        message = (
            f"extracted {len(done.written)} file(s), {human_bytes(done.bytes_written)}, "
            f"of /{path} from {source} into {where}"
        )
        if done.skipped:
            message += f"; left out {len(done.skipped)}: {'; '.join(done.skipped[:3])}"
        self.extracted = done
        severity = "warning" if done.skipped else "information"
        self._from_worker_if_open(self.tell, message, severity)

    def action_copy_path(self) -> None:
        path = self.query_one(FileTreeView).current_path()
        if path is not None:
            self.copy_to_clipboard("/" + path)
            self.tell(f"copied /{path}", timeout=2)

    def tell(
        self, message: str, severity: SeverityLevel = "information", timeout: float = 5
    ) -> None:
        """A notification; paths from the image in it are shown escaped, never as markup."""
        self.notify(safe(message), severity=severity, timeout=timeout, markup=False)

    def on_unmount(self) -> None:
        self._exiting.set()  # however the app ends: a read still going stops
        if self._files is not None:
            self._files.close()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
