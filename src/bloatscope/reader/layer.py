"""Scanning one layer blob into entries: names normalized, payloads skipped or hashed.

An uncompressed blob is walked by seeking from header to header; content is hashed later, only
where needed. A compressed blob must be decoded anyway, so every file is hashed on the way
(xxh3 costs far less than inflating).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import xxhash

from bloatscope.model.entry import FileEntry
from bloatscope.model.layer import Compression
from bloatscope.reader.cancelling import CancelFlag
from bloatscope.reader.compression import DecodedBlob, sniff
from bloatscope.reader.tarstream import Capture, FileWindow, StreamSource, TarWalker

__all__ = ["EMPTY_DIGEST", "Capture", "LayerScan", "normalize_path", "scan_layer"]

if TYPE_CHECKING:
    from bloatscope.sources.base import BlobRef

EMPTY_DIGEST = xxhash.xxh3_64_intdigest(b"")


@dataclass(frozen=True, slots=True)
class LayerScan:
    entries: tuple[FileEntry, ...]
    tar_bytes: int
    compression: Compression
    blob_bytes: int
    blob_digest: str | None  # computed while reading, when asked
    diff_id: str | None  # sha256 of the tar, computed when asked
    hashed: bool  # every regular entry carries its content digest
    # The content of the entries the capture pattern named (package databases), by path; the
    # last entry of a path in the layer wins, as it does when the layer is applied.
    captured: dict[str, bytes] = field(default_factory=dict)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Scans travel back from worker processes. Plain tuples pickle in half the time of
        # NamedTuples (no class reference per entry); the entries are rebuilt on arrival.
        rows = tuple(map(tuple, self.entries))
        rest = (self.tar_bytes, self.compression, self.blob_bytes, self.blob_digest, self.diff_id)
        return (_rebuild_scan, (rows, rest, self.hashed, self.captured))


def _rebuild_scan(
    rows: tuple[tuple[object, ...], ...],
    rest: tuple[int, Compression, int, str | None, str | None],
    hashed: bool,
    captured: dict[str, bytes],
) -> LayerScan:
    entries = tuple(FileEntry._make(row) for row in rows)
    return LayerScan(entries, *rest, hashed, captured)


def normalize_path(raw: bytes) -> str:
    """A root-relative path: no leading ``/`` or ``./``, no empty or ``.`` parts, ``..`` clamped
    at the root so no entry can point outside the image."""
    name = raw.decode("utf-8", "surrogateescape")
    if name.startswith(("/", ".")) or "//" in name or "/." in name or name.endswith("/"):
        parts: list[str] = []
        for part in name.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/".join(parts)
    return name


def scan_layer(
    ref: BlobRef,
    *,
    verify_blob: bool,
    verify_diff_id: bool,
    capture: Capture | None = None,
    cancel: CancelFlag | None = None,
) -> LayerScan:
    """``cancel``: looked at every MiB of tar; once set, the scan raises Cancelled."""
    fd = os.open(ref.path, os.O_RDONLY)
    try:
        head = os.pread(fd, 8, ref.offset)
        compression = sniff(head)
        if compression is Compression.NONE and not (verify_blob or verify_diff_id):
            walker = TarWalker(FileWindow(fd, ref.offset, ref.size), ref.label, cancel)
            entries, captured = _collect(walker, digests=False, capture=capture)
            return LayerScan(
                entries, walker.total_bytes, compression, ref.size, None, None, False, captured
            )
    finally:
        os.close(fd)
    with open(ref.path, "rb") as raw:
        raw.seek(ref.offset)
        blob = DecodedBlob(
            raw, ref.size, ref.label, hash_blob=verify_blob, hash_content=verify_diff_id
        )
        walker = TarWalker(StreamSource(blob), ref.label, cancel)  # type: ignore[arg-type]
        entries, captured = _collect(walker, digests=True, capture=capture)
        blob.finish()
        return LayerScan(
            entries,
            walker.total_bytes,
            blob.compression,
            blob.raw_bytes,
            blob.blob_digest,
            blob.content_digest,
            True,
            captured,
        )


def _collect(
    walker: TarWalker, *, digests: bool, capture: Capture | None
) -> tuple[tuple[FileEntry, ...], dict[str, bytes]]:
    entries: list[FileEntry] = []
    append = entries.append
    captured: dict[str, bytes] = {}
    members = walker.members(digests=digests, capture=capture)
    for member in members:
        name, typeflag, size, mode, uid, gid, link, offset, _payload = member
        path = normalize_path(name)
        digest = walker.digest
        if not path:
            continue  # the root entry ("./") carries only the root's own metadata
        if walker.captured is not None:
            captured[path] = walker.captured
        linkname = link.decode("utf-8", "surrogateescape") if link else ""
        if typeflag in (0x31,):  # hardlink targets are root-relative names like entries
            linkname = normalize_path(link)
        append(FileEntry(path, typeflag, size, mode, uid, gid, linkname, offset, digest))
    return tuple(entries), captured
