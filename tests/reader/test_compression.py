"""Layer compression: sniffed from magic bytes, every gzip member and zstd frame decoded, bounded
output, corrupt and cut-short streams reported."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from pathlib import Path

import pytest
import zstandard

from bloatscope.errors import BloatscopeError
from bloatscope.model.layer import Compression
from bloatscope.reader.compression import _OUTPUT_LIMIT, CompressionError, DecodedBlob, sniff
from synth import EMPTY_TAR, Layer, compress, deadline

PAYLOAD = os.urandom(50_000) + bytes(200_000) + b"tail"
SKIPPABLE = (0x184D2A5E).to_bytes(4, "little") + (6).to_bytes(4, "little") + b"chunky"


def decode(blob: bytes, *, prefix: bytes = b"", label: str = "L") -> tuple[bytes, DecodedBlob]:
    """Decodes ``blob`` placed after ``prefix`` in a file, reading only the blob's window."""
    raw = io.BytesIO(prefix + blob + b"NOT PART OF THE BLOB")
    raw.seek(len(prefix))
    decoded = DecodedBlob(raw, len(blob), label, hash_blob=True, hash_content=True)
    parts = []
    with deadline(20):
        while chunk := decoded.read(1 << 16):
            parts.append(chunk)
    decoded.finish()
    return b"".join(parts), decoded


def zstd_frames(data: bytes, count: int) -> bytes:
    size = len(data) // count + 1
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    return b"".join(compressor.compress(data[i : i + size]) for i in range(0, len(data), size))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", Compression.GZIP),
        (b"\x28\xb5\x2f\xfd\x00\x00\x00\x00", Compression.ZSTD),
        (SKIPPABLE[:8], Compression.ZSTD),
        ((0x184D2A50).to_bytes(4, "little") + bytes(4), Compression.ZSTD),
        (EMPTY_TAR[:8], Compression.NONE),
        (b"etc/pass", Compression.NONE),
        (b"\x1f", Compression.NONE),
        (b"", Compression.NONE),
        ((0x184D2A60).to_bytes(4, "little"), Compression.NONE),  # just past the skippable range
    ],
)
def test_sniff_by_magic(head: bytes, expected: Compression) -> None:
    assert sniff(head) is expected


@pytest.mark.parametrize(
    ("kind", "compression"),
    [("none", Compression.NONE), ("gzip", Compression.GZIP), ("zstd", Compression.ZSTD)],
)
def test_decoded_bytes_equal_the_original(kind: str, compression: Compression) -> None:
    data, blob = decode(compress(PAYLOAD, kind), prefix=b"x" * 777)
    assert data == PAYLOAD
    assert blob.compression is compression
    assert blob.decoded_bytes == len(PAYLOAD)


def test_every_gzip_member_is_decoded() -> None:
    blob = b"".join(
        gzip.compress(PAYLOAD[i : i + 30_000], mtime=0) for i in range(0, len(PAYLOAD), 30_000)
    )
    assert blob.count(b"\x1f\x8b\x08") >= 9
    data, _ = decode(blob)
    assert data == PAYLOAD


def test_an_empty_gzip_member_between_others_is_fine() -> None:
    blob = gzip.compress(b"abc", mtime=0) + gzip.compress(b"", mtime=0) + gzip.compress(b"def")
    assert decode(blob)[0] == b"abcdef"


def test_zero_padding_after_the_last_gzip_member_is_tolerated() -> None:
    data, blob = decode(gzip.compress(PAYLOAD, mtime=0) + bytes(4096))
    assert data == PAYLOAD
    assert blob.raw_bytes == len(gzip.compress(PAYLOAD, mtime=0)) + 4096


@pytest.mark.parametrize("garbage", [b"GARBAGE", bytes(10) + b"X", b"\x1f"])
def test_garbage_after_gzip_data_is_an_error(garbage: bytes) -> None:
    with pytest.raises(CompressionError, match="L: trailing garbage after gzip data"):
        decode(gzip.compress(PAYLOAD, mtime=0) + garbage)


@pytest.mark.parametrize("cut", [5, 20, 1000, -4, -1])
def test_truncated_gzip_is_an_error(cut: int) -> None:
    blob = gzip.compress(PAYLOAD, mtime=0)
    with pytest.raises(CompressionError, match="L: gzip stream is truncated"):
        decode(blob[:cut])


