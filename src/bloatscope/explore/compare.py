"""The file tree dive shows for one layer: which paths it holds, each one's Added / Modified /
Removed / Unmodified state, the entry shown for it, and dive's sizes (dive-reference §1.5-§1.7).

A tree is three arrays over the nodes of the report's PathIndex (a state, a size, an entry per
node; nodes outside the tree are ABSENT), computed from the layer stack below it (stack.py,
moved from the last tree's layer), the layer's own events, and sums over id ranges. See
docs/explore.md, "The browsing model", for the rules and where they depart from dive.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import NamedTuple

from bloatscope.explore.base import CompareMode
from bloatscope.explore.index import REGULAR, ROOT, PathIndex
from bloatscope.explore.stack import KEEPS_CHILDREN, LayerStack, gone_ranges
from bloatscope.model.entry import EntryType, FileEntry, go_file_mode
from bloatscope.model.report import Report
from bloatscope.model.tree import DiffState, LayerChanges

ABSENT = 255  # a node that is not in this tree
_NEUTRAL = 4  # an implicit directory: its children alone decide its state
_UNMODIFIED, _MODIFIED, _ADDED, _REMOVED = (int(state) for state in DiffState)

# A node's code is below | present << 1 | gone << 2 (LAYER) or base | final << 1 | ever << 2
# (AGGREGATED); these tables turn a code into a starting state, _NEUTRAL marking the nodes
# whose own entry is compared and whose children are merged in (the "derived" nodes).
_LAYER_START = bytes(
    # code: 0 nowhere, 1 below, untouched, 2 new, 3 below and in the layer: compared,
    # 4 deleted but not there (dive: a path error), 5 deleted, 6 deleted and made anew as
    # new, 7 below, deleted and made again: compared
    [ABSENT, _UNMODIFIED, _ADDED, _NEUTRAL, ABSENT, _REMOVED, _ADDED, _NEUTRAL]
).ljust(256, b"\xff")
_AGGREGATED_START = bytes(
    # code: 0 nowhere, 1 base only (deleted, never touched again), 2 cannot happen (a path
    # not in layer 0 is final only by being in a later layer), 3 base and final, untouched,
    # 4 added then deleted, 5 deleted, 6 added, 7 base, final and touched: compared
    [ABSENT, _REMOVED, _ADDED, _UNMODIFIED, _REMOVED, _REMOVED, _ADDED, _NEUTRAL]
).ljust(256, b"\xff")
_STATES = tuple(DiffState)


class TreeNode(NamedTuple):
    """One path of a tree, for callers that ask about a path rather than draw rows."""

    path: str
    state: DiffState
    size: int  # dive's size (§1.7)
    entry: FileEntry | None  # the entry shown; None for a directory no layer has an entry for
    layer: int  # the layer that wrote that entry (or first needed the directory)


class FileTree:
    """The tree of ``layer`` in ``mode``. Arrays are indexed by PathIndex node id."""

    __slots__ = ("_by_size", "entries", "index", "layer", "mode", "origins", "sizes", "states")

    def __init__(
        self,
        index: PathIndex,
        layer: int,
        mode: CompareMode,
        *,
        states: bytearray,
        sizes: array[int],
        entries: list[FileEntry | None],
        origins: array[int],
    ) -> None:
        self.index = index
        self.layer = layer
        self.mode = mode
        self.states = states
        self.sizes = sizes
        self.entries = entries
        self.origins = origins  # the layer each shown entry comes from
        self._by_size: dict[int, array[int]] = {}

    @property
    def total_size(self) -> int:
        """The root's size: every byte shown, removed ones excepted."""
        return self.sizes[ROOT]

    def __len__(self) -> int:
        """Nodes in the tree, the root excepted."""
        return len(self.states) - self.states.count(ABSENT) - 1

    def __contains__(self, path: object) -> bool:
        node = self.index.ids.get(path) if isinstance(path, str) else None
        return node is not None and node != ROOT and self.states[node] != ABSENT

    def get(self, path: str) -> TreeNode | None:
        node = self.index.ids.get(path.strip("/"))
        if node is None or node == ROOT or self.states[node] == ABSENT:
            return None
        return self.node(node)

    def node(self, node: int) -> TreeNode:
        return TreeNode(
            self.index.paths[node],
            _STATES[self.states[node]],
            self.sizes[node],
            self.entries[node],
            self.origins[node],
        )

    def largest_first(self, node: int) -> array[int]:
        """The children of ``node`` in this tree, largest first, ties by name; kept, as every
        view of the tree sorted by size asks again."""
        found = self._by_size.get(node)
        if found is None:
            states = self.states
            children = [child for child in self.index.children(node) if states[child] != ABSENT]
            children.sort(key=self.sizes.__getitem__, reverse=True)  # stable: names stay
            found = self._by_size[node] = array("i", children)
        return found

    def __iter__(self) -> Iterator[TreeNode]:
        """Every node, parents first, siblings by name."""
        states = self.states
        for node in range(1, len(states)):
            if states[node] != ABSENT:
                yield self.node(node)


