"""Measuring packages against a real (synthetic) image: listed paths resolved through
symlinked parents, hardlinks counted once, npm trees split at nested packages, bytes shipped in
every layer, what removal frees when files are shared, and the bytes no package owns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bloatscope.analysis.reclaimable import reclaimable, visible_content
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.catalog import image_files
from bloatscope.packages.inventory import Inventory
from bloatscope.reader.image_reader import ReadOptions, read_image
from bloatscope.reader.layer import Capture
from synth import Image, Layer, write_skopeo_archive

DPKG = Ecosystem.DPKG


@pytest.fixture(scope="module")
def image_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = (
        Layer()
        .dir("usr")
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .file("usr/lib/libc.so.6", b"c" * 1000)
        .hardlink("usr/lib/libc-link.so", "usr/lib/libc.so.6")
        .file("usr/lib/libz.so", b"z" * 300)
        .hardlink("usr/lib/libz-again.so", "usr/lib/libz.so")
        .file("usr/bin/tool", b"t" * 50)
        .file("etc/hostname", b"h" * 7)
    )
    upgrade = (
        Layer()
        .file("usr/lib/libz.so", b"Z" * 400)  # rewritten: 300 bytes shipped, hidden
        .file("app/node_modules/a/index.js", b"a" * 20)
        .file("app/node_modules/a/package.json", b"{}")
        .file("app/node_modules/a/node_modules/b/index.js", b"b" * 30)
        .file("app/node_modules/@s/c/lib/x.js", b"x" * 40)
        .file("app/main.js", b"m" * 5)
        .file("etc/hostname", b"H" * 9)  # rewritten: layer 0's 7 bytes still ship
    )
    image = Image([base.build(), upgrade.build()])
    return write_skopeo_archive(tmp_path_factory.mktemp("attr") / "image.tar", image)


def inventory(image_path: Path, records: list[PackageRecord]) -> Inventory:
    result = read_image(str(image_path))
    nodes = result.filesystem.walk()
    hidden = reclaimable(result.image, result.filesystem, result.changes, visible_content(nodes))
    return Inventory(records, result.image, result.filesystem, nodes, hidden.files)


def test_listed_paths_resolve_through_symlinked_parents_and_hardlinks_count_once(
    image_path: Path,
) -> None:
    libc = PackageRecord(
        DPKG,
        "libc6",
        "1",
        "s",
        files=("/lib", "/lib/libc.so.6", "/usr/lib", "/usr/lib/libc-link.so"),
    )
    zlib = PackageRecord(
        DPKG, "zlib", "1", "s", files=("/lib/libz.so", "/usr/lib/libz.so", "/lib/libz-again.so")
    )
    found = inventory(image_path, [libc, zlib])
    by_name = {p.name: p for p in found.packages}
    assert by_name["libc6"].size_bytes == 1000  # a file and its hardlink: one content
    assert by_name["libc6"].file_count == 2
    assert by_name["libc6"].layers == (0,)
    assert by_name["libc6"].layer == 0
    # libz.so was rewritten in layer 1 (400 bytes) while its hardlink keeps layer 0's 300
    # bytes visible; 300 + 400 shipped across two layers (the hardlink itself ships none)
    assert by_name["zlib"].size_bytes == 700
    assert by_name["zlib"].shipped_bytes == 700
    assert by_name["zlib"].layers == (0, 1)
    assert by_name["zlib"].layer == 1
    assert by_name["zlib"].file_count == 2  # usr/lib/libz.so and usr/lib/libz-again.so


def test_npm_trees_stop_at_nested_packages(image_path: Path) -> None:
    npm = Ecosystem.NPM
    records = [
        PackageRecord(
            npm,
            "a",
            "1",
            "app/node_modules/a",
            trees=("app/node_modules/a",),
            requires=(Requirement(("b",), location="app/node_modules/a/node_modules/b"),),
            requested=True,
        ),
        PackageRecord(
            npm,
            "b",
            "1",
            "app/node_modules/a/node_modules/b",
            trees=("app/node_modules/a/node_modules/b",),
        ),
        PackageRecord(
            npm, "c", "1", "app/node_modules/@s/c", trees=("app/node_modules/@s/c",), requested=True
        ),
    ]
    found = inventory(image_path, records)
    sizes = {p.name: p.size_bytes for p in found.packages}
    assert sizes == {"a": 22, "b": 30, "c": 40}
    assert found.packages[0].exclusive_bytes == 52
    assert found.packages[0].exclusive_packages == ("a", "b")


def test_shared_files_are_freed_only_with_every_owner(image_path: Path) -> None:
    one = PackageRecord(
        DPKG, "one", "1", "s", files=("/usr/bin/tool", "/etc/hostname"), requested=True
    )
    two = PackageRecord(DPKG, "two", "1", "s", files=("/usr/bin/tool",), requested=True)
    found = inventory(image_path, [one, two])
    assert [p.size_bytes for p in found.packages] == [59, 50]
    # etc/hostname shipped 7 bytes in layer 0, hidden by layer 1's 9
    assert [p.shipped_bytes for p in found.packages] == [66, 50]
    assert [p.layers for p in found.packages] == [(0, 1), (0,)]
    assert [p.exclusive_bytes for p in found.packages] == [9, 0]
    assert found.what_if_remove(["one", "two"]).freed_bytes == 59
    removal = found.what_if_remove(["dpkg:one", "nope"])
    assert removal.freed_bytes == 9
    assert removal.unknown == ("nope",)


def test_unowned_bytes_by_directory_and_layer(image_path: Path) -> None:
    result = read_image(str(image_path))
    nodes = result.filesystem.walk()
    libc = PackageRecord(DPKG, "libc6", "1", "s", files=("/lib/libc.so.6",))
    found = Inventory([libc], result.image, result.filesystem, nodes)
    files = [
        (path, node.entry.size, node.content)
        for path, node in nodes
        if node.content is not None and node.entry is not None and node.entry.typeflag == 0x30
    ]
    model = found.model(files, ["a warning"])
    assert model.owned_bytes == 1000
    assert model.unowned_bytes == 400 + 50 + 9 + 20 + 2 + 30 + 40 + 5
    groups = {(g.directory, g.layer): (g.size_bytes, g.file_count) for g in model.unowned}
    assert groups[("/usr/lib", 1)] == (400, 1)
    assert groups[("/app/node_modules/a", 1)] == (52, 3)  # grouped three levels deep
    assert groups[("/etc", 1)] == (9, 1)
    assert model.warnings == ("a warning",)


def test_captured_files_are_seen_at_their_final_paths(tmp_path: Path) -> None:
    base = Layer().dir("usr/lib/db").symlink("lib", "usr/lib").file("lib/db/installed", b"v1")
    later = Layer().file("usr/lib/db/other", b"o").file("etc/gone", b"g")
    last = Layer().whiteout("etc/gone")
    archive = write_skopeo_archive(
        tmp_path / "i.tar", Image([base.build(), later.build(), last.build()])
    )
    capture = Capture(re.compile(rb"(?:^|/)(?:installed|other|gone)$"), 1 << 20)
    result = read_image(str(archive), ReadOptions(capture=capture))
    files = image_files(result.image, result.filesystem, result.captured)
    # written through the lib -> usr/lib symlink, read at its final path; deleted files gone
    assert files.read("usr/lib/db/installed") == b"v1"
    assert files.read("usr/lib/db/other") == b"o"
    assert files.read("etc/gone") is None
    assert files.exists("usr/lib/db") and not files.exists("etc/gone")
    assert files.listdir("usr/lib/db") == ["installed", "other"]
