"""Layer compression: sniffed from magic bytes, decoded across gzip members and zstd frames.

Media types and file names lie (skopeo relabels, Docker 25 stores plain tars as blobs), so the
first bytes decide. Decoders hand out bounded chunks: a gzip bomb cannot grow memory.
"""

from __future__ import annotations

import hashlib
from typing import Any, BinaryIO

import zstandard
from isal import igzip_lib

from bloatscope.errors import BloatscopeError
from bloatscope.model.layer import Compression
from bloatscope.reader.zstd_frames import ZSTD_SKIPPABLE_HIGH, ZSTD_SKIPPABLE_LOW, ZstdFrames

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_INPUT_CHUNK = 1 << 18
# isal's stubs declare ``error`` as an instance; at run time it is the exception class.
_ISAL_ERROR: type[Exception] = igzip_lib.error  # type: ignore[assignment]
_OUTPUT_LIMIT = 1 << 20  # larger output buffers cost page faults on every call


class CompressionError(BloatscopeError):
    """The compressed bytes are corrupt or cut short."""


def sniff(head: bytes) -> Compression:
    """The compression of a blob from its first bytes; anything else is treated as plain tar."""
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    if len(head) >= 4 and ZSTD_SKIPPABLE_LOW <= int.from_bytes(head[:4], "little") <= (
        ZSTD_SKIPPABLE_HIGH
    ):
        return Compression.ZSTD  # zstd:chunked may open with a skippable frame
    return Compression.NONE


def estimate_decoded_size(head: bytes, blob_size: int) -> int:
    """About how many bytes a blob decodes to, from the ratio of its first chunk: scheduling
    needs decode cost, and a 360 MB blob of incompressible data inflates far faster than a
    250 MB one of text."""
    compression = sniff(head)
    if compression is Compression.NONE or not head:
        return blob_size
    try:
        if compression is Compression.GZIP:
            decoder = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
            out = decoder.decompress(head, _OUTPUT_LIMIT)
            used = len(head) - len(decoder.unused_data)
        else:
            reader = zstandard.ZstdDecompressor().decompressobj()
            out = reader.decompress(head)
            used = len(head)
    except (_ISAL_ERROR, EOFError, zstandard.ZstdError):
        return blob_size  # damaged: reading it will say how, the estimate need not
    return int(blob_size * len(out) / used) if used and out else blob_size


class _Window:
    """Reads a byte range of an open file and hashes what passes through (the blob digest)."""

    def __init__(self, raw: BinaryIO, length: int, hasher: Any | None) -> None:
        self._raw = raw
        self._left = length
        self._hasher = hasher
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left
        data = self._raw.read(size) if size else b""
        self._left -= len(data)
        self.consumed += len(data)
        if self._hasher is not None and data:
            self._hasher.update(data)
        return data


