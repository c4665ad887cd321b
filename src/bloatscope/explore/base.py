"""The browsing model behind ``bloatscope explore``: the file tree of one layer compared with
the layers below it, as dive's UI shows it, and what the user chose to see of it (expanded
directories, hidden change kinds, sort order, a path filter). Free of Textual, so that it is
tested and timed without a terminal; the TUI only draws the rows it hands out."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from bloatscope.model.tree import DiffState


class CompareMode(enum.Enum):
    """dive's two views of layer ``i`` (dive-reference §4)."""

    LAYER = "layer"  # ctrl+l, the default: layers 0..i-1 below, layer i on top
    AGGREGATED = "aggregated"  # ctrl+a: layer 0 below, layers 1..i stacked on top


class SortOrder(enum.Enum):
    NAME = "name"
    SIZE = "size"  # largest first, by the §1.7 size; ties by name


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """What of a tree is shown. ``pattern`` is a regular expression searched anywhere in the
    full path, as dive's filter does; a directory stays while any descendant matches."""

    hidden: frozenset[DiffState] = frozenset()
    sort: SortOrder = SortOrder.NAME
    pattern: str | None = None


class Row(NamedTuple):
    """One visible line of the file tree. A NamedTuple: rows are made for what is on screen,
    and for every line when a whole tree is listed."""

    path: str  # root-relative, no leading slash
    name: str  # the last part, raw: the TUI escapes control characters when drawing it
    depth: int  # 0 for the entries at the root
    is_dir: bool
    expanded: bool  # a directory whose children are shown
    has_children: bool
    size: int  # dive's directory size (§1.7); a file's own size
    state: DiffState
    mode: str  # "drwxr-xr-x", with s/S/t/T as ls and dive write them
    uid: int
    gid: int
    linkname: str  # a link's target; "" otherwise
    fraction: float  # size over the whole tree's size, 0..1: the size bar
