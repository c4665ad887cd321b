"""Cause: development-only packages in the runtime image: Python test, lint, format, type-check
and notebook tools; npm devDependencies; Debian compilers, build tools, ``-dev`` headers and
git. The bytes are the exclusive closure of the tools nothing at run time needs: uninstalling
them with every dependency nothing else uses frees exactly that."""

from __future__ import annotations

from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, ClaimBatch, Description
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.finding import Severity
from bloatscope.packages.dev_tools import dev_reason
from bloatscope.packages.inventory import Inventory

NAMES_LISTED = 6

_FIXES = {
    Ecosystem.PYTHON: (
        "Keep development tools out of the runtime requirements: split requirements.txt into "
        "requirements.txt and requirements-dev.txt, and install only the first in the image "
        "(or run tests in a separate build stage)."
    ),
    Ecosystem.NPM: (
        "Install production dependencies only: `npm ci --omit=dev` (or build in one stage and "
        "copy the app with `npm prune --omit=dev` into the final stage)."
    ),
    Ecosystem.DPKG: (
        "Compile in a builder stage: install build-essential, compilers and `-dev` headers "
        "there, then `COPY --from=builder` the built artefacts onto a slim base without them."
    ),
}
_GENERIC_FIX = "Remove build and development tools from the final stage (use a builder stage)."


def dev_removal(inventory: Inventory, ecosystem: Ecosystem) -> tuple[list[int], frozenset[int]]:
    """The dev tools of one ecosystem that nothing at run time needs (by record index), and the
    packages removing them frees (their exclusive closure)."""
    candidates = [
        index
        for index, record in enumerate(inventory.records)
        if record.ecosystem is ecosystem and dev_reason(record)
    ]
    tools = sorted(inventory.graph.removable(candidates))
    return tools, inventory.graph.removal(tools) if tools else frozenset()


class DevPackagesAnalyzer(Analyzer):
    cause = "dev-packages"
    needs_inventory = True

    def __init__(self) -> None:
        self._tools: dict[str, list[str]] = {}

    def claims(self, data: AnalysisInput) -> Iterator[Claim | ClaimBatch]:
        inventory = data.inventory
        if inventory is None:
            return
        for ecosystem in Ecosystem:
            tools, removed = dev_removal(inventory, ecosystem)
            if not tools:
                continue
            contents = inventory.attribution.freed_contents(removed)
            # top-level tools first, by size: the names a reader recognizes
            ranked = sorted(tools, key=lambda i: -inventory.packages[i].size_bytes)
            self._tools[ecosystem.value] = [inventory.records[i].label for i in ranked]
            yield ClaimBatch(ecosystem.value, contents, inventory.attribution.content_size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        names = self._tools.get(group, [])
        shown = ", ".join(names[:NAMES_LISTED]) + (", ..." if len(names) > NAMES_LISTED else "")
        kind = {"python": "Python", "npm": "npm", "dpkg": "Debian"}.get(group, group)
        return Description(
            title=f"{kind} development tools in the runtime image: {shown}",
            fix=_FIXES.get(Ecosystem(group), _GENERIC_FIX),
            severity=Severity.HIGH if group != "dpkg" else Severity.MEDIUM,
        )
