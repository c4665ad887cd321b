"""Every path of every layer in one trie, numbered once, with what each layer does to it.

Nodes are numbered in preorder with each directory's children sorted by name (byte order, as
dive sorts them), so a node's subtree is the id range ``[node, ends[node])``: removing a
subtree, collapsing a directory or listing a tree in name order are slices and jumps over plain
arrays, never walks over objects. A layer switch then only replays these per-layer events
(compare.py); the trie itself is built once per report.

Paths are the literal paths of the layer tars, as dive's trees hold them: an entry written
through a symlinked directory stays under the symlink's node (the merged FileSystem of the
report follows the link instead).
"""

from __future__ import annotations

import bisect
import re
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import contains

from bloatscope.model.entry import EntryType, FileEntry
from bloatscope.model.layer import Layer

ROOT = 0
_REGEX_SYNTAX = frozenset(".^$*+?{}[]\\|()")  # a pattern without these is plain text
REGULAR = (0x30, 0x37)  # the typeflags of regular files: '0', and '7' (contiguous)
_WHITEOUT = ".wh."
_META_WHITEOUT = ".wh..wh."  # opaque markers and AUFS bookkeeping
_OPAQUE = ".wh..wh..opq"
_DIR = EntryType.DIR


@dataclass(frozen=True, slots=True)
class LayerEvents:
    """What one layer does, in node ids. ``adds`` and ``add_entries`` are aligned: the node
    and the index (in ``Layer.entries``) of every entry that is not a whiteout, in stream order.
    ``implicit``: the directories the layer holds only because something beneath them is in it
    (dive's implicit parents). ``removals``: the nodes its ``.wh.NAME`` entries delete.
    ``replaced``: nodes a non-directory entry overwrites, whose lower descendants go with them.
    ``opaque``: directories with an opaque whiteout (dive ignores them; see compare.py)."""

    adds: array[int]
    add_entries: array[int]
    add_sizes: array[int]  # the bytes of each add that is a regular file, else 0
    implicit: array[int]
    removals: array[int]
    replaced: array[int]
    opaque: array[int]
    duplicates: bool  # some path occurs twice among the adds


