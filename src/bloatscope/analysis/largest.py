"""The largest files and directories of the final filesystem."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from bloatscope.model.report import SizedPath
from bloatscope.model.tree import ContentId, FsNode


def largest_files(
    files: Sequence[tuple[str, int, ContentId]], limit: int = 10
) -> tuple[SizedPath, ...]:
    """From the files that hold bytes (AnalysisInput.files), the largest, with the layer whose
    bytes the final image shows."""
    top = heapq.nlargest(limit, files, key=lambda item: (item[1], item[0]))
    return tuple(SizedPath("/" + path, size, content[0]) for path, size, content in top)


def directory_sizes(nodes: list[tuple[str, FsNode]]) -> dict[str, int]:
    """Bytes under each directory, the root as "" (hardlinks add nothing: their target carries
    the bytes). ``nodes`` lists parents before children, as FileSystem.walk() does."""
    totals: dict[str, int] = {"": 0}
    for path, node in nodes:
        if node.children is not None:
            totals[path] = 0
    for path, node in reversed(nodes):  # children before parents
        parent = path.rpartition("/")[0]
        totals[parent] += totals[path] if node.children is not None else node.size
    return totals


def largest_directories(nodes: list[tuple[str, FsNode]], limit: int = 10) -> tuple[SizedPath, ...]:
    """The biggest directories, skipping any whose bytes all sit in one subdirectory: of
    ``/var/cache/apt/archives`` and its parents, only the deepest says where the bytes are."""
    sizes = directory_sizes(nodes)
    passthrough = {
        path.rpartition("/")[0]
        for path, size in sizes.items()
        if path and size == sizes[path.rpartition("/")[0]]
    }
    candidates = ((size, path) for path, size in sizes.items() if path and path not in passthrough)
    top = heapq.nlargest(limit, candidates)
    return tuple(SizedPath("/" + path, size, None) for size, path in top)
