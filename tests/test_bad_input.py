"""Bad input ends in a BloatscopeError whose one line names the file and the problem (the CLI
turns it into exit code 2), never in another exception, a hang or a write outside the image."""

from __future__ import annotations

import contextlib
import json
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloatscope.errors import BloatscopeError
from bloatscope.reader import scanning
from bloatscope.reader.image_reader import ReadOptions, ReadResult, read_image
from bloatscope.reader.layer import scan_layer
from bloatscope.reader.merge import Merger
from bloatscope.sources.base import BlobRef
from synth import (
    Image,
    Layer,
    compress,
    deadline,
    gzip_file,
    plain_tar,
    sha256_hex,
    write_oci_archive,
    write_oci_dir,
    write_skopeo_archive,
    write_tar,
)


def fails(reference: str | Path, *fragments: str, options: ReadOptions | None = None) -> str:
    """Reads ``reference`` expecting a BloatscopeError that mentions every fragment."""
    with deadline(30), pytest.raises(BloatscopeError) as caught:
        read_image(str(reference), options)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def small_image() -> Image:
    return Image(
        [
            Layer().dir("etc").file("etc/passwd", b"root:x:0:0\n").build(),
            Layer().file("big.bin", random.Random(1).randbytes(40_000)).build(),
        ]
    )


def layer_blob(layout: Path, index: int = 1) -> Path:
    """The file of layer ``index`` in an OCI layout written by synth."""
    index_json = json.loads((layout / "index.json").read_bytes())
    manifest_digest = index_json["manifests"][0]["digest"].removeprefix("sha256:")
    manifest = json.loads((layout / "blobs/sha256" / manifest_digest).read_bytes())
    layer_digest: str = manifest["layers"][index]["digest"]
    return layout / "blobs/sha256" / layer_digest.removeprefix("sha256:")


def flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x55
    path.write_bytes(bytes(data))


# --- not an image at all --------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    fails(tmp_path / "nope.tar", f"{tmp_path / 'nope.tar'}: no such file or directory")