def test_truncated_second_gzip_member_is_an_error() -> None:
    blob = gzip.compress(b"first", mtime=0) + gzip.compress(PAYLOAD, mtime=0)
    with pytest.raises(CompressionError, match="truncated"):
        decode(blob[:-100])


def test_corrupt_gzip_is_an_error() -> None:
    blob = bytearray(gzip.compress(os.urandom(20_000), mtime=0))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(CompressionError, match=r"L: corrupt gzip data \("):
        decode(bytes(blob))


def test_every_zstd_frame_is_decoded() -> None:
    blob = zstd_frames(PAYLOAD, 5)
    assert blob.count(b"\x28\xb5\x2f\xfd") >= 5
    data, _ = decode(blob)
    assert data == PAYLOAD


def test_skippable_zstd_frames_are_passed_over() -> None:
    blob = SKIPPABLE + zstd_frames(PAYLOAD, 2) + SKIPPABLE
    data, decoded = decode(blob)
    assert data == PAYLOAD
    assert decoded.compression is Compression.ZSTD


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_zstd_is_an_error(keep: float) -> None:
    blob = zstandard.ZstdCompressor(write_checksum=True).compress(os.urandom(300_000))
    with pytest.raises(CompressionError, match="L: zstd stream is truncated"):
        decode(blob[: int(len(blob) * keep)])


def test_zstd_cut_at_a_frame_boundary_is_not_truncated() -> None:
    first = zstandard.ZstdCompressor().compress(b"one")
    second = zstandard.ZstdCompressor().compress(b"two")
    assert decode(first + second)[0] == b"onetwo"
    assert decode(first)[0] == b"one"


def test_zstd_cut_inside_a_skippable_frame_is_truncated() -> None:
    blob = zstandard.ZstdCompressor().compress(b"one") + SKIPPABLE[:-2]
    with pytest.raises(CompressionError, match="truncated"):
        decode(blob)


def test_corrupt_zstd_is_an_error() -> None:
    blob = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(os.urandom(20_000)))
    blob[-2] ^= 0xFF  # the content checksum
    with pytest.raises(CompressionError, match=r"L: corrupt zstd data \("):
        decode(bytes(blob))


def test_zstd_frame_header_garbage_is_an_error() -> None:
    blob = b"\x28\xb5\x2f\xfd" + b"\xff" * 64
    with pytest.raises(CompressionError, match="zstd"):
        decode(blob)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_a_bomb_is_handed_out_in_bounded_chunks(kind: str) -> None:
    zeros = 64 << 20
    if kind == "gzip":
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = bytes(16 << 20)
        blob = b"".join(compressor.compress(chunk) for _ in range(zeros // len(chunk)))
        blob += compressor.flush()
    else:
        blob = zstandard.ZstdCompressor().compress(bytes(zeros))
    assert len(blob) < 1 << 20
    raw = io.BytesIO(blob)
    decoded = DecodedBlob(raw, len(blob), "bomb", hash_blob=False, hash_content=False)
    largest = total = 0
    with deadline(30):
        while chunk := decoded.read():
            largest = max(largest, len(chunk))
            total += len(chunk)
    assert total == zeros
    assert largest <= _OUTPUT_LIMIT


def test_blob_and_content_digests() -> None:
    blob = compress(PAYLOAD, "gzip")
    _data, decoded = decode(blob)
    assert decoded.blob_digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert decoded.content_digest == "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    assert decoded.raw_bytes == len(blob)


def test_finish_hashes_the_unread_rest_of_the_blob() -> None:
    blob = compress(Layer().file("a", b"x").build(), "none") + bytes(10_000)
    raw = io.BytesIO(blob)
    decoded = DecodedBlob(raw, len(blob), "L", hash_blob=True, hash_content=False)
    decoded.read(512)
    decoded.finish()
    assert decoded.blob_digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert decoded.raw_bytes == len(blob)
    assert decoded.content_digest is None


def test_window_never_reads_past_its_end(tmp_path: Path) -> None:
    blob = compress(PAYLOAD, "none")
    path = tmp_path / "two.bin"
    path.write_bytes(b"head" + blob + b"tail-tail")
    with path.open("rb") as raw:
        raw.seek(4)
        decoded = DecodedBlob(raw, len(blob), "L", hash_blob=False, hash_content=False)
        data = b"".join(iter(lambda: decoded.read(1 << 14), b""))
        assert raw.tell() == 4 + len(blob)
    assert data == PAYLOAD


def test_errors_are_bloatscope_errors() -> None:
    assert issubclass(CompressionError, BloatscopeError)