def build_tree(
    report: Report, layer: int, mode: CompareMode, *, honor_opaque: bool = False
) -> FileTree:
    """One tree of ``report``. Indexing a report's paths costs several trees' time, so the
    index of the last report asked about is kept (with its last few trees): switching layers
    of one report pays for it once. A TreeCache does the same for callers that hold one."""
    global _last_cache  # noqa: PLW0603 - one report is browsed at a time
    cache = _last_cache
    if cache is None or cache.report is not report or cache.honor_opaque != honor_opaque:
        cache = _last_cache = TreeCache(report, honor_opaque=honor_opaque)
    return cache.tree(layer, mode)


class TreeCache:
    """The trees of one report, built on demand from one PathIndex, the last few kept (a tree
    costs about 17 bytes per path of the image). ``honor_opaque`` applies opaque whiteouts
    (``.wh..wh..opq``) as a runtime does; off by default, as dive ignores them."""

    def __init__(self, report: Report, *, keep: int = 4, honor_opaque: bool = False) -> None:
        self.report = report
        self.index = PathIndex(report.image.layers)
        self.honor_opaque = honor_opaque
        self._keep = keep
        self._trees: OrderedDict[tuple[int, CompareMode], FileTree] = OrderedDict()
        self._stack = LayerStack(self.index, honor_opaque)  # moved layer by layer

    def tree(self, layer: int, mode: CompareMode) -> FileTree:
        if not 0 <= layer < len(self.index.layers):
            raise IndexError(f"layer {layer} out of range (the image has {len(self.index.layers)})")
        if layer == 0:
            mode = CompareMode.LAYER  # both modes show layer 0 alone
        key = (layer, mode)
        found = self._trees.get(key)
        if found is not None:
            self._trees.move_to_end(key)
            return found
        builder = _Builder(self._stack, self.report.changes)
        made = builder.layer(layer) if mode is CompareMode.LAYER else builder.aggregated(layer)
        self._trees[key] = made
        while len(self._trees) > self._keep:
            self._trees.popitem(last=False)
        return made


_last_cache: TreeCache | None = None


