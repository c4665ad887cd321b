"""Scanning one layer blob: names normalized, entries as metadata, content digests, sizes, and
memory that grows with entries rather than bytes."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import pytest
import xxhash

from bloatscope.model.entry import EntryType
from bloatscope.model.layer import Compression
from bloatscope.reader.hashing import fill_digests
from bloatscope.reader.layer import EMPTY_DIGEST, Capture, normalize_path, scan_layer
from bloatscope.reader.tarfields import TarFormatError
from bloatscope.sources.base import BlobRef
from synth import (
    EMPTY_TAR,
    EMPTY_TAR_DIFF_ID,
    LONG_NAME,
    LONG_TARGET,
    RAW_NAME,
    Layer,
    compress,
    entries,
    scan,
)

KINDS = ["none", "gzip", "gzip-multi", "zstd"]
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"etc/passwd", "etc/passwd"),
        (b"./dot", "dot"),
        (b"/abs", "abs"),
        (b"//double//slash", "double/slash"),
        (b"dir/", "dir"),
        (b"./", ""),
        (b".", ""),
        (b"/", ""),
        (b"a/./b", "a/b"),
        (b"a/b/../c", "a/c"),
        (b"../../etc/passwd", "etc/passwd"),
        (b"a/../../../x", "x"),
        (b"..", ""),
        (b".wh.x", ".wh.x"),
        (b".hidden", ".hidden"),
        (b"...", "..."),
        (b"a/..b", "a/..b"),
    ],
)
def test_normalize_path(raw: bytes, expected: str) -> None:
    assert normalize_path(raw) == expected


def test_non_utf8_path_round_trips_to_its_bytes() -> None:
    path = normalize_path(b"./data/caf\xe9/\xff\xfe")
    assert path.encode("utf-8", "surrogateescape") == b"data/caf\xe9/\xff\xfe"


def test_entries_carry_header_metadata() -> None:
    found = entries(
        Layer()
        .dir("etc", mode=0o700, uid=5, gid=6)
        .file("etc/shadow", b"secret", mode=0o640, uid=0, gid=42)
    )
    assert [(e.path, e.typeflag, e.size, e.mode, e.uid, e.gid) for e in found] == [
        ("etc", EntryType.DIR, 0, 0o700, 5, 6),
        ("etc/shadow", EntryType.FILE, 6, 0o640, 0, 42),
    ]


def test_names_are_normalized_and_clamped_inside_the_root() -> None:
    layer = (
        Layer()
        .file("./dot", b"1")
        .file("/abs", b"2")
        .file("../../etc/passwd", b"3")
        .file("a//b/./c/../d", b"4")
    )
    assert [e.path for e in entries(layer)] == ["dot", "abs", "etc/passwd", "a/b/d"]


def test_root_entry_is_dropped() -> None:
    found = entries(Layer().dir(".").dir("./etc").file("./etc/x"))
    assert [e.path for e in found] == ["etc", "etc/x"]


def test_hardlink_target_is_normalized_symlink_target_verbatim() -> None:
    found = entries(
        Layer().file("./bin/a").hardlink("./bin/b", "./bin/a").symlink("bin/c", "/../bin//a")
    )
    assert [(e.path, e.linkname) for e in found] == [
        ("bin/a", ""),
        ("bin/b", "bin/a"),
        ("bin/c", "/../bin//a"),
    ]


def test_device_files_are_metadata_only() -> None:
    found = entries(
        Layer()
        .device("dev/null", major=1, minor=3)
        .device("dev/sda", char=False, major=8, minor=0)
        .fifo("run/fifo")
    )
    assert [(e.path, e.typeflag, e.size, e.digest) for e in found] == [
        ("dev/null", EntryType.CHAR, 0, None),
        ("dev/sda", EntryType.BLOCK, 0, None),
        ("run/fifo", EntryType.FIFO, 0, None),
    ]


@pytest.mark.parametrize("tar_format", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names_and_link_targets(tar_format: int) -> None:
    found = entries(
        Layer(tar_format).file(LONG_NAME, b"x").symlink("s", LONG_TARGET).hardlink("h", LONG_NAME)
    )
    assert [(e.path, e.linkname) for e in found] == [
        (LONG_NAME, ""),
        ("s", LONG_TARGET),
        ("h", LONG_NAME),
    ]


def test_non_utf8_names_round_trip_losslessly() -> None:
    found = entries(Layer().file(RAW_NAME, b"x").symlink(b"data/lnk\xff", RAW_NAME))
    assert [e.path.encode("utf-8", "surrogateescape") for e in found] == [RAW_NAME, b"data/lnk\xff"]
    assert found[1].linkname.encode("utf-8", "surrogateescape") == RAW_NAME


def test_zero_entry_layer() -> None:
    result = scan(EMPTY_TAR, verify=True)
    assert result.entries == ()
    assert result.tar_bytes == 1024
    assert result.diff_id == EMPTY_TAR_DIFF_ID


@pytest.mark.parametrize("kind", KINDS)
def test_every_compression_gives_the_same_entries(kind: str) -> None:
    layer = (
        Layer()
        .dir("d")
        .file("d/a", os.urandom(3000))
        .file("d/b", b"bb" * 5000)
        .symlink("d/s", "a")
        .file(LONG_NAME, b"L")
    ).build()
    plain = scan(layer)
    result = scan(compress(layer, kind))
    assert [e[:8] for e in result.entries] == [e[:8] for e in plain.entries]
    assert result.tar_bytes == plain.tar_bytes == len(layer)


@pytest.mark.parametrize(
    ("kind", "compression"),
    [
        ("none", Compression.NONE),
        ("gzip", Compression.GZIP),
        ("gzip-multi", Compression.GZIP),
        ("zstd", Compression.ZSTD),
    ],
)
def test_compression_and_sizes_are_reported(kind: str, compression: Compression) -> None:
    layer = Layer().file("f", os.urandom(10_000)).build()
    blob = compress(layer, kind)
    result = scan(blob)
    assert result.compression is compression
    assert result.blob_bytes == len(blob)
    assert result.tar_bytes == len(layer)


def test_multi_member_gzip_keeps_entries_of_every_member() -> None:
    layer = Layer()
    for index in range(50):
        layer.file(f"f{index:02d}", os.urandom(1000))
    data = layer.build()
    blob = compress(data, "gzip-multi")
    assert blob.count(b"\x1f\x8b\x08") >= 2
    assert [e.path for e in scan(blob).entries] == [f"f{i:02d}" for i in range(50)]


def test_compressed_layers_hash_every_regular_file() -> None:
    found = entries(Layer().file("a", b"alpha").file("empty").dir("d").hardlink("h", "a"))
    assert [e.digest for e in found] == [
        xxhash.xxh3_64_intdigest(b"alpha"),
        EMPTY_DIGEST,
        None,
        None,
    ]


def test_plain_layers_are_walked_without_hashing() -> None:
    result = scan(Layer().file("a", b"alpha").build())
    assert not result.hashed
    assert result.entries[0].digest is None
    assert result.diff_id is None and result.blob_digest is None


def test_verify_computes_diff_id_and_blob_digest() -> None:
    layer = Layer().file("a", b"alpha").build()
    blob = compress(layer, "gzip")
    result = scan(blob, verify=True)
    assert result.diff_id == "sha256:" + hashlib.sha256(layer).hexdigest()
    assert result.blob_digest == "sha256:" + hashlib.sha256(blob).hexdigest()


def test_fill_digests_reads_payloads_back_by_offset(tmp_path: Path) -> None:
    payload = os.urandom(5000)
    layer = Layer().file("a", payload).file("b", b"").file("c", b"see").build()
    path = tmp_path / "archive.bin"
    path.write_bytes(b"P" * 1000 + layer)  # the layer sits inside a larger file
    ref = BlobRef(str(path), 1000, len(layer), "archive.bin: layer")
    result = scan_layer(ref, verify_blob=False, verify_diff_id=False)
    filled = fill_digests(ref, result, [0, 1])
    assert [e.digest for e in filled.entries] == [
        xxhash.xxh3_64_intdigest(payload),
        EMPTY_DIGEST,
        None,
    ]
    assert [e.digest for e in filled.entries[:2]] == [e.digest for e in entries(layer)[:2]]


def test_sizes_of_entries_are_logical_sizes() -> None:
    result = scan(Layer().file("a", b"x" * 1234).file("b", b"y" * 512).build())
    assert [e.size for e in result.entries] == [1234, 512]


def test_truncated_plain_layer_names_the_layer() -> None:
    data = Layer().file("big", b"x" * 20_000).build()
    with pytest.raises(TarFormatError, match="test: 10000-byte layer is truncated at byte"):
        scan(data[:10_000])


# A layer of 1,000,000 empty files: headers only, so the tar is 512 MB and gzips to a few MB.
ENTRY_COUNT = 1_000_000
# Peak RSS bound. Per entry the reader keeps a FileEntry (a 9-field tuple, ~130 B), its path
# string (~65 B) and a few ints (~60 B): ~250 MB for a million entries, plus ~40 MB of
# interpreter and modules and the decoder's bounded chunks (4 MiB out, 256 KiB in). If the
# 512 MB of tar were held, or the entry list copied twice, the bound would be crossed.
PEAK_RSS_BOUND = 600 << 20

_GENERATOR = textwrap.dedent(
    """
    import sys, tarfile
    from isal import isal_zlib
    count, path = int(sys.argv[1]), sys.argv[2]
    # one ustar header, reused: only the 15-byte name and the checksum change per entry
    template = bytearray(tarfile.TarInfo("d0000/f00000000").tobuf(tarfile.USTAR_FORMAT))
    template[148:156] = b" " * 8
    base = sum(template) - sum(template[0:15])
    middle, tail = bytes(template[15:148]), bytes(template[156:])
    digit_sums = [sum(b"%04d" % n) for n in range(10000)]
    compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for start in range(0, count, 10000):
            high = start // 10000
            prefix_sum = base + sum(b"d%04d/f%04d" % (high, high))
            batch = [b"d%04d/f%04d%04d%s%06o\\0 %s" % (high, high, low, middle,
                                                     prefix_sum + digit_sums[low], tail)
                     for low in range(min(10000, count - start))]
            out.write(compressor.compress(b"".join(batch)))
        out.write(compressor.compress(bytes(1024)))
        out.write(compressor.flush())
    """
)

_READER = textwrap.dedent(
    """
    import os, resource, sys
    from bloatscope.reader.layer import scan_layer
    from bloatscope.sources.base import BlobRef
    path = sys.argv[1]
    ref = BlobRef(path, 0, os.path.getsize(path), "million")
    result = scan_layer(ref, verify_blob=False, verify_diff_id=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    files = sum(1 for e in result.entries if e.typeflag == 0x30 and e.size == 0)
    print(len(result.entries), files, result.tar_bytes, peak)
    """
)


def test_a_million_entries_stream_in_bounded_memory(tmp_path: Path) -> None:
    blob = tmp_path / "million.tar.gz"
    subprocess.run(
        [sys.executable, "-c", _GENERATOR, str(ENTRY_COUNT), str(blob)], check=True, timeout=120
    )
    assert blob.stat().st_size < 64 << 20
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", _READER, str(blob)],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
        env=env,
    )
    count, files, tar_bytes, peak = (int(v) for v in done.stdout.split())
    assert count == files == ENTRY_COUNT
    assert tar_bytes == ENTRY_COUNT * 512 + 1024
    assert peak < PEAK_RSS_BOUND, f"peak RSS {peak >> 20} MiB"


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_capture_keeps_the_bytes_of_matching_files_only(compression: str) -> None:
    status = b"Package: a\nVersion: 1\n" * 1000  # spans reads of the walker's buffer
    layer = (
        Layer()
        .dir("var/lib/dpkg")
        .file("./var/lib/dpkg/status", status)
        .file("var/lib/dpkg/status-old", b"old")
        .file("var/lib/dpkg/info/big.list", b"x" * 40_000)
        .file("etc/status", b"not a database")
        .symlink("var/lib/dpkg/info/link.list", "big.list")
        .file("after", b"tail")
    ).build()
    pattern = re.compile(rb"^var/lib/dpkg/(?:status|info/[^/]+\.list)$")
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(compress(layer, compression))
        handle.flush()
        ref = BlobRef(handle.name, 0, os.path.getsize(handle.name), "layer")
        result = scan_layer(
            ref,
            verify_blob=False,
            verify_diff_id=False,
            capture=Capture(pattern, 30_000, (b"status", b".list")),
        )
    # big.list is over the limit, the symlink has no bytes, the others do not match
    assert result.captured == {"var/lib/dpkg/status": status}
    by_path = {entry.path: entry for entry in result.entries}
    assert by_path["after"].size == 4  # the walk goes on past a captured payload
    if compression != "none":  # a streamed scan still hashes what it captured
        assert by_path["var/lib/dpkg/status"].digest == xxhash.xxh3_64_intdigest(status)
    assert pickle.loads(pickle.dumps(result)).captured == result.captured
