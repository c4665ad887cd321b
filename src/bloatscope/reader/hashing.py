"""Content digests on demand: only entries whose path recurs across layers (and, for the
analyses that ask, whose sizes collide) are read back and hashed, by offset, with xxh3."""

from __future__ import annotations

import os
from collections.abc import Iterable

import xxhash

from bloatscope.model.entry import FileEntry
from bloatscope.reader.layer import EMPTY_DIGEST, LayerScan
from bloatscope.reader.tarfields import TarFormatError
from bloatscope.sources.base import BlobRef

_READ = 1 << 20


def fill_digests(ref: BlobRef, scan: LayerScan, wanted: Iterable[int]) -> LayerScan:
    """A copy of ``scan`` whose entries at ``wanted`` indexes carry content digests."""
    indexes = sorted(set(wanted))
    if scan.hashed or not indexes:
        return scan
    entries = list(scan.entries)
    fd = os.open(ref.path, os.O_RDONLY)
    try:
        for index in indexes:
            entry = entries[index]
            if entry.digest is not None or entry.typeflag not in (0x30, 0x37):
                continue
            entries[index] = entry._replace(digest=_hash_range(fd, ref, entry))
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
