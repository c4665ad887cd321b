"""The outline: the full read's layer list (diff_ids, blobs, sizes, history) from the manifest
and config alone, in milliseconds, refusing bad input with the reader's own errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bloatscope.api import outline
from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Image as ReadImage
from bloatscope.model.outline import ImageOutline
from bloatscope.reader.image_reader import ReadOptions, read_image
from conftest import CORPUS_IMAGES
from synth import (
    EPOCH,
    LAYER_MEDIA_TYPES,
    Image,
    Layer,
    feature_image,
    oci_layout,
    write_dir,
    write_legacy_docker_archive,
    write_oci_archive,
    write_oci_dir,
    write_skopeo_archive,
)

FORMS = ("docker-archive", "oci-archive", "oci-dir", "zstd")


def corpus_reference(corpus: Path, zstd: dict[str, Path], name: str, form: str) -> str:
    return {
        "docker-archive": str(corpus / f"{name}.docker.tar"),
        "oci-archive": str(corpus / f"{name}.oci.tar"),
        "oci-dir": str(corpus / f"{name}.oci"),
        "zstd": str(zstd[name]),
    }[form]


def layer_rows(image: ReadImage | ImageOutline) -> list[tuple[object, ...]]:
    return [
        (
            layer.index,
            layer.location,
            layer.diff_id,
            layer.blob_digest,
            layer.media_type,
            layer.compressed_size_bytes,
            layer.history,
            layer.created_by,
        )
        for layer in image.layers
    ]


def assert_same_as_full_read(sketch: ImageOutline, image: ReadImage) -> None:
    assert layer_rows(sketch) == layer_rows(image)
    assert sketch.reference == image.reference
    assert sketch.source_format == image.source_format
    assert sketch.image_id == image.image_id
    assert sketch.repo_tags == image.repo_tags
    assert sketch.platform == image.platform
    assert sketch.created == image.created
    assert sketch.config == image.config
    assert sketch.history == image.history
    assert sketch.compressed_size_bytes == image.compressed_size_bytes
    assert all(layer.available for layer in sketch.layers)


@pytest.mark.corpus
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", CORPUS_IMAGES)
def test_the_outline_lists_the_layers_the_full_read_finds(
    corpus_dir: Path, zstd_corpus: dict[str, Path], name: str, form: str
) -> None:
    reference = corpus_reference(corpus_dir, zstd_corpus, name, form)
    sketch = outline(reference)
    full = read_image(reference, ReadOptions(compare_same_sizes=False)).image
    assert_same_as_full_read(sketch, full)
    # the corpus images were built with RUN steps: the history reaches the top layer
    assert sketch.layers[-1].created_by
    assert len(sketch.layers) == len(full.layers) >= 1


@pytest.mark.corpus
@pytest.mark.parametrize("form", FORMS)
def test_the_outline_takes_milliseconds(
    corpus_dir: Path, zstd_corpus: dict[str, Path], form: str
) -> None:
    reference = corpus_reference(corpus_dir, zstd_corpus, "waste-zoo", form)
    outline(reference)  # the first call pays for imports
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        outline(reference)
        timings.append(time.perf_counter() - start)
    # a full read of waste-zoo takes seconds; reading its JSON takes a few milliseconds
    assert sorted(timings)[2] < 0.1, timings


WRITERS = {
    "skopeo": lambda d, img: str(write_skopeo_archive(d / "x.tar", img)),
    "docker-legacy": lambda d, img: str(write_legacy_docker_archive(d / "x.tar", img)),
    "oci-archive-zstd": lambda d, img: str(
        write_oci_archive(d / "x.tar", [img], compression="zstd")
    ),
    "oci-dir-gzip": lambda d, img: str(write_oci_dir(d / "layout", [img])),
    "oci-dir-plain": lambda d, img: str(write_oci_dir(d / "layout", [img], compression="none")),
}


@pytest.mark.parametrize("shape", WRITERS)
def test_synthetic_shapes_outline_as_they_read(shape: str, tmp_path: Path) -> None:
    reference = WRITERS[shape](tmp_path, feature_image())
    assert_same_as_full_read(outline(reference), read_image(reference).image)


def test_no_layer_blob_is_read(tmp_path: Path) -> None:
    # every layer blob replaced by garbage of the same size: the full read fails on it, the
    # outline never looks
    img = Image([Layer().file("a", b"a" * 5000).build(), Layer().file("b", b"b").build()])
    layout = oci_layout([img], compression="none")
    for blob in layout.layer_blobs:
        name = "blobs/sha256/" + blob.removeprefix("sha256:")
        layout.files[name] = b"\xff" * len(layout.files[name])
    reference = str(write_dir(tmp_path / "layout", layout.files))
    with pytest.raises(BloatscopeError):
        read_image(reference)
    sketch = outline(reference)
    assert [layer.diff_id for layer in sketch.layers] == img.diff_ids
    assert [layer.created_by for layer in sketch.layers] == [
        "/bin/sh -c step-0",
        "/bin/sh -c step-1",
    ]


def test_history_is_aligned_past_empty_steps(tmp_path: Path) -> None:
    history: list[dict[str, Any]] = [
        {"created": EPOCH, "created_by": "ADD base", "comment": "the base"},
        {"created": EPOCH, "created_by": "ENV X=1", "empty_layer": True},
        {"created": EPOCH, "created_by": "WORKDIR /app", "empty_layer": True},
        {"created": EPOCH, "created_by": "RUN make"},
        {"created": EPOCH, "created_by": 'CMD ["app"]', "empty_layer": True},
    ]
    img = Image([Layer().file("a").build(), Layer().file("b").build()], history=history)
    sketch = outline(str(write_oci_dir(tmp_path / "layout", [img])))
    assert [layer.created_by for layer in sketch.layers] == ["ADD base", "RUN make"]
    assert sketch.layers[0].history is not None
    assert sketch.layers[0].history.comment == "the base"
    assert len(sketch.history) == 5
    assert sketch.warnings == ()


def test_a_history_that_does_not_fit_is_warned_about(tmp_path: Path) -> None:
    history = [{"created": EPOCH, "created_by": "RUN only-one"}]
    img = Image([Layer().file("a").build(), Layer().file("b").build()], history=history)
    reference = str(write_oci_dir(tmp_path / "layout", [img]))
    sketch = outline(reference)
    assert [layer.created_by for layer in sketch.layers] == ["RUN only-one", ""]
    assert sketch.warnings == read_image(reference).image.warnings
    assert "history has 1 layer-producing steps for 2 layers" in sketch.warnings[0]


def test_a_missing_non_distributable_layer_is_marked_unavailable(tmp_path: Path) -> None:
    img = Image([Layer().file("base").build(), Layer().file("app").build()])
    foreign = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    layout = oci_layout([img], media_types=[foreign, LAYER_MEDIA_TYPES["gzip"]])
    blob = "blobs/sha256/" + layout.layer_blobs[0].removeprefix("sha256:")
    size = len(layout.files.pop(blob))
    sketch = outline(str(write_dir(tmp_path / "layout", layout.files)))
    assert [layer.available for layer in sketch.layers] == [False, True]
    assert sketch.layers[0].compressed_size_bytes == size  # from the descriptor
    assert sketch.layers[0].media_type == foreign
    assert "layer 0 is not available (non-distributable)" in sketch.warnings


def test_the_platform_is_chosen_as_the_reader_chooses_it(tmp_path: Path) -> None:
    amd = Image([Layer().file("amd").build()])
    arm = Image([Layer().file("arm").build(), Layer().build()], architecture="arm64")
    reference = str(write_oci_dir(tmp_path / "layout", [amd, arm]))
    with pytest.raises(BloatscopeError, match="choose one with --platform"):
        outline(reference)
    sketch = outline(reference, "linux/arm64")
    assert str(sketch.platform) == "linux/arm64"
    assert [layer.diff_id for layer in sketch.layers] == arm.diff_ids
    with pytest.raises(BloatscopeError, match="has no linux/s390x image"):
        outline(reference, "linux/s390x")


def _both_fail(reference: str) -> str:
    """The outline and the full read refuse ``reference`` with the same one-line message."""
    with pytest.raises(BloatscopeError) as by_outline:
        outline(reference)
    with pytest.raises(BloatscopeError) as by_read:
        read_image(reference)
    message = str(by_outline.value)
    assert message == str(by_read.value)
    assert "\n" not in message
    return message


def test_bad_input_is_refused_as_the_reader_refuses_it(tmp_path: Path) -> None:
    assert "no such file or directory" in _both_fail(str(tmp_path / "nothing.tar"))

    not_an_image = tmp_path / "not.tar"
    not_an_image.write_bytes(b"hello" * 200)
    assert _both_fail(str(not_an_image)).startswith(str(not_an_image))

    img = Image([Layer().file("a").build(), Layer().file("b").build()])
    layout = oci_layout([img])
    broken = dict(layout.files)
    index = json.loads(broken["index.json"])
    manifest_name = "blobs/sha256/" + index["manifests"][0]["digest"].removeprefix("sha256:")
    del broken[manifest_name]
    path = write_dir(tmp_path / "no-manifest", broken)
    assert "which the layout does not contain" in _both_fail(str(path))

    missing_layer = dict(layout.files)
    del missing_layer["blobs/sha256/" + layout.layer_blobs[1].removeprefix("sha256:")]
    path = write_dir(tmp_path / "no-layer", missing_layer)
    assert "which is missing" in _both_fail(str(path))


def test_the_outline_loads_no_analysis() -> None:
    # a UI shows the outline first: it must not wait for the analysis modules to import
    code = (
        "import sys; from bloatscope.api import outline; "
        "print(sorted(m for m in sys.modules if m.startswith(('bloatscope.analysis', "
        "'bloatscope.packages', 'rich', 'textual'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_outline_call_loads_no_analysis(tmp_path: Path) -> None:
    reference = str(write_oci_dir(tmp_path / "layout", [feature_image()]))
    code = (
        "import sys; from bloatscope.api import outline; "
        f"sketch = outline({reference!r}); "
        "print(len(sketch.layers), sorted(m for m in sys.modules if m.startswith("
        "('bloatscope.analysis', 'bloatscope.packages', 'bloatscope.reader.merge'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "6 []"
