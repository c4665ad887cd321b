"""An image as its manifest and config describe it, before any layer blob is read: enough to
show the layer list (digests, blob sizes, the step that made each layer) while the layers are
still being read, or when they never will be."""

from __future__ import annotations

from dataclasses import dataclass, field

from bloatscope.model.image import ImageConfig, Platform
from bloatscope.model.layer import HistoryEntry


@dataclass(frozen=True, slots=True)
class LayerOutline:
    """One layer as the manifest lists it. ``compressed_size_bytes`` is the stored blob's size
    (the descriptor's, or the archive member's when there is no descriptor); ``available`` is
    False for a non-distributable layer that the archive left out."""

    index: int
    location: str  # where the source keeps the blob, as Layer.location
    diff_id: str
    blob_digest: str | None
    media_type: str
    compressed_size_bytes: int
    available: bool
    history: HistoryEntry | None

    @property
    def created_by(self) -> str:
        return self.history.created_by if self.history else ""


@dataclass(frozen=True, slots=True)
class ImageOutline:
    """What ``Image`` holds apart from the layers' entries and sizes."""

    reference: str
    source_format: str
    image_id: str  # the config digest
    repo_tags: tuple[str, ...]
    platform: Platform
    created: str | None
    config: ImageConfig
    history: tuple[HistoryEntry, ...]
    layers: tuple[LayerOutline, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def compressed_size_bytes(self) -> int:
        return sum(layer.compressed_size_bytes for layer in self.layers)
