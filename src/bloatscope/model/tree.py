"""The merged filesystem of an image: what a container started from it would see.

Built once by the reader and never changed afterwards; nodes use slots because an image can
hold hundreds of thousands of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bloatscope.model.entry import FileEntry

ContentId = tuple[int, int]  # (layer index, entry index) of the regular file holding the bytes


class DiffState(enum.IntEnum):
    """How a layer changed a path, with dive's meaning of each state."""

    UNMODIFIED = 0
    MODIFIED = 1
    ADDED = 2
    REMOVED = 3


class FsNode:
    """A path in the merged filesystem. ``entry`` is None for a directory no layer has an entry
    for (created implicitly by a deeper path)."""

    __slots__ = ("children", "content", "entry", "layer")

    def __init__(self, entry: FileEntry | None, layer: int, content: ContentId | None) -> None:
        self.entry = entry
        self.layer = layer
        self.content = content
        self.children: dict[str, FsNode] | None = None

    @property
    def is_dir(self) -> bool:
        return self.children is not None

    @property
    def size(self) -> int:
        """Bytes this node itself holds: regular files only; hardlinks share their target's."""
        entry = self.entry
        if entry is None or entry.typeflag not in (0x30, 0x37):
            return 0
        return entry.size


@dataclass(frozen=True, slots=True)
class LayerChanges:
    """Per layer: the dive state of each of its entries (aligned with ``Layer.entries``), and
    the lower paths its whiteouts removed."""

    states: bytes
    removed_paths: tuple[str, ...]

    @property
    def added(self) -> int:
        return self.states.count(DiffState.ADDED)

    @property
    def modified(self) -> int:
        return self.states.count(DiffState.MODIFIED)

    @property
    def removed(self) -> int:
        return len(self.removed_paths)


class FileSystem:
    """The final tree. Paths are root-relative without a leading slash."""

    __slots__ = ("root",)

    def __init__(self, root: FsNode) -> None:
        self.root = root

    def get(self, path: str) -> FsNode | None:
        node = self.root
        for part in path.split("/") if path else ():
            if node.children is None or part not in node.children:
                return None
            node = node.children[part]
        return node

    def walk(self) -> list[tuple[str, FsNode]]:
        """Every node but the root, each parent before its children (in no particular order
        among siblings)."""
        found: list[tuple[str, FsNode]] = []
        pending: list[tuple[str, FsNode]] = [("", self.root)]
        while pending:
            prefix, node = pending.pop()
            if node.children:
                for name, child in node.children.items():
                    path = f"{prefix}/{name}" if prefix else name
                    found.append((path, child))
                    pending.append((path, child))
        return found
