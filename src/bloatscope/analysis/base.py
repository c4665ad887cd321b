"""The analyzer seam: an analyzer names the bytes it blames on its cause (claims); the ledger in
analysis.findings counts each byte for the first analyzer that claims it and groups the claims
into findings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from bloatscope.model.finding import Severity
from bloatscope.model.image import Image
from bloatscope.model.report import Reclaimable, Report
from bloatscope.model.tree import ContentId, FileSystem, FsNode, LayerChanges

if TYPE_CHECKING:
    from bloatscope.packages.inventory import Inventory

_FILE = (0x30, 0x37)
# A regular file of the final tree that holds bytes, as (path without a leading slash, size,
# content). Hardlinks are left out: their target is listed. Plain tuples, built once per image.
VisibleFile = tuple[str, int, ContentId]


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
    inventory: Inventory | None = None  # the packages, when they were cataloged
    files: tuple[VisibleFile, ...] = field(init=False)

    def __post_init__(self) -> None:
        # listed once, so each analyzer's pass is over the files that hold bytes only
        files = []
        for path, node in self.nodes:
            entry = node.entry
            # a regular file (not a hardlink to one) with bytes; what FsNode.size computes
            if node.content is not None and entry is not None and entry.typeflag in _FILE:
                size = entry.size
                if size > 0:
                    files.append((path, size, node.content))
        object.__setattr__(self, "files", tuple(files))

    def attach(self, inventory: Inventory) -> None:
        """Sets the inventory once it is measured: the input is otherwise complete before the
        packages are, and rebuilding it would walk the file list again."""
        object.__setattr__(self, "inventory", inventory)

    def path_of(self, contents: set[ContentId]) -> dict[ContentId, str]:
        """The path each of these contents is shown at, for those the final tree shows: the
        path its layer wrote it at, which is the final path unless it was written through a
        symlinked directory. (Looked up per content: package findings ask for tens of thousands,
        and a map of every file costs more.)"""
        layers = self.image.layers
        visible = self.visible
        return {c: layers[c[0]].entries[c[1]].path for c in contents if c in visible}

    @classmethod
    def from_report(cls, report: Report, inventory: Inventory | None = None) -> AnalysisInput:
        """The input to run analyzers on an analyzed image again (a script's own, say)."""
        nodes = report.filesystem.walk()
        visible = {node.content for _path, node in nodes if node.content is not None}
        return cls(
            report.image,
            report.filesystem,
            report.changes,
            nodes,
            visible,
            report.reclaimable,
            inventory,
        )


class Claim(NamedTuple):
    """These bytes (a regular file's content, by layer and entry) are waste of this kind. A
    NamedTuple: an image can yield tens of thousands of claims."""

    group: str
    content: ContentId
    path: str
    size: int


class ClaimBatch(NamedTuple):
    """Many contents of one kind at once, with their sizes: for causes that blame tens of
    thousands of files (a package's closure), cheaper than a Claim each. The ledger looks paths
    up only for the files a finding lists."""

    group: str
    contents: Collection[ContentId]
    sizes: Mapping[ContentId, int]


@dataclass(frozen=True, slots=True)
class Description:
    title: str
    fix: str
    severity: Severity


class Analyzer(ABC):
    """One cause of waste."""

    cause: str
    # Claims from the package inventory: run with cataloging (maybe in another process),
    # before the analyzers that find causes by path.
    needs_inventory = False

    @abstractmethod
    def claims(self, data: AnalysisInput) -> Iterator[Claim | ClaimBatch]:
        """Every content this cause explains; the ledger drops those already claimed."""

    @abstractmethod
    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        """The title and the Dockerfile fix of one finding (a group of claims in one layer)."""
