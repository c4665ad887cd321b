"""Applying layers in order, as the OCI layer spec says a runtime does, into the final tree.

Per layer: whiteouts and opaque markers first, against the lower layers only; then additions in
stream order (the last duplicate wins), written through symlinked parent directories but never
outside the root; hardlinks take their target's content when they are applied. Along the way
each entry gets dive's Added / Modified / Removed / Unmodified state.
"""

from __future__ import annotations

from bloatscope.errors import BloatscopeError
from bloatscope.model.entry import EntryType, FileEntry, go_file_mode
from bloatscope.model.tree import ContentId, DiffState, FileSystem, FsNode, LayerChanges

_MAX_SYMLINK_HOPS = 40
_REGULAR = (0x30, 0x37)
_OPAQUE = ".wh..wh..opq"


class SymlinkLoopError(BloatscopeError):
    """A path runs through symlinks that never end, so no runtime could unpack it."""


class Merger:
    """Folds layers into a FileSystem; call ``apply`` base layer first."""

    def __init__(self) -> None:
        self.root = FsNode(None, -1, None)
        self.root.children = {}
        self.warnings: list[str] = []

    def filesystem(self) -> FileSystem:
        return FileSystem(self.root)

    def apply(self, layer: int, entries: tuple[FileEntry, ...]) -> LayerChanges:
        states = bytearray(len(entries))
        removed: list[str] = []
        whited = self._apply_whiteouts(layer, entries, states, removed)
        if whited:
            self._warn_same_layer_whiteouts(layer, entries, whited)
        self._apply_additions(layer, entries, states)
        _mark_changed_directories(entries, states)
        return LayerChanges(bytes(states), tuple(removed))

    def _apply_whiteouts(
        self, layer: int, entries: tuple[FileEntry, ...], states: bytearray, removed: list[str]
    ) -> set[str]:
        """Applies the layer's whiteouts; returns the paths its plain whiteouts name."""
        whited: set[str] = set()
        for index, entry in enumerate(entries):
            if ".wh." not in entry.path:
                continue  # the common case, told by one substring search
            parent_path, _, name = entry.path.rpartition("/")
            if not name.startswith(".wh."):
                continue
            states[index] = DiffState.REMOVED
            if name.startswith(".wh..wh.") and name != _OPAQUE:
                continue  # AUFS bookkeeping (.wh..wh.plnk and the like), not a deletion
            if name == ".wh.":
                self.warnings.append(f"layer {layer}: invalid bare whiteout {entry.path!r}")
                continue
            if name != _OPAQUE:
                whited.add(_join(parent_path, name[4:]))
            parent, real_parent = self._resolve(parent_path, layer, create=False)
            if parent is None or parent.children is None:
                continue  # deleting what no lower layer has: nothing to do
            if name == _OPAQUE:
                for child_name, child in parent.children.items():
                    _subtree_paths(_join(real_parent, child_name), child, removed)
                parent.children.clear()
                continue
            target = name[4:]
            gone = parent.children.pop(target, None)
            if gone is not None:
                _subtree_paths(_join(real_parent, target), gone, removed)
        return whited

    def _warn_same_layer_whiteouts(
        self, layer: int, entries: tuple[FileEntry, ...], whited: set[str]
    ) -> None:
        """``x`` and ``.wh.x`` in one layer: the spec keeps ``x`` (and so does bloatscope), but
        Docker and containerd delete it when the whiteout comes later in the stream."""
        for entry in entries:
            if entry.path in whited:
                self.warnings.append(
                    f"layer {layer}: {entry.path} and its whiteout are in the same layer; kept, as "
                    "the OCI spec says (Docker and containerd may delete it)"
                )

    def _apply_additions(
        self, layer: int, entries: tuple[FileEntry, ...], states: bytearray
    ) -> None:
        parents: dict[str, FsNode] = {}
        for index, entry in enumerate(entries):
            parent_path, _, name = entry.path.rpartition("/")
            if name.startswith(".wh."):
                continue
            parent = parents.get(parent_path)
            if parent is None:
                parent, _real = self._resolve(parent_path, layer, create=True)
                assert parent is not None and parent.children is not None
                parents[parent_path] = parent
            children = parent.children
            assert children is not None
            existing = children.get(name)
            states[index] = DiffState.ADDED if existing is None else _compare(existing.entry, entry)
            if (
                entry.typeflag == EntryType.DIR
                and existing is not None
                and existing.children is not None
            ):
                existing.entry = entry  # dir over dir: new attributes, children kept
                existing.layer = layer
                continue
            node = FsNode(entry, layer, self._content_of(layer, index, entry))
            if entry.typeflag == EntryType.DIR:
                node.children = {}
            if existing is not None and (existing.children or _is_symlink(existing)):
                parents.clear()  # a directory (or a link to one) was replaced: cached parents go
            children[name] = node

    def _content_of(self, layer: int, index: int, entry: FileEntry) -> ContentId | None:
        if entry.typeflag in _REGULAR:
            return (layer, index)
        if entry.typeflag != EntryType.HARDLINK:
            return None
        parent_path, _, name = entry.linkname.rpartition("/")
        parent, _real = self._resolve(parent_path, layer, create=False)
        target = parent.children.get(name) if parent is not None and parent.children else None
        if target is None or target.content is None:
            self.warnings.append(
                f"layer {layer}: hardlink {entry.path} -> {entry.linkname} is dangling"
            )
            return None
        return target.content

    def _resolve(self, path: str, layer: int, *, create: bool) -> tuple[FsNode | None, str]:
        """The directory node at ``path``, following symlinked components inside the image.
        Returns the node and its real path."""
        pending = path.split("/")[::-1] if path else []
        node = self.root
        real: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if real:
                    real.pop()
                node = self._walk_to(real)
                continue
            assert node.children is not None
            child = node.children.get(part)
            if (
                child is not None
                and child.entry is not None
                and child.entry.typeflag == EntryType.SYMLINK
            ):
                hops += 1
                if hops > _MAX_SYMLINK_HOPS:
                    raise SymlinkLoopError(f"layer {layer}: symlink loop resolving {path!r}")
                target = child.entry.linkname
                if target.startswith("/"):
                    real = []
                    node = self.root
                pending.extend(reversed(target.split("/")))
                continue
            if child is None or child.children is None:
                if not create:
                    return None, ""
                replaced = child
                child = FsNode(None, layer, None)
                child.children = {}
                assert node.children is not None
                node.children[part] = child
                if replaced is not None:
                    self.warnings.append(
                        f"layer {layer}: {'/'.join([*real, part])} was a file, "
                        "a later entry used it as a directory"
                    )
            node = child
            real.append(part)
        return node, "/".join(real)

    def _walk_to(self, parts: list[str]) -> FsNode:
        node = self.root
        for part in parts:
            assert node.children is not None
            node = node.children[part]
        return node


