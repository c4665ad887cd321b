"""Which bytes of the final tree each package owns, measured from the tree rather than from the
databases' own size fields, and which bytes no package owns.

A database lists paths as the package installed them (``/lib/x86_64-linux-gnu/libc.so.6``);
the tree may hold them under a symlinked parent (``lib -> usr/lib``), so listed paths are
resolved through symlinked directories first. Sizes count contents, so two paths of one file
(a hardlink, or a path listed twice through a symlinked parent) count once.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from bloatscope.model.image import Image
from bloatscope.model.package import PackageRecord, UnownedBytes
from bloatscope.model.report import ShadowedFile
from bloatscope.model.tree import ContentId, FileSystem, FsNode

_SYMLINK = 0x32
_REGULAR = (0x30, 0x37)
_MAX_HOPS = 40
# Unowned bytes are grouped by the first levels of their directory: deep enough to tell
# /usr/local/lib from /app/models, shallow enough to stay a short list.
_UNOWNED_DEPTH = 3


class ContentSizes(Mapping[ContentId, int]):
    """The size of each content, read from its layer entry: a view, so measuring packages keeps
    no dictionary of 70,000 sizes alive."""

    def __init__(self, image: Image) -> None:
        self._layers = image.layers

    def __getitem__(self, content: ContentId) -> int:
        return self._layers[content[0]].entries[content[1]].size

    def __iter__(self) -> Iterator[ContentId]:
        return iter(())  # a view for lookups only

    def __len__(self) -> int:
        return 0


class Attribution:
    """Per package: the final contents it owns, the bytes its paths shipped in all layers, and
    those layers.

    Shipped bytes come from the final contents plus the shadowed entries at the package's
    paths: every regular entry of every layer is one or the other (shipped = final +
    reclaimable, exactly), so no pass over all layers' entries is needed. Contents are kept as
    tuples, and only the few contents two packages share keep their owners: what-if removal
    needs no more, and sets and counters of every content cost megabytes."""

    def __init__(
        self,
        records: Sequence[PackageRecord],
        image: Image,
        filesystem: FileSystem,
        nodes: Sequence[tuple[str, FsNode]],
        shadowed: Iterable[ShadowedFile] = (),
    ) -> None:
        self.records = records
        self.content_size = ContentSizes(image)
        self.contents: list[tuple[ContentId, ...]] = []
        self.file_counts: list[int] = []  # files in the final tree holding content
        self.shipped: list[int] = []
        self.sizes: list[int] = []
        self.main_layers: list[int | None] = []
        self.layers: list[tuple[int, ...]] = []
        hidden: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for item in shadowed:
            hidden[item.path].append((item.layer, item.size_bytes))
        measure = _Measure(PathResolver(filesystem), dict(nodes), hidden)
        tree_owner = _tree_owners(records, nodes)
        first_owner: dict[ContentId, int] = {}
        shared: dict[ContentId, list[int]] = {}
        owned_bytes = 0
        for index, record in enumerate(records):
            sized = measure(self, record, tree_owner.get(index, ()))
            # set operations on the dict views run in C; only shared contents loop in Python
            again = sized.keys() & first_owner.keys()
            owned_bytes += self.sizes[index] - sum(sized[content] for content in again)
            first_owner.update(dict.fromkeys(sized.keys() - again, index))
            for content in again:
                shared.setdefault(content, [first_owner[content]]).append(index)
        self.owned_bytes = owned_bytes
        self._owned = first_owner.keys()  # kept for the unowned-bytes pass, then let go
        self._shared = {content: frozenset(owners) for content, owners in shared.items()}
        self._shared_size = {content: self.content_size[content] for content in shared}

    def size(self, index: int) -> int:
        return self.sizes[index]

    def freed_bytes(self, indexes: Iterable[int]) -> int:
        """Bytes that removing these packages frees: their contents that no package outside
        the set also owns, each counted once."""
        chosen = set(indexes)
        # the packages' sizes, less each shared content counted by several of them, and less
        # those another package keeps: arithmetic over the few shared contents alone
        total = sum(self.sizes[index] for index in chosen)
        for content, owners in self._shared.items():
            inside = len(owners & chosen)
            if inside:
                freed = owners <= chosen
                total -= self._shared_size[content] * (inside - (1 if freed else 0))
        return total

    def freed_contents(self, indexes: Iterable[int]) -> set[ContentId]:
        chosen = set(indexes)
        freed: set[ContentId] = set()
        for index in chosen:
            freed.update(self.contents[index])
        shared = self._shared
        return {c for c in freed if c not in shared or shared[c] <= chosen}

    def main_layer(self, index: int) -> int | None:
        """The layer that wrote the most of the package's final bytes."""
        return self.main_layers[index]

    def take_owned_contents(self) -> Collection[ContentId]:
        """Every content some package owns, once (the memory goes with the caller's copy)."""
        owned, self._owned = self._owned, {}.keys()
        return owned


