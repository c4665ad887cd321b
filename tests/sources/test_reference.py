"""Image references: transports, aliases, selectors, and opening a path as the right store."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from bloatscope.errors import BloatscopeError
from bloatscope.sources.base import SourceError
from bloatscope.sources.directory import DirectoryStore
from bloatscope.sources.reference import Reference, open_store, parse_reference
from bloatscope.sources.tar_archive import TarArchiveStore
from synth import (
    Image,
    Layer,
    compress,
    gzip_file,
    plain_tar,
    write_docker25_archive,
    write_oci_archive,
    write_oci_dir,
    write_skopeo_archive,
)


def tiny() -> Image:
    return Image([Layer().file("a", b"a").build()])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docker-archive:/x/img.tar", Reference("docker-archive", "/x/img.tar")),
        ("oci-archive:/x/img.tar", Reference("oci-archive", "/x/img.tar")),
        ("oci-dir:/x/layout", Reference("oci-dir", "/x/layout")),
        ("oci:/x/layout", Reference("oci-dir", "/x/layout")),
        ("docker-tar:/x/img.tar", Reference("docker-archive", "/x/img.tar")),
        ("/x/img.tar", Reference("", "/x/img.tar")),
        ("relative/img.tar", Reference("", "relative/img.tar")),
        ("unknown-transport:/x", Reference("", "unknown-transport:/x")),
    ],
)
def test_parse_reference(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize("transport", ["registry", "docker", "podman", "containers-storage"])
def test_later_transports_are_refused_clearly(transport: str) -> None:
    with pytest.raises(SourceError, match=f"the {transport}: transport is not supported yet"):
        parse_reference(f"{transport}:app:1")


def test_empty_reference() -> None:
    with pytest.raises(SourceError, match="empty image reference"):
        parse_reference("")


def test_selector_after_an_existing_path(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    archive.write_bytes(b"")
    ref = parse_reference(f"docker-archive:{archive}:app:1.0")
    assert ref == Reference("docker-archive", str(archive), "app:1.0")
    assert str(ref) == f"docker-archive:{archive}:app:1.0"


def test_path_with_a_colon_that_exists_is_not_split(tmp_path: Path) -> None:
    archive = tmp_path / "img:latest.tar"
    archive.write_bytes(b"")
    assert parse_reference(str(archive)) == Reference("", str(archive))
    assert parse_reference(f"{archive}:v2") == Reference("", str(archive), "v2")


def test_simple_selector(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    assert parse_reference(f"oci:{layout}:latest") == Reference("oci-dir", str(layout), "latest")


def test_selector_needs_an_existing_path_before_it(tmp_path: Path) -> None:
    text = f"{tmp_path}/missing.tar:tag"
    assert parse_reference(text) == Reference("", text)


def test_reference_str_round_trips() -> None:
    assert str(Reference("oci-dir", "/l")) == "oci-dir:/l"
    assert str(Reference("", "/x.tar")) == "/x.tar"


def test_bare_directory_opens_as_oci_dir(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", [tiny()])
    store, kind = open_store(parse_reference(str(layout)))
    assert (kind, type(store)) == ("oci-dir", DirectoryStore)


def test_bare_oci_tar_opens_as_oci_archive(tmp_path: Path) -> None:
    store, kind = open_store(parse_reference(str(write_oci_archive(tmp_path / "o.tar", [tiny()]))))
    assert (kind, type(store)) == ("oci-archive", TarArchiveStore)


def test_bare_docker_tar_opens_as_docker_archive(tmp_path: Path) -> None:
    archive = write_skopeo_archive(tmp_path / "d.tar", tiny())
    assert open_store(parse_reference(str(archive)))[1] == "docker-archive"


def test_docker25_tar_is_both(tmp_path: Path) -> None:
    archive = write_docker25_archive(tmp_path / "d25.tar", tiny())
    assert open_store(parse_reference(str(archive)))[1] == "docker-archive"
    assert open_store(parse_reference(f"oci-archive:{archive}"))[1] == "oci-archive"


def test_gzipped_archive_is_spooled_and_the_spool_removed_on_close(tmp_path: Path) -> None:
    archive = gzip_file(write_skopeo_archive(tmp_path / "d.tar", tiny()), tmp_path / "d.tar.gz")
    store, kind = open_store(parse_reference(str(archive)))
    assert kind == "docker-archive"
    assert store.label == str(archive)
    spool = store.locate("manifest.json").path
    assert spool != str(archive) and os.path.exists(spool)
    store.close()
    assert not os.path.exists(spool)


def test_zstd_archive_is_spooled(tmp_path: Path) -> None:
    tar = write_oci_archive(tmp_path / "o.tar", [tiny()])
    archive = tmp_path / "o.tar.zst"
    archive.write_bytes(compress(tar.read_bytes(), "zstd"))
    store, kind = open_store(parse_reference(str(archive)))
    assert kind == "oci-archive"
    store.close()


def test_failed_spool_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_dir))
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(compress(b"x" * 100_000, "gzip")[:-50])
    with pytest.raises(BloatscopeError, match=f"{archive} \\(gzip\\): gzip stream is truncated"):
        open_store(parse_reference(str(archive)))
    assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("docker-archive:{oci}", "is not a docker-archive (no manifest.json)"),
        ("oci-archive:{docker}", "is not an OCI archive (no index.json and oci-layout)"),
        ("oci-dir:{docker}", "oci-dir: needs a directory"),
        ("docker-archive:{layout}", "is a directory, not a docker-archive file"),
        ("{plain}", "is a tar but not an image (no manifest.json or index.json)"),
        ("{empty_dir}", "is not an OCI image layout (no index.json)"),
        ("{missing}", "no such file or directory"),
    ],
)
def test_wrong_kind_of_input(tmp_path: Path, reference: str, problem: str) -> None:
    paths = {
        "oci": write_oci_archive(tmp_path / "o.tar", [tiny()]),
        "docker": write_skopeo_archive(tmp_path / "d.tar", tiny()),
        "layout": write_oci_dir(tmp_path / "layout", [tiny()]),
        "plain": plain_tar(tmp_path / "p.tar", {"etc/passwd": b"root"}),
        "empty_dir": tmp_path / "empty",
        "missing": tmp_path / "missing.tar",
    }
    (tmp_path / "empty").mkdir()
    text = reference.format(**{k: str(v) for k, v in paths.items()})
    with pytest.raises(SourceError) as caught:
        open_store(parse_reference(text))
    message = str(caught.value)
    assert problem in message
    assert message.startswith(parse_reference(text).location + ": ")