def _is_symlink(node: FsNode) -> bool:
    return node.entry is not None and node.entry.typeflag == EntryType.SYMLINK


def _compare(lower: FileEntry | None, upper: FileEntry) -> DiffState:
    """dive's FileInfo.Compare: type, content, mode, uid and gid; not size, mtime or link target."""
    if lower is None or lower.typeflag != upper.typeflag:
        return DiffState.MODIFIED
    if (
        lower.uid != upper.uid
        or lower.gid != upper.gid
        or go_file_mode(lower.mode, lower.typeflag) != go_file_mode(upper.mode, upper.typeflag)
    ):
        return DiffState.MODIFIED
    if upper.typeflag in _REGULAR and (upper.digest is None or lower.digest != upper.digest):
        return DiffState.MODIFIED
    return DiffState.UNMODIFIED


def _mark_changed_directories(entries: tuple[FileEntry, ...], states: bytearray) -> None:
    """dive marks a directory Modified when anything beneath it changed in the same layer."""
    unchanged_dirs = [
        i for i, e in enumerate(entries) if e.typeflag == EntryType.DIR and not states[i]
    ]
    if not unchanged_dirs:
        return
    dirty: set[str] = set()
    for index, entry in enumerate(entries):
        if states[index] == DiffState.UNMODIFIED:
            continue
        path = entry.path
        while path:
            path = path.rpartition("/")[0]
            if path in dirty:
                break
            dirty.add(path)
    for index in unchanged_dirs:
        if entries[index].path in dirty:
            states[index] = DiffState.MODIFIED


def _subtree_paths(path: str, node: FsNode, out: list[str]) -> None:
    out.append(path)
    if node.children:
        for name, child in node.children.items():
            _subtree_paths(f"{path}/{name}", child, out)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name
