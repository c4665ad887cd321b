"""A lint finding: one size problem at one Dockerfile location, with the bytes it cost when the
image built from that Dockerfile was measured."""

from __future__ import annotations

from dataclasses import dataclass

from bloatscope.model.finding import Severity


@dataclass(frozen=True, slots=True)
class LintFinding:
    rule: str  # stable rule id, e.g. "BS101"
    name: str  # the rule's slug, e.g. "apt-lists-not-removed"
    hadolint: str | None  # hadolint's id for the same check, e.g. "DL3009"
    severity: Severity
    message: str  # what is wrong on this line
    fix: str  # what to write instead
    path: str  # the Dockerfile
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    stage: int  # index of the stage; -1 for global ARGs
    bytes: int | None = None  # measured in the image, when one was given and it shows them
    layer: int | None = None  # the layer that holds those bytes
