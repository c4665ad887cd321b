"""Running the fixers in order over one Dockerfile: suggestions first (they remove whole
steps), then the build-hygiene edits, the builder stage last (it moves what the others
edited)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.fix.base import Change, FixContext, Fixer
from bloatscope.dockerfile.fix.caches import CacheMountFixer, NoRecommendsFixer
from bloatscope.dockerfile.fix.draft import draft_of, unified_diff
from bloatscope.dockerfile.fix.ignore import DockerignoreFixer
from bloatscope.dockerfile.fix.multistage import BuilderStageFixer
from bloatscope.dockerfile.fix.permissions import CopyPermissionsFixer
from bloatscope.dockerfile.fix.requirements import UnusedRequirementsFixer
from bloatscope.dockerfile.fix.suggestions import CpuTorchFixer, UnusedContextCopyFixer


@dataclass(frozen=True, slots=True)
class FixResult:
    original: str
    text: str  # the rewritten Dockerfile
    files: dict[str, str] = field(default_factory=dict)  # other files, by name in the context
    changes: tuple[Change, ...] = ()

    def diff(self, name: str = "Dockerfile") -> str:
        return unified_diff(self.original, self.text, name)

    @property
    def estimate_bytes(self) -> int:
        return sum(c.estimate_bytes or 0 for c in self.changes if c.applied)


def default_fixers(slim_variant: Callable[[str], str | None]) -> tuple[Fixer, ...]:
    return (
        UnusedContextCopyFixer(),
        UnusedRequirementsFixer(),
        CpuTorchFixer(),
        DockerignoreFixer(),
        NoRecommendsFixer(),
        CacheMountFixer(),
        CopyPermissionsFixer(),
        BuilderStageFixer(slim_variant),
    )


def fix(
    context: FixContext,
    fixers: Sequence[Fixer],
    parse: Callable[[str, str], object],
) -> FixResult:
    """The rewritten Dockerfile and its changes. ``parse(text, path)`` checks that the result
    is still a Dockerfile: a rewrite that is not is a bug, reported as such."""
    draft = draft_of(context.dockerfile)
    changes: list[Change] = []
    for fixer in fixers:
        changes += fixer.apply(draft, context)
    text = draft.text()
    try:
        parse(text, context.dockerfile.path)
    except DockerfileError as error:
        message = f"bloatscope fix wrote a Dockerfile that does not parse: {error}"
        raise AssertionError(message) from error
    return FixResult(context.dockerfile.text, text, dict(draft.files), tuple(changes))
