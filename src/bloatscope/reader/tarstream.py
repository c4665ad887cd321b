"""A fast tar header walker: ustar, PAX and GNU long names, over a seekable file or a stream.

``tarfile`` spends most of its time building TarInfo objects and reading payloads we do not
need; here each header becomes a plain tuple and payloads are skipped (or hashed) in place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import xxhash

from bloatscope.reader.cancelling import CHECK_BYTES, CancelFlag, stop_if_cancelled
from bloatscope.reader.tarfields import (
    NotTarError,
    TarFormatError,
    checksum_ok,
    parse_number,
    parse_pax,
    pax_int,
)

BLOCK = 512
_REGULAR = (0x30, 0x37)
_CHUNK = 1 << 18
_SEEK_WINDOW = 1 << 15
_ZERO_BLOCK = bytes(BLOCK)
# Guards against hostile headers: a PAX or GNU long-name record this large is not a file name.
_MAX_META_BYTES = 1 << 20


class ByteSource(Protocol):
    """Where tar bytes come from: a window of a file (seekable) or a decompressed stream."""

    seekable: bool

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes, fewer only at the end; -1 for whatever is ready."""
        ...

    def skip(self, size: int) -> int:
        """Skip up to ``size`` bytes; returns how many were skipped."""
        ...


class FileWindow:
    """A byte range of a file, read with ``os.pread`` so many windows can share one descriptor."""

    seekable = True

    def __init__(self, fd: int, start: int, length: int) -> None:
        self._fd = fd
        self._pos = start
        self._end = start + length

    def read(self, size: int) -> bytes:
        size = min(size, self._end - self._pos)
        if size <= 0:
            return b""
        data = os.pread(self._fd, size, self._pos)
        self._pos += len(data)
        return data

    def skip(self, size: int) -> int:
        size = max(0, min(size, self._end - self._pos))
        self._pos += size
        return size


class StreamSource:
    """A non-seekable reader (a decompressor); skipping reads and discards. ``read(-1)`` asks
    for the next chunk: a stream marked ``chunked`` (a DecodedBlob) returns the chunk it just
    decoded, without copying; any other stream gets a bounded read."""

    seekable = False

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._chunked = bool(getattr(stream, "chunked", False))

    def read(self, size: int) -> bytes:
        if size < 0 and not self._chunked:
            size = _CHUNK * 4
        return self._stream.read(size)

    def skip(self, size: int) -> int:
        done = 0
        while done < size:
            chunk = self._stream.read(min(_CHUNK * 4, size - done))
            if not chunk:
                break
            done += len(chunk)
        return done


# A raw member: (name bytes, typeflag, size, mode, uid, gid, linkname bytes, data offset,
# payload size). ``size`` is the logical size (GNU sparse realsize when given); the payload size
# is what the archive stores.
RawMember = tuple[bytes, int, int, int, int, int, bytes, int, int]
PayloadSink = Callable[[memoryview], None]


@dataclass(frozen=True, slots=True)
class Capture:
    """Which files' bytes a scan keeps: names ``pattern`` matches (root-relative, no leading
    slash), up to ``limit`` bytes each. A regex search on each of 87,000 names costs a second,
    so only names that end with one of ``suffixes``, or sit directly in a directory whose path
    ends with one of ``directories`` (``/dpkg/status.d``), are searched at all: two
    ``endswith`` calls in C. Both empty: every name is searched.

    ``prepare``, when given, turns one layer's captured files into values worth computing
    early (parsed file lists, say): it runs in a worker process while the main process merges
    layers (see reader.prepared). It must be picklable (a module-level function, or a partial
    of one) and must not raise on bad bytes: it leaves such files out."""

    pattern: re.Pattern[bytes]
    limit: int
    suffixes: tuple[bytes, ...] = ()
    directories: tuple[bytes, ...] = ()
    prepare: Callable[[dict[str, bytes]], dict[str, object]] | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.suffixes or self.directories)

    def wants(self, name: bytes) -> bool:
        """Whether a member named ``name`` (as stored: maybe with ``./``) is kept; the walker
        inlines the same test."""
        if self.filtered and not self.hinted(name):
            return False
        return self.pattern.search(_relative(name)) is not None

    def hinted(self, name: bytes) -> bool:
        return name.endswith(self.suffixes) or (
            bool(self.directories) and name[: name.rfind(b"/")].endswith(self.directories)
        )


