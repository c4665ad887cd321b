"""The corpus images read in every form give the same numbers; waste-zoo's waste is where its
Dockerfile put it.

Forms: docker-archive, oci-archive and oci-dir (by transport and as bare paths), an OCI layout
with zstd layers, and a ``docker save | gzip`` copy. Each image is analyzed once per form and
the results are cached for the module (an analysis of waste-zoo takes about a second).
"""

from __future__ import annotations

import math
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import isal.igzip
import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.model.layer import Compression
from bloatscope.model.report import Report, ShadowCause, ShadowedFile

pytestmark = pytest.mark.corpus

IMAGES = ("base-debian", "python-slim", "waste-zoo")
FORMS = (
    "docker-archive",  # the reference form; every other one is compared with it
    "oci-archive",
    "oci-dir",
    "docker-archive path",
    "oci-archive path",
    "oci-dir path",
    "zstd oci-dir",
    "gzip docker-archive path",
)
EXPECTED_COMPRESSION = {
    "docker-archive": Compression.NONE,
    "docker-archive path": Compression.NONE,
    "gzip docker-archive path": Compression.NONE,  # the outer tar is gzip, its layers are not
    "oci-archive": Compression.GZIP,
    "oci-archive path": Compression.GZIP,
    "oci-dir": Compression.GZIP,
    "oci-dir path": Compression.GZIP,
    "zstd oci-dir": Compression.ZSTD,
}
REGULAR = (0x30, 0x37)


@dataclass(frozen=True)
class Analyzed:
    reference: str
    report: Report
    archive: Path  # the tar or directory the layers are in (for a gzip copy: the plain tar)


class Forms:
    """Analyzes an image in a form on first use, then remembers it."""

    def __init__(self, corpus: Path, zstd: dict[str, Path], scratch: Path) -> None:
        self.corpus = corpus
        self.zstd = zstd
        self.scratch = scratch
        self.cache: dict[tuple[str, str], Analyzed] = {}

    def _gzip_copy(self, image: str) -> Path:
        """What ``docker save | gzip > x.tar.gz`` gives: the whole archive in one gzip stream."""
        target = self.scratch / f"{image}.docker.tar.gz"
        with (
            open(self.corpus / f"{image}.docker.tar", "rb") as source,
            isal.igzip.open(target, "wb", compresslevel=0) as sink,  # type: ignore[no-untyped-call]
        ):
            shutil.copyfileobj(source, sink, 1 << 22)
        return target

    def reference(self, image: str, form: str) -> tuple[str, Path]:
        docker = self.corpus / f"{image}.docker.tar"
        oci_tar = self.corpus / f"{image}.oci.tar"
        oci_dir = self.corpus / f"{image}.oci"
        match form:
            case "docker-archive":
                return f"docker-archive:{docker}", docker
            case "oci-archive":
                return f"oci-archive:{oci_tar}", oci_tar
            case "oci-dir":
                return f"oci-dir:{oci_dir}", oci_dir
            case "docker-archive path":
                return str(docker), docker
            case "oci-archive path":
                return str(oci_tar), oci_tar
            case "oci-dir path":
                return str(oci_dir), oci_dir
            case "zstd oci-dir":
                return f"oci-dir:{self.zstd[image]}", self.zstd[image]
            case "gzip docker-archive path":
                return str(self._gzip_copy(image)), docker
        raise ValueError(form)

    def get(self, image: str, form: str) -> Analyzed:
        key = (image, form)
        if key not in self.cache:
            reference, archive = self.reference(image, form)
            report = analyze(reference, AnalyzeOptions())
            self.cache[key] = Analyzed(reference, report, archive)
            if form == "gzip docker-archive path":
                Path(reference).unlink()  # hundreds of MB; the report is all we need
        return self.cache[key]


