"""Extracting a directory as the file tree shows it: each file from the layer that last wrote
it, removed files left out, rather than one layer's files alone."""

from __future__ import annotations

from pathlib import Path

from bloatscope.api import open_files, read_file
from bloatscope.explore.compare import TreeCache
from bloatscope.explore.links import shown_under
from bloatscope.model.entry import EntryType
from bloatscope.reader.extract import extract, extract_listing
from explore.support import LAYER, report_of
from synth import Layer


def test_a_directory_comes_out_as_the_tree_shows_it(tmp_path: Path) -> None:
    report = report_of(
        tmp_path,
        Layer().dir("app").file("app/a.txt", b"a from 0").file("app/gone.txt", b"doomed"),
        Layer().file("app/b.txt", b"b from 1").file("app/a.txt", b"a rewritten in 1"),
        Layer().whiteout("app/gone.txt").dir("app/sub").file("app/sub/c.txt", b"c from 2"),
    )
    tree = TreeCache(report).tree(2, LAYER)
    listing = shown_under(tree, "/app")
    shown = {entry.path: layer for layer, entry in listing}
    assert shown == {"app/a.txt": 1, "app/b.txt": 1, "app/sub": 2, "app/sub/c.txt": 2}

    reference = report.image.reference
    with open_files(reference) as files:
        for layer in report.image.layers:
            files.add_layer(layer)
        merged = extract_listing(files, "/app", listing, str(tmp_path / "merged"))
        one_layer = extract(files, 2, "/app", str(tmp_path / "one"))
    out = tmp_path / "merged"
    written = sorted(str(Path(p).relative_to(out)) for p in merged.written)
    assert written == ["a.txt", "b.txt", "sub/c.txt"]
    for layer, entry in listing:
        if entry.typeflag == EntryType.DIR:
            continue
        expected = read_file(reference, layer, entry.path, limit=1 << 20).data
        assert (out / entry.path.removeprefix("app/")).read_bytes() == expected
    assert (out / "a.txt").read_bytes() == b"a rewritten in 1"
    assert merged.bytes_written == len(b"a rewritten in 1") + len(b"b from 1") + len(b"c from 2")
    # one layer alone has only what layer 2 wrote beneath /app
    assert [Path(p).name for p in one_layer.written] == ["c.txt"]


def test_nothing_is_listed_under_a_path_the_tree_does_not_hold(tmp_path: Path) -> None:
    report = report_of(tmp_path, Layer().file("app/a.txt", b"a"))
    tree = TreeCache(report).tree(0, LAYER)
    assert shown_under(tree, "nope") == []
    # "app" has no entry of its own (the tar names only its file): made when written
    assert [entry.path for _, entry in shown_under(tree, "/")] == ["app/a.txt"]
