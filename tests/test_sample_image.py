"""The built-in sample image, read with tarfile alone: layout, history and the waste it shows."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "bloatscope" / "sample" / "sample.oci.tar"
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# Regular files each layer ships, with their sizes, as sample/Dockerfile writes them.
# Layer 1 (busybox) is checked apart; hardlinks, symlinks and whiteouts below.
LAYER_FILES: list[dict[str, int]] = [
    # buildah's first RUN leaves empty mount points for the files it binds in
    {"app/model.bin": 131072, "etc/hostname": 0, "etc/hosts": 0, "etc/resolv.conf": 0},
    {"app/build.log": 65536},
    {
        "root/.cache/pip/http/9/c/4/e/1/"
        "9c4e1f0a27b3d5c6e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7": 40960
    },
    {"var/cache/apt/archives/libdemo0_1.0-1_amd64.deb": 49152},
    {"app/libdemo-hardlink.so.1": 32768},
    {"app/assets/a.bin": 16384, "app/assets/b.bin": 16384},
    {"app/tool.bin": 49152},
    {"app/model.bin": 98304},
    {},
    {"app/assets/a.bin": 16384},
    {"app/tool.bin": 49152},
]
# overwritten, deleted, pip cache, apt cache, directory replaced, chmod'd (Dockerfile's header)
RECLAIMABLE_BYTES = 131072 + 65536 + 40960 + 49152 + 32768 + 49152
CACHES = ("root/.cache/pip/", "var/cache/apt/archives/")


@dataclass(frozen=True)
class Sample:
    manifest: dict[str, Any]
    config: dict[str, Any]
    layers: list[list[tarfile.TarInfo]]
    layer_bytes: list[bytes]


def _blob(archive: tarfile.TarFile, digest: str) -> bytes:
    algorithm, _, hexdigest = digest.partition(":")
    member = archive.extractfile(f"blobs/{algorithm}/{hexdigest}")
    assert member is not None, digest
    data = member.read()
    assert hashlib.sha256(data).hexdigest() == hexdigest, f"blob {digest} does not match"
    return data


@pytest.fixture(scope="module")
def sample() -> Sample:
    with tarfile.open(SAMPLE) as archive:
        index_file = archive.extractfile("index.json")
        assert index_file is not None
        index = json.load(index_file)
        assert len(index["manifests"]) == 1
        manifest = json.loads(_blob(archive, index["manifests"][0]["digest"]))
        config = json.loads(_blob(archive, manifest["config"]["digest"]))
        layers, layer_bytes = [], []
        for layer in manifest["layers"]:
            assert layer["mediaType"] == GZIP_LAYER
            compressed = _blob(archive, layer["digest"])
            assert len(compressed) == layer["size"]
            raw = gzip.decompress(compressed)
            layer_bytes.append(raw)
            with tarfile.open(fileobj=io.BytesIO(raw)) as layer_tar:
                layers.append(layer_tar.getmembers())
    return Sample(manifest, config, layers, layer_bytes)


def _regular(members: list[tarfile.TarInfo]) -> dict[str, int]:
    return {m.name: m.size for m in members if m.isreg() and ".wh." not in m.name}


def _named(members: list[tarfile.TarInfo], name: str) -> tarfile.TarInfo:
    found = [m for m in members if m.name == name]
    assert len(found) == 1, f"{name} not in layer: {[m.name for m in members]}"
    return found[0]


def test_the_sample_is_small() -> None:
    assert SAMPLE.stat().st_size < 2_000_000


def test_history_maps_onto_twelve_layers(sample: Sample) -> None:
    history = sample.config["history"]
    empty = [h["created_by"] for h in history if h.get("empty_layer")]
    assert len(history) == 15
    assert len(sample.manifest["layers"]) == 12
    assert len(history) - len(empty) == len(sample.manifest["layers"])
    assert len(sample.config["rootfs"]["diff_ids"]) == 12
    assert [e.split("#(nop) ")[1].split()[0] for e in empty] == ["ENV", "WORKDIR", "CMD"]


def test_diff_ids_are_the_uncompressed_layers(sample: Sample) -> None:
    digests = ["sha256:" + hashlib.sha256(raw).hexdigest() for raw in sample.layer_bytes]
    assert digests == sample.config["rootfs"]["diff_ids"]


def test_config_is_reproducible_and_has_metadata(sample: Sample) -> None:
    config = sample.config
    assert config["created"] == "1970-01-01T00:00:00Z"
    assert config["config"]["WorkingDir"] == "/app"
    assert config["config"]["Cmd"] == ["sh"]
    assert "PATH=/usr/local/bin:/bin" in config["config"]["Env"]


def test_base_layer_is_busybox(sample: Sample) -> None:
    base = sample.layers[0]
    busybox = _named(base, "bin/busybox")
    assert busybox.isreg() and busybox.size > 1_000_000
    sh = _named(base, "bin/sh")
    assert sh.issym() and sh.linkname == "busybox"
    assert _named(base, "usr/local/bin/rnd").mode & 0o7777 == 0o755


@pytest.mark.parametrize("number", range(2, 13))
def test_each_layer_ships_exactly_its_payload(sample: Sample, number: int) -> None:
    assert _regular(sample.layers[number - 1]) == LAYER_FILES[number - 2]


def test_deleted_file_is_a_whiteout(sample: Sample) -> None:
    layer10 = sample.layers[9]
    whiteout = _named(layer10, "app/.wh.build.log")
    assert whiteout.size == 0
    assert _named(sample.layers[2], "app/build.log").size == 65536


def test_recreated_directory_is_opaque(sample: Sample) -> None:
    layer11 = sample.layers[10]
    _named(layer11, "app/assets/.wh..wh..opq")
    assert _named(layer11, "app/assets").isdir()


def test_chmod_reships_the_whole_file(sample: Sample) -> None:
    before = _named(sample.layers[7], "app/tool.bin")
    after = _named(sample.layers[11], "app/tool.bin")
    assert (before.size, before.mode & 0o7777) == (49152, 0o644)
    assert (after.size, after.mode & 0o7777) == (49152, 0o755)


def test_hardlink_and_symlink(sample: Sample) -> None:
    layer6 = sample.layers[5]
    link = _named(layer6, "app/libdemo.so.1")
    assert link.islnk() and link.linkname == "app/libdemo-hardlink.so.1" and link.size == 0
    symlink = _named(layer6, "app/libdemo.so")
    assert symlink.issym() and symlink.linkname == "libdemo.so.1"


def test_payloads_are_incompressible(sample: Sample) -> None:
    # payload layers compress by under 1%, so their compressed sizes read as byte counts
    for layer, files in zip(sample.manifest["layers"][1:], LAYER_FILES, strict=True):
        payload = sum(files.values())
        assert payload <= layer["size"] < payload + 4096


def _hidden_later(path: str, later: list[list[tarfile.TarInfo]]) -> bool:
    parent, _, base = path.rpartition("/")
    ancestors = [path[:i] for i, c in enumerate(path) if c == "/"]
    for members in later:
        names = {m.name for m in members}
        if path in names or f"{parent}/.wh.{base}" in names:
            return True
        if any(f"{a}/.wh..wh..opq" in names for a in ancestors):
            return True
    return False


def test_reclaimable_bytes_add_up(sample: Sample) -> None:
    # a tiny oracle: shipped bytes hidden by a later layer, plus caches that are still visible
    total = 0
    for i, members in enumerate(sample.layers[1:], start=1):
        for path, size in _regular(members).items():
            if _hidden_later(path, sample.layers[i + 1 :]) or path.startswith(CACHES):
                total += size
    assert total == RECLAIMABLE_BYTES == 368640
