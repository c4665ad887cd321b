"""dive's efficiency score, wasted bytes and inefficient-file list, quirks included.

Users compare gates across tools, so these numbers equal dive 0.13's to the byte: per-layer
trees with implicit parents, only leaves counted, opaque whiteouts dropped, a deleted directory
sized from the stack below, and a whiteout of a missing path ending that layer's walk. Where dive
re-stacks all lower layers for every whiteout, this keeps one stack and grows it layer by layer,
which gives the same answers in linear time. See docs/dive-parity.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bloatscope.model.entry import FileEntry
from bloatscope.model.image import Image
from bloatscope.model.report import DiveStats, InefficientFile

_WHITEOUT = ".wh."
_DOUBLE_WHITEOUT = ".wh..wh.."


class DiveNode:
    """dive's FileNode without the UI state: ``entry`` None is Go's zero FileInfo{}."""

    __slots__ = ("children", "entry", "name", "parent")

    def __init__(self, name: str, parent: DiveNode | None, entry: FileEntry | None) -> None:
        self.name = name
        self.parent = parent
        self.entry = entry
        self.children: dict[str, DiveNode] = {}

    def path(self) -> str:
        parts = [self.name.removeprefix(_WHITEOUT)]
        node = self.parent
        while node is not None and node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(parts))

    def visit_children_first(self) -> Iterator[DiveNode]:
        """dive's VisitDepthChildFirst: children sorted by name, each before its parent; the
        root itself is never visited."""
        stack: list[tuple[DiveNode, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded or not node.children:
                if node.parent is not None:
                    yield node
                continue
            stack.append((node, True))
            for name in sorted(node.children, reverse=True):
                stack.append((node.children[name], False))


def _size(entry: FileEntry | None) -> int:
    return entry.size if entry is not None else 0


def _is_dir(entry: FileEntry | None) -> bool:
    return entry is not None and entry.is_dir


class DiveTree:
    """dive's FileTree: AddPath, GetNode and RemovePath with the same edge cases."""

    def __init__(self) -> None:
        self.root = DiveNode("", None, None)

    def add_path(self, path: str, entry: FileEntry | None) -> None:
        node = self.root
        parts = [p for p in path.strip("/").split("/") if p]
        for index, name in enumerate(parts):
            child = node.children.get(name)
            if child is None:
                if name.startswith(_DOUBLE_WHITEOUT):
                    return  # opaque markers never enter dive's trees
                child = DiveNode(name, node, None)
                node.children[name] = child
            node = child
            if index == len(parts) - 1:
                node.entry = entry

    def get(self, path: str) -> DiveNode | None:
        node = self.root
        for name in path.strip("/").split("/"):
            if not name:
                continue
            child = node.children.get(name)
            if child is None:
                return None
            node = child
        return node

    def remove(self, path: str) -> None:
        node = self.get(path)
        if node is not None and node.parent is not None:
            del node.parent.children[node.name]

    def stack(self, upper: DiveTree) -> None:
        for node in upper.visit_all():
            if node.name.startswith(_WHITEOUT):
                self.remove(node.path())
            else:
                self.add_path(node.path(), node.entry)

    def visit_all(self) -> Iterator[DiveNode]:
        return self.root.visit_children_first()


def layer_tree(entries: tuple[FileEntry, ...]) -> DiveTree:
    tree = DiveTree()
    for entry in entries:
        tree.add_path(entry.path, entry)
    return tree


@dataclass(slots=True)
class _PathData:
    cumulative: int = 0
    minimum: int = -1
    count: int = 0


def dive_stats(image: Image) -> DiveStats:
    """dive's Analyze(): efficiency, wasted bytes, user wasted percent, inefficient files."""
    paths: dict[str, _PathData] = {}
    inefficient: list[tuple[str, _PathData]] = []
    stacked = DiveTree()
    for index, layer in enumerate(image.layers):
        tree = layer_tree(layer.entries)
        lower = tree if index == 0 else stacked
        for node in tree.visit_all():
            if node.children:
                continue  # only leaves count
            path = node.path()
            data = paths.get(path)
            if data is None:
                data = paths[path] = _PathData()
            if node.name.startswith(_WHITEOUT):
                previous = lower.get(path)
                if previous is None:
                    break  # dive's visitor errors here, ending this layer's walk
                size = 0
                if _is_dir(previous.entry):
                    # includes the directory itself: dive's walk visits every non-root node
                    size = sum(_size(n.entry) for n in previous.visit_children_first())
            else:
                size = _size(node.entry)
            data.cumulative += size
            if data.minimum < 0 or size < data.minimum:
                data.minimum = size
            data.count += 1
            if data.count == 2:
                inefficient.append((path, data))
        stacked.stack(tree)
    return _summarize(image, paths, inefficient)


def _summarize(
    image: Image, paths: dict[str, _PathData], inefficient: list[tuple[str, _PathData]]
) -> DiveStats:
    minimum = sum(d.minimum for d in paths.values())
    discovered = sum(d.cumulative for d in paths.values())
    efficiency = 1.0 if discovered == 0 else minimum / discovered
    sizes = [layer.size_bytes for layer in image.layers]
    user_size = sum(sizes[1:])
    wasted = sum(d.cumulative for _p, d in inefficient)
    user_percent = wasted / user_size if user_size else float("nan")
    # dive sorts ascending by cumulative size and prints from the end, so ties come out in
    # reverse discovery order; a stable sort and a reverse reproduce that.
    ordered = sorted(inefficient, key=lambda item: item[1].cumulative)
    files = tuple(InefficientFile(path, d.count, d.cumulative) for path, d in reversed(ordered))
    return DiveStats(
        efficiency=efficiency,
        wasted_bytes=wasted,
        user_size_bytes=user_size,
        user_wasted_percent=user_percent,
        size_bytes=sum(sizes),
        inefficient_files=files,
    )
