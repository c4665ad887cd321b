"""The analyzer seam: an analyzer names the bytes it blames on its cause (claims); the ledger in
analysis.findings counts each byte for the first analyzer that claims it and groups the claims
into findings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from bloatscope.model.finding import Severity
from bloatscope.model.image import Image
from bloatscope.model.report import Reclaimable
from bloatscope.model.tree import ContentId, FileSystem, FsNode, LayerChanges


@dataclass(frozen=True, slots=True)
class AnalysisInput:
    """What every analyzer may look at: the image, its final tree (walked once), which
    contents the final tree shows, and the bytes later layers hide."""

    image: Image
    filesystem: FileSystem
    changes: tuple[LayerChanges, ...]
    nodes: list[tuple[str, FsNode]]
    visible: set[ContentId]
    shadowed: Reclaimable


@dataclass(frozen=True, slots=True)
class Claim:
    """These bytes (a regular file's content, by layer and entry) are waste of this kind."""

    group: str
    content: ContentId
    path: str
    size: int


@dataclass(frozen=True, slots=True)
class Description:
    title: str
    fix: str
    severity: Severity


class Analyzer(ABC):
    """One cause of waste."""

    cause: str

    @abstractmethod
    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        """Every content this cause explains; the ledger drops those already claimed."""

    @abstractmethod
    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        """The title and the Dockerfile fix of one finding (a group of claims in one layer)."""
