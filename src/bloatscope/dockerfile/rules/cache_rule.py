"""``CacheRule``, the base of the package-manager cache rules.

It flags a command that fills a cache, with nothing in its RUN keeping the cache out of the
layer.

With an image, a violation is priced with its cache's finding group in the RUN's layer, and
with the groups the same command leaves beside it that the same fix takes out (``companions``:
apt-get update's pkgcache.bin beside its lists). No two rules price the same group.

A cache in a builder stage never reaches the image (hadolint flags it anyway, except for
DL3009), so only the stages the image is made of are walked. A RUN whose cache directory is a
``--mount=type=cache`` (or ``tmpfs``) keeps nothing in its layer and is never flagged; where a
cache is the problem, the fix offers that mount first. A clean-up counts only after the command
that filled the cache, in the same RUN."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator

from bloatscope.dockerfile.base import LintContext, Violation
from bloatscope.dockerfile.rules.run_paths import Removals, mounted
from bloatscope.dockerfile.rules.runs import (
    Call,
    RunRule,
    RunStep,
    calls,
    expanded,
    violation,
)
from bloatscope.dockerfile.shell_commands import Command


class CacheRule(RunRule):
    """A command that fills a cache directory, with no option turning the cache off, no mount
    holding it and no later command of its RUN cleaning it. One violation per RUN, at the
    first such command: its layer's cache is measured once."""

    cause: str | None = "package-cache"
    group: str | None = None
    # more groups of ``cause`` the filling command leaves in the layer, which the fix removes too
    companions: tuple[str, ...] = ()
    fix: str

    @abstractmethod
    def fills(self, call: Call) -> bool:
        """Whether the command writes to the cache (the cache not turned off)."""

    @abstractmethod
    def caches(self, call: Call) -> tuple[str, ...]:
        """Where that cache is: any one of them mounted or deleted is enough."""

    @abstractmethod
    def cleans(self, command: Command) -> bool:
        """Whether the command is the manager's own clean-up."""

    @abstractmethod
    def describe(self, command: Command) -> str:
        """What the first offending command leaves behind."""

    def check_run(self, step: RunStep) -> Iterator[Violation]:
        offending = []
        cleaned = False  # by a command after the one looked at: the walk goes backwards
        removals = Removals()
        for call in reversed(calls(step)):
            if self.fills(call):
                caches = self.caches(call)
                if not (cleaned or mounted(step, caches) or removals.clear(caches)):
                    offending.append(call)
            cleaned |= self.cleans(call.command)
            removals.add(expanded(call))
        if offending:
            more = len(offending) - 1
            command = offending[-1].command
            yield violation(
                step,
                command,
                self.describe(command) + (f" ({more} more in this RUN do too)" if more else ""),
                self.fix,
                cause=self.cause,
                group=self.group,
            )

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        """With companions, the bytes of the group and of its companions in the RUN's layer;
        otherwise the linter's own pricing (the group alone)."""
        report, layers = context.report, context.layers
        if not self.companions or report is None or layers is None:
            return None
        layer = layers.get(violation.instruction.line)
        if layer is None:
            return None
        groups = {self.group, *self.companions}
        total = sum(
            finding.bytes
            for finding in report.findings
            if finding.cause == self.cause and finding.group in groups and finding.layer == layer
        )
        return total, layer