class _Builder:
    def __init__(self, stack: LayerStack, changes: tuple[LayerChanges, ...]) -> None:
        self.stack = stack
        self.index = stack.index
        self.changes = changes

    # -- the two modes ----------------------------------------------------------------------

    def layer(self, number: int) -> FileTree:
        """dive's per-layer view: stack(0..number-1) below, layer ``number`` on top."""
        stack, index = self.stack, self.index
        stack.move_to(number)
        below, lower = stack.exists, stack.entries
        # the tree's own copies: the shown entry is the lower one unless this layer has its
        # own; nothing outside the tree has bytes (see _finish)
        entries, origins, own = list(lower), array("H", stack.origins), array("q", stack.alive)
        events = index.events[number]
        present = bytearray(len(index))
        for node in events.implicit:
            present[node] = 1
        for node in events.adds:
            present[node] = 1
        gone = bytearray(len(index))
        for start, end in gone_ranges(index, number, stack.honor_opaque):
            gone[start:end] = b"\x01" * (end - start)
        states = _codes(below, present, gone).translate(_LAYER_START)
        derived = states.translate(_DERIVED)
        for node in events.implicit:
            old = lower[node]
            if not below[node] or gone[node]:
                entries[node] = None
                origins[node] = number
                own[node] = 0
            elif old is not None and old.typeflag not in KEEPS_CHILDREN:
                entries[node] = None  # a file turned into a directory
                origins[node] = number
                own[node] = 0
                states[node] = _MODIFIED
        changes = self.changes[number].states if number < len(self.changes) else b""
        trusted = bool(changes) and not events.duplicates
        layer_entries = index.layers[number].entries
        adds: Iterable[tuple[int, int, int]] = zip(
            events.adds, events.add_entries, events.add_sizes, strict=True
        )
        if events.duplicates:  # the last copy of a path is the one unpacked
            adds = {add[0]: add for add in adds}.values()
        for node, at, size in adds:
            upper = layer_entries[at]
            entries[node] = upper
            origins[node] = number
            own[node] = size
            if states[node] != _NEUTRAL:
                continue  # Added: nothing below to compare with
            old = lower[node]
            merged = changes[at] if trusted else _ADDED
            if old is not None and merged in (_UNMODIFIED, _MODIFIED):
                states[node] = merged  # the reader compared this entry already
            else:
                states[node] = compare(old, upper)
        return self._finish(
            number, CompareMode.LAYER, states, derived, entries=entries, sizes=own, origins=origins
        )

    def aggregated(self, number: int) -> FileTree:
        """dive's aggregated view: layer 0 below, layers 1..``number`` on top, every node
        marked by comparing what the stack shows at ``number`` with layer 0."""
        stack = self.stack
        stack.move_to(number + 1)
        base, base_entries = stack.base_exists, stack.base_entries
        final, ever = stack.exists, stack.ever
        # a removed node shows the last entry it had, and its bytes (stack.own keeps them)
        entries, origins, own = (
            list(stack.entries),
            array("H", stack.origins),
            array("q", stack.own),
        )
        states = _codes(base, final, ever).translate(_AGGREGATED_START)
        derived = states.translate(_DERIVED)
        node = states.find(_NEUTRAL, 1)  # C-speed: skips the nodes no later layer touched
        while node >= 0:
            states[node] = compare(base_entries[node], entries[node])
            node = states.find(_NEUTRAL, node + 1)
        return self._finish(
            number,
            CompareMode.AGGREGATED,
            states,
            derived,
            entries=entries,
            sizes=own,
            origins=origins,
        )

    def _finish(
        self,
        number: int,
        mode: CompareMode,
        states: bytearray,
        derived: bytearray,
        *,
        entries: list[FileEntry | None],
        sizes: array[int],
        origins: array[int],
    ) -> FileTree:
        """Merges each compared directory's children into its state (dive's deriveDiffType:
        equal states stay, a mix is Modified) and sums sizes (§1.7: removed descendants count
        only toward a removed directory).

        Both are sums over a node's subtree, which is the id range ``[node, ends[node])``, so
        they are differences of prefix sums (C-speed), read for the directories alone:
        - a compared directory merges only Unmodified and Modified (Added and Removed fold to
          Modified), so it is Modified exactly when some node of its subtree, itself included,
          is Modified, Added or Removed. Nodes between it and that node are compared
          directories too: the stack below holds a node's parents, and a layer holds the
          parents of what it writes; an untouched directory has no change beneath it.
        - a removed node's subtree is all removed (what a layer keeps, it keeps the parents
          of), so a removed directory sums everything beneath it, any other directory what is
          not removed beneath it."""
        states[ROOT] = _UNMODIFIED
        # sizes: a file's bytes, 0 for anything not in the tree; directories' are set below
        kept = sizes
        removed = states.find(_REMOVED)
        if removed >= 0:  # the sums of the other directories leave removed bytes out
            kept = array("q", sizes)
            while removed >= 0:
                kept[removed] = 0
                removed = states.find(_REMOVED, removed + 1)
        shown = list(accumulate(kept, initial=0))
        changed = states.translate(_CHANGED)
        ends = self.index.ends
        for node in self.index.containers:
            state = states[node]
            if state == ABSENT:
                continue
            end = ends[node]
            if derived[node]:  # a search at C speed that stops at the first change
                states[node] = _MODIFIED if changed.find(1, node, end) >= 0 else _UNMODIFIED
            if state == _REMOVED:
                sizes[node] = sum(sizes[node:end])  # all beneath it is removed or not there
            else:
                sizes[node] = shown[end] - shown[node]
        # an implicit or compared node with nothing beneath it: Unmodified
        states[:] = states.translate(_SETTLED)
        return FileTree(
            self.index,
            number,
            mode,
            states=states,
            sizes=sizes,
            entries=entries,
            origins=origins,
        )


def _codes(first: bytearray, second: bytearray, third: bytearray) -> bytearray:
    """``first | second << 1 | third << 2`` per byte, for 0/1 arrays (big-int arithmetic: no
    carry can cross a byte, each byte holds at most 7)."""
    size = len(first)
    value = (
        int.from_bytes(first, "little")
        | int.from_bytes(second, "little") << 1
        | int.from_bytes(third, "little") << 2
    )
    return bytearray(value.to_bytes(size, "little"))


# 1 for the nodes whose state merges their children's: those starting _NEUTRAL (taken before
# their own comparison overwrites it)
_DERIVED = bytes(1 if value == _NEUTRAL else 0 for value in range(256))
_CHANGED = bytes(1 if value in (_MODIFIED, _ADDED, _REMOVED) else 0 for value in range(256))
_SETTLED = bytes(_UNMODIFIED if value == _NEUTRAL else value for value in range(256))


def compare(lower: FileEntry | None, upper: FileEntry | None) -> int:
    """dive's FileInfo.Compare (§1.5): type, content, mode, uid and gid; not size, mtime or link
    target. A missing entry is an implicit directory, which has no attributes to compare: its
    children decide (_NEUTRAL). A regular file without a digest on either side is Modified, as
    the reader's merger decides it: the reader hashes every file whose path recurs in another
    layer, so this happens only for layers the archive left out."""
    if lower is upper:
        return _UNMODIFIED if lower is not None else _NEUTRAL
    if lower is None or upper is None:
        other = upper if lower is None else lower
        return _NEUTRAL if other is not None and other.typeflag == EntryType.DIR else _MODIFIED
    if lower.typeflag != upper.typeflag or lower.uid != upper.uid or lower.gid != upper.gid:
        return _MODIFIED
    if go_file_mode(lower.mode, lower.typeflag) != go_file_mode(upper.mode, upper.typeflag):
        return _MODIFIED
    if upper.typeflag in REGULAR and (upper.digest is None or lower.digest != upper.digest):
        return _MODIFIED
    return _UNMODIFIED
