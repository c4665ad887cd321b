"""The result of analysis: dive-compatible numbers, reclaimable bytes by cause, largest paths."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from bloatscope.model.finding import Finding
from bloatscope.model.image import Image
from bloatscope.model.package import PackageInventory
from bloatscope.model.tree import FileSystem, LayerChanges


@dataclass(frozen=True, slots=True)
class InefficientFile:
    """dive's file reference: a path that is a leaf in ``count`` layers, all copies summed."""

    path: str
    count: int
    cumulative_bytes: int


@dataclass(frozen=True, slots=True)
class DiveStats:
    efficiency: float
    wasted_bytes: int
    user_size_bytes: int
    user_wasted_percent: float  # NaN when no bytes were added above layer 0, as in dive
    size_bytes: int
    inefficient_files: tuple[InefficientFile, ...]


class ShadowCause(enum.StrEnum):
    """Why bytes a layer shipped are not in the final filesystem."""

    OVERWRITTEN = "overwritten"  # a later entry replaced the path with other content
    METADATA_ONLY = "metadata-only"  # a later entry re-shipped the same bytes with new mode/owner
    DELETED = "deleted"  # a later whiteout removed the path


@dataclass(frozen=True, slots=True)
class ShadowedFile:
    """One layer entry whose bytes ship but cannot be seen in the final image."""

    path: str
    layer: int
    size_bytes: int
    cause: ShadowCause
    hidden_by_layer: int | None  # the layer that overwrote or deleted it, when known
    entry_index: int = field(default=-1, compare=False)  # its place in the layer's entries


@dataclass(frozen=True, slots=True)
class Reclaimable:
    """bloatscope's own waste measure: each shipped byte the final filesystem does not show,
    counted once."""

    total_bytes: int
    by_cause: tuple[tuple[ShadowCause, int], ...]
    by_layer: tuple[int, ...]  # reclaimable bytes shipped by each layer
    files: tuple[ShadowedFile, ...]  # largest first


@dataclass(frozen=True, slots=True)
class SizedPath:
    path: str
    size_bytes: int
    layer: int | None  # the layer whose entry the final image shows, for files


@dataclass(frozen=True, slots=True)
class DockerfileSource:
    """The Dockerfile an image was built from, as given: the line of the instruction that made
    each layer (where the history matched), and that line's text."""

    path: str
    layers: dict[int, tuple[int, str]]  # layer index -> (line, the instruction's first line)


@dataclass(frozen=True, slots=True)
class Report:
    image: Image
    filesystem: FileSystem
    changes: tuple[LayerChanges, ...]
    dive: DiveStats
    reclaimable: Reclaimable
    largest_files: tuple[SizedPath, ...]
    largest_directories: tuple[SizedPath, ...]
    final_size_bytes: int  # bytes of regular files visible in the final filesystem
    findings: tuple[Finding, ...] = ()  # largest first; their bytes add up to reclaimable_bytes
    packages: PackageInventory | None = None  # None when packages were not cataloged
    dockerfile: DockerfileSource | None = None  # when one was given

    @property
    def reclaimable_bytes(self) -> int:
        return sum(finding.bytes for finding in self.findings)

    def reclaimable_in_layer(self, layer: int) -> int:
        """The bytes of the findings a layer shipped."""
        return sum(f.bytes for f in self.findings if f.layer == layer)
