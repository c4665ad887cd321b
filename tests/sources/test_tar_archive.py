"""Tar and directory stores: members indexed once, links inside the archive resolved, nothing
read from outside it."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from bloatscope.sources.base import MAX_JSON_BYTES, SourceError
from bloatscope.sources.directory import DirectoryStore
from bloatscope.sources.tar_archive import TarArchiveStore
from synth import write_dir


def outer_tar(path: Path, members: list[tuple[str, bytes | str, bytes]]) -> TarArchiveStore:
    """``members``: (name, data or link target, typeflag)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if isinstance(content, str):
                info.linkname = content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return TarArchiveStore(str(path))


def test_members_are_read_by_offset(tmp_path: Path) -> None:
    store = outer_tar(
        tmp_path / "a.tar",
        [("x/one", b"1" * 700, tarfile.REGTYPE), ("two", b"22", tarfile.REGTYPE)],
    )
    assert store.names() == frozenset({"x/one", "two"})
    assert store.read("x/one") == b"1" * 700
    ref = store.locate("two")
    assert (ref.size, ref.label) == (2, f"{tmp_path / 'a.tar'}: two")
    assert (tmp_path / "a.tar").read_bytes()[ref.offset : ref.offset + 2] == b"22"


def test_symlinks_resolve_relative_to_the_member_directory(tmp_path: Path) -> None:
    store = outer_tar(
        tmp_path / "a.tar",
        [
            ("abc.tar", b"layer", tarfile.REGTYPE),
            ("v1/layer.tar", "../abc.tar", tarfile.SYMTYPE),
            ("v2/layer.tar", "../v1/layer.tar", tarfile.SYMTYPE),
        ],
    )
    assert store.read("v2/layer.tar") == b"layer"
    assert store.locate("v2/layer.tar").offset == store.locate("abc.tar").offset


def test_hardlinks_resolve_from_the_archive_root(tmp_path: Path) -> None:
    store = outer_tar(
        tmp_path / "a.tar",
        [("d/real", b"r", tarfile.REGTYPE), ("e/hard", "d/real", tarfile.LNKTYPE)],
    )
    assert store.read("e/hard") == b"r"


def test_link_loops_and_dangling_links_are_missing_not_hangs(tmp_path: Path) -> None:
    store = outer_tar(
        tmp_path / "a.tar",
        [
            ("a", "b", tarfile.SYMTYPE),
            ("b", "a", tarfile.SYMTYPE),
            ("c", "nowhere", tarfile.SYMTYPE),
        ],
    )
    assert store.names() == frozenset()
    for name in ("a", "c"):
        with pytest.raises(SourceError, match=f"names {name}, which the archive does not contain"):
            store.locate(name)


def test_member_names_are_clamped_inside_the_archive(tmp_path: Path) -> None:
    store = outer_tar(
        tmp_path / "a.tar",
        [
            ("../../manifest.json", b"[]", tarfile.REGTYPE),
            ("./x", "/../../manifest.json", tarfile.SYMTYPE),
        ],
    )
    assert store.names() == frozenset({"manifest.json", "x"})
    assert store.read("x") == b"[]"


def test_json_reads_are_capped(tmp_path: Path) -> None:
    store = outer_tar(
        tmp_path / "a.tar", [("big.json", b" " * (MAX_JSON_BYTES + 1), tarfile.REGTYPE)]
    )
    with pytest.raises(SourceError, match="over the 4194304-byte limit"):
        store.read("big.json")


def test_directory_store_refuses_paths_outside_the_layout(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"s")
    layout = write_dir(tmp_path / "layout", {"index.json": b"{}"})
    (layout / "escape").symlink_to(tmp_path / "secret")
    store = DirectoryStore(str(layout))
    assert store.read("index.json") == b"{}"
    for name in ("../secret", "escape", "/etc/passwd"):
        with pytest.raises(SourceError, match="points outside the layout"):
            store.locate(name)


def test_directory_store_missing_blob(tmp_path: Path) -> None:
    store = DirectoryStore(str(write_dir(tmp_path / "layout", {"index.json": b"{}"})))
    with pytest.raises(SourceError, match="names blobs/sha256/ab, which the layout does not"):
        store.locate("blobs/sha256/ab")
