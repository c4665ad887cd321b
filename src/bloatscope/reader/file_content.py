"""The bytes of one file as one layer wrote it, read without extracting the layer.

A layer's entries carry each payload's offset in the uncompressed tar. An uncompressed blob is
read there directly (``os.pread``); a gzip or zstd blob is decoded up to that offset in
bounded chunks, never held whole, and the decoder is kept, so that a later read further into
the same layer goes on from there instead of decoding the layer again.

Reading needs the layer's entries: given from the full read (``add_layer``), or scanned on the
first read in a layer; that scan also keeps the wanted file's bytes when they fit the limit,
so a first read costs one pass over the layer, not two.

Every read is checked: the tar header just before the offset must be a regular file's header
of that size, a whole read must come to exactly the header's size, and where the entry carries
its xxh3 digest (every entry of a compressed layer) the bytes must match it.

``LayerFiles`` opens the image once and serves many reads (the TUI's use); ``read_file`` is
one read. Both are safe to call from several threads: reads are serialized.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import xxhash

from bloatscope.errors import BloatscopeError
from bloatscope.model.entry import EntryType, FileEntry
from bloatscope.model.layer import Compression, Layer
from bloatscope.reader.compression import DecodedBlob, sniff
from bloatscope.reader.layer import Capture, normalize_path, scan_layer
from bloatscope.reader.opening import OpenedImage, locate_layer, open_image
from bloatscope.reader.tarfields import checksum_ok, parse_number
from bloatscope.sources.base import BlobRef

BLOCK = 512
_CHUNK = 1 << 20
_MAX_LINK_HOPS = 8
_CURSORS_KEPT = 2  # decoders kept part-way through a layer (each ~1 MiB of buffers)
_OCTAL_SIZE_LIMIT = 8 << 30  # sizes from here on live in a PAX record, not the ustar field
_REGULAR = (EntryType.FILE, 0x37)
_TAR_REGULAR_FLAGS = (0x30, 0x37, 0x00)  # '0', '7' (contiguous) and the old NUL
_KIND_NAMES: dict[int, str] = {
    EntryType.DIR: "a directory",
    EntryType.CHAR: "a character device",
    EntryType.BLOCK: "a block device",
    EntryType.FIFO: "a named pipe",
}

ChunkSink = Callable[[bytes], object]


class FileContentError(BloatscopeError):
    """The file cannot be read as asked: no such layer or path, not a regular file, or the
    layer's bytes are not what its entries say."""


@dataclass(frozen=True, slots=True)
class FileContent:
    """The first bytes of a regular file at one layer. ``source`` and ``source_layer`` name
    the entry the bytes come from: the path itself, or a hardlink's target."""

    layer_index: int
    path: str
    data: bytes
    size: int  # the whole file's size
    mode: int  # the header's mode bits (permissions and setuid/setgid/sticky)
    source: str
    source_layer: int

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.size


class _LayerIndex:
    """One layer's entries and, per path, the entry that wins (the last, as when applied)."""

    def __init__(self, entries: Sequence[FileEntry]) -> None:
        self.entries = tuple(entries)
        self.by_path = {entry.path: entry for entry in self.entries}

    def is_implicit_directory(self, path: str) -> bool:
        """A directory the layer has entries under but no entry for."""
        prefix = path + "/"
        return any(entry.path.startswith(prefix) for entry in self.entries)


