"""A file's bytes as one layer wrote it: the same bytes in every archive form and compression,
matching the size and xxh3 the full read recorded; limits, hardlinks, and one-line errors for
what is not a regular file of that layer."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xxhash

from bloatscope.api import open_files, read_file
from bloatscope.errors import BloatscopeError
from bloatscope.model.entry import EntryType
from bloatscope.model.image import Image as ReadImage
from bloatscope.model.layer import Layer as ReadLayer
from bloatscope.reader.file_content import LayerFiles
from bloatscope.reader.image_reader import read_image
from synth import (
    LAYER_MEDIA_TYPES,
    Image,
    Layer,
    gzip_file,
    oci_layout,
    write_dir,
    write_legacy_docker_archive,
    write_oci_archive,
    write_oci_dir,
    write_skopeo_archive,
)

FORMS = ("docker-archive", "oci-archive", "oci-dir", "zstd")
WHOLE = 64 << 20


def one_line_error(call: Callable[[], object], *fragments: str) -> str:
    with pytest.raises(BloatscopeError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


# -- the corpus ---------------------------------------------------------------------------------


def corpus_reference(corpus: Path, zstd: dict[str, Path], name: str, form: str) -> str:
    return {
        "docker-archive": str(corpus / f"{name}.docker.tar"),
        "oci-archive": str(corpus / f"{name}.oci.tar"),
        "oci-dir": str(corpus / f"{name}.oci"),
        "zstd": str(zstd[name]),
    }[form]


@pytest.fixture(scope="module")
def zoo(corpus_dir: Path) -> ReadImage:
    """waste-zoo read in full from its gzip OCI layout: every entry carries its xxh3."""
    return read_image(str(corpus_dir / "waste-zoo.oci")).image


def layer_writing(image: ReadImage, path: str, nth: int = 0) -> int:
    """The index of the ``nth`` layer (from the bottom) whose entries include ``path``."""
    found = [layer.index for layer in image.layers if any(e.path == path for e in layer.entries)]
    return found[nth]


def recorded(image: ReadImage, layer: int, path: str) -> tuple[int, int]:
    """(size, xxh3) of ``path`` as the full read recorded it at ``layer``."""
    (entry,) = [e for e in image.layers[layer].entries if e.path == path]
    assert entry.digest is not None
    return entry.size, entry.digest


# waste-zoo's Dockerfile (../shared/corpus/images/waste-zoo/Dockerfile) plants these
PLANTED = [
    ("opt/data.bin", 0),  # written
    ("opt/data.bin", 1),  # and written again
    ("opt/blob-a", 0),
    ("opt/blob-b", 0),
    ("opt/blob-b", 1),  # chmod 600: the same bytes shipped again
    ("srv/assets/f2", 0),
    ("srv/assets/index.txt", 0),
]


@pytest.mark.corpus
@pytest.mark.parametrize("form", FORMS)
def test_planted_files_read_as_the_full_read_recorded_them(
    corpus_dir: Path, zstd_corpus: dict[str, Path], zoo: ReadImage, form: str
) -> None:
    reference = corpus_reference(corpus_dir, zstd_corpus, "waste-zoo", form)
    with LayerFiles.open(reference) as files:
        for path, nth in PLANTED:
            layer = layer_writing(zoo, path, nth)
            content = files.read(layer, path, WHOLE)
            size, digest = recorded(zoo, layer, path)
            assert (content.size, len(content.data)) == (size, size), path
            assert not content.truncated
            assert xxhash.xxh3_64_intdigest(content.data) == digest, (path, layer)


@pytest.fixture(scope="module")
def docker_form_bytes(corpus_dir: Path, zoo: ReadImage) -> dict[tuple[str, int], str]:
    """sha256 of each planted file read from the docker-archive (plain tar layers)."""
    reference = str(corpus_dir / "waste-zoo.docker.tar")
    digests = {}
    for path, nth in PLANTED:
        data = read_file(reference, layer_writing(zoo, path, nth), path, limit=WHOLE).data
        digests[path, nth] = hashlib.sha256(data).hexdigest()
    return digests


@pytest.mark.corpus
@pytest.mark.parametrize("form", ["oci-archive", "oci-dir", "zstd"])
def test_every_form_gives_the_same_bytes(
    corpus_dir: Path,
    zstd_corpus: dict[str, Path],
    zoo: ReadImage,
    docker_form_bytes: dict[tuple[str, int], str],
    form: str,
) -> None:
    reference = corpus_reference(corpus_dir, zstd_corpus, "waste-zoo", form)
    with LayerFiles.open(reference) as files:
        for path, nth in PLANTED:
            data = files.read(layer_writing(zoo, path, nth), path, WHOLE).data
            assert hashlib.sha256(data).hexdigest() == docker_form_bytes[path, nth], path


@pytest.mark.corpus
def test_a_rewritten_file_reads_differently_at_each_layer(corpus_dir: Path, zoo: ReadImage) -> None:
    first, second = layer_writing(zoo, "opt/data.bin", 0), layer_writing(zoo, "opt/data.bin", 1)
    with open_files(str(corpus_dir / "waste-zoo.oci.tar")) as files:
        old = files.read(first, "/opt/data.bin", WHOLE)
        new = files.read(second, "/opt/data.bin", WHOLE)
        assert old.size == new.size == 4_000_000
        assert old.data != new.data
        # a layer above both does not write it
        one_line_error(
            lambda: files.read(second + 1, "opt/data.bin", 10), "/opt/data.bin is not in this layer"
        )


@pytest.mark.corpus
@pytest.mark.parametrize("form", ["docker-archive", "zstd"])
def test_a_hardlink_reads_its_target(
    corpus_dir: Path, zstd_corpus: dict[str, Path], zoo: ReadImage, form: str
) -> None:
    layer = layer_writing(zoo, "opt/blob-hard")
    (link,) = [e for e in zoo.layers[layer].entries if e.path == "opt/blob-hard"]
    assert link.typeflag == EntryType.HARDLINK  # docker wrote the link, not a second copy
    reference = corpus_reference(corpus_dir, zstd_corpus, "waste-zoo", form)
    with LayerFiles.open(reference) as files:
        target = files.read(layer, "opt/blob-a", WHOLE)
        linked = files.read(layer, "opt/blob-hard", WHOLE)
    assert (linked.source, linked.source_layer) == ("opt/blob-a", layer)
    assert linked.path == "opt/blob-hard"
    assert linked.size == 2_000_000
    assert linked.data == target.data


@pytest.mark.corpus
def test_a_permissions_only_change_keeps_the_bytes_and_reports_the_new_mode(
    corpus_dir: Path, zoo: ReadImage
) -> None:
    before, after = layer_writing(zoo, "opt/blob-b", 0), layer_writing(zoo, "opt/blob-b", 1)
    with LayerFiles.open(str(corpus_dir / "waste-zoo.docker.tar")) as files:
        old = files.read(before, "opt/blob-b", WHOLE)
        new = files.read(after, "opt/blob-b", WHOLE)
    assert old.data == new.data
    assert (old.mode, new.mode) == (0o644, 0o600)


@pytest.mark.corpus
@pytest.mark.parametrize("form", FORMS)
def test_a_limit_returns_the_start_of_the_file(
    corpus_dir: Path, zstd_corpus: dict[str, Path], zoo: ReadImage, form: str
) -> None:
    layer = layer_writing(zoo, "opt/data.bin")
    reference = corpus_reference(corpus_dir, zstd_corpus, "waste-zoo", form)
    with LayerFiles.open(reference) as files:
        whole = files.read(layer, "opt/data.bin", WHOLE).data
        start = files.read(layer, "opt/data.bin", 1000)
        empty = files.read(layer, "opt/data.bin", 0)
        exact = files.read(layer, "opt/data.bin", 4_000_000)
    assert start.data == whole[:1000]
    assert (start.size, start.truncated) == (4_000_000, True)
    assert (empty.data, empty.truncated) == (b"", True)
    assert (len(exact.data), exact.truncated) == (4_000_000, False)
    # and a cold read_file (its own scan of the layer) gives the same start
    assert read_file(reference, layer, "opt/data.bin", limit=1000).data == whole[:1000]


@pytest.mark.corpus
@pytest.mark.parametrize("form", FORMS)
def test_os_release_of_debian(corpus_dir: Path, zstd_corpus: dict[str, Path], form: str) -> None:
    reference = corpus_reference(corpus_dir, zstd_corpus, "base-debian", form)
    with LayerFiles.open(reference) as files:
        content = files.read(0, "/usr/lib/os-release", 4096)
        assert content.data.startswith(b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
        assert len(content.data) == content.size
        # Debian's /etc/os-release is a relative symlink: named, not followed
        one_line_error(
            lambda: files.read(0, "/etc/os-release", 4096),
            reference.rstrip("/"),
            "layer 0: /etc/os-release is a symlink to ../usr/lib/os-release",
        )


@pytest.mark.corpus
def test_what_is_not_a_regular_file_of_the_layer_is_a_one_line_error(
    corpus_dir: Path, zoo: ReadImage
) -> None:
    reference = str(corpus_dir / "waste-zoo.oci")
    count = len(zoo.layers)
    deleted = layer_writing(zoo, "tmp/.wh.build-artifact.tar")
    replaced = layer_writing(zoo, "srv/assets/.wh..wh..opq")
    with LayerFiles.open(reference) as files:
        for layer in (count, -1):
            one_line_error(
                functools.partial(files.read, layer, "opt/data.bin", 10),
                reference,
                f"no layer {layer}: the image has {count} layers (0-{count - 1})",
            )
        one_line_error(lambda: files.read(replaced, "srv/assets", 10), "/srv/assets is a directory")
        one_line_error(lambda: files.read(replaced, "/srv", 10), "layer", "/srv is a directory")
        one_line_error(lambda: files.read(0, "/", 10), "/ is a directory")
        one_line_error(lambda: files.read(0, "no/such/file", 10), "/no/such/file is not in this")
        one_line_error(
            lambda: files.read(deleted, "tmp/.wh.build-artifact.tar", 10),
            "is a whiteout: it deletes /tmp/build-artifact.tar from the layers below",
        )
        one_line_error(
            lambda: files.read(replaced, "srv/assets/.wh..wh..opq", 10),
            "is an opaque marker: it hides what the layers below have in /srv/assets",
        )
    with pytest.raises(ValueError):
        read_file(reference, 0, "etc/passwd", limit=-1)


def regular_entries(image: ReadImage, layer: int) -> list[str]:
    return [e.path for e in image.layers[layer].entries if e.typeflag == EntryType.FILE]


@pytest.mark.corpus
@pytest.mark.parametrize("form", FORMS)
def test_every_file_of_a_layer_in_either_order_with_the_full_reads_entries(
    corpus_dir: Path, zstd_corpus: dict[str, Path], zoo: ReadImage, form: str
) -> None:
    # the curl install: ~180 entries; forwards the decoder goes on from file to file,
    # backwards (every 12th file: each costs a fresh decoder) it starts again for each one.
    # The uncompressed tar is the same in every form, so the gzip layout's entries (with their
    # digests) fit every form.
    layer = layer_writing(zoo, "usr/bin/curl")
    paths = regular_entries(zoo, layer)
    assert len(paths) > 50
    reference = corpus_reference(corpus_dir, zstd_corpus, "waste-zoo", form)
    with LayerFiles.open(reference) as files:
        files.add_layer(zoo.layers[layer])
        for order in (paths, paths[::-12]):
            for path in order:
                content = files.read(layer, path, WHOLE)
                size, digest = recorded(zoo, layer, path)
                assert len(content.data) == size
                assert xxhash.xxh3_64_intdigest(content.data) == digest, path


@pytest.mark.corpus
def test_reads_from_several_threads(corpus_dir: Path, zoo: ReadImage) -> None:
    layer = layer_writing(zoo, "usr/bin/curl")
    paths = regular_entries(zoo, layer)
    paths = random.Random(7).sample(paths, 24)
    with (
        LayerFiles.open(str(corpus_dir / "waste-zoo.oci.tar")) as files,
        ThreadPoolExecutor(4) as pool,
    ):
        contents = list(pool.map(lambda p: files.read(layer, p, WHOLE), paths))
    for path, content in zip(paths, contents, strict=True):
        assert xxhash.xxh3_64_intdigest(content.data) == recorded(zoo, layer, path)[1]


@pytest.mark.corpus
def test_entries_that_do_not_fit_the_bytes_are_refused(corpus_dir: Path, zoo: ReadImage) -> None:
    layer = zoo.layers[layer_writing(zoo, "opt/data.bin")]
    (entry,) = [e for e in layer.entries if e.path == "opt/data.bin"]

    def with_entry(*, offset: int, digest: int | None) -> ReadLayer:
        forged = entry._replace(offset=offset, digest=digest)
        entries = tuple(forged if e is entry else e for e in layer.entries)
        return dataclasses.replace(layer, entries=entries)

    for form in ("waste-zoo.docker.tar", "waste-zoo.oci"):
        with LayerFiles.open(str(corpus_dir / form)) as files:
            files.add_layer(with_entry(offset=entry.offset + 512, digest=entry.digest))
            one_line_error(
                functools.partial(files.read, layer.index, "opt/data.bin", 100),
                f"/opt/data.bin at offset {entry.offset + 512} has no tar header before its offset",
            )
            files.add_layer(with_entry(offset=entry.offset, digest=(entry.digest or 0) ^ 1))
            one_line_error(
                functools.partial(files.read, layer.index, "opt/data.bin", WHOLE),
                "does not match the digest of its content",
            )
            # the start of the file is still there to preview: only whole reads are hashed
            assert len(files.read(layer.index, "opt/data.bin", 100).data) == 100
            one_line_error(
                functools.partial(
                    files.add_layer, dataclasses.replace(layer, index=layer.index - 1)
                ),
                f"layer {layer.index - 1} given is {layer.diff_id}",
            )


# -- synthetic images: every source shape and compression ----------------------------------------

BIG = random.Random(1).randbytes(300_000)
ESCAPE_NAME = "esc\x1b[2Jname\x07.txt"


def sample_image() -> Image:
    base = (
        Layer()
        .dir("etc")
        .file("etc/conf", b"version 1\n", mode=0o640)
        .file("big.bin", BIG)
        .file("lower", b"only in the base layer")
        .file("empty", b"")
        .file(ESCAPE_NAME, b"\x1b]0;title\x07 hello")
        .file(b"caf\xe9", b"latin-1 name")
        .symlink("link", "etc/conf")
        .hardlink("same", "big.bin")
        .device("null")
        .fifo("pipe")
        .file("dup", b"first copy")
        .file("dup", b"second copy wins")
    )
    upper = (
        Layer()
        .dir("etc")
        .file("etc/conf", b"version 2 is longer\n", mode=0o4755)
        .hardlink("to-lower", "lower")
        .whiteout("big.bin")
        .hardlink("dangling", "nowhere")
    )
    return Image([base.build(), upper.build()])


SHAPES: dict[str, Callable[[Path, Image], str]] = {
    "skopeo": lambda d, img: str(write_skopeo_archive(d / "x.tar", img)),
    "docker-legacy": lambda d, img: str(write_legacy_docker_archive(d / "x.tar", img)),
    "docker-save-gzip": lambda d, img: str(
        gzip_file(write_legacy_docker_archive(d / "plain.tar", img), d / "x.tar.gz")
    ),
    "oci-archive-gzip": lambda d, img: str(write_oci_archive(d / "x.tar", [img])),
    "oci-archive-zstd": lambda d, img: str(
        write_oci_archive(d / "x.tar", [img], compression="zstd")
    ),
    "oci-dir-plain": lambda d, img: str(write_oci_dir(d / "l", [img], compression="none")),
    "oci-dir-gzip-multi": lambda d, img: str(
        write_oci_dir(d / "l", [img], compression="gzip-multi")
    ),
    "oci-dir-zstd": lambda d, img: str(write_oci_dir(d / "l", [img], compression="zstd")),
}


@pytest.fixture(params=SHAPES)
def sample(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LayerFiles]:
    with LayerFiles.open(SHAPES[request.param](tmp_path, sample_image())) as files:
        yield files


def test_synthetic_files_read_back(sample: LayerFiles) -> None:
    assert sample.read(0, "big.bin", WHOLE).data == BIG
    assert sample.read(0, "etc/conf", 100).data == b"version 1\n"
    assert sample.read(1, "/etc/conf", 100).data == b"version 2 is longer\n"
    assert sample.read(1, "etc/conf", 100).mode == 0o4755  # as the header says
    assert sample.read(0, "empty", 100).data == b""
    assert sample.read(0, ESCAPE_NAME, 100).data == b"\x1b]0;title\x07 hello"
    assert sample.read(0, "caf\udce9", 100).data == b"latin-1 name"
    assert sample.read(0, "dup", 100).data == b"second copy wins"
    truncated = sample.read(0, "big.bin", 1234)
    assert (truncated.data, truncated.size, truncated.truncated) == (BIG[:1234], 300_000, True)


def test_synthetic_links_and_special_files(sample: LayerFiles) -> None:
    same = sample.read(0, "same", WHOLE)
    assert (same.data, same.source, same.source_layer) == (BIG, "big.bin", 0)
    lower = sample.read(1, "to-lower", 100)  # a link to a file of the layer below
    assert (lower.data, lower.source, lower.source_layer) == (b"only in the base layer", "lower", 0)
    one_line_error(lambda: sample.read(0, "link", 10), "/link is a symlink to etc/conf")
    one_line_error(lambda: sample.read(0, "null", 10), "/null is a character device, not a file")
    one_line_error(lambda: sample.read(0, "pipe", 10), "/pipe is a named pipe, not a file")
    one_line_error(lambda: sample.read(0, "etc", 10), "/etc is a directory")
    one_line_error(
        lambda: sample.read(1, "dangling", 10),
        "/dangling is a hardlink to /nowhere, which no layer up to this one has",
    )
    one_line_error(
        lambda: sample.read(1, ".wh.big.bin", 10), "/.wh.big.bin is a whiteout: it deletes /big.bin"
    )
    one_line_error(lambda: sample.read(1, "big.bin", 10), "/big.bin is not in this layer")
    one_line_error(
        lambda: sample.read(2, "big.bin", 10), "no layer 2: the image has 2 layers (0-1)"
    )


def test_a_spooled_archive_is_removed_on_close(tmp_path: Path) -> None:
    reference = SHAPES["docker-save-gzip"](tmp_path, sample_image())
    scratch = tempfile.gettempdir()
    before = set(os.listdir(scratch))
    files = LayerFiles.open(reference)
    spooled = set(os.listdir(scratch)) - before
    assert any(name.startswith("bloatscope-") for name in spooled)
    assert files.read(0, "big.bin", WHOLE).data == BIG
    files.close()
    assert not spooled & set(os.listdir(scratch))


def test_a_missing_non_distributable_layer_is_named(tmp_path: Path) -> None:
    img = sample_image()
    foreign = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    layout = oci_layout([img], media_types=[foreign, LAYER_MEDIA_TYPES["gzip"]])
    del layout.files["blobs/sha256/" + layout.layer_blobs[0].removeprefix("sha256:")]
    reference = str(write_dir(tmp_path / "layout", layout.files))
    with LayerFiles.open(reference) as files:
        one_line_error(
            lambda: files.read(0, "big.bin", 10), "layer 0: is not in the archive (a non-dist"
        )
        assert files.read(1, "etc/conf", 100).data == b"version 2 is longer\n"
