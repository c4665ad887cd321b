"""A finding: one cause of waste in one layer, the bytes fixing it would save, and the fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Finding:
    """Bytes of one cause shipped by one layer. Every byte of the image is claimed by at most
    one finding, so findings add up."""

    cause: str  # stable cause id, e.g. "overwritten"
    group: str  # what kind within the cause ("" when the cause has one kind)
    title: str
    severity: Severity
    bytes: int
    layer: int | None  # the layer that shipped the bytes
    created_by: str  # that layer's history command
    paths: tuple[str, ...]  # the biggest paths, absolute
    path_count: int
    fix: str  # written for a Dockerfile

    @property
    def id(self) -> str:
        """Stable across runs of the same image: cause, kind and layer."""
        parts = [self.cause, self.group, f"layer{self.layer}" if self.layer is not None else ""]
        return "/".join(part for part in parts if part)