@pytest.fixture(scope="module")
def forms(
    corpus_dir: Path, zstd_corpus: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Forms:
    return Forms(corpus_dir, zstd_corpus, tmp_path_factory.mktemp("gzip-copies"))


def numbers(report: Report) -> dict[str, Any]:
    """Everything that must not depend on the form an image is stored in."""
    image, dive, waste = report.image, report.dive, report.reclaimable
    return {
        "size_bytes": image.size_bytes,
        "layer_count": len(image.layers),
        "layers": [
            {
                "size_bytes": layer.size_bytes,
                "tar_bytes": layer.tar_bytes,
                "diff_id": layer.diff_id,
                "file_count": layer.file_count,
                "added": changes.added,
                "modified": changes.modified,
                "removed": changes.removed,
                "created_by": layer.created_by,
            }
            for layer, changes in zip(image.layers, report.changes, strict=True)
        ],
        "history": image.history,
        "dive": {
            "efficiency": dive.efficiency,
            "wasted_bytes": dive.wasted_bytes,
            "user_size_bytes": dive.user_size_bytes,
            "user_wasted_percent": None
            if math.isnan(dive.user_wasted_percent)
            else dive.user_wasted_percent,
            "size_bytes": dive.size_bytes,
            "inefficient_files": dive.inefficient_files,
        },
        "reclaimable": {
            "total_bytes": waste.total_bytes,
            "by_cause": waste.by_cause,
            "by_layer": waste.by_layer,
            "files": waste.files,
        },
        "final_size_bytes": report.final_size_bytes,
        "largest_files": report.largest_files,
        "largest_directories": report.largest_directories,
    }


@pytest.mark.parametrize("form", FORMS[1:])
@pytest.mark.parametrize("image", IMAGES)
def test_every_form_gives_the_same_numbers(forms: Forms, image: str, form: str) -> None:
    expected = numbers(forms.get(image, "docker-archive").report)
    got = numbers(forms.get(image, form).report)
    for key, value in expected.items():
        assert got[key] == value, f"{image} as {form}: {key} differs from the docker-archive"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("image", IMAGES)
def test_shipped_bytes_are_final_plus_reclaimable(forms: Forms, image: str, form: str) -> None:
    report = forms.get(image, form).report
    shipped = sum(
        entry.size
        for layer in report.image.layers
        for entry in layer.entries
        if entry.typeflag in REGULAR
    )
    assert shipped == report.final_size_bytes + report.reclaimable.total_bytes
    assert report.reclaimable.total_bytes == sum(size for _c, size in report.reclaimable.by_cause)
    assert report.reclaimable.total_bytes == sum(report.reclaimable.by_layer)


def _member_sizes(archive: Path) -> dict[str, int]:
    """Sizes of the regular files in an uncompressed tar (reads headers, seeks past payloads)."""
    with tarfile.open(archive, "r:") as tar:
        return {member.name: member.size for member in tar if member.isfile()}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("image", IMAGES)
def test_compression_is_sniffed_and_blob_sizes_are_the_files(
    forms: Forms, image: str, form: str
) -> None:
    analyzed = forms.get(image, form)
    layers = analyzed.report.image.layers
    assert {layer.compression for layer in layers} == {EXPECTED_COMPRESSION[form]}
    if analyzed.archive.is_dir():
        stored = {
            layer.location: (analyzed.archive / layer.location).stat().st_size for layer in layers
        }
    else:
        members = _member_sizes(analyzed.archive)
        stored = {layer.location: members[layer.location] for layer in layers}
    assert [layer.compressed_size_bytes for layer in layers] == [
        stored[layer.location] for layer in layers
    ]
    assert analyzed.report.image.compressed_size_bytes == sum(
        layer.compressed_size_bytes for layer in layers
    )
    if EXPECTED_COMPRESSION[form] is Compression.NONE:
        assert all(layer.compressed_size_bytes == layer.tar_bytes for layer in layers)


# waste-zoo: what its Dockerfile (../shared/corpus/images/waste-zoo/Dockerfile) did on purpose


def _waste_zoo_runs() -> list[str]:
    shared = Path(os.environ.get("SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
    dockerfile = shared / "corpus" / "images" / "waste-zoo" / "Dockerfile"
    if not dockerfile.is_file():
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(f"{dockerfile} is missing")
        pytest.skip(f"{dockerfile} is missing")
    text = dockerfile.read_text().replace("\\\n", " ")
    return [line[4:].strip() for line in text.splitlines() if line.startswith("RUN ")]


@pytest.fixture(scope="module")
def waste_zoo(forms: Forms) -> Report:
    return forms.get("waste-zoo", "docker-archive").report


def _layer_running(report: Report, *needles: str) -> list[int]:
    return [
        layer.index
        for layer in report.image.layers
        if all(needle in layer.created_by for needle in needles)
    ]


def _shadowed(report: Report, path: str) -> list[ShadowedFile]:
    return [item for item in report.reclaimable.files if item.path == path]


def _dive_listed(report: Report) -> dict[str, tuple[int, int]]:
    return {f.path: (f.count, f.cumulative_bytes) for f in report.dive.inefficient_files}


def test_waste_zoo_layers_map_to_run_lines(forms: Forms, waste_zoo: Report) -> None:
    runs = _waste_zoo_runs()
    layers, history = waste_zoo.image.layers, waste_zoo.image.history
    base = forms.get("python-slim", "docker-archive").report.image.layers
    assert len(layers) == len(base) + len(runs)
    assert [layer.diff_id for layer in layers[: len(base)]] == [layer.diff_id for layer in base]
    for layer, run in zip(layers[len(base) :], runs, strict=True):
        assert layer.created_by == f"/bin/sh -c {run}"
    empty = [entry for entry in history if entry.empty_layer]
    assert empty, "FROM python-slim brings CMD/ENV steps without layers"
    assert all(entry.layer_index is None for entry in empty)
    assert [e.layer_index for e in history if not e.empty_layer] == list(range(len(layers)))
    assert all(
        layer.history is not None and layer.history.layer_index == layer.index for layer in layers
    )


def test_waste_zoo_overwritten_file(waste_zoo: Report) -> None:
    first, second = _layer_running(waste_zoo, "head -c 4000000", "/opt/data.bin")
    assert _shadowed(waste_zoo, "opt/data.bin") == [
        ShadowedFile("opt/data.bin", first, 4_000_000, ShadowCause.OVERWRITTEN, second)
    ]
    assert _dive_listed(waste_zoo)["/opt/data.bin"] == (2, 8_000_000)


def test_waste_zoo_deleted_file(waste_zoo: Report) -> None:
    [written] = _layer_running(waste_zoo, "> /tmp/build-artifact.tar")
    [removed] = _layer_running(waste_zoo, "rm /tmp/build-artifact.tar")
    assert _shadowed(waste_zoo, "tmp/build-artifact.tar") == [
        ShadowedFile("tmp/build-artifact.tar", written, 3_000_000, ShadowCause.DELETED, removed)
    ]
    assert _dive_listed(waste_zoo)["/tmp/build-artifact.tar"] == (2, 3_000_000)


def test_waste_zoo_directory_replaced(waste_zoo: Report) -> None:
    [written] = _layer_running(waste_zoo, "mkdir -p /srv/assets")
    [replaced] = _layer_running(waste_zoo, "rm -rf /srv/assets")
    for name in ("f1", "f2", "f3"):
        path = f"srv/assets/{name}"
        assert _shadowed(waste_zoo, path) == [
            ShadowedFile(path, written, 500_000, ShadowCause.DELETED, replaced)
        ]
        # the archive removes the directory with an opaque whiteout, which dive ignores (§1.6)
        assert f"/{path}" not in _dive_listed(waste_zoo)
    names = {entry.path for entry in waste_zoo.image.layers[replaced].entries}
    assert "srv/assets/.wh..wh..opq" in names
    # nothing else in the image deletes a file: 3,000,000 + 3 x 500,000
    assert dict(waste_zoo.reclaimable.by_cause)[ShadowCause.DELETED] == 4_500_000


def test_waste_zoo_chmod_only(waste_zoo: Report) -> None:
    [written] = _layer_running(waste_zoo, "cp /opt/blob-a /opt/blob-b")
    [chmod] = _layer_running(waste_zoo, "chmod 600 /opt/blob-b")
    assert _shadowed(waste_zoo, "opt/blob-b") == [
        ShadowedFile("opt/blob-b", written, 2_000_000, ShadowCause.METADATA_ONLY, chmod)
    ]
    assert _dive_listed(waste_zoo)["/opt/blob-b"] == (2, 4_000_000)
    # the hard link shares blob-a's bytes; neither is waste
    assert not _shadowed(waste_zoo, "opt/blob-a")
    assert not _shadowed(waste_zoo, "opt/blob-hard")
