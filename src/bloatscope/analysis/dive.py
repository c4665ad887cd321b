"""dive's efficiency score, wasted bytes and inefficient-file list, quirks included.

Users compare gates across tools, so these numbers equal dive 0.13's to the byte: per-layer
trees with implicit parents, only leaves counted, opaque whiteouts dropped, a deleted directory
sized from the stack below, and a whiteout of a missing path ending that layer's walk. dive
re-stacks all lower layers for every whiteout; this keeps one stack and grows it layer by layer,
and walks each layer's tree as a sorted list of paths, which gives the same answers in linear
time. See docs/numbers.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bloatscope.model.entry import FileEntry
from bloatscope.model.image import Image
from bloatscope.model.layer import Layer
from bloatscope.model.report import DiveStats, InefficientFile

_WHITEOUT = ".wh."
_DOUBLE_WHITEOUT = ".wh..wh.."

# A layer's tree as dive builds it: every path it names plus the parents it implies. A parent
# with no entry of its own carries None, dive's zero FileInfo{} (size 0, not a directory).
LayerNodes = dict[str, FileEntry | None]


def layer_nodes(entries: tuple[FileEntry, ...]) -> LayerNodes:
    """dive's AddPath for each entry: the last duplicate wins, parents are implied, and a path
    through a ``.wh..wh..`` component stops before it (opaque markers never enter the tree)."""
    nodes: LayerNodes = {}
    for entry in entries:
        path = entry.path
        if _DOUBLE_WHITEOUT in path:
            parts = path.split("/")
            cut = next((i for i, p in enumerate(parts) if p.startswith(_DOUBLE_WHITEOUT)), None)
            if cut is not None:
                _imply_parents(nodes, "/".join(parts[: cut + 1]))
                continue
        nodes[path] = entry
        _imply_parents(nodes, path)
    return nodes


def _imply_parents(nodes: LayerNodes, path: str) -> None:
    parent = path.rpartition("/")[0]
    while parent and parent not in nodes:
        nodes[parent] = None
        parent = parent.rpartition("/")[0]


def sorted_paths(nodes: LayerNodes) -> list[str]:
    """Depth-first order with siblings sorted by name: comparing paths with "/" as the lowest
    character compares them component by component."""
    return sorted(nodes, key=lambda path: path.replace("/", "\0"))


def postorder(paths: list[str]) -> Iterator[str]:
    """dive's VisitDepthChildFirst order (children before their parent) from depth-first order."""
    open_dirs: list[str] = []
    for path in paths:
        while open_dirs and not path.startswith(open_dirs[-1] + "/"):
            yield open_dirs.pop()
        open_dirs.append(path)
    while open_dirs:
        yield open_dirs.pop()


def _leaves(paths: list[str]) -> Iterator[str]:
    for index, path in enumerate(paths):
        following = paths[index + 1] if index + 1 < len(paths) else ""
        if not following.startswith(path + "/"):
            yield path


def _dive_path(path: str) -> str:
    """dive's Path(): absolute, with the whiteout prefix stripped from the last component."""
    parent, _, name = path.rpartition("/")
    name = name.removeprefix(_WHITEOUT)
    return f"/{parent}/{name}" if parent else f"/{name}"


def _size(entry: FileEntry | None) -> int:
    return entry.size if entry is not None else 0


class _StackNode:
    __slots__ = ("children", "entry")

    def __init__(self, entry: FileEntry | None) -> None:
        self.entry = entry
        self.children: dict[str, _StackNode] = {}

    def subtree_size(self) -> int:
        total = _size(self.entry)
        pending = list(self.children.values())
        while pending:
            node = pending.pop()
            total += _size(node.entry)
            pending.extend(node.children.values())
        return total


class _Stack:
    """The lower layers stacked as dive's Stack() does: whiteouts remove, everything else
    (implicit parents included) overwrites the payload."""

    def __init__(self) -> None:
        self.root = _StackNode(None)
        self.index: dict[str, _StackNode] = {"": self.root}

    def add(self, path: str, entry: FileEntry | None) -> None:
        node = self.index.get(path)
        if node is None:
            parent_path, _, name = path.rpartition("/")
            if parent_path not in self.index:
                self.add(parent_path, None)
            node = _StackNode(entry)
            self.index[parent_path].children[name] = node
            self.index[path] = node
        node.entry = entry

    def remove(self, path: str) -> None:
        node = self.index.get(path)
        if node is None or node is self.root:
            return
        parent_path, _, name = path.rpartition("/")
        del self.index[parent_path].children[name]
        pending = [(path, node)]
        while pending:
            node_path, current = pending.pop()
            del self.index[node_path]
            pending.extend((f"{node_path}/{n}", c) for n, c in current.children.items())

    def stack(self, nodes: LayerNodes, paths: list[str]) -> None:
        for path in paths:
            parent, _, name = path.rpartition("/")
            if name.startswith(_WHITEOUT):
                stripped = f"{parent}/{name[4:]}" if parent else name[4:]
                self.remove(stripped)
            else:
                self.add(path, nodes[path])


