"""The tabs under the layers (l / f / p / i), tab and shift+tab between panes, and what choosing
a finding or a package does to the tree. On waste-zoo, which has findings of every kind,
Debian packages, and a layer that replaces a directory (an opaque whiteout)."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from textual.pilot import Pilot
from textual.widgets import TabbedContent
from tui_support import (
    app_of,
    choose_layer,
    drive,
    make_app,
    messages,
    press,
    screen_text,
    tree_of,
)

from bloatscope.explore.links import package_paths
from bloatscope.tui.filetree import FileTreeView
from bloatscope.tui.layers import LayersTable
from bloatscope.tui.tables import FindingsTable, PackagesTable


def _name_style(tree: FileTreeView, path: str) -> Style:
    """The style of the name on the line showing ``path`` (that line must be on screen)."""
    assert tree.view is not None
    line = tree.view.index_of(path)
    assert line is not None
    y = line - tree.scroll_offset.y
    assert 0 <= y < tree.size.height
    name = path.rpartition("/")[2]
    # the name's segment (cut at the pane's edge when long)
    segments = [s for s in tree.render_line(y) if s.text.strip() and f"{name}/".startswith(s.text)]
    assert segments, path
    style = segments[0].style
    assert style is not None
    return style


def test_tabs_findings_packages_and_a_replaced_directory(corpus_dir: Path) -> None:
    async def script(pilot: Pilot[int]) -> None:
        app = app_of(pilot)
        report = app.report
        assert report is not None and report.packages is not None
        tabs = app.query_one(TabbedContent)
        layers = app.query_one(LayersTable)
        tree = tree_of(pilot)

        # l / f / p / i from the layers pane
        for key, tab in (("f", "findings-tab"), ("p", "packages-tab"), ("i", "image-tab")):
            await press(pilot, key)
            assert tabs.active == tab, key
        image = screen_text(app)
        assert "Efficiency" in image and "/var/cache/apt/pkgcache.bin" in image
        await press(pilot, "l")
        assert tabs.active == "layer-tab"
        await choose_layer(pilot, 3)
        details = screen_text(app)
        assert "Digest:" in details and report.image.layers[3].diff_id[:40] in details
        assert "/opt/data.bin" in details

        # tab and shift+tab move between the panes
        await press(pilot, "f")
        findings = app.query_one(FindingsTable)
        await press(pilot, "tab", "tab")
        assert app.focused is findings
        await press(pilot, "tab")
        assert app.focused is tree
        await press(pilot, "shift+tab")
        assert app.focused is findings

        # a finding: its layer is chosen, its paths highlighted, the first one under the cursor
        row = next(i for i, f in enumerate(findings.findings) if f.cause == "package-cache")
        finding = findings.findings[row]
        assert finding.layer is not None and finding.layer != app.layer
        assert len(finding.paths) > 1
        findings.move_cursor(row=row)
        await press(pilot, "enter")
        paths = [p.strip("/") for p in finding.paths]
        assert (app.layer, layers.cursor_row) == (finding.layer, finding.layer)
        assert tree.highlighted == set(paths)
        assert tree.current_path() == paths[0] and app.focused is tree
        style = _name_style(tree, paths[1])  # highlighted, not under the cursor
        assert style.bold and style.underline
        assert not _name_style(tree, paths[0].rpartition("/")[0]).underline  # its directory

        # its paths are revealed even in collapsed directories
        await press(pilot, "minus")
        assert paths[0] not in [r.path for r in tree.view or ()]
        await press(pilot, "f")
        findings.focus()
        await press(pilot, "enter")
        assert tree.current_path() == paths[0]

        # a click on the row under the cursor chooses it too
        deleted = next(i for i, f in enumerate(findings.findings) if f.cause == "deleted")
        findings.focus()
        findings.move_cursor(row=deleted)
        await press(pilot)
        assert await pilot.click(FindingsTable, offset=(10, 1 + deleted - int(findings.scroll_y)))
        await press(pilot)
        assert app.layer == findings.findings[deleted].layer
        assert tree.current_path() == "tmp/build-artifact.tar"

        # a package: its layer chosen (here one the base layer does not have), its files
        # highlighted, the first by name under the cursor
        await choose_layer(pilot, 0)
        await press(pilot, "p")
        packages = app.query_one(PackagesTable)
        packages.focus()
        row = next(i for i, p in enumerate(packages.packages) if p.layer)
        package = packages.packages[row]
        packages.move_cursor(row=row)
        await press(pilot, "enter")
        files = package_paths(report, package)
        assert len(files) > 10 and tree.highlighted == files
        assert (app.layer, layers.cursor_row) == (package.layer, package.layer)
        assert tree.current_path() == min(files)
        assert messages(app)[-1] == f"{len(files)} file(s) of {package.name} highlighted"

        # layer 8 replaced /srv/assets (rm -rf, then mkdir and a new index.txt): the old files
        # show as removed, not as still there
        await choose_layer(pilot, 8)
        states = {r.path: r.state.name for r in tree.view or () if r.path.startswith("srv/")}
        assert states == {
            "srv/assets": "MODIFIED",
            "srv/assets/f1": "REMOVED",
            "srv/assets/f2": "REMOVED",
            "srv/assets/f3": "REMOVED",
            "srv/assets/index.txt": "ADDED",
        }

    drive(make_app(str(corpus_dir / "waste-zoo.oci.tar")), script)
