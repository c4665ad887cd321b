"""Content digests on demand, for plain (seekable) layers: only entries whose path recurs across
layers, and files whose sizes collide and whose first bytes agree, are read back and hashed,
by offset, with xxh3. Decoded layers need none of this: their scan hashed every file."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

import xxhash

from bloatscope.model.entry import FileEntry
from bloatscope.reader.cancelling import CHECK_BYTES, CancelFlag, stop_if_cancelled
from bloatscope.reader.layer import EMPTY_DIGEST, LayerScan
from bloatscope.reader.tarfields import TarFormatError
from bloatscope.sources.base import BlobRef

_READ = 1 << 20
_PREFIX = 4096
_FILE = (0x30, 0x37)
# Files smaller than this are not compared for duplicate content: hashing every small file
# whose size happens to match another's would cost more than such duplicates waste.
DUPLICATE_MIN_BYTES = 16 << 10

Position = tuple[int, int]  # (layer, entry index)


def hash_where_needed(
    scans: list[LayerScan | None],
    refs: list[BlobRef | None],
    *,
    same_sizes: bool,
    cancel: CancelFlag | None = None,
) -> list[LayerScan | None]:
    """Digests where they can matter: where a path occurs in two or more layers (a later layer
    may re-ship the same bytes; dive compares content there) and, with ``same_sizes``, where
    files of DUPLICATE_MIN_BYTES or more could hold the same bytes. ``cancel``: looked at per
    layer and every MiB hashed; once set, Cancelled is raised."""
    stop_if_cancelled(cancel)
    occurrences: Counter[str] = Counter()
    for scan in scans:
        if scan is not None:
            occurrences.update({entry.path for entry in scan.entries})
    wanted: list[set[int]] = [set() for _ in scans]
    for layer, scan in enumerate(scans):
        if scan is not None and not scan.hashed:
            wanted[layer].update(
                i for i, entry in enumerate(scan.entries) if occurrences[entry.path] > 1
            )
    if same_sizes:
        for layer, index in _possible_duplicates(scans, refs):
            wanted[layer].add(index)
    return [
        fill_digests(ref, scan, wanted[layer], cancel)
        if scan is not None and ref is not None
        else scan
        for layer, (scan, ref) in enumerate(zip(scans, refs, strict=True))
    ]


def _possible_duplicates(
    scans: list[LayerScan | None], refs: list[BlobRef | None]
) -> Iterable[Position]:
    """Files whose size another file shares and whose first 4 KiB agree with one of those: most
    files of equal size differ early, so this spares reading them whole."""
    by_size: dict[int, list[Position]] = {}
    for layer, scan in enumerate(scans):
        if scan is None:
            continue
        for index, entry in enumerate(scan.entries):
            if entry.size >= DUPLICATE_MIN_BYTES and entry.typeflag in _FILE:
                by_size.setdefault(entry.size, []).append((layer, index))
    descriptors: dict[int, int] = {}
    try:
        for members in by_size.values():
            if len(members) < 2:
                continue
            if any(scans[layer].hashed for layer, _i in members):  # type: ignore[union-attr]
                yield from members  # already hashed (or mixed): the full digests decide
                continue
            heads: dict[int, list[Position]] = {}
            for layer, index in members:
                ref = refs[layer]
                scan = scans[layer]
                assert ref is not None and scan is not None
                fd = descriptors.get(layer)
                if fd is None:
                    fd = descriptors[layer] = os.open(ref.path, os.O_RDONLY)
                head = os.pread(fd, _PREFIX, ref.offset + scan.entries[index].offset)
                heads.setdefault(xxhash.xxh3_64_intdigest(head), []).append((layer, index))
            for same in heads.values():
                if len(same) > 1:
                    yield from same
    finally:
        for fd in descriptors.values():
            os.close(fd)


def fill_digests(
    ref: BlobRef, scan: LayerScan, wanted: Iterable[int], cancel: CancelFlag | None = None
) -> LayerScan:
    """A copy of ``scan`` whose entries at ``wanted`` indexes carry content digests."""
    stop_if_cancelled(cancel)
    indexes = sorted(set(wanted))
    if scan.hashed or not indexes:
        return scan
    entries = list(scan.entries)
    hashed = next_check = 0  # bytes hashed, and from how many the flag is looked at again
    fd = os.open(ref.path, os.O_RDONLY)
    try:
        for index in indexes:
            entry = entries[index]
            if entry.digest is not None or entry.typeflag not in (0x30, 0x37):
                continue
            if hashed >= next_check:
                next_check = hashed + CHECK_BYTES
                stop_if_cancelled(cancel)
            entries[index] = entry._replace(digest=_hash_range(fd, ref, entry))
            hashed += entry.size
    finally:
        os.close(fd)
    return LayerScan(
        tuple(entries),
        scan.tar_bytes,
        scan.compression,
        scan.blob_bytes,
        scan.blob_digest,
        scan.diff_id,
        scan.hashed,
        scan.captured,
    )


def _hash_range(fd: int, ref: BlobRef, entry: FileEntry) -> int:
    if entry.size == 0:
        return EMPTY_DIGEST
    hasher = xxhash.xxh3_64()
    position = ref.offset + entry.offset
    remaining = entry.size
    while remaining:
        chunk = os.pread(fd, min(_READ, remaining), position)
        if not chunk:
            raise TarFormatError(f"{ref.label} is truncated inside {entry.path}")
        hasher.update(chunk)
        position += len(chunk)
        remaining -= len(chunk)
    return int(hasher.intdigest())