def _whiteout_size(nodes: LayerNodes, paths: list[str], at: int, target: str) -> int:
    """Layer 0's whiteouts look in layer 0's own tree: its subtree follows it in ``paths``."""
    entry = nodes[target]
    if entry is None or not entry.is_dir:
        return 0
    total = _size(entry)
    prefix = target + "/"
    for path in paths[at + 1 :]:
        if not path.startswith(prefix):
            break
        total += _size(nodes[path])
    return total


@dataclass(slots=True)
class _PathData:
    cumulative: int = 0
    minimum: int = -1
    count: int = 0


class DiveAccumulator:
    """dive's Efficiency() fed one layer at a time, in stack order, so it can run while later
    layers are still being read."""

    def __init__(self) -> None:
        self._found: dict[str, _PathData] = {}
        self._inefficient: list[tuple[str, _PathData]] = []
        self._stack = _Stack()
        self._sizes: list[int] = []

    def add(self, layer: Layer) -> None:
        first = not self._sizes
        self._sizes.append(layer.size_bytes)
        nodes = layer_nodes(layer.entries)
        paths = sorted_paths(nodes)
        found = self._found
        for path in _leaves(paths):
            name = path.rpartition("/")[2] if _WHITEOUT in path else ""
            if name.startswith(_WHITEOUT):
                key = _dive_path(path)
                if key not in found:  # dive records the path even when the lookup fails
                    found[key] = _PathData()
                target = path[: len(path) - len(name)] + name[4:]
                if first:
                    if target not in nodes:
                        break  # dive's visitor errors here, ending this layer's walk
                    size = _whiteout_size(nodes, paths, paths.index(target), target)
                else:
                    lower = self._stack.index.get(target)
                    if lower is None:
                        break
                    is_dir = lower.entry is not None and lower.entry.is_dir
                    size = lower.subtree_size() if is_dir else 0
            else:
                key = "/" + path
                entry = nodes[path]
                size = entry.size if entry is not None else 0
            data = found.get(key)
            if data is None:
                data = found[key] = _PathData()
            data.cumulative += size
            if data.minimum < 0 or size < data.minimum:
                data.minimum = size
            data.count += 1
            if data.count == 2:
                self._inefficient.append((key, data))
        self._stack.stack(nodes, paths)

    def result(self) -> DiveStats:
        stats = _summarize(self._sizes, self._found, self._inefficient)
        self._stack = _Stack()  # the stacked tree is only needed while layers come in
        return stats


def dive_stats(image: Image) -> DiveStats:
    """dive's Analyze(): efficiency, wasted bytes, user wasted percent, inefficient files."""
    accumulator = DiveAccumulator()
    for layer in image.layers:
        accumulator.add(layer)
    return accumulator.result()


def _summarize(
    sizes: list[int], found: dict[str, _PathData], inefficient: list[tuple[str, _PathData]]
) -> DiveStats:
    minimum = sum(d.minimum for d in found.values())
    discovered = sum(d.cumulative for d in found.values())
    efficiency = 1.0 if discovered == 0 else minimum / discovered
    user_size = sum(sizes[1:])
    wasted = sum(d.cumulative for _p, d in inefficient)
    user_percent = wasted / user_size if user_size else float("nan")
    # dive sorts ascending by cumulative size and prints from the end, so ties come out in
    # reverse discovery order; a stable sort and a reverse reproduce that.
    ordered = sorted(inefficient, key=lambda item: item[1].cumulative)
    files = tuple(InefficientFile(p, d.count, d.cumulative) for p, d in reversed(ordered))
    return DiveStats(
        efficiency=efficiency,
        wasted_bytes=wasted,
        user_size_bytes=user_size,
        user_wasted_percent=user_percent,
        size_bytes=sum(sizes),
        inefficient_files=files,
    )
