"""What each change of ``bloatscope fix`` saved, measured on the original image and the one
rebuilt from the fixed Dockerfile: the independent side of the estimates' check."""

from __future__ import annotations

from collections.abc import Mapping

from bloatscope.dockerfile.fix.base import Change
from bloatscope.model.package import Ecosystem
from bloatscope.model.report import Report


def _base_layers(report: Report, layers: Mapping[int, int]) -> list[int]:
    """The layers no instruction of the final stage made: the base image's."""
    made = set(layers.values())
    return [layer.index for layer in report.image.layers if layer.index not in made]


def _cache_bytes(report: Report, layer: int | None, groups: tuple[str, ...]) -> int:
    if layer is None:
        return 0
    return sum(
        f.bytes
        for f in report.findings
        if f.cause == "package-cache" and f.layer == layer and f.group in groups
    )


def _python_sizes(report: Report) -> dict[str, int]:
    assert report.packages is not None
    return {
        p.name: p.size_bytes for p in report.packages.packages if p.ecosystem is Ecosystem.PYTHON
    }


def measured_saving(
    change: Change,
    original: Report,
    fixed: Report,
    original_layers: Mapping[int, int],
    fixed_layers: Mapping[int, int],
    fixed_line: int | None,
) -> int | None:
    """The bytes the change saved, or None for a change this measure does not cover.
    ``fixed_line``: the line of the same instruction in the fixed Dockerfile."""
    if change.fixer == "builder-stage":
        # the base image swapped: its layers' size before and after
        before = sum(
            original.image.layers[i].size_bytes for i in _base_layers(original, original_layers)
        )
        after = sum(fixed.image.layers[i].size_bytes for i in _base_layers(fixed, fixed_layers))
        return before - after
    if change.fixer == "cache-mounts":
        groups = ("apt-lists", "apt-cache", "apt-archives") if "apt" in change.title else ("pip",)
        before = _cache_bytes(original, original_layers.get(change.line), groups)
        after = _cache_bytes(fixed, fixed_layers.get(fixed_line) if fixed_line else None, groups)
        return before - after
    if change.fixer == "unused-context-copy":
        layer = original_layers.get(change.line)
        return original.image.layers[layer].size_bytes if layer is not None else None
    if change.fixer == "unused-requirements":
        before, after = _python_sizes(original), _python_sizes(fixed)
        return sum(size for name, size in before.items() if name not in after)
    return None
