"""The fix seam: a Fixer edits a draft of the Dockerfile, instruction by instruction, and says
what each change saves; suggestions are shown, and applied only when asked."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from bloatscope.model.dockerfile import Dockerfile, Instruction
from bloatscope.model.report import Report


@dataclass(slots=True)
class Block:
    """A piece of the draft: one instruction's text (continuations included), or the comments
    and blank lines between instructions. ``origin`` is the instruction it came from."""

    text: str  # whole lines, each ending in a newline
    origin: Instruction | None
    stage: int  # the stage of the draft it sits in (-1: before the first FROM)

    @property
    def keyword(self) -> str | None:
        return self.origin.keyword if self.origin is not None else None


@dataclass(slots=True)
class Draft:
    """The Dockerfile being rewritten (a builder, so mutable), and the other files the fix
    writes beside it (``.dockerignore``)."""

    blocks: list[Block]
    files: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return "".join(block.text for block in self.blocks)

    def runs(self, stage: int) -> list[tuple[Block, Instruction]]:
        """The RUN blocks of a stage a fixer can edit as text: those without heredocs."""
        return [
            (block, block.origin)
            for block in self.instructions("RUN")
            if block.stage == stage and block.origin is not None and not block.origin.heredocs
        ]

    def instructions(self, keyword: str | None = None) -> list[Block]:
        return [
            block
            for block in self.blocks
            if block.origin is not None and (keyword is None or block.keyword == keyword)
        ]


@dataclass(frozen=True, slots=True)
class Change:
    """One edit, or one suggestion, with what the image says it saves."""

    fixer: str  # the fixer's id
    rule: str | None  # the lint rule it answers
    title: str
    line: int  # the original Dockerfile line it concerns
    estimate_bytes: int | None  # measured in the image, when one was given
    suggestion: bool = False  # a change of what the image contains, not only of how it is built
    applied: bool = True
    detail: tuple[str, ...] = ()  # what exactly: packages dropped, patterns ignored, ...


@dataclass(frozen=True, slots=True)
class FixContext:
    dockerfile: Dockerfile
    context_dir: str | None  # the build context, to read .dockerignore and application sources
    dockerignore: tuple[str, ...] | None
    report: Report | None = None
    layers: Mapping[int, int] | None = None  # final-stage instruction line -> image layer
    apply_suggestions: bool = False
    # where the ignore file is, from the context: ".dockerignore", or a Dockerfile-specific
    # "docker/app.Dockerfile.dockerignore"
    dockerignore_name: str = ".dockerignore"

    def layer_of(self, instruction: Instruction) -> int | None:
        return self.layers.get(instruction.line) if self.layers is not None else None

    def finding_bytes(self, cause: str, layer: int | None, groups: tuple[str, ...] = ()) -> int:
        """The bytes the analysis blamed on ``cause`` (these groups, if any) in one layer."""
        if self.report is None or layer is None:
            return 0
        return sum(
            finding.bytes
            for finding in self.report.findings
            if finding.cause == cause
            and finding.layer == layer
            and (not groups or finding.group in groups)
        )


class Fixer(ABC):
    id: str

    @abstractmethod
    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        """Edits the draft in place; returns what it changed or suggests."""