class _Measure:
    """Measures one package after another against the tree."""

    def __init__(
        self,
        resolver: PathResolver,
        by_path: dict[str, FsNode],
        hidden: dict[str, list[tuple[int, int]]],
    ) -> None:
        self._resolver = resolver
        self._by_path = by_path
        self._hidden = hidden

    def __call__(
        self, into: Attribution, record: PackageRecord, tree_files: Iterable[str]
    ) -> dict[ContentId, int]:
        by_path = self._by_path
        hidden = self._hidden
        sizes = into.content_size
        listed = (*record.files, *tree_files)
        # catalogers list normalized paths: nearly all are found as they are (one C-level map);
        # the rest go through symlinked parents (usrmerge's /lib -> usr/lib)
        found = list(map(by_path.get, listed))
        paths = list(listed)
        if None in found:
            for position, node in enumerate(found):
                if node is None:
                    paths[position] = self._resolver.resolve(listed[position])
                    found[position] = by_path.get(paths[position])
        if len(set(paths)) != len(paths):  # one path listed twice (through a symlink, say)
            unique = dict(zip(paths, found, strict=True))
            paths, found = list(unique), list(unique.values())
        # set and list building run in C; per-path Python statements were most of the time
        with_content = [n for n in found if n is not None and n.content is not None]
        # a regular file's own entry has the size; a hardlink's is its target's
        sized: dict[ContentId, int] = {
            n.content: n.entry.size
            if n.entry is not None and n.entry.typeflag in _REGULAR
            else sizes[n.content]
            for n in with_content
            if n.content is not None
        }
        owned = tuple(sized)
        hidden_bytes = 0
        layers: set[int] = set()
        for path in hidden.keys() & set(paths):
            node = by_path.get(path)
            if node is None or node.children is None:  # a directory now: not its bytes
                for layer, size in hidden[path]:
                    hidden_bytes += size
                    layers.add(layer)
        total = sum(sized.values())
        by_layer: dict[int, int] = defaultdict(int)
        written = {content[0] for content in sized}
        if len(written) == 1:  # most packages: one layer installed all of them
            by_layer[written.pop()] = total
        else:
            for content, size in sized.items():
                by_layer[content[0]] += size
        into.contents.append(owned)
        into.sizes.append(total)
        into.file_counts.append(len(with_content))
        into.shipped.append(total + hidden_bytes)
        into.layers.append(tuple(sorted(layers | by_layer.keys())))
        into.main_layers.append(
            max(by_layer, key=lambda layer: (by_layer[layer], layer)) if by_layer else None
        )
        return sized


def unowned(
    files: Iterable[tuple[str, int, ContentId]], owned: Collection[ContentId], limit: int
) -> tuple[UnownedBytes, ...]:
    """The final bytes no package owns, by directory (its first levels) and layer, largest
    first."""
    groups: dict[tuple[str, int], list[int]] = {}
    for path, size, content in [item for item in files if item[2] not in owned]:
        parts = path.split("/", _UNOWNED_DEPTH)
        directory = "/".join(parts[:_UNOWNED_DEPTH] if len(parts) > _UNOWNED_DEPTH else parts[:-1])
        group = groups.setdefault((directory, content[0]), [0, 0])
        group[0] += size
        group[1] += 1
    ranked = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
    return tuple(
        UnownedBytes("/" + directory, layer, size, count)
        for (directory, layer), (size, count) in ranked[:limit]
    )


def _tree_owners(
    records: Sequence[PackageRecord], nodes: Sequence[tuple[str, FsNode]]
) -> dict[int, list[str]]:
    """Files below packages' ``trees`` (npm), each given to the deepest tree holding it."""
    roots = {tree: index for index, record in enumerate(records) for tree in record.trees}
    if not roots:
        return {}
    owned: dict[int, list[str]] = defaultdict(list)
    for path, node in nodes:
        if node.children is not None:
            continue
        parent = posixpath.dirname(path)
        while parent:
            index = roots.get(parent)
            if index is not None:
                owned[index].append(path)
                break
            parent = posixpath.dirname(parent)
    return owned


class PathResolver:
    """Resolves symlinked parent directories of a listed path, as the kernel would, clamped at
    the root; the last component is left alone (a package owns its symlinks, not their
    targets). Results per directory are cached: a package lists many files per directory."""

    def __init__(self, filesystem: FileSystem) -> None:
        self._filesystem = filesystem
        self._directories: dict[str, str] = {"": ""}

    def resolve(self, listed: str) -> str:
        path = posixpath.normpath("/" + listed).lstrip("/")
        if not path:
            return ""
        parent, _, name = path.rpartition("/")
        return f"{self._directory(parent)}/{name}".lstrip("/")

    def _directory(self, path: str) -> str:
        cached = self._directories.get(path)
        if cached is not None:
            return cached
        resolved = self._walk(path)
        self._directories[path] = resolved
        return resolved

    def _walk(self, path: str) -> str:
        parts = path.split("/")
        done: list[str] = []
        hops = 0
        node = self._filesystem.root
        while parts:
            part = parts.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if done:
                    done.pop()
                node = self._filesystem.get("/".join(done)) or self._filesystem.root
                continue
            child = node.children.get(part) if node.children is not None else None
            if child is None:
                return "/".join([*done, part, *parts])  # the rest does not exist: as listed
            entry = child.entry
            if entry is not None and entry.typeflag == _SYMLINK and hops < _MAX_HOPS:
                hops += 1
                target = entry.linkname
                if target.startswith("/"):
                    done = []
                    node = self._filesystem.root
                parts = [*target.split("/"), *parts]
                continue
            done.append(part)
            node = child
        return "/".join(done)
