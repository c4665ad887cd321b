"""What the file-tree pane shows of one FileTree: the visible lines in order, which directories
are collapsed, what is hidden or filtered out, and the moves the keys make (toggle, expand or
collapse everything, go to a parent, find a name, reveal a path).

The lines are a flat array of node ids; a Row is made only when a line is asked for, so a
change never builds 87,000 objects. In name order the ids of the lines are increasing (the
index numbers nodes in that order), so a line is found by bisection.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Iterator

from bloatscope.explore.attributes import mode_string
from bloatscope.explore.base import Row, SortOrder, ViewOptions
from bloatscope.explore.compare import ABSENT, FileTree
from bloatscope.explore.index import ROOT
from bloatscope.model.entry import EntryType
from bloatscope.model.tree import DiffState

_STATES = tuple(DiffState)
_LINKS = (EntryType.SYMLINK, EntryType.HARDLINK)
_IN_TREE = bytes(0 if value == ABSENT else 1 for value in range(256))


class TreeView:
    """The lines of ``tree`` under ``options``; every directory starts expanded (dive's
    default) unless ``expanded`` is False."""

    def __init__(
        self, tree: FileTree, options: ViewOptions | None = None, *, expanded: bool = True
    ) -> None:
        self.tree = tree
        self._index = tree.index
        count = len(tree.index)
        self._collapsed = bytearray(count) if expanded else bytearray(b"\x01") * count
        self._full_order: array[int] | None = None  # line positions with nothing collapsed
        self.options = ViewOptions()
        self._visible = bytearray()
        self._lines: array[int] | None = None  # the node of each line, made when first asked
        self.set_options(options or ViewOptions())

    # -- what is shown ----------------------------------------------------------------------

    def set_options(self, options: ViewOptions) -> None:
        """Hidden change kinds, sort order and filter; collapsed directories stay collapsed.
        A bad pattern raises re.error and leaves the view as it was."""
        pattern = re.compile(options.pattern) if options.pattern else None
        self._visible = self._visibility(options.hidden, pattern)
        self.options = options
        self._full_order = None
        self._lines = None

    def _visibility(
        self, hidden: frozenset[DiffState], pattern: re.Pattern[str] | None
    ) -> bytearray:
        """dive's rule (viewmodel/filetree.go Update): a node shows when any child shows, or
        when its kind is not hidden and the pattern (if any) is found in its path."""
        states = self.tree.states
        if not hidden and pattern is None:
            return states.translate(_IN_TREE)
        shown = bytes(
            1 if value != ABSENT and (value >= len(_STATES) or _STATES[value] not in hidden) else 0
            for value in range(256)
        )
        candidates = states.translate(shown)
        if pattern is not None:
            matched = self._index.matches(pattern)
            both = int.from_bytes(candidates, "little") & int.from_bytes(matched, "little")
            candidates = bytearray(both.to_bytes(len(candidates), "little"))
        # and the directories with a candidate beneath them: a search at C speed in each
        # directory's id range (a walk up from every candidate costs ten times more)
        visible = bytearray(candidates)
        ends = self._index.ends
        for node in self._index.containers:
            if not visible[node] and candidates.find(1, node + 1, ends[node]) >= 0:
                visible[node] = 1
        visible[ROOT] = 0
        return visible

    def _flatten(self, top: int, *, everything: bool = False) -> array[int]:
        """The lines below ``top`` in order (all of them with ``everything``, as if nothing
        were collapsed)."""
        visible = self._visible
        collapsed = bytearray(len(visible)) if everything else self._collapsed
        ends = self._index.ends
        lines: list[int] = []
        append = lines.append
        if self.options.sort is SortOrder.NAME:
            node, end = top + 1, ends[top]
            while node < end:
                if not visible[node]:
                    node = ends[node]
                    continue
                append(node)
                node = ends[node] if collapsed[node] else node + 1
            return array("i", lines)
        pending = [iter(self.tree.largest_first(top))]
        while pending:
            for node in pending[-1]:
                if not visible[node]:
                    continue
                append(node)
                if not collapsed[node] and ends[node] > node + 1:
                    pending.append(iter(self.tree.largest_first(node)))
                    break
            else:
                pending.pop()
        return array("i", lines)

    # -- lines ------------------------------------------------------------------------------

    @property
    def _rows(self) -> array[int]:
        """The lines, flattened when first asked after a change of options or expansion (the
        app sets options right after making a view: one flattening, not two)."""
        lines = self._lines
        if lines is None:
            lines = self._lines = self._flatten(ROOT)
        return lines

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Row]:
        for line in range(len(self._rows)):
            yield self.row(line)

    def row(self, line: int) -> Row:
        node = self._rows[line]
        tree = self.tree
        entry = tree.entries[node]
        path = self._index.paths[node]
        is_dir = self._is_dir(node)
        size = tree.sizes[node]
        total = tree.total_size
        return Row(
            path=path,
            name=path.rpartition("/")[2],
            depth=path.count("/"),
            is_dir=is_dir,
            expanded=is_dir and not self._collapsed[node],
            has_children=is_dir and self._first_visible_child(node) is not None,
            size=size,
            state=_STATES[tree.states[node]],
            mode=mode_string(entry),
            uid=entry.uid if entry is not None else 0,
            gid=entry.gid if entry is not None else 0,
            linkname=entry.linkname if entry is not None and entry.typeflag in _LINKS else "",
            fraction=min(size / total, 1.0) if total > 0 else 0.0,
        )

    def _is_dir(self, node: int) -> bool:
        """A directory entry, an implicit directory, or anything with children in the tree
        (dive keeps what a layer wrote below a symlink's literal path under the symlink)."""
        entry = self.tree.entries[node]
        if entry is None or entry.typeflag == EntryType.DIR:
            return True
        states, ends = self.tree.states, self._index.ends
        child = node + 1
        while child < ends[node]:
            if states[child] != ABSENT:
                return True
            child = ends[child]
        return False

    def _first_visible_child(self, node: int) -> int | None:
        visible, ends = self._visible, self._index.ends
        child = node + 1
        while child < ends[node]:
            if visible[child]:
                return child
            child = ends[child]
        return None

    def _line_of(self, node: int, before: int | None = None) -> int | None:
        rows = self._rows
        stop = len(rows) if before is None else before
        if self.options.sort is SortOrder.NAME:
            line = bisect.bisect_left(rows, node, 0, stop)
            return line if line < stop and rows[line] == node else None
        try:
            return rows.index(node, 0, stop)
        except ValueError:
            return None

    def _node_of(self, path: str) -> int | None:
        node = self._index.ids.get(path.strip("/"))
        if node is None or node == ROOT or not self._visible[node]:
            return None
        return node

    def index_of(self, path: str) -> int | None:
        """The line showing ``path``; None when it is hidden, filtered out or collapsed away."""
        node = self._node_of(path)
        return self._line_of(node) if node is not None else None

    def parent_index(self, line: int) -> int | None:
        """The line of the directory holding line ``line``; None at the top level."""
        parent = self._index.parents[self._rows[line]]
        return None if parent == ROOT else self._line_of(parent, before=line)

    # -- moves ------------------------------------------------------------------------------

    def toggle(self, line: int) -> None:
        """Collapses or expands the directory at ``line``; anything else is left alone."""
        node = self._rows[line]
        if not self._is_dir(node):
            return
        if self._collapsed[node]:
            self._collapsed[node] = 0
            self._rows[line + 1 : line + 1] = self._flatten(node)
            return
        self._collapsed[node] = 1
        del self._rows[line + 1 : self._subtree_stop(line, node)]

    def _subtree_stop(self, line: int, node: int) -> int:
        """The first line after ``line`` that is not below ``node`` (ids below a node are
        exactly ``node+1 .. ends[node]-1``, in any sort order)."""
        rows, end = self._rows, self._index.ends[node]
        if self.options.sort is SortOrder.NAME:
            return bisect.bisect_left(rows, end, line + 1)
        stop = line + 1
        while stop < len(rows) and node < rows[stop] < end:
            stop += 1
        return stop

    def expand_all(self) -> None:
        self._collapsed = bytearray(len(self._collapsed))
        self._lines = None

    def collapse_all(self) -> None:
        self._collapsed = bytearray(b"\x01") * len(self._collapsed)
        self._lines = None

    def reveal(self, path: str) -> int | None:
        """Expands the directories above ``path`` and returns its line; None when the options
        hide it or the tree does not hold it."""
        node = self._node_of(path)
        return self._reveal(node) if node is not None else None

    def _reveal(self, node: int) -> int | None:
        parents, collapsed = self._index.parents, self._collapsed
        outermost = None
        above = parents[node]
        while above > ROOT:
            if collapsed[above]:
                outermost = above
                collapsed[above] = 0
            above = parents[above]
        if outermost is not None:
            # the outermost collapsed directory is a line (everything above it is expanded);
            # its subtree had none, and now gets them, down to node
            line = self._line_of(outermost)
            assert line is not None
            self._rows[line + 1 : line + 1] = self._flatten(outermost)
        return self._line_of(node)

    def find(self, text: str, start: int, backwards: bool = False) -> int | None:
        """The next name holding ``text`` (ignoring case) after line ``start``, in the order
        the lines would have with everything expanded, wrapping around (the start line itself
        is tried last); collapsed directories are searched too and opened to show the match.
        Names the options hide are skipped. None when nothing matches."""
        visible = self._visible
        hits = [node for node in self._index.name_hits(text) if visible[node]]
        if not hits:
            return None
        current = self._rows[start] if 0 <= start < len(self._rows) else -1
        if self.options.sort is SortOrder.NAME:  # ids are the order: hits are sorted already
            keys: list[int] = hits
        else:
            place = self._place()
            hits.sort(key=place)
            keys = [place(node) for node in hits]
            current = place(current) if current >= 0 else -1
        if backwards:
            at = bisect.bisect_left(keys, current) - 1  # -1 wraps to the last
        else:
            at = bisect.bisect_right(keys, current) % len(keys)
        return self._reveal(hits[at])

    def _place(self) -> Callable[[int], int]:
        """A node's line with everything expanded, in size order."""
        if self._full_order is None:
            order = array("i", bytes(4 * len(self._visible)))
            for position, node in enumerate(self._flatten(ROOT, everything=True)):
                order[node] = position
            self._full_order = order
        return self._full_order.__getitem__
