"""The layer stack a tree is built on: layers ``0..upto-1`` applied in order (what exists, each
node's last entry, the layer that wrote it, its bytes), moved to the layer a tree needs.

A TreeCache keeps one stack between trees. The last layers of each move record what they
overwrote, so the stack moves up or down by a layer for the cost of that layer alone: a switch
to the next or the previous layer no longer replays every layer below it (15-30 ms on
naive-bert's 87,000 paths). A longer move down, past the layers recorded, starts again from
layer 0 (recording costs as much as applying: a jump across every layer records only the last
few). The records hold about 20 bytes per entry of the layers they cover.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from bloatscope.explore.index import PathIndex
from bloatscope.model.entry import EntryType, FileEntry

KEEPS_CHILDREN = (EntryType.DIR, EntryType.SYMLINK)  # dive keeps children under a symlink
_RECORDED = 3  # the last layers of a move that record what they overwrote


def gone_ranges(index: PathIndex, number: int, honor_opaque: bool) -> Iterator[tuple[int, int]]:
    """The id ranges layer ``number`` deletes from the stack below it."""
    events, ends = index.events[number], index.ends
    for node in events.removals:
        yield node, ends[node]
    for node in events.replaced:
        yield node + 1, ends[node]
    if honor_opaque:
        for node in events.opaque:
            yield node + 1, ends[node]


@dataclass(slots=True)
class _Overwritten:
    """What applying one layer changed, as it was before: deleted ranges (start, end, exists,
    alive), rewritten implicit directories (node, entry, origin, own, exists), and for each of
    the layer's adds, in order, the same four values and ``ever``. (``alive`` is ``own`` where
    the node exists, else 0: it need not be recorded for single nodes.)"""

    ranges: list[tuple[int, int, bytes, array[int]]]
    implicit: list[tuple[int, FileEntry | None, int, int, int]]
    entries: list[FileEntry | None]
    origins: array[int]
    own: array[int]
    exists: bytes
    ever_implicit: bytes
    ever_adds: bytes


class LayerStack:
    """``exists``: 1 for the nodes the stack holds. ``entries``, ``origins``: each node's last
    entry (None for a directory no layer has an entry for) and the layer that wrote it; a
    deleted node keeps them, as the aggregated view shows it removed. ``own``: that entry's
    bytes when a regular file, else 0; ``alive``: the same, 0 once deleted. ``ever``: 1 for
    the nodes some layer from 1 on holds. ``base_exists``, ``base_entries``: layer 0 alone."""

    def __init__(self, index: PathIndex, honor_opaque: bool) -> None:
        self.index = index
        self.honor_opaque = honor_opaque
        count = len(index)
        self.upto = 0
        self.exists = bytearray(count)
        self.entries: list[FileEntry | None] = [None] * count
        self.origins = array("H", bytes(2 * count))
        self.own = array("q", bytes(8 * count))
        self.alive = array("q", bytes(8 * count))
        self.ever = bytearray(count)
        self.base_exists = bytearray()
        self.base_entries: list[FileEntry | None] = []
        self._overwritten: list[_Overwritten | None] = []  # per layer applied; None: unrecorded

    def move_to(self, upto: int) -> None:
        """Layers ``0..upto-1`` applied, and no other."""
        while self.upto > upto:
            if self._overwritten[-1] is None:
                self._clear()
                break
            self._undo()
        while self.upto < upto:
            self._apply(record=upto - self.upto <= _RECORDED)

    def _clear(self) -> None:
        count = len(self.exists)
        self.upto = 0
        self.exists = bytearray(count)
        self.entries = [None] * count
        self.origins = array("H", bytes(2 * count))
        self.own = array("q", bytes(8 * count))
        self.alive = array("q", bytes(8 * count))
        self.ever = bytearray(count)
        self._overwritten = []

    def _apply(self, *, record: bool) -> None:
        """The next layer: whiteouts (and replacements) first, then the layer's own paths, as
        the OCI spec orders them (a path twice in the layer: the last copy wins)."""
        number = self.upto
        index = self.index
        events = index.events[number]
        exists, entries, origins = self.exists, self.entries, self.origins
        own, alive, ever = self.own, self.alive, self.ever
        ranges = []
        for low, high in gone_ranges(index, number, self.honor_opaque):
            if record:
                ranges.append((low, high, bytes(exists[low:high]), alive[low:high]))
            exists[low:high] = bytes(high - low)
            alive[low:high] = array("q", bytes(8 * (high - low)))
        implicit = []
        for node in events.implicit:
            old = entries[node]
            if not exists[node] or (old is not None and old.typeflag not in KEEPS_CHILDREN):
                implicit.append((node, old, origins[node], own[node], exists[node]))
                entries[node] = None  # a directory made anew (a file in the way goes)
                origins[node] = number
                own[node] = alive[node] = 0
                exists[node] = 1
        adds = events.adds
        overwritten = None
        if record:
            overwritten = _Overwritten(
                ranges,
                implicit,
                [entries[node] for node in adds],
                array("H", [origins[node] for node in adds]),
                array("q", [own[node] for node in adds]),
                bytes([exists[node] for node in adds]),
                bytes([ever[node] for node in events.implicit]),
                bytes([ever[node] for node in adds]),
            )
        self._overwritten.append(overwritten)
        layer_entries = index.layers[number].entries
        for node, at, size in zip(adds, events.add_entries, events.add_sizes, strict=True):
            entries[node] = layer_entries[at]
            origins[node] = number
            own[node] = alive[node] = size
            exists[node] = 1
        if number > 0:
            for node in events.implicit:
                ever[node] = 1
            for node in adds:
                ever[node] = 1
        self.upto += 1
        if number == 0 and not self.base_entries:
            self.base_exists = bytearray(exists)
            self.base_entries = list(entries)

    def _undo(self) -> None:
        """The last layer taken off, in the reverse order it was applied."""
        self.upto -= 1
        events = self.index.events[self.upto]
        old = self._overwritten.pop()
        assert old is not None
        exists, entries, origins = self.exists, self.entries, self.origins
        own, alive, ever = self.own, self.alive, self.ever
        adds = events.adds
        for node, was in zip(reversed(adds), reversed(old.ever_adds), strict=True):
            ever[node] = was
        for node, was in zip(reversed(events.implicit), reversed(old.ever_implicit), strict=True):
            ever[node] = was
        for node, entry, origin, size, there in zip(
            reversed(adds),
            reversed(old.entries),
            reversed(old.origins),
            reversed(old.own),
            reversed(old.exists),
            strict=True,
        ):
            entries[node] = entry
            origins[node] = origin
            own[node] = size
            alive[node] = size if there else 0
            exists[node] = there
        for node, entry, origin, size, there in reversed(old.implicit):
            entries[node] = entry
            origins[node] = origin
            own[node] = size
            alive[node] = size if there else 0
            exists[node] = there
        for low, high, there_before, left_before in reversed(old.ranges):
            exists[low:high] = there_before
            alive[low:high] = left_before