@pytest.mark.parametrize(
    "content",
    [random.Random(7).randbytes(5000), b"just some text\n" * 40, b""],
    ids=["random-bytes", "text", "empty"],
)
def test_a_file_that_is_not_an_image(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "thing.tar"
    path.write_bytes(content)
    fails(path, f"{path}: ", "not")


def test_a_tar_without_manifest_or_index(tmp_path: Path) -> None:
    path = plain_tar(tmp_path / "rootfs.tar", {"etc/passwd": b"root", "bin/sh": b"sh"})
    fails(path, f"{path}: is a tar but not an image (no manifest.json or index.json)")


def test_a_directory_that_is_not_a_layout(tmp_path: Path) -> None:
    fails(tmp_path, f"{tmp_path}: is not an OCI image layout (no index.json)")


# --- cut short ------------------------------------------------------------------------------


def test_truncated_outer_tar(tmp_path: Path) -> None:
    path = write_skopeo_archive(tmp_path / "x.tar", small_image())
    data = path.read_bytes()
    cut = data.index(random.Random(1).randbytes(40_000)[:64]) + 20_000  # inside big.bin's layer
    path.write_bytes(data[:cut])
    fails(path, f"{path} is truncated at byte {cut}")


def test_truncated_gzip_of_a_whole_archive(tmp_path: Path) -> None:
    path = gzip_file(write_skopeo_archive(tmp_path / "x.tar", small_image()), tmp_path / "x.tgz")
    path.write_bytes(path.read_bytes()[:-100])
    fails(path, f"{path} (gzip): gzip stream is truncated")


def test_truncated_layer_tar(tmp_path: Path) -> None:
    img = small_image()
    img.layers[1] = img.layers[1][:10_000]  # config diff_ids describe the cut layer
    path = write_skopeo_archive(tmp_path / "x.tar", img)
    diff_id = img.diff_ids[1].removeprefix("sha256:")
    fails(path, f"{path}: {diff_id}.tar is truncated at byte 10000", "big.bin")


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_truncated_compressed_oci_layer_is_caught_by_its_size(tmp_path: Path, kind: str) -> None:
    layout = write_oci_dir(tmp_path / "layout", [small_image()], compression=kind)
    blob = layer_blob(layout)
    size = blob.stat().st_size
    blob.write_bytes(blob.read_bytes()[:-300])
    fails(
        layout,
        f"{layout}: blob blobs/sha256/{blob.name} is {size - 300} bytes, "
        f"its descriptor says {size}",
    )


@pytest.mark.parametrize(
    ("kind", "problem"),
    [("gzip", "gzip stream is truncated"), ("zstd", "zstd stream is truncated")],
)
def test_truncated_compressed_layer_in_a_docker_archive(
    tmp_path: Path, kind: str, problem: str
) -> None:
    """docker-archive names layers by path only, with no size: the decoder must notice."""
    img = small_image()
    blobs = [compress(layer, kind) for layer in img.layers]
    names = [f"{sha256_hex(blob)}.tar.{kind}" for blob in blobs]
    config = img.config()
    manifest = [{"Config": sha256_hex(config) + ".json", "Layers": names}]
    path = write_tar(
        tmp_path / "x.tar",
        [
            (sha256_hex(config) + ".json", config),
            (names[0], blobs[0]),
            (names[1], blobs[1][:-300]),
            ("manifest.json", json.dumps(manifest).encode()),
        ],
    )
    fails(path, f"{path}: {names[1]}: {problem}")


# --- corrupt --------------------------------------------------------------------------------


def test_corrupt_gzip_layer(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", [small_image()], compression="gzip")
    blob = layer_blob(layout)
    flip(blob, blob.stat().st_size // 2)
    fails(layout, f"{layout}: blobs/sha256/{blob.name}: corrupt gzip data")


def test_corrupt_zstd_layer(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", [small_image()], compression="zstd")
    blob = layer_blob(layout)
    flip(blob, blob.stat().st_size - 2)  # the frame checksum
    fails(layout, f"{layout}: blobs/sha256/{blob.name}: corrupt zstd data")


def test_oci_blob_not_matching_its_digest(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", [small_image()], compression="none")
    blob = layer_blob(layout)
    flip(blob, 512 + 1000)  # inside big.bin's bytes: still a valid tar
    fails(layout, f"{layout}: layer 1 blob does not match its digest sha256:{blob.name} (got ")


def test_layer_not_matching_its_diff_id_when_verifying(tmp_path: Path) -> None:
    img = small_image()
    path = write_skopeo_archive(tmp_path / "x.tar", img)
    data = bytearray(path.read_bytes())
    at = bytes(data).index(random.Random(1).randbytes(40_000)[:64])
    data[at] ^= 0x55
    path.write_bytes(bytes(data))
    fails(
        path,
        f"{path}: layer 1 content does not match its diff_id {img.diff_ids[1]}",
        options=ReadOptions(verify=True),
    )


def test_manifest_naming_a_missing_oci_blob(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", [small_image()])
    blob = layer_blob(layout)
    blob.unlink()
    fails(layout, f"{layout}: manifest names blob sha256:{blob.name}, which is missing")


def test_manifest_naming_a_missing_layer_file(tmp_path: Path) -> None:
    config = small_image().config()
    name = sha256_hex(config) + ".json"
    manifest = [{"Config": name, "Layers": ["gone/layer.tar", "gone2/layer.tar"]}]
    path = write_tar(
        tmp_path / "x.tar", [(name, config), ("manifest.json", json.dumps(manifest).encode())]
    )
    fails(path, f"{path}: manifest names blob gone/layer.tar, which is missing")


def test_manifest_naming_a_missing_config(tmp_path: Path) -> None:
    manifest = [{"Config": "nothing.json", "Layers": []}]
    path = write_tar(tmp_path / "x.tar", [("manifest.json", json.dumps(manifest).encode())])
    fails(path, f"{path}: names nothing.json, which the archive does not contain")


def test_layer_count_not_matching_the_config(tmp_path: Path) -> None:
    img = small_image()
    config = img.config()
    layer = img.diff_ids[0].removeprefix("sha256:") + ".tar"
    manifest = [{"Config": sha256_hex(config) + ".json", "Layers": [layer]}]
    path = write_tar(
        tmp_path / "x.tar",
        [
            (sha256_hex(config) + ".json", config),
            (layer, img.layers[0]),
            ("manifest.json", json.dumps(manifest).encode()),
        ],
    )
    fails(
        path,
        f"{path}: inconsistent layer count: the manifest lists 1 layers, the config 2 diff_ids",
    )


def test_layer_blob_of_the_wrong_size(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", [small_image()], compression="none")
    blob = layer_blob(layout, 0)
    blob.write_bytes(blob.read_bytes() + bytes(512))
    fails(layout, f"{layout}: blob blobs/sha256/{blob.name} is ", "its descriptor says")


# --- hostile layers -------------------------------------------------------------------------


def test_symlink_loop_in_layers(tmp_path: Path) -> None:
    img = Image(
        [Layer().symlink("a", "b").symlink("b", "a").build(), Layer().file("a/x", b"x").build()]
    )
    path = write_skopeo_archive(tmp_path / "x.tar", img)
    fails(path, f"{path}: ", "layer 1", "symlink loop resolving 'a'")


def test_traversal_entries_stay_inside_the_image(tmp_path: Path) -> None:
    img = Image(
        [
            Layer().dir("etc").file("etc/passwd", b"root").build(),
            Layer()
            .file("../../etc/passwd", b"evil")
            .file("/../../../tmp/x", b"x")
            .symlink("up", "../../../../")
            .file("up/etc/shadow", b"s")
            .build(),
        ]
    )
    work = tmp_path / "work"
    work.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result: ReadResult = read_image(str(write_skopeo_archive(work / "x.tar", img)))
    paths = {path for path, _node in result.filesystem.walk()}
    assert paths == {"etc", "etc/passwd", "etc/shadow", "tmp", "tmp/x", "up"}
    assert [e.path for e in result.image.layers[1].entries] == [
        "etc/passwd",
        "tmp/x",
        "up",
        "up/etc/shadow",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written beside it


# --- property: hostile bytes only ever raise BloatscopeError -------------------------------

_VALID_LAYER = (
    Layer()
    .dir("d")
    .file("d/a", random.Random(3).randbytes(3000))
    .symlink("d/s", "a")
    .hardlink("d/h", "d/a")
    .whiteout("x")
    .opaque("d")
    .file("d/" + "n" * 120, b"long")
    .build()
)
_BLOBS = {kind: compress(_VALID_LAYER, kind) for kind in ("none", "gzip", "gzip-multi", "zstd")}


def _scan_and_merge(data: bytes) -> None:
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        ref = BlobRef(handle.name, 0, len(data), "fuzz")
        for verify in (False, True):
            scanned = scan_layer(ref, verify_blob=verify, verify_diff_id=verify)
            Merger().apply(0, scanned.entries)


def _check(data: bytes) -> None:
    with deadline(10), contextlib.suppress(BloatscopeError):
        _scan_and_merge(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(_BLOBS)), cut=st.integers(min_value=0, max_value=1 << 14))
def test_truncated_layers_raise_only_bloatscope_errors(kind: str, cut: int) -> None:
    blob = _BLOBS[kind]
    _check(blob[: cut % (len(blob) + 1)])


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(sorted(_BLOBS)),
    position=st.integers(min_value=0),
    value=st.integers(min_value=0, max_value=255),
)
def test_corrupted_layers_raise_only_bloatscope_errors(
    kind: str, position: int, value: int
) -> None:
    blob = bytearray(_BLOBS[kind])
    blob[position % len(blob)] = value
    _check(bytes(blob))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_raise_only_bloatscope_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=50, deadline=None)
@given(
    prefix=st.sampled_from([b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd", b""]),
    data=st.binary(max_size=2048),
)
def test_random_bytes_behind_a_magic_raise_only_bloatscope_errors(
    prefix: bytes, data: bytes
) -> None:
    _check(prefix + data)


@pytest.mark.parametrize("kind", sorted(_BLOBS))
def test_the_unfuzzed_layers_read_cleanly(kind: str) -> None:
    _scan_and_merge(_BLOBS[kind])


def test_error_in_a_worker_process_still_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scanning, "_PARALLEL_THRESHOLD", 0)
    layout = write_oci_dir(tmp_path / "layout", [small_image()], compression="gzip")
    blob = layer_blob(layout)
    flip(blob, blob.stat().st_size // 2)
    with pytest.raises(BloatscopeError, match=f"{layout}: blobs/sha256/{blob.name}: corrupt gzip"):
        read_image(str(layout), ReadOptions(workers=2))


_ARCHIVES: dict[str, bytes] = {}


def _archive(shape: str) -> bytes:
    if shape not in _ARCHIVES:
        with tempfile.TemporaryDirectory() as scratch:
            img, where = small_image(), Path(scratch)
            if shape == "skopeo":
                path = write_skopeo_archive(where / "x.tar", img)
            else:
                path = write_oci_archive(where / "x.tar", [img], compression=shape)
            _ARCHIVES[shape] = path.read_bytes()
    return _ARCHIVES[shape]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(["skopeo", "gzip", "zstd"]),
    cut=st.integers(min_value=0),
    flip_at=st.none() | st.integers(min_value=0),
)
def test_damaged_archives_raise_only_bloatscope_errors(
    shape: str, cut: int, flip_at: int | None
) -> None:
    data = bytearray(_archive(shape))
    if flip_at is not None:
        data[flip_at % len(data)] ^= 0xA5
    del data[cut % (len(data) + 1) :]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "damaged.tar"
        path.write_bytes(bytes(data))
        with deadline(10), contextlib.suppress(BloatscopeError):
            read_image(str(path), ReadOptions(verify=True))