class TarWalker:
    """Iterates the members of one tar, leaving payloads to a caller-supplied sink or skipping them.

    ``offset`` in each member is the payload's position from the start of this tar, so a seekable
    caller can come back for the bytes later. ``cancel``: a flag looked at every CHECK_BYTES of
    tar; once set, iteration raises Cancelled.
    """

    def __init__(self, source: ByteSource, label: str, cancel: CancelFlag | None = None) -> None:
        self._source = source
        self._label = label
        self._cancel = cancel
        self._next_check = 0  # the tar offset from which the next refill looks at the flag
        self._buf = b""
        self._pos = 0  # index into _buf
        self._offset = 0  # tar offset of _buf[_pos]
        self.total_bytes = 0  # tar bytes consumed, set when iteration ends
        self.digest: int | None = None  # see members(digests=True)
        self.captured: bytes | None = None  # see members(capture=...)

    def _refill(self, remaining: int) -> bytes:
        """The next bytes from the source. A stream hands out whole decoded chunks (no copy);
        a seekable file is read in small windows, since most of a layer is payload we skip."""
        # a refill comes once per decoded chunk, or once per file when skipping: the flag is
        # looked at only when a MiB of tar has gone by since the last look
        if self._cancel is not None and self._offset >= self._next_check:
            self._next_check = self._offset + CHECK_BYTES
            stop_if_cancelled(self._cancel)
        if self._source.seekable:
            return self._source.read(max(_SEEK_WINDOW, min(remaining, _CHUNK * 4)))
        return self._source.read(-1)

    def _take(self, size: int) -> bytes:
        start = self._pos
        end = start + size
        if end <= len(self._buf):
            self._pos = end
            self._offset += size
            return self._buf[start:end]
        parts = [self._buf[start:]]
        got = len(parts[0])
        self._buf, self._pos = b"", 0
        while got < size:
            chunk = self._refill(size - got)
            if not chunk:
                break
            need = size - got
            if len(chunk) > need:  # keep the rest of the chunk as the buffer
                parts.append(chunk[:need])
                self._buf, self._pos = chunk, need
                got = size
                break
            parts.append(chunk)
            got += len(chunk)
        self._offset += got
        return b"".join(parts)

    def _skip(self, size: int, sink: PayloadSink | None) -> bool:
        """Advance over ``size`` bytes, feeding them to ``sink`` if given. False at early EOF."""
        available = len(self._buf) - self._pos
        if size <= available:
            if sink is not None:
                sink(memoryview(self._buf)[self._pos : self._pos + size])
            self._pos += size
            self._offset += size
            return True
        if sink is not None and available:
            sink(memoryview(self._buf)[self._pos :])
        remaining = size - available
        self._buf, self._pos = b"", 0
        self._offset += available
        if sink is None and self._source.seekable:
            skipped = self._source.skip(remaining)
            self._offset += skipped
            return skipped == remaining
        while remaining > 0:
            chunk = self._refill(remaining)
            if not chunk:
                return False
            if len(chunk) > remaining:  # the next header starts inside this chunk
                if sink is not None:
                    sink(memoryview(chunk)[:remaining])
                self._buf, self._pos = chunk, remaining
                self._offset += remaining
                return True
            if sink is not None:
                sink(memoryview(chunk))
            remaining -= len(chunk)
            self._offset += len(chunk)
        return True

    def _hash_payload(self, size: int, padded: int) -> bool:
        start = self._pos
        if start + size <= len(self._buf):
            self.digest = xxhash.xxh3_64_intdigest(memoryview(self._buf)[start : start + size])
            return self._skip(padded, None)
        hasher = xxhash.xxh3_64()
        ok = self._skip(size, hasher.update) and self._skip(padded - size, None)
        self.digest = hasher.intdigest()
        return ok

    def _truncated(self, what: str) -> TarFormatError:
        return TarFormatError(f"{self._label} is truncated at byte {self._offset} ({what})")

    def _read_meta(self, size: int) -> bytes:
        if size > _MAX_META_BYTES:
            raise TarFormatError(f"{self._label}: tar extended header of {size} bytes is too large")
        padded = (size + BLOCK - 1) // BLOCK * BLOCK
        data = self._take(padded)
        if len(data) < padded:
            raise self._truncated("inside an extended header")
        return data[:size]

    def members(
        self,
        payload_sink: Callable[[RawMember], PayloadSink | None] | None = None,
        *,
        digests: bool = False,
        capture: Capture | None = None,
    ) -> Iterator[RawMember]:
        """Yields members in stream order. ``payload_sink(member)`` may return a callable that
        receives the payload bytes. With ``digests``, the xxh3 of each regular file's content
        is in ``self.digest`` when its member is yielded (None for other members): one call
        per file instead of a hasher object, since most files fit in the buffer. A regular
        file that ``capture`` wants has its content in ``self.captured``."""
        # the capture test runs on every regular file: its parts are locals, tested inline
        limit, pattern, filtered = 0, None, False
        suffixes: tuple[bytes, ...] = ()
        directories: tuple[bytes, ...] = ()
        if capture is not None:
            limit, pattern, suffixes = capture.limit, capture.pattern, capture.suffixes
            filtered, directories = capture.filtered, capture.directories
        pax: dict[bytes, bytes] = {}
        long_name: bytes | None = None
        long_link: bytes | None = None
        first = True
        while True:
            block = self._take(BLOCK)
            if len(block) < BLOCK:
                if not block and not first:
                    break  # a tar without end-of-archive blocks: accepted, as Go's reader does
                if first:
                    raise NotTarError(f"{self._label} is not a tar archive (too short)")
                raise self._truncated("inside a header")
            if block == _ZERO_BLOCK:
                break
            # Checksums guard the first header (is this a tar at all?) and any header without the
            # ustar magic; past that, tars from image tools are digest-checked as a whole.
            if (first or block[257:262] != b"ustar") and not checksum_ok(block):
                if first:
                    raise NotTarError(f"{self._label} is not a tar archive (bad header checksum)")
                raise TarFormatError(
                    f"{self._label}: corrupt tar header at byte {self._offset - BLOCK}"
                )
            first = False
            typeflag = block[156]
            payload_size = parse_number(block[124:136])
            if pax and b"size" in pax:
                payload_size = pax_int(pax, b"size", payload_size)
            if payload_size < 0:  # a negative skip would walk backwards, possibly forever
                raise TarFormatError(f"{self._label}: negative size in tar header")
            if typeflag in (0x78, 0x58):  # 'x' PAX (and the old Solaris 'X')
                pax.update(parse_pax(self._read_meta(payload_size)))
                continue
            if typeflag == 0x67:  # 'g' global PAX header: nothing in it concerns sizes or names
                self._read_meta(payload_size)
                continue
            if typeflag == 0x4C:  # 'L' GNU long name
                long_name = self._read_meta(payload_size).split(b"\0", 1)[0]
                continue
            if typeflag == 0x4B:  # 'K' GNU long link
                long_link = self._read_meta(payload_size).split(b"\0", 1)[0]
                continue
            padded = (payload_size + BLOCK - 1) // BLOCK * BLOCK
            member = self._member(
                block, typeflag, payload_size, pax=pax, long_name=long_name, long_link=long_link
            )
            pax = {}
            long_name = long_link = None
            sink = payload_sink(member) if payload_sink is not None else None
            self.digest = self.captured = None
            if (
                pattern is not None
                and typeflag in _REGULAR
                and payload_size <= limit
                and (
                    not filtered
                    or member[0].endswith(suffixes)
                    or (
                        bool(directories)
                        and member[0][: member[0].rfind(b"/")].endswith(directories)
                    )
                )
                and pattern.search(_relative(member[0]))
            ):
                data = self._take(padded)
                ok = len(data) == padded
                self.captured = data[:payload_size]
                if digests:
                    self.digest = xxhash.xxh3_64_intdigest(self.captured)
            elif digests and typeflag in _REGULAR:
                ok = self._hash_payload(payload_size, padded)
            elif sink is None:
                ok = self._skip(padded, None)
            else:
                ok = self._skip(payload_size, sink) and self._skip(padded - payload_size, None)
            if not ok:
                name = member[0].decode("utf-8", "backslashreplace")
                raise self._truncated(f"inside the data of {name}")
            yield member
        self._drain()
        self.total_bytes = self._offset

    def _drain(self) -> None:
        """Consume what follows the end marker, so a caller hashing the stream sees every byte."""
        self._offset += len(self._buf) - self._pos
        self._buf = b""
        self._pos = 0
        while True:
            if self._source.seekable:
                skipped = self._source.skip(1 << 62)
                self._offset += skipped
                return
            chunk = self._source.read(_CHUNK * 4)
            if not chunk:
                return
            self._offset += len(chunk)

    def _member(
        self,
        block: bytes,
        typeflag: int,
        payload_size: int,
        *,
        pax: dict[bytes, bytes],
        long_name: bytes | None,
        long_link: bytes | None,
    ) -> RawMember:
        if pax and b"path" in pax:
            name = pax[b"path"]
        elif long_name is not None:
            name = long_name
        else:
            name = block[0:100].split(b"\0", 1)[0]
            if block[257:263] == b"ustar\x00":  # POSIX ustar: a prefix field holds the rest
                prefix = block[345:500].split(b"\0", 1)[0]
                if prefix:
                    name = prefix + b"/" + name
        if pax and b"linkpath" in pax:
            linkname = pax[b"linkpath"]
        elif long_link is not None:
            linkname = long_link
        else:
            linkname = block[157:257].split(b"\0", 1)[0]
        mode = parse_number(block[100:108])
        uid = parse_number(block[108:116])
        gid = parse_number(block[116:124])
        size = payload_size
        if pax:
            uid = pax_int(pax, b"uid", uid)
            gid = pax_int(pax, b"gid", gid)
            if b"GNU.sparse.realsize" in pax:
                size = pax_int(pax, b"GNU.sparse.realsize", size)
            if b"GNU.sparse.name" in pax:
                name = pax[b"GNU.sparse.name"]
        if typeflag in (0, 0x30):
            typeflag = 0x35 if name.endswith(b"/") else 0x30
        elif typeflag == 0x53:  # 'S' old GNU sparse: the logical size sits at offset 483
            size = parse_number(block[483:495]) or size
            typeflag = 0x30
        return (name, typeflag, size, mode, uid, gid, linkname, self._offset, payload_size)


def _relative(name: bytes) -> bytes:
    """The member name as capture patterns see it: without a leading ``./`` or ``/``."""
    if name.startswith(b"./"):
        return name[2:]
    return name[1:] if name.startswith(b"/") else name
