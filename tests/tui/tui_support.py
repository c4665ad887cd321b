"""Driving explore under Textual's pilot for the key and mouse tests: the app on a real image,
what its panes show (the lines they draw, the screen's strips after Textual's filters), the
keys a terminal's bytes turn into, and the trees the browsing model gives, to compare with."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.segment import Segment
from textual._xterm_parser import XTermParser
from textual.events import Key
from textual.pilot import Pilot
from textual.widgets import Label

from bloatscope.api import AnalyzeOptions, outline
from bloatscope.explore.base import CompareMode, ViewOptions
from bloatscope.explore.compare import TreeCache
from bloatscope.explore.view import TreeView
from bloatscope.model.report import Report
from bloatscope.tui.app import ExploreApp
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.layers import LayersTable

REPO = Path(__file__).resolve().parents[2]
SAMPLE = str(REPO / "src/bloatscope/sample/sample.oci.tar")
OPTIONS = AnalyzeOptions(workers=1, min_finding_bytes=10_000)
SIZE = (120, 40)

Script = Callable[[Pilot[int]], Awaitable[None]]


def make_app(reference: str, extract_to: Path | str = ".") -> ExploreApp:
    """The app as ``bloatscope explore`` makes it: the outline read first. Without Textual's
    animations (a tab's sliding underline takes 18 frames), as TEXTUAL_ANIMATIONS=none has it:
    the pilot waits for every frame, and the states the tests look at are the same."""
    app = ExploreApp(reference, OPTIONS, outline=outline(reference), extract_to=str(extract_to))
    app.animation_level = "none"
    return app


def drive(app: ExploreApp, script: Script, size: tuple[int, int] = SIZE) -> None:
    """Runs ``script`` against the app once the image is read (sync tests: no pytest-asyncio)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await script(pilot)

    asyncio.run(main())


async def settle(pilot: Pilot[int]) -> None:
    """Waits for the app's workers (the read, a preview, an extract) and what they draw. After
    a key alone the pilot has waited already: the app went idle once the key was handled."""
    if any(not worker.is_finished for worker in pilot.app.workers):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def press(pilot: Pilot[int], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def typed(data: str) -> list[str]:
    """The key names Textual makes of what a terminal sends (``"\\x00"`` for ctrl+space)."""
    return [event.key for event in XTermParser().feed(data) if isinstance(event, Key)]


def app_of(pilot: Pilot[int]) -> ExploreApp:
    app = pilot.app
    assert isinstance(app, ExploreApp)
    return app


def tree_of(pilot: Pilot[int]) -> FileTreeView:
    return pilot.app.query_one(FileTreeView)


async def choose_layer(pilot: Pilot[int], layer: int) -> None:
    """Moves the layers pane's cursor there at once (the keys that do it are tested on their
    own; each costs a pilot round trip)."""
    pilot.app.query_one(LayersTable).move_cursor(row=layer)
    await pilot.pause()  # the table tells the app in a message
    await settle(pilot)


async def focus_tree(pilot: Pilot[int]) -> FileTreeView:
    tree = tree_of(pilot)
    tree.focus()
    await pilot.pause()
    return tree


def shown_paths(tree: FileTreeView) -> list[str]:
    """Every line the tree pane holds, by path (on screen or scrolled away)."""
    assert tree.view is not None
    return [row.path for row in tree.view]


def drawn_lines(tree: FileTreeView) -> list[str]:
    """The text of the lines the tree pane draws now."""
    return [tree.render_line(y).text for y in range(tree.size.height)]


def label_text(pilot: Pilot[int], selector: str) -> str:
    return str(pilot.app.query_one(selector, Label).render())


def screen_strips(app: ExploreApp) -> list[list[Segment]]:
    """The whole screen as the terminal gets it: every widget's lines after Textual's line
    filters (NO_COLOR's among them), modal screens and notifications included; one list of
    segments per line."""
    lines = app.screen._compositor.render_full_update().strips  # each line: a list of strips
    return [[segment for strip in line for segment in strip] for line in lines]


def screen_text(app: ExploreApp) -> str:
    return "\n".join("".join(s.text for s in line) for line in screen_strips(app))


def messages(app: ExploreApp) -> list[str]:
    """The notifications shown, oldest first."""
    return [note.message for note in app._notifications]


def model_tree(report: Report, layer: int, mode: CompareMode, options: ViewOptions) -> TreeView:
    """The lines the browsing model gives for a layer, as the app builds its trees."""
    return TreeView(TreeCache(report, honor_opaque=True).tree(layer, mode), options)


def rows_with_states(view: TreeView) -> list[tuple[str, str]]:
    return [(row.path, row.state.name) for row in view]