class GzipStream:
    """Multi-member gzip over ISA-L (CRCs checked), one bounded chunk at a time."""

    def __init__(self, window: _Window, label: str) -> None:
        self._in = window
        self._label = label
        self._decomp = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
        self._carry = b""  # input read past the end of the previous member
        self._started = False  # the current member has had input
        self._done = False
        self._out = b""  # decoded bytes not yet handed out, from _out_pos on
        self._out_pos = 0

    def read(self, size: int = -1) -> bytes:
        if self._out_pos >= len(self._out):
            self._out = self._decode()
            self._out_pos = 0
        start = self._out_pos
        if start == 0 and (size < 0 or size >= len(self._out)):
            self._out_pos = len(self._out)
            return self._out
        end = len(self._out) if size < 0 else min(len(self._out), start + size)
        self._out_pos = end
        return self._out[start:end]

    def _decode(self) -> bytes:
        while not self._done:
            if self._decomp.eof:
                self._start_next_member(self._decomp.unused_data)
                continue
            data = b""
            if self._carry:
                data, self._carry = self._carry, b""
            elif self._decomp.needs_input:
                data = self._in.read(_INPUT_CHUNK)
                if not data:
                    if self._started:
                        raise CompressionError(f"{self._label}: gzip stream is truncated")
                    self._done = True
                    break
            try:
                out = self._decomp.decompress(data, _OUTPUT_LIMIT)
            except (_ISAL_ERROR, EOFError, ValueError) as exc:
                raise CompressionError(f"{self._label}: corrupt gzip data ({exc})") from None
            self._started = True
            if out:
                return out
        return b""

    def _start_next_member(self, rest: bytes) -> None:
        padded = False
        while True:
            if not rest:
                rest = self._in.read(_INPUT_CHUNK)
                if not rest:
                    self._done = True  # zero padding after the last member is tolerated
                    return
            stripped = rest.lstrip(b"\0")
            if stripped:
                break
            padded, rest = True, b""
        if padded or len(stripped) != len(rest):
            raise CompressionError(f"{self._label}: trailing garbage after gzip data")
        if len(rest) < 2:
            rest += self._in.read(_INPUT_CHUNK)
        if not rest.startswith(GZIP_MAGIC):
            raise CompressionError(f"{self._label}: trailing garbage after gzip data")
        self._decomp = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
        self._started = False
        self._carry = rest


class ZstdStream:
    """Multi-frame zstd, skippable frames included."""

    def __init__(self, window: _Window, label: str) -> None:
        self._label = label
        self._frames = ZstdFrames(window)
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            self._frames,  # type: ignore[arg-type]  # any object with read() works
            read_size=_INPUT_CHUNK,
            read_across_frames=True,
        )

    def read(self, size: int = -1) -> bytes:
        try:
            data = bytes(self._reader.read(_OUTPUT_LIMIT if size < 0 else min(size, _OUTPUT_LIMIT)))
        except zstandard.ZstdError as exc:
            raise CompressionError(f"{self._label}: corrupt zstd data ({exc})") from None
        if not data and size != 0 and not self._frames.complete:
            raise CompressionError(f"{self._label}: zstd stream is truncated")
        return data


class PlainStream:
    def __init__(self, window: _Window) -> None:
        self._in = window

    def read(self, size: int = -1) -> bytes:
        return self._in.read(_OUTPUT_LIMIT if size < 0 else size)


class DecodedBlob:
    """A blob opened for streaming: decoded bytes out, the raw bytes hashed on the way in.
    ``read(-1)`` returns the next decoded chunk as it is (at most about 1 MiB)."""

    chunked = True

    def __init__(
        self,
        raw: BinaryIO,
        length: int,
        label: str,
        *,
        hash_blob: bool,
        hash_content: bool,
    ) -> None:
        head = raw.read(8)
        raw.seek(-len(head), 1)
        self.compression = sniff(head)
        self._blob_hasher = hashlib.sha256() if hash_blob else None
        self._window = _Window(raw, length, self._blob_hasher)
        self._content_hasher = hashlib.sha256() if hash_content else None
        self.decoded_bytes = 0
        self._stream: GzipStream | ZstdStream | PlainStream
        if self.compression is Compression.GZIP:
            self._stream = GzipStream(self._window, label)
        elif self.compression is Compression.ZSTD:
            self._stream = ZstdStream(self._window, label)
        else:
            self._stream = PlainStream(self._window)

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.decoded_bytes += len(data)
        if self._content_hasher is not None and data:
            self._content_hasher.update(data)
        return data

    def finish(self) -> None:
        """Reads the raw blob to its end, so the blob digest covers every byte."""
        while self._window.read(_INPUT_CHUNK):
            pass

    @property
    def blob_digest(self) -> str | None:
        return f"sha256:{self._blob_hasher.hexdigest()}" if self._blob_hasher else None

    @property
    def content_digest(self) -> str | None:
        return f"sha256:{self._content_hasher.hexdigest()}" if self._content_hasher else None

    @property
    def raw_bytes(self) -> int:
        return self._window.consumed
