"""Every archive shape of the same image reads the same: entries, sizes, history, final tree and
per-layer changes, whatever the layout and the layer compression."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Platform
from bloatscope.model.layer import Compression
from bloatscope.model.tree import DiffState
from bloatscope.reader import scanning
from bloatscope.reader.image_reader import ReadOptions, ReadResult, read_image
from synth import (
    EMPTY_TAR_DIFF_ID,
    LAYER_MEDIA_TYPES,
    LONG_NAME,
    RAW_NAME,
    Image,
    Layer,
    feature_image,
    gzip_file,
    oci_layout,
    write_containerd_archive,
    write_crane_tarball,
    write_dir,
    write_docker25_archive,
    write_legacy_docker_archive,
    write_oci_archive,
    write_oci_dir,
    write_skopeo_archive,
)

Writer = Callable[[Path, Image], str]


def _gzipped(write: Callable[[Path, Image], Path]) -> Writer:
    return lambda d, img: str(gzip_file(write(d / "plain.tar", img), d / "image.tar.gz"))


SHAPES: dict[str, Writer] = {
    "skopeo": lambda d, img: str(write_skopeo_archive(d / "x.tar", img)),
    "skopeo-v1-symlinks": lambda d, img: str(
        write_skopeo_archive(d / "x.tar", img, layers_via_symlinks=True)
    ),
    "docker-legacy": lambda d, img: str(write_legacy_docker_archive(d / "x.tar", img)),
    "docker25": lambda d, img: str(write_docker25_archive(d / "x.tar", img)),
    "docker25-as-oci": lambda d, img: (
        "oci-archive:" + str(write_docker25_archive(d / "x.tar", img))
    ),
    "containerd-gzip": lambda d, img: str(write_containerd_archive(d / "x.tar", img)),
    "containerd-zstd": lambda d, img: str(
        write_containerd_archive(d / "x.tar", img, compression="zstd")
    ),
    "crane": lambda d, img: "docker-archive:" + str(write_crane_tarball(d / "x.tar", img)),
    "oci-dir-gzip": lambda d, img: str(write_oci_dir(d / "layout", [img])),
    "oci-dir-gzip-multi": lambda d, img: (
        "oci-dir:" + str(write_oci_dir(d / "layout", [img], compression="gzip-multi"))
    ),
    "oci-dir-zstd": lambda d, img: str(write_oci_dir(d / "layout", [img], compression="zstd")),
    "oci-dir-plain": lambda d, img: str(write_oci_dir(d / "layout", [img], compression="none")),
    "oci-dir-nested-attested": lambda d, img: str(
        write_oci_dir(d / "layout", [img], nested=True, attestation=True)
    ),
    "oci-archive-gzip": lambda d, img: str(write_oci_archive(d / "x.tar", [img])),
    "oci-archive-zstd": lambda d, img: (
        "oci-archive:" + str(write_oci_archive(d / "x.tar", [img], compression="zstd"))
    ),
    "oci-archive-plain": lambda d, img: str(
        write_oci_archive(d / "x.tar", [img], compression="none")
    ),
    "docker-save-gzip": _gzipped(write_legacy_docker_archive),
    "skopeo-gzip": _gzipped(write_skopeo_archive),
}


def summary(result: ReadResult) -> dict[str, Any]:
    """What must not depend on the shape: everything but where and how blobs are stored."""
    image = result.image
    return {
        "image_id": image.image_id,
        "platform": image.platform,
        "created": image.created,
        "config": image.config,
        "history": image.history,
        "layers": [
            (
                layer.index,
                layer.diff_id,
                layer.size_bytes,
                layer.tar_bytes,
                layer.history,
                [entry[:7] for entry in layer.entries],
            )
            for layer in image.layers
        ],
        "tree": sorted(
            (path, node.layer, node.content, node.entry[:7] if node.entry else None)
            for path, node in result.filesystem.walk()
        ),
        "changes": result.changes,
        "warnings": image.warnings,
    }


@pytest.fixture(scope="module")
def feature() -> Image:
    return feature_image()


@pytest.fixture(scope="module")
def reference_summary(feature: Image, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return summary(read_image(SHAPES["skopeo"](tmp_path_factory.mktemp("ref"), feature)))


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "skopeo"])
def test_every_shape_reads_the_same(
    shape: str, feature: Image, tmp_path: Path, reference_summary: dict[str, Any]
) -> None:
    got = summary(read_image(SHAPES[shape](tmp_path, feature)))
    for key, expected in reference_summary.items():
        assert got[key] == expected, key


@pytest.mark.parametrize("shape", ["skopeo", "oci-dir-zstd"])
def test_verify_checks_every_diff_id(shape: str, feature: Image, tmp_path: Path) -> None:
    result = read_image(SHAPES[shape](tmp_path, feature), ReadOptions(verify=True))
    assert [layer.diff_id for layer in result.image.layers] == feature.diff_ids


@pytest.fixture(scope="module")
def read_feature(feature: Image, tmp_path_factory: pytest.TempPathFactory) -> ReadResult:
    return read_image(SHAPES["skopeo"](tmp_path_factory.mktemp("feature"), feature))


def long_dirs() -> set[str]:
    parts = LONG_NAME.split("/")
    return {"/".join(parts[:i]) for i in range(2, len(parts))}


def test_final_tree_of_the_feature_image(read_feature: ReadResult) -> None:
    paths = {path for path, _node in read_feature.filesystem.walk()}
    assert (
        paths
        == {
            "etc",
            "etc/new.conf",
            "etc/passwd-link",
            "bin",
            "bin/sh",
            "bin/sh-hard",
            "real",
            "real/inside",
            "lnk",
            "data",
            "data/gone",
            "data/gone/new",
            "data/" + "g" * 110,
            LONG_NAME,
            RAW_NAME.decode("utf-8", "surrogateescape"),
            "dev",
            "dev/null",
            "dev/fifo",
        }
        | long_dirs()
    )


def test_non_utf8_name_round_trips_through_the_reader(read_feature: ReadResult) -> None:
    raw = [
        entry.path.encode("utf-8", "surrogateescape")
        for entry in read_feature.image.layers[0].entries
        if entry.path.startswith("data/caf")
    ]
    assert raw == [RAW_NAME]


def test_hardlink_keeps_content_of_a_whited_out_target(read_feature: ReadResult) -> None:
    node = read_feature.filesystem.get("etc/passwd-link")
    assert node is not None and node.content is not None
    layer, index = node.content
    assert read_feature.image.layers[layer].entries[index].path == "etc/passwd"


def test_sizes_and_history_of_the_feature_image(read_feature: ReadResult, feature: Image) -> None:
    layers = read_feature.image.layers
    assert [layer.size_bytes for layer in layers] == [
        30 + 3004 + 10_000 + 1 + 1 + 4 + 7,
        3 + 19 + 3004 + 4,
        0,
        0,
        0,
        0,
    ]
    assert [layer.tar_bytes for layer in layers] == [len(data) for data in feature.layers]
    assert [layer.created_by for layer in layers] == [f"/bin/sh -c step-{i}" for i in range(6)]
    empty = [h.created_by for h in read_feature.image.history if h.empty_layer]
    assert empty == ["/bin/sh -c #(nop) ENV A=1", '/bin/sh -c #(nop) CMD ["sh"]']
    assert read_feature.image.warnings == ()


def test_zero_entry_layer_twice_keeps_both_positions(read_feature: ReadResult) -> None:
    layers = read_feature.image.layers
    assert [layer.diff_id for layer in layers[2:4]] == [EMPTY_TAR_DIFF_ID] * 2
    assert [layer.file_count for layer in layers[2:4]] == [0, 0]
    assert [layer.tar_bytes for layer in layers[2:4]] == [1024, 1024]
    assert [layer.index for layer in layers] == list(range(6))


def test_feature_layer_changes(read_feature: ReadResult) -> None:
    upper = read_feature.image.layers[1]
    states = {
        e.path: DiffState(s)
        for e, s in zip(upper.entries, read_feature.changes[1].states, strict=True)
    }
    assert states == {
        "data": DiffState.MODIFIED,
        "data/.wh.big": DiffState.REMOVED,
        "data/gone": DiffState.MODIFIED,
        "data/gone/.wh..wh..opq": DiffState.REMOVED,
        "data/gone/new": DiffState.ADDED,
        "lnk/inside": DiffState.ADDED,
        "bin/sh": DiffState.MODIFIED,  # chmod only: same bytes, new mode
        "etc/new.conf": DiffState.ADDED,
    }
    assert set(read_feature.changes[1].removed_paths) == {"data/big", "data/gone/a", "data/gone/b"}
    assert read_feature.changes[5].removed_paths == ("etc/passwd",)


def diff_state_image() -> Image:
    base = Layer().dir("opt").file("opt/blob-a", b"a" * 5000).file("opt/blob-b", b"b" * 5000)
    upper = (
        Layer()
        .dir("opt")
        .file("opt/blob-a", b"a" * 5000)
        .file("opt/blob-b", b"b" * 5000, mode=0o600)
        .file("opt/new", b"n")
    )
    return Image([base.build(), upper.build()])


@pytest.mark.parametrize("shape", ["skopeo", "oci-dir-gzip", "oci-dir-plain", "containerd-zstd"])
def test_diff_states_do_not_depend_on_compression(shape: str, tmp_path: Path) -> None:
    result = read_image(SHAPES[shape](tmp_path, diff_state_image()))
    entries = result.image.layers[1].entries
    states = {e.path: DiffState(s) for e, s in zip(entries, result.changes[1].states, strict=True)}
    assert states == {
        "opt": DiffState.MODIFIED,  # a child changed
        "opt/blob-a": DiffState.UNMODIFIED,  # identical re-add
        "opt/blob-b": DiffState.MODIFIED,  # chmod only
        "opt/new": DiffState.ADDED,
    }


def test_compression_is_sniffed_not_taken_from_the_media_type(tmp_path: Path) -> None:
    img = Image(
        [
            Layer().file("plain-labelled-gzip", b"p").build(),
            Layer().file("gzip-labelled-plain", b"g").build(),
        ]
    )
    layout = write_oci_dir(
        tmp_path / "layout",
        [img],
        compression=["none", "gzip"],
        media_types=[LAYER_MEDIA_TYPES["gzip"], LAYER_MEDIA_TYPES["none"]],
    )
    layers = read_image(str(layout)).image.layers
    assert [layer.compression for layer in layers] == [Compression.NONE, Compression.GZIP]
    assert [layer.entries[0].path for layer in layers] == [
        "plain-labelled-gzip",
        "gzip-labelled-plain",
    ]


@pytest.mark.parametrize("annotated", [True, False])
def test_estargz_table_of_contents_is_not_part_of_the_filesystem(
    tmp_path: Path, annotated: bool
) -> None:
    """eStargz adds a landmark and a TOC to each layer tar, for lazy pulling; a layer whose
    descriptor names its TOC drops them, any other layer keeps what its tar says."""
    layer = (
        Layer()
        .file(".prefetch.landmark", b"\xf0")
        .file("app/main.py", b"print(1)\n")
        .file("stargz.index.json", b'{"version":1,"entries":[]}')
        .build()
    )
    note = {"containerd.io/snapshot/stargz/toc.digest": "sha256:" + "0" * 64}
    layout = write_oci_dir(
        tmp_path / "layout", [Image([layer])], layer_annotations=[note if annotated else {}]
    )
    result = read_image(str(layout))
    paths = [entry.path for entry in result.image.layers[0].entries]
    if annotated:
        assert paths == ["app/main.py"]
        assert result.image.size_bytes == len(b"print(1)\n")
        assert result.filesystem.get("stargz.index.json") is None
    else:
        assert paths == [".prefetch.landmark", "app/main.py", "stargz.index.json"]


def platforms() -> list[Image]:
    return [
        Image([Layer().file(arch, arch.encode()).build()], architecture=arch, variant=variant)
        for arch, variant in (("amd64", ""), ("arm64", "v8"), ("arm", "v7"))
    ]


@pytest.mark.parametrize("nested", [False, True])
def test_platform_option_picks_one_image(tmp_path: Path, nested: bool) -> None:
    layout = write_oci_dir(tmp_path / "layout", platforms(), nested=nested, attestation=True)
    result = read_image(str(layout), ReadOptions(platform="linux/arm64"))
    assert result.image.platform == Platform("linux", "arm64")
    assert [e.path for e in result.image.layers[0].entries] == ["arm64"]


def test_several_platforms_without_the_option_is_an_error(tmp_path: Path) -> None:
    archive = write_oci_archive(tmp_path / "multi.tar", platforms(), nested=True, attestation=True)
    with pytest.raises(BloatscopeError) as caught:
        read_image(str(archive))
    assert str(caught.value) == (
        f"{archive}: holds several platforms (linux/amd64, linux/arm64, linux/arm/v7); "
        "choose one with --platform"
    )


def test_attestation_alone_beside_the_image_is_skipped(tmp_path: Path) -> None:
    layout = write_oci_dir(tmp_path / "layout", platforms()[:1], attestation=True)
    assert read_image(str(layout)).image.platform == Platform("linux", "amd64")


def test_platform_option_on_a_docker_archive_checks_the_config(tmp_path: Path) -> None:
    archive = write_skopeo_archive(tmp_path / "x.tar", platforms()[0])
    assert read_image(str(archive), ReadOptions(platform="linux/amd64")).image.platform == Platform(
        "linux", "amd64"
    )
    with pytest.raises(BloatscopeError, match="holds a linux/amd64 image, not linux/arm64"):
        read_image(str(archive), ReadOptions(platform="linux/arm64"))


def test_tag_selector_in_the_reference(tmp_path: Path) -> None:
    archive = write_skopeo_archive(
        tmp_path / "x.tar", Image([Layer().file("a").build()], tag="app:1.0")
    )
    result = read_image(f"docker-archive:{archive}:app:1.0")
    assert result.image.repo_tags == ("docker.io/library/app:1.0", "localhost/app:1.0")


def test_history_without_empty_layers_and_too_short(tmp_path: Path) -> None:
    layers = [Layer().file("a").build(), Layer().file("b").build()]
    img = Image(layers, history=[{"created_by": "ADD a"}])
    result = read_image(str(write_skopeo_archive(tmp_path / "x.tar", img)))
    assert [layer.created_by for layer in result.image.layers] == ["ADD a", ""]
    assert any("unreliable" in w for w in result.image.warnings)


def test_worker_processes_read_the_same(
    feature: Image,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference_summary: dict[str, Any],
) -> None:
    monkeypatch.setattr(scanning, "_PARALLEL_THRESHOLD", 0)  # no 64 MB image needed
    reference = SHAPES["oci-archive-zstd"](tmp_path, feature)
    assert summary(read_image(reference, ReadOptions(workers=2))) == reference_summary


def test_missing_non_distributable_layer_is_reported_not_fatal(tmp_path: Path) -> None:
    img = Image([Layer().file("base").build(), Layer().file("app").build()])
    foreign = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    layout = oci_layout([img], media_types=[foreign, LAYER_MEDIA_TYPES["gzip"]])
    del layout.files["blobs/sha256/" + layout.layer_blobs[0].removeprefix("sha256:")]
    result = read_image(str(write_dir(tmp_path / "layout", layout.files)))
    assert [layer.file_count for layer in result.image.layers] == [0, 1]
    assert "layer 0 is not available (non-distributable)" in result.image.warnings
    assert {path for path, _node in result.filesystem.walk()} == {"app"}
