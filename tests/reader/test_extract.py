"""Extracting files of a layer to local disk: names from the image never reach outside the
destination, symlinks already there are never followed, modes keep their permission bits
only, and nothing is overwritten unless asked."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bloatscope.api import extract as extract_by_reference
from bloatscope.errors import BloatscopeError
from bloatscope.model.entry import FileEntry
from bloatscope.reader.extract import extract
from bloatscope.reader.file_content import LayerFiles
from bloatscope.reader.image_reader import read_image
from synth import Image, Layer, write_oci_dir, write_skopeo_archive

PAYLOAD = os.urandom(200_000)


def hostile_image() -> Image:
    base = (
        Layer()
        .dir("app")
        .file("app/run.sh", b"#!/bin/sh\necho hi\n", mode=0o4755)  # setuid: never kept
        .file("app/secret", b"key", mode=0o600)
        .file("app/data.bin", PAYLOAD, mode=0o644)
        .hardlink("app/data-link", "app/data.bin")
        .symlink("app/passwd", "/etc/passwd")
        .device("app/null")
        .dir("app/empty")
        .file("app/deep/er/file", b"deep")
        .file(b"app/caf\xe9", b"latin-1")
    )
    traversal = (
        Layer()
        .file("../../escaped-relative", b"one")
        .file("/escaped-absolute", b"two")
        .file("app/../../../escaped-middle", b"three")
        .file("./x/../../../../tmp/escaped-dots", b"four")
        .symlink("up", "../../../../")
        .file("up/escaped-through-link", b"five")
        .whiteout("app/secret")
    )
    return Image([base.build(), traversal.build()])


@pytest.fixture(params=["none", "zstd"])
def image(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("image")
    return str(write_oci_dir(where / "layout", [hostile_image()], compression=request.param))


@pytest.fixture
def files(image: str) -> Iterator[LayerFiles]:
    with LayerFiles.open(image) as opened:
        yield opened


def tree(root: Path) -> dict[str, str]:
    """Every path under ``root``: 'dir', 'link', or the file's content."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = "link"
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = path.read_bytes().decode("utf-8", "replace")[:20]
    return found


def test_a_file_goes_into_an_existing_directory_under_its_name(
    files: LayerFiles, tmp_path: Path
) -> None:
    result = extract(files, 0, "/app/data.bin", str(tmp_path))
    written = tmp_path / "data.bin"
    assert result.written == (str(written),)
    assert result.bytes_written == len(PAYLOAD)
    assert written.read_bytes() == PAYLOAD
    assert stat.S_IMODE(written.stat().st_mode) == 0o644


def test_a_file_can_be_given_a_new_name(files: LayerFiles, tmp_path: Path) -> None:
    extract(files, 0, "app/secret", str(tmp_path / "renamed"))
    assert (tmp_path / "renamed").read_bytes() == b"key"
    assert stat.S_IMODE((tmp_path / "renamed").stat().st_mode) == 0o600
    with pytest.raises(BloatscopeError, match="cannot open the directory"):
        extract(files, 0, "app/secret", str(tmp_path / "no" / "such" / "dir" / "x"))


def test_setuid_is_dropped_and_permissions_kept(files: LayerFiles, tmp_path: Path) -> None:
    extract(files, 0, "app/run.sh", str(tmp_path))
    mode = (tmp_path / "run.sh").stat().st_mode
    assert stat.S_IMODE(mode) == 0o755
    assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX)


def test_a_hardlink_is_written_with_its_targets_bytes(files: LayerFiles, tmp_path: Path) -> None:
    extract(files, 0, "app/data-link", str(tmp_path))
    assert (tmp_path / "data-link").read_bytes() == PAYLOAD


def test_an_existing_file_is_kept_unless_overwriting_is_asked(
    files: LayerFiles, tmp_path: Path
) -> None:
    target = tmp_path / "secret"
    target.write_bytes(b"mine")
    with pytest.raises(BloatscopeError) as caught:
        extract(files, 0, "app/secret", str(tmp_path))
    assert str(caught.value) == f"{target}: exists; not overwritten"
    assert target.read_bytes() == b"mine"
    extract(files, 0, "app/secret", str(tmp_path), overwrite=True)
    assert target.read_bytes() == b"key"
    assert sorted(os.listdir(tmp_path)) == ["secret"]  # no temporary copy left behind


def test_a_symlink_at_the_target_is_never_followed(files: LayerFiles, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"precious")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "secret").symlink_to(outside)
    with pytest.raises(BloatscopeError, match="exists; not overwritten"):
        extract(files, 0, "app/secret", str(dest))
    assert outside.read_bytes() == b"precious"
    # asked to overwrite, the link itself is replaced by the file; its target is untouched
    extract(files, 0, "app/secret", str(dest), overwrite=True)
    assert not (dest / "secret").is_symlink()
    assert (dest / "secret").read_bytes() == b"key"
    assert outside.read_bytes() == b"precious"