class PathIndex:
    """The trie of a report's layers. ``paths[n]`` is root-relative (the root, node 0, is "")."""

    __slots__ = (
        "_match_cache",
        "_names",
        "containers",
        "ends",
        "events",
        "ids",
        "layers",
        "parents",
        "paths",
    )

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = tuple(layers)
        node_paths = [[_node_path(entry.path) for entry in layer.entries] for layer in layers]
        # in stream order: layer tars list a directory's entries together and mostly sorted,
        # so the sort below finds long runs (4x faster than sorting a set's random order)
        every = dict.fromkeys(chain([""], *node_paths))
        missing = {path.rpartition("/")[0] for path in every} - every.keys()
        while missing:  # the directories only deeper paths imply
            every.update(dict.fromkeys(missing))
            missing = {path.rpartition("/")[0] for path in missing} - every.keys()
        # "\0" sorts before every character a name can hold, so a directory's whole subtree
        # comes before its next sibling: "a", "a/b", "a-c" (plain string order puts "a-c" first)
        self.paths: list[str] = sorted(every, key=_sort_key)
        self.ids: dict[str, int] = {path: node for node, path in enumerate(self.paths)}
        ids = self.ids
        self.parents = array("i", [-1]) + array(
            "i", [ids[path.rpartition("/")[0]] for path in self.paths[1:]]
        )
        parents = self.parents
        ends = array("i", range(1, len(self.paths) + 1))
        for node in range(len(self.paths) - 1, 0, -1):
            parent = parents[node]
            if ends[parent] == parent + 1:  # its last child, met first going backwards, ends it
                ends[parent] = ends[node]
        self.ends = ends
        # the nodes with something beneath them in some layer, the root first
        self.containers = array("i", [node for node, end in enumerate(ends) if end > node + 1])
        self.events = tuple(
            self._layer_events(layer, paths)
            for layer, paths in zip(layers, node_paths, strict=True)
        )
        self._match_cache: tuple[str, bytearray] | None = None
        self._names: str | None = None  # every name lower-cased, one a line

    def __len__(self) -> int:
        return len(self.paths)

    def _layer_events(self, layer: Layer, node_paths: list[str]) -> LayerEvents:
        ids, parents, ends = self.ids, self.parents, self.ends
        entries = layer.entries
        nodes = [ids[path] for path in node_paths]
        removals, opaque = array("i"), array("i")
        starts: set[int] = set()  # nodes known present, whose ancestors are too
        markers = [index for index, entry in enumerate(entries) if _WHITEOUT in entry.path]
        add_entries = list(range(len(entries)))
        for index in reversed(markers):
            name = entries[index].path.rpartition("/")[2]
            if not name.startswith(_WHITEOUT):
                continue  # ".wh." elsewhere in the path: an ordinary entry
            del add_entries[index]
            node = nodes[index]
            if name == _OPAQUE:
                opaque.append(node)
            elif not name.startswith(_META_WHITEOUT) and name != _WHITEOUT:
                removals.append(node)
                starts.add(parents[node])
                continue
            starts.add(node)  # a marker's directory is in the layer
        if len(add_entries) != len(entries):
            adds = array("i", [nodes[index] for index in add_entries])
        else:
            adds = array("i", nodes)
        replaced = array(
            "i",
            [
                node
                for node, index in zip(adds, add_entries, strict=True)
                if ends[node] > node + 1 and entries[index].typeflag != _DIR
            ],
        )
        starts.update(parents[node] for node in adds)
        seen = bytearray(len(self.paths))  # 1: walked up from; 2: an entry of the layer
        for node in adds:
            seen[node] = 2
        implicit: list[int] = []
        for start in starts:
            node = start
            while node > ROOT and not seen[node] & 1:
                if not seen[node]:
                    implicit.append(node)
                seen[node] |= 1
                node = parents[node]
        implicit.sort()
        sizes = [
            entries[index].size if entries[index].typeflag in REGULAR else 0
            for index in add_entries
        ]
        return LayerEvents(
            adds,
            array("i", add_entries),
            array("q", sizes),
            array("i", implicit),
            removals,
            replaced,
            opaque,
            len(set(adds)) != len(adds),
        )

    # -- lookups ----------------------------------------------------------------------------

    def name(self, node: int) -> str:
        return self.paths[node].rpartition("/")[2]

    def children(self, node: int) -> list[int]:
        """The children of ``node`` in name order (every layer's: a tree holds a subset)."""
        found: list[int] = []
        child, end, ends = node + 1, self.ends[node], self.ends
        while child < end:
            found.append(child)
            child = ends[child]
        return found

    def matches(self, pattern: re.Pattern[str]) -> bytearray:
        """1 for each node whose path, written absolute as dive writes it ("/usr/lib"), the
        pattern is found in. The last pattern's answer is kept: every layer's view of one
        filter asks the same question."""
        cached = self._match_cache
        if cached is not None and cached[0] == pattern.pattern:
            return cached[1]
        text = pattern.pattern
        if pattern.flags == re.UNICODE and not _REGEX_SYNTAX.intersection(text):
            # plain text, as a filter typed a letter at a time mostly is: a substring test is
            # five times faster than the regex and the "/" joined to each path
            found = bytearray(map(contains, self.paths, repeat(text)))
            if text.startswith("/"):  # or across the leading "/": the paths starting with
                low, high = self._starting_with(text[1:])  # the rest
                found[low:high] = b"\x01" * (high - low)
        else:
            search = pattern.search
            found = bytearray(map(bool, [search("/" + path) for path in self.paths]))
        found[ROOT] = 0
        self._match_cache = (pattern.pattern, found)
        return found

    def _starting_with(self, prefix: str) -> tuple[int, int]:
        """The nodes whose paths start with ``prefix``: one run of ids, as the order is a
        string order (of _sort_key's strings, which start alike when the paths do)."""
        key = _sort_key(prefix)
        low = bisect.bisect_left(self.paths, key, key=_sort_key)
        if not key:
            return low, len(self.paths)
        if key[-1] == chr(sys.maxunicode):  # no string sorts right after all of them
            high = low
            while high < len(self.paths) and self.paths[high].startswith(prefix):
                high += 1
            return low, high
        past = key[:-1] + chr(ord(key[-1]) + 1)  # the first string after every one with key
        return low, bisect.bisect_left(self.paths, past, low, key=_sort_key)

    def name_hits(self, text: str) -> list[int]:
        """Nodes whose name holds ``text``, ignoring case, in id order."""
        needle = text.lower()
        if not needle or "\n" in needle:
            return []
        if self._names is None:  # kept as one string: a list of 87,000 would cost 6 MB
            self._names = "\n".join(path.rpartition("/")[2].lower() for path in self.paths)
        return [node for node, name in enumerate(self._names.split("\n")) if needle in name]


def _sort_key(path: str) -> str:
    return path.replace("/", "\0")


def _node_path(path: str) -> str:
    """The node an entry is about: a whiteout names its target, an opaque marker (or other
    ``.wh..wh.`` bookkeeping) its directory; anything else its own path."""
    if _WHITEOUT not in path:
        return path
    parent, _, name = path.rpartition("/")
    if not name.startswith(_WHITEOUT):
        return path
    if name.startswith(_META_WHITEOUT) or name == _WHITEOUT:
        return parent
    return f"{parent}/{name[4:]}" if parent else name[4:]


def entry_is_dir(entry: FileEntry | None) -> bool:
    """An implicit directory (no entry) or a directory entry."""
    return entry is None or entry.typeflag == _DIR
