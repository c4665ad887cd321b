"""SVG snapshots of explore's main screens, on the sample image (shipped in the package, so the
same bytes everywhere) and on waste-zoo (built by the corpus script). A changed screen fails
until a person looks at the new one and accepts it with ``pytest --snapshot-update``.

waste-zoo is rebuilt with whatever Debian's mirror serves that day, so its sizes change from
build to build: its snapshots hold for the build they were taken on (its config digest below),
and are skipped, saying so, on another."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from bloatscope.api import AnalyzeOptions, outline
from bloatscope.explore.base import CompareMode
from bloatscope.tui.app import ExploreApp
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.tables import FindingsTable

REPO = Path(__file__).resolve().parents[2]
SAMPLE = "src/bloatscope/sample/sample.oci.tar"  # relative: the Image tab shows the reference
WASTE_ZOO_SNAPSHOT_BUILD = "sha256:61a4619f71a6d7a1c463fefc353b32446cece700210a0d52cc0e9743e99efaaf"
SMALL = (80, 24)
LARGE = (160, 48)

Snap = Callable[..., bool]


@pytest.fixture(autouse=True)
def _from_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def _app(reference: str) -> ExploreApp:
    return ExploreApp(reference, AnalyzeOptions(workers=1, min_finding_bytes=10_000))


async def _loaded(pilot: Pilot[int]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _then(
    *steps: Callable[[Pilot[int]], Awaitable[None]],
) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run(pilot: Pilot[int]) -> None:
        await _loaded(pilot)
        for step in steps:
            await step(pilot)
            await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run


def _keys(*keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def press(pilot: Pilot[int]) -> None:
        await pilot.press(*keys)

    return press


async def _focus_tree(pilot: Pilot[int]) -> None:
    pilot.app.query_one(FileTreeView).focus()


@pytest.fixture
def waste_zoo(corpus_dir: Path) -> Iterator[str]:
    reference = str(corpus_dir / "waste-zoo.oci.tar")
    built = outline(reference).image_id
    if built != WASTE_ZOO_SNAPSHOT_BUILD:
        pytest.skip(
            f"waste-zoo was rebuilt ({built[:19]}…); its snapshots were taken on "
            f"{WASTE_ZOO_SNAPSHOT_BUILD[:19]}…: review and accept new ones with --snapshot-update"
        )
    yield reference


# -- the sample image ------------------------------------------------------------------------


def test_sample_first_screen_small(snap_compare: Snap) -> None:
    assert snap_compare(_app(SAMPLE), terminal_size=SMALL, run_before=_then())


def test_sample_first_screen_large(snap_compare: Snap) -> None:
    assert snap_compare(_app(SAMPLE), terminal_size=LARGE, run_before=_then())


def test_sample_layer_with_removals_and_findings(snap_compare: Snap) -> None:
    # layer 10 removes files (red) and modifies others (yellow); the findings tab beside it
    steps = _then(_keys(*["down"] * 10, "f"))
    assert snap_compare(_app(SAMPLE), terminal_size=LARGE, run_before=steps)


def test_sample_aggregated_by_size_without_attributes(snap_compare: Snap) -> None:
    steps = _then(_keys(*["down"] * 11, "ctrl+a"), _focus_tree, _keys("ctrl+o", "ctrl+b"))
    assert snap_compare(_app(SAMPLE), terminal_size=LARGE, run_before=steps)


def test_sample_image_details(snap_compare: Snap) -> None:
    assert snap_compare(_app(SAMPLE), terminal_size=LARGE, run_before=_then(_keys("i")))


def test_sample_help(snap_compare: Snap) -> None:
    assert snap_compare(_app(SAMPLE), terminal_size=LARGE, run_before=_then(_keys("question_mark")))


def test_sample_preview_of_a_text_file(snap_compare: Snap) -> None:
    async def open_passwd(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ExploreApp)
        tree = app.query_one(FileTreeView)
        tree.focus()
        assert tree.view is not None
        found = tree.view.reveal("etc/passwd")
        assert found is not None
        tree.changed()
        tree.cursor = found
        await pilot.press("enter")

    steps = _then(open_passwd)
    assert snap_compare(_app(SAMPLE), terminal_size=SMALL, run_before=steps)


def test_sample_without_colour(snap_compare: Snap, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made
    app = _app(SAMPLE)
    steps = _then(_keys(*["down"] * 10))
    assert snap_compare(app, terminal_size=SMALL, run_before=steps)
    assert app.no_color


# -- waste-zoo ---------------------------------------------------------------------------------


def test_waste_zoo_findings_jump(snap_compare: Snap, waste_zoo: str) -> None:
    # choosing the largest "deleted in a later layer" finding shows its layer and its files
    async def choose(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ExploreApp)
        await pilot.press("f")
        table = app.query_one(FindingsTable)
        table.focus()
        row = next(i for i, f in enumerate(table.findings) if f.cause == "deleted")
        table.move_cursor(row=row)
        await pilot.pause()
        await pilot.press("enter")

    assert snap_compare(_app(waste_zoo), terminal_size=LARGE, run_before=_then(choose))


def test_waste_zoo_aggregated_small(snap_compare: Snap, waste_zoo: str) -> None:
    async def last_layer_aggregated(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ExploreApp)
        await pilot.press(*["down"] * 11, "ctrl+a")
        assert app.mode is CompareMode.AGGREGATED

    steps = _then(last_layer_aggregated, _focus_tree, _keys("ctrl+o"))
    assert snap_compare(_app(waste_zoo), terminal_size=SMALL, run_before=steps)


def test_waste_zoo_packages(snap_compare: Snap, waste_zoo: str) -> None:
    assert snap_compare(_app(waste_zoo), terminal_size=LARGE, run_before=_then(_keys("p")))
