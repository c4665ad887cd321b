"""The Dockerfile seam: a Rule looks at a parsed Dockerfile, and at the image built from it when
there is one, and yields Violations at lines and columns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bloatscope.errors import BloatscopeError
from bloatscope.model.dockerfile import Dockerfile, Instruction
from bloatscope.model.finding import Severity

if TYPE_CHECKING:  # the analysis model: linting without an image never loads it
    from bloatscope.model.report import Report


class DockerfileError(BloatscopeError):
    """A Dockerfile (or .dockerignore) that cannot be read or parsed."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule broken at one place. ``cause`` and ``group`` name the analysis finding whose
    measured bytes this violation explains (``package-cache`` / ``apt-lists``), so that with
    an image the linter can say what it cost."""

    instruction: Instruction
    message: str
    line: int
    column: int
    fix: str
    cause: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class LintContext:
    """What a rule may look at."""

    dockerfile: Dockerfile
    dockerignore: tuple[str, ...] | None  # its patterns; None when the context has none
    report: Report | None = None  # the analyzed image, when one was given
    # with an image: the image layer each instruction of the final stage made, by line
    layers: Mapping[int, int] | None = None


class Rule(ABC):
    """One size check. ``id`` is stable (it appears in SARIF and in ignore lists)."""

    id: str
    name: str
    hadolint: str | None = None
    severity: Severity = Severity.MEDIUM
    title: str

    @abstractmethod
    def check(self, context: LintContext) -> Iterator[Violation]:
        """Every place this rule is broken, in file order."""

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        """(bytes, layer) for a violation whose cost is not simply its cause's findings in
        the layer its instruction made (a RUN that deletes what earlier layers added, say);
        None: the linter's own pricing applies."""
        return None