def test_a_symlinked_directory_in_the_destination_is_never_followed(
    files: LayerFiles, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    (dest / "app").mkdir(parents=True)
    (dest / "app" / "deep").symlink_to(outside)
    with pytest.raises(BloatscopeError) as caught:
        extract(files, 0, "app", str(dest))
    assert (
        str(caught.value)
        == f"{dest / 'app' / 'deep'}: is a symlink or not a directory; not followed"
    )
    assert list(outside.iterdir()) == []


def test_a_directory_comes_out_as_the_layer_has_it(files: LayerFiles, tmp_path: Path) -> None:
    result = extract(files, 0, "/app", str(tmp_path))
    got = tree(tmp_path)
    assert got == {
        "app": "dir",
        "app/run.sh": "#!/bin/sh\necho hi\n",
        "app/secret": "key",
        "app/data.bin": got["app/data.bin"],
        "app/data-link": got["app/data.bin"],
        "app/empty": "dir",
        "app/deep": "dir",
        "app/deep/er": "dir",
        "app/deep/er/file": "deep",
        "app/caf\udce9": "latin-1",
    }
    assert (tmp_path / "app" / "data-link").read_bytes() == PAYLOAD
    assert os.fsencode(tmp_path / "app") + b"/caf\xe9" in [
        os.fsencode(tmp_path / "app" / name) for name in os.listdir(tmp_path / "app")
    ]
    assert sorted(result.skipped) == [
        "/app/null: not a regular file",
        "/app/passwd: a symlink to /etc/passwd",
    ]
    assert len(result.written) == 6
    assert result.bytes_written == 2 * len(PAYLOAD) + len(b"#!/bin/sh\necho hi\n") + 3 + 4 + 7


def test_a_directory_into_a_new_destination(files: LayerFiles, tmp_path: Path) -> None:
    extract(files, 0, "app/deep", str(tmp_path / "new"))
    assert tree(tmp_path) == {"new": "dir", "new/er": "dir", "new/er/file": "deep"}


def test_a_directory_refuses_before_writing_anything_when_a_file_exists(
    files: LayerFiles, tmp_path: Path
) -> None:
    (tmp_path / "app" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "app" / "deep" / "er" / "file").write_bytes(b"mine")
    with pytest.raises(BloatscopeError, match="app/deep/er/file: exists; not overwritten"):
        extract(files, 0, "app", str(tmp_path))
    assert not (tmp_path / "app" / "run.sh").exists()
    extract(files, 0, "app", str(tmp_path), overwrite=True)
    assert (tmp_path / "app" / "deep" / "er" / "file").read_bytes() == b"deep"


def test_traversal_names_land_inside_the_destination(files: LayerFiles, tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b" / "dest"
    dest.mkdir(parents=True)
    result = extract(files, 1, "/", str(dest))
    assert tree(tmp_path) == {
        "a": "dir",
        "a/b": "dir",
        "a/b/dest": "dir",
        "a/b/dest/escaped-relative": "one",
        "a/b/dest/escaped-absolute": "two",
        "a/b/dest/escaped-middle": "three",
        "a/b/dest/tmp": "dir",
        "a/b/dest/tmp/escaped-dots": "four",
        # the layer wrote through its own symlink; the link is not made, the name stays inside
        "a/b/dest/up": "dir",
        "a/b/dest/up/escaped-through-link": "five",
    }
    assert sorted(result.skipped) == [
        "/app/.wh.secret: a whiteout",
        "/up: a symlink to ../../../../",
    ]


def test_names_that_are_not_plain_are_refused(image: str, tmp_path: Path) -> None:
    # entries come normalized from the reader; the extractor checks again, so that entries
    # from elsewhere cannot name their way out either
    layer = read_image(image).image.layers[0]
    (victim,) = [e for e in layer.entries if e.path == "app/secret"]
    forged = tuple(
        FileEntry(*("app/../../../forged", *victim[1:])) if e is victim else e
        for e in layer.entries
    )
    with LayerFiles.open(image) as files:
        files.add_layer(replace(layer, entries=forged))
        with pytest.raises(BloatscopeError, match=r"refusing the name '\.\.' in /app/\.\./"):
            extract(files, 0, "app", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_what_is_not_a_file_or_directory_is_an_error(files: LayerFiles, tmp_path: Path) -> None:
    with pytest.raises(BloatscopeError, match="/app/passwd is a symlink to /etc/passwd"):
        extract(files, 0, "app/passwd", str(tmp_path))
    with pytest.raises(BloatscopeError, match="/app/nothing is not in this layer"):
        extract(files, 0, "app/nothing", str(tmp_path))
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(BloatscopeError, match="exists and is not a directory"):
        extract(files, 0, "app", str(tmp_path / "file"))
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_the_api_opens_the_image_itself(tmp_path: Path) -> None:
    reference = str(write_skopeo_archive(tmp_path / "x.tar", hostile_image()))
    dest = tmp_path / "out"
    dest.mkdir()
    result = extract_by_reference(reference, 0, "app/data.bin", str(dest))
    assert (dest / "data.bin").read_bytes() == PAYLOAD
    assert result.written == (str(dest / "data.bin"),)