class _Cursor:
    """A decoder part-way through one compressed layer blob."""

    def __init__(self, ref: BlobRef) -> None:
        self._raw: BinaryIO = open(ref.path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self._raw.seek(ref.offset)
            self._blob = DecodedBlob(
                self._raw, ref.size, ref.label, hash_blob=False, hash_content=False
            )
        except BaseException:
            self._raw.close()
            raise
        self.position = 0  # decoded bytes consumed so far

    def skip_to(self, offset: int) -> bytes:
        """Decodes up to ``offset``; returns the (at most 512) bytes just before it."""
        tail = b""
        while self.position < offset:
            chunk = self._blob.read(min(_CHUNK, offset - self.position))
            if not chunk:
                break
            self.position += len(chunk)
            tail = chunk[-BLOCK:] if len(chunk) >= BLOCK else (tail + chunk)[-BLOCK:]
        return tail

    def read(self, size: int) -> bytes:
        """Up to ``size`` decoded bytes, fewer only where the blob ends."""
        parts = []
        left = size
        while left > 0:
            chunk = self._blob.read(min(_CHUNK, left))
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
        self.position += size - left
        return b"".join(parts)

    def close(self) -> None:
        self._raw.close()


class _Payload(Protocol):
    """A file's payload opened for reading, with the 512 bytes just before it."""

    header: bytes

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


class _PlainPayload:
    """In an uncompressed blob: read in place."""

    def __init__(self, path: str, start: int) -> None:
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._position = start
        self.header = os.pread(self._fd, BLOCK, start - BLOCK)

    def read(self, size: int) -> bytes:
        data = os.pread(self._fd, size, self._position)
        self._position += len(data)
        return data

    def close(self) -> None:
        os.close(self._fd)


class _DecodedPayload:
    """In a compressed blob: read through the layer's cursor, which stays open."""

    def __init__(self, cursor: _Cursor, header: bytes) -> None:
        self._cursor = cursor
        self.header = header

    def read(self, size: int) -> bytes:
        return self._cursor.read(size)

    def close(self) -> None:
        pass


class LayerFiles:
    """Reads files of any layer of one image. Open it with ``LayerFiles.open``; give it the
    layers the full read produced (``add_layer``) to spare it scanning a layer's headers
    itself; ``close`` it (or use it as a context manager) when done."""

    def __init__(self, opened: OpenedImage) -> None:
        self._opened = opened
        self._label = opened.store.label
        try:
            self._refs = [locate_layer(opened.store, layer) for layer in opened.plan.layers]
        except BaseException:
            opened.close()
            raise
        self._indexes: dict[int, _LayerIndex] = {}
        self._cursors: OrderedDict[int, _Cursor] = OrderedDict()
        self._lock = threading.RLock()

    @classmethod
    def open(cls, reference: str, platform: str | None = None) -> LayerFiles:
        return cls(open_image(reference, platform))

    def __enter__(self) -> LayerFiles:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def layer_count(self) -> int:
        return len(self._refs)

    def add_layer(self, layer: Layer) -> None:
        """Uses a layer's entries from the full read (its offsets and digests) instead of
        scanning the layer; the layer must be this image's (same diff_id at that index)."""
        with self._lock:
            self._check_index(layer.index)
            expected = self._opened.config.diff_ids[layer.index]
            if layer.diff_id != expected:
                raise FileContentError(
                    f"layer {layer.index} given is {layer.diff_id}, this image's is {expected}",
                    path=self._label,
                )
            self._indexes[layer.index] = _LayerIndex(layer.entries)

    def entries(self, layer_index: int) -> tuple[FileEntry, ...]:
        """Every entry of the layer in stream order (scanned on first use)."""
        with self._lock:
            return self._index(layer_index).entries

    def entry(self, layer_index: int, path: str) -> FileEntry:
        """The layer's own entry for ``path`` (the last, if the layer has several), of any
        kind; raises FileContentError when the layer has none."""
        with self._lock:
            index = self._index(layer_index)
            key = _normal(path)
            found = index.by_path.get(key)
            if found is not None:
                return found
            if not key or index.is_implicit_directory(key):
                raise FileContentError(f"/{key} is a directory", path=self._where(layer_index))
            raise FileContentError(f"/{key} is not in this layer", path=self._where(layer_index))

    def is_directory(self, layer_index: int, path: str) -> bool:
        """Whether the layer has ``path`` as a directory: an entry for it, or entries under it
        (the root always is one)."""
        with self._lock:
            index = self._index(layer_index)
            key = _normal(path)
            found = index.by_path.get(key)
            if found is not None:
                return found.typeflag == EntryType.DIR
            return not key or index.is_implicit_directory(key)

    def under(self, layer_index: int, directory: str) -> list[FileEntry]:
        """The entries the layer has beneath ``directory`` (the winning one of each path), in
        stream order."""
        with self._lock:
            index = self._index(layer_index)
            key = _normal(directory)
            prefix = key + "/" if key else ""
            return [
                entry
                for entry in index.entries
                if entry.path.startswith(prefix)
                and entry.path != key
                and index.by_path[entry.path] is entry
            ]

    def regular_entry(self, layer_index: int, path: str) -> tuple[int, FileEntry]:
        """The regular file whose bytes ``path`` has at the layer: itself, or a hardlink's
        target (in this layer, else the nearest lower layer that has it), with its layer."""
        with self._lock:
            entry = self.entry(layer_index, path)
            layer = layer_index
            for _ in range(_MAX_LINK_HOPS):
                if entry.typeflag in _REGULAR:
                    if _is_whiteout(entry.path):
                        raise FileContentError(
                            _whiteout_message(entry.path), path=self._where(layer)
                        )
                    return layer, entry
                if entry.typeflag != EntryType.HARDLINK:
                    raise FileContentError(_not_regular(entry), path=self._where(layer))
                layer, entry = self._link_target(layer, entry)
            raise FileContentError(
                f"/{entry.path}: more than {_MAX_LINK_HOPS} hardlinks in a row",
                path=self._where(layer),
            )

    def read(self, layer_index: int, path: str, limit: int) -> FileContent:
        """The first ``limit`` bytes of the regular file ``path`` as layer ``layer_index``
        wrote it, with its full size."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        key = _normal(path)
        with self._lock:
            captured = None
            if layer_index not in self._indexes and key:
                captured = self._scan(layer_index, _exactly(key, limit)).get(key)
            source_layer, entry = self.regular_entry(layer_index, path)
            if (
                captured is not None
                and (source_layer, entry.path) == (layer_index, key)
                and len(captured) == entry.size
                and (entry.digest is None or xxhash.xxh3_64_intdigest(captured) == entry.digest)
            ):
                data = captured  # the scan that indexed the layer read the file on the way
            else:
                parts: list[bytes] = []
                self._copy(source_layer, entry, parts.append, limit)
                data = b"".join(parts)
            return FileContent(
                layer_index=layer_index,
                path=key,
                data=data,
                size=entry.size,
                mode=entry.mode & 0o7777,
                source=entry.path,
                source_layer=source_layer,
            )

    def copy(self, layer_index: int, entry: FileEntry, write: ChunkSink) -> int:
        """Streams a regular entry's whole content (as ``regular_entry`` returns it) to
        ``write`` in chunks of at most 1 MiB; returns the byte count. Raises when the bytes
        do not add up to the entry's size or digest (``write`` has then seen some of them)."""
        with self._lock:
            self._check_index(layer_index)
            return self._copy(layer_index, entry, write, entry.size)

    def close(self) -> None:
        with self._lock:
            for cursor in self._cursors.values():
                cursor.close()
            self._cursors.clear()
            self._opened.close()

    # -- where the bytes are ----------------------------------------------------------------

    def _where(self, layer_index: int) -> str:
        return f"{self._label}: layer {layer_index}"

    def _check_index(self, layer_index: int) -> BlobRef:
        count = len(self._refs)
        if not 0 <= layer_index < count:
            span = f"0-{count - 1}" if count else "none"
            raise FileContentError(
                f"no layer {layer_index}: the image has {count} layers ({span})",
                path=self._label,
            )
        ref = self._refs[layer_index]
        if ref is None:
            raise FileContentError(
                "is not in the archive (a non-distributable layer)", path=self._where(layer_index)
            )
        return ref

    def _index(self, layer_index: int) -> _LayerIndex:
        index = self._indexes.get(layer_index)
        if index is None:
            self._scan(layer_index, None)
            index = self._indexes[layer_index]
        return index

    def _scan(self, layer_index: int, capture: Capture | None) -> dict[str, bytes]:
        """Indexes the layer; returns the content of the files ``capture`` names."""
        ref = self._check_index(layer_index)
        scan = scan_layer(ref, verify_blob=False, verify_diff_id=False, capture=capture)
        self._indexes[layer_index] = _LayerIndex(scan.entries)
        return scan.captured

    def _link_target(self, layer_index: int, link: FileEntry) -> tuple[int, FileEntry]:
        """A hardlink names an earlier member of its own tar; a layer that links to a file of
        a lower layer is taken the way the merge takes it, from the nearest layer below."""
        for layer in range(layer_index, -1, -1):
            found = self._index(layer).by_path.get(link.linkname)
            if found is not None and found is not link:
                return layer, found
        raise FileContentError(
            f"/{link.path} is a hardlink to /{link.linkname}, which no layer up to this one has",
            path=self._where(layer_index),
        )

    def _copy(self, layer_index: int, entry: FileEntry, write: ChunkSink, limit: int) -> int:
        ref = self._check_index(layer_index)
        want = min(limit, entry.size)
        whole = want == entry.size
        hasher = xxhash.xxh3_64() if whole and entry.digest is not None else None
        payload = self._payload(layer_index, ref, entry)
        try:
            self._check_header(layer_index, entry, payload.header)
            done = 0
            while done < want:
                chunk = payload.read(min(_CHUNK, want - done))
                if not chunk:
                    raise self._mismatch(layer_index, entry, f"ends after {done} bytes")
                done += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                write(chunk)
        finally:
            payload.close()
        if hasher is not None and hasher.intdigest() != entry.digest:
            raise self._mismatch(layer_index, entry, "does not match the digest of its content")
        return done

    def _payload(self, layer_index: int, ref: BlobRef, entry: FileEntry) -> _Payload:
        with open(ref.path, "rb") as raw:
            compression = sniff(os.pread(raw.fileno(), 8, ref.offset))
        if compression is Compression.NONE:
            if entry.offset < BLOCK or entry.offset + entry.size > ref.size:
                raise self._mismatch(layer_index, entry, "lies outside the layer")
            return _PlainPayload(ref.path, ref.offset + entry.offset)
        cursor = self._cursor(layer_index, ref, entry.offset)
        return _DecodedPayload(cursor, cursor.skip_to(entry.offset))

    def _cursor(self, layer_index: int, ref: BlobRef, offset: int) -> _Cursor:
        """A decoder at or before ``offset``: the kept one if it has not passed it yet."""
        cursor = self._cursors.pop(layer_index, None)
        if cursor is not None and cursor.position > offset - BLOCK:
            cursor.close()
            cursor = None
        if cursor is None:
            cursor = _Cursor(ref)
        self._cursors[layer_index] = cursor
        while len(self._cursors) > _CURSORS_KEPT:
            _layer, oldest = self._cursors.popitem(last=False)
            oldest.close()
        return cursor

    def _check_header(self, layer_index: int, entry: FileEntry, header: bytes) -> None:
        """The 512 bytes before the payload must be a regular file's tar header (the entry's
        offset is right) of the entry's size (not a sparse file, whose payload is a map)."""
        if len(header) != BLOCK or not checksum_ok(header):
            raise self._mismatch(layer_index, entry, "has no tar header before its offset")
        if header[156] not in _TAR_REGULAR_FLAGS:
            what = "a sparse file" if header[156] == ord("S") else "not a regular file's header"
            raise self._mismatch(layer_index, entry, f"is {what}; its bytes cannot be read")
        if entry.size < _OCTAL_SIZE_LIMIT and parse_number(header[124:136]) != entry.size:
            raise self._mismatch(
                layer_index, entry, "has a header of another size (a sparse file?)"
            )

    def _mismatch(self, layer_index: int, entry: FileEntry, problem: str) -> FileContentError:
        return FileContentError(
            f"/{entry.path} at offset {entry.offset} {problem}", path=self._where(layer_index)
        )


def read_file(
    reference: str, layer_index: int, path: str, *, limit: int, platform: str | None = None
) -> FileContent:
    """One read: opens the image, reads, closes. For many reads, keep a LayerFiles open."""
    with LayerFiles.open(reference, platform) as files:
        return files.read(layer_index, path, limit)


def _exactly(path: str, limit: int) -> Capture:
    """A capture of the file at ``path`` if it is at most ``limit`` bytes: a first read in a
    layer then costs one pass over it, not a scan and a read. Only names that end with the
    base name are matched at all (a C-level test; see reader.tarstream.Capture)."""
    raw = path.encode("utf-8", "surrogateescape")
    base = raw.rpartition(b"/")[2]
    return Capture(re.compile(b"\\A" + re.escape(raw) + b"\\Z"), limit, suffixes=(base,))


def _normal(path: str) -> str:
    return normalize_path(path.encode("utf-8", "surrogateescape"))


def _is_whiteout(path: str) -> bool:
    return path.rpartition("/")[2].startswith(".wh.")


def _whiteout_message(path: str) -> str:
    parent, _, name = path.rpartition("/")
    if name == ".wh..wh..opq":
        return f"/{path} is an opaque marker: it hides what the layers below have in /{parent}"
    hidden = f"{parent}/{name[4:]}" if parent else name[4:]
    return f"/{path} is a whiteout: it deletes /{hidden} from the layers below"


def _not_regular(entry: FileEntry) -> str:
    if entry.typeflag == EntryType.SYMLINK:
        return f"/{entry.path} is a symlink to {entry.linkname}"
    kind = _KIND_NAMES.get(entry.typeflag)
    return f"/{entry.path} is {kind or f'of tar type {chr(entry.typeflag)!r}'}, not a file"
