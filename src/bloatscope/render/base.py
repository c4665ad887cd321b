"""The render seam: one renderer per output format, chosen by an enum the CLI checks."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI reads the formats without loading the analysis model
    from bloatscope.model.report import Report


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    DIVE_JSON = "dive-json"


class Renderer(ABC):
    """Turns a report into the bytes of one format."""

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole document; terminal renderers may style it (the CLI decides on colour)."""
