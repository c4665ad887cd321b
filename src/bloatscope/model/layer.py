"""A layer as shipped: its digests, sizes, the history step that made it, and its entries."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bloatscope.model.entry import FileEntry


class Compression(enum.StrEnum):
    """How a layer blob is stored, sniffed from its first bytes (never from names)."""

    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of the image config's history, oldest first."""

    created: str | None
    created_by: str
    author: str
    comment: str
    empty_layer: bool
    layer_index: int | None  # the layer this step produced; None for metadata-only steps


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer, in stack order. ``size_bytes`` is the sum of entry sizes (dive's layer size);
    ``tar_bytes`` the length of the uncompressed tar; ``compressed_size_bytes`` the stored blob."""

    index: int
    location: str  # where the source keeps it (archive member or blob path), as dive names layers
    diff_id: str
    blob_digest: str | None
    media_type: str
    compression: Compression
    size_bytes: int
    tar_bytes: int
    compressed_size_bytes: int
    history: HistoryEntry | None
    entries: tuple[FileEntry, ...]

    @property
    def created_by(self) -> str:
        return self.history.created_by if self.history else ""

    @property
    def file_count(self) -> int:
        return len(self.entries)
