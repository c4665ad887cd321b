"""Reclaimable bytes: every byte a layer ships that the final filesystem does not show.

Each shadowed entry is counted once, under one cause, so the causes add up to the total and
shipped bytes = visible bytes + reclaimable bytes, exactly.
"""

from __future__ import annotations

from bloatscope.model.image import Image
from bloatscope.model.report import Reclaimable, ShadowCause, ShadowedFile
from bloatscope.model.tree import ContentId, FileSystem, FsNode, LayerChanges

_REGULAR = (0x30, 0x37)


def visible_content(nodes: list[tuple[str, FsNode]]) -> set[ContentId]:
    """The regular-file contents the final filesystem shows (a hardlinked inode once)."""
    return {node.content for _path, node in nodes if node.content is not None}


def reclaimable(
    image: Image,
    filesystem: FileSystem,
    changes: tuple[LayerChanges, ...],
    visible: set[ContentId],
) -> Reclaimable:
    removed_by = _removal_layers(changes)
    files: list[ShadowedFile] = []
    by_layer = [0] * len(image.layers)
    for layer in image.layers:
        for index, entry in enumerate(layer.entries):
            if entry.typeflag not in _REGULAR or entry.size == 0 or (layer.index, index) in visible:
                continue
            node = filesystem.get(entry.path)
            if node is None or (node.content is None and node.entry is None):
                later = [k for k in removed_by.get(entry.path, ()) if k > layer.index]
                files.append(
                    ShadowedFile(
                        entry.path,
                        layer.index,
                        entry.size,
                        ShadowCause.DELETED,
                        later[0] if later else None,
                        index,
                    )
                )
            else:
                final_entry = node.entry
                same_bytes = (
                    final_entry is not None
                    and final_entry.typeflag in _REGULAR
                    and entry.digest is not None
                    and final_entry.digest == entry.digest
                )
                cause = ShadowCause.METADATA_ONLY if same_bytes else ShadowCause.OVERWRITTEN
                files.append(
                    ShadowedFile(entry.path, layer.index, entry.size, cause, node.layer, index)
                )
            by_layer[layer.index] += entry.size
    files.sort(key=lambda f: (-f.size_bytes, f.path, f.layer))
    totals = dict.fromkeys(ShadowCause, 0)
    for item in files:
        totals[item.cause] += item.size_bytes
    return Reclaimable(
        total_bytes=sum(totals.values()),
        by_cause=tuple((cause, totals[cause]) for cause in ShadowCause),
        by_layer=tuple(by_layer),
        files=tuple(files),
    )


def _removal_layers(changes: tuple[LayerChanges, ...]) -> dict[str, list[int]]:
    removed: dict[str, list[int]] = {}
    for index, change in enumerate(changes):
        for path in change.removed_paths:
            removed.setdefault(path, []).append(index)
    return removed
