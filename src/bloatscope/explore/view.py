"""What the file-tree pane shows of one FileTree: the visible lines in order, which directories
are collapsed, what is hidden or filtered out, and the moves the keys make (toggle, expand or
collapse everything, go to a parent, find a name, reveal a path).

A Row is made only when a line is asked for, so a change never builds 87,000 objects. In name
order, the index's order, the lines are a mask over node ids (1: the node is a line): a line's
node and a node's line are found by counting ones at C speed, per block of ids, so a change of
layer, filter or expansion is slice assignments and never a loop over every line (a list of
87,000 line numbers alone costs 10 ms). In size order the lines are an array of node ids,
flattened when first asked.
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
_BLOCK = 256  # ids per count of lines: finding a line's node looks through one block at most


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
        # name order, made when first asked: 1 for each node that is a line, and the lines
        # before each block of ids
        self._shown: bytearray | None = None
        self._counts: list[int] = [0]
        self._last = (-1, -1)  # the line last found and its node: a screen asks in order
        self._lines: array[int] | None = None  # size order: the node of each line
        self.set_options(options or ViewOptions())

    # -- what is shown ----------------------------------------------------------------------

    def set_options(self, options: ViewOptions) -> None:
        """Hidden change kinds, sort order and filter; collapsed directories stay collapsed.
        A bad pattern raises re.error and leaves the view as it was."""
        pattern = re.compile(options.pattern) if options.pattern else None
        self._visible = self._visibility(options.hidden, pattern)
        self.options = options
        self._full_order = None
        self._changed()

    def _changed(self) -> None:
        """The lines are made again when next asked (the app sets options right after making
        a view: one flattening, not two)."""
        self._shown = None
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
        # and the directories above them: for a few, a walk up from each; for many, a search
        # at C speed in each directory's id range (a walk from 80,000 costs ten times more)
        containers = self._index.containers
        if candidates.count(1) < len(containers):
            parents = self._index.parents
            visible = bytearray(len(states))
            visible[ROOT] = 1  # stops the walks up
            node = candidates.find(1, 1)
            while node >= 0:
                above = node
                while not visible[above]:
                    visible[above] = 1
                    above = parents[above]
                node = candidates.find(1, node + 1)
        else:
            visible = bytearray(candidates)
            ends = self._index.ends
            for node in containers:
                if not visible[node] and candidates.find(1, node + 1, ends[node]) >= 0:
                    visible[node] = 1
        visible[ROOT] = 0
        return visible

    # -- lines in name order: a mask over node ids ------------------------------------------

    def _name_lines(self) -> bytearray:
        shown = self._shown
        if shown is None:
            shown = self._shown = bytearray(self._visible)
            shown[ROOT] = 0  # the root holds the lines; it is none of them
            self._hide_collapsed(ROOT)
        return shown

    def _hide_collapsed(self, top: int) -> None:
        """Takes out the lines below ``top`` that collapsed directories hide, and counts the
        lines again. Each collapsed line's subtree goes in one slice; what is collapsed
        inside it is jumped over."""
        shown, ends = self._shown, self._index.ends
        assert shown is not None
        first, end = top + 1, ends[top]
        both = int.from_bytes(self._collapsed[first:end], "little") & int.from_bytes(
            self._visible[first:end], "little"
        )
        closed = both.to_bytes(end - first, "little")
        at = closed.find(1)
        while at >= 0:
            node = first + at
            stop = ends[node]
            shown[node + 1 : stop] = bytes(stop - node - 1)
            at = closed.find(1, stop - first)
        self._count()

    def _count(self) -> None:
        shown = self._shown
        assert shown is not None
        counts, total = [0], 0
        for start in range(0, len(shown), _BLOCK):
            total += shown.count(1, start, start + _BLOCK)
            counts.append(total)
        self._counts = counts
        self._last = (-1, -1)

    # -- lines in size order: an array of node ids -------------------------------------------

    @property
    def _rows(self) -> array[int]:
        lines = self._lines
        if lines is None:
            lines = self._lines = self._flatten(ROOT)
        return lines

    def _flatten(self, top: int, *, everything: bool = False) -> array[int]:
        """The lines below ``top`` in size order (all of them with ``everything``, as if
        nothing were collapsed)."""
        visible = self._visible
        collapsed = bytearray(len(visible)) if everything else self._collapsed
        ends = self._index.ends
        lines: list[int] = []
        append = lines.append
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

    def _subtree_stop(self, line: int, node: int) -> int:
        """The first line after ``line`` that is not below ``node`` (ids below a node are
        exactly ``node+1 .. ends[node]-1``, in any sort order)."""
        rows, end = self._rows, self._index.ends[node]
        stop = line + 1
        while stop < len(rows) and node < rows[stop] < end:
            stop += 1
        return stop

    # -- lines ------------------------------------------------------------------------------

    @property
    def _by_name(self) -> bool:
        return self.options.sort is SortOrder.NAME

    def __len__(self) -> int:
        if self._by_name:
            self._name_lines()
            return self._counts[-1]
        return len(self._rows)

    def __iter__(self) -> Iterator[Row]:
        if not self._by_name:
            for node in self._rows:
                yield self._row(node)
            return
        shown = self._name_lines()
        node = shown.find(1)
        while node >= 0:
            yield self._row(node)
            node = shown.find(1, node + 1)

    def row(self, line: int) -> Row:
        return self._row(self._node_at(line))

    def _node_at(self, line: int) -> int:
        if not self._by_name:
            return self._rows[line]
        shown = self._name_lines()
        counts = self._counts
        if not 0 <= line < counts[-1]:
            raise IndexError(f"line {line} of {counts[-1]}")
        last_line, last_node = self._last
        if line == last_line:
            return last_node
        if line == last_line + 1 and last_line >= 0:
            node = shown.find(1, last_node + 1)
        else:
            block = bisect.bisect_right(counts, line) - 1
            node = shown.find(1, block * _BLOCK)
            for _ in range(line - counts[block]):
                node = shown.find(1, node + 1)
        self._last = (line, node)
        return node

    def _row(self, node: int) -> Row:
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
        """The line of ``node``, if it is one (and comes before line ``before``)."""
        if self._by_name:
            shown = self._name_lines()
            if not shown[node]:
                return None
            start = node - node % _BLOCK
            line = self._counts[start // _BLOCK] + shown.count(1, start, node)
            return line if before is None or line < before else None
        rows = self._rows
        try:
            return rows.index(node, 0, len(rows) if before is None else before)
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
        parent = self._index.parents[self._node_at(line)]
        return None if parent == ROOT else self._line_of(parent, before=line)

    # -- moves ------------------------------------------------------------------------------

    def toggle(self, line: int) -> None:
        """Collapses or expands the directory at ``line``; anything else is left alone."""
        node = self._node_at(line)
        if not self._is_dir(node):
            return
        opening = bool(self._collapsed[node])
        self._collapsed[node] = 0 if opening else 1
        if self._by_name:
            shown = self._name_lines()
            end = self._index.ends[node]
            if opening:
                shown[node + 1 : end] = self._visible[node + 1 : end]
                self._hide_collapsed(node)
            else:
                shown[node + 1 : end] = bytes(end - node - 1)
                self._count()
        elif opening:
            self._rows[line + 1 : line + 1] = self._flatten(node)
        else:
            del self._rows[line + 1 : self._subtree_stop(line, node)]

    def expand_all(self) -> None:
        self._collapsed = bytearray(len(self._collapsed))
        self._changed()

    def collapse_all(self) -> None:
        self._collapsed = bytearray(b"\x01") * len(self._collapsed)
        self._changed()

    def reveal(self, path: str) -> int | None:
        """Expands the directories above ``path`` and returns its line; None when the options
        hide it or the tree does not hold it."""
        node = self._node_of(path)
        return self._reveal(node) if node is not None else None

    def _reveal(self, node: int) -> int | None:
        len(self)  # the lines as they are, before directories open
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
            if self._by_name:
                shown = self._name_lines()
                end = self._index.ends[outermost]
                shown[outermost + 1 : end] = self._visible[outermost + 1 : end]
                self._hide_collapsed(outermost)
            else:
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
        current = self._node_at(start) if 0 <= start < len(self) else -1
        if self._by_name:  # ids are the order: hits are sorted already
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
