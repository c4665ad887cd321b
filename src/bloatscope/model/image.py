"""An image: its identity, platform, config summary, history and layers."""

from __future__ import annotations

from dataclasses import dataclass, field

from bloatscope.model.layer import HistoryEntry, Layer


@dataclass(frozen=True, slots=True)
class Platform:
    """os/architecture[/variant], normalized the way containerd compares them."""

    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The runtime parts of the config that reports show."""

    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Image:
    """A whole image as read from a source. Layers are an ordered tuple, never keyed by digest:
    the same diff_id may occur twice."""

    reference: str
    source_format: str
    image_id: str  # the config digest
    repo_tags: tuple[str, ...]
    platform: Platform
    created: str | None
    config: ImageConfig
    history: tuple[HistoryEntry, ...]
    layers: tuple[Layer, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def size_bytes(self) -> int:
        return sum(layer.size_bytes for layer in self.layers)

    @property
    def compressed_size_bytes(self) -> int:
        return sum(layer.compressed_size_bytes for layer in self.layers)
