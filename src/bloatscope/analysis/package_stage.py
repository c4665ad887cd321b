"""The package stage of an analysis: catalog the databases, measure every package, and run the
package findings, in a forked process while the parent runs the path-based analyzers.

Both halves need only the finished tree, and neither needs the other until the ledger: the
package analyzers come first in precedence after the shadowed causes, whose contents (hidden
bytes) never overlap theirs (visible bytes), so the child can run its own ledger and hand back
which contents it claimed. On naive-bert this takes the packages' ~1 s off the critical path.
Small images, and systems without fork, run the stage in-process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bloatscope.analysis.base import AnalysisInput, Analyzer
from bloatscope.analysis.findings import collect, ledger
from bloatscope.model.finding import Finding
from bloatscope.model.package import (
    Package,
    PackageInventory,
    PackageRecord,
    Removal,
    UnownedBytes,
)
from bloatscope.model.tree import ContentId
from bloatscope.packages.base import Cataloger
from bloatscope.packages.catalog import catalog, image_files
from bloatscope.packages.inventory import Inventory

if TYPE_CHECKING:
    from concurrent.futures import Future

# Below this many files, forking costs more than the stage (~15 us of work per file).
_FORK_MIN_FILES = 20_000


@dataclass(frozen=True, slots=True)
class StageResult:
    """What the stage hands back: picklable, so it can cross from the child."""

    records: tuple[PackageRecord, ...]
    packages: tuple[Package, ...]
    unowned: tuple[UnownedBytes, ...]
    owned_bytes: int
    unowned_bytes: int
    warnings: tuple[str, ...]
    findings: tuple[Finding, ...]
    claimed: frozenset[ContentId]


def run_stage(
    data: AnalysisInput,
    captured: Sequence[dict[str, bytes]],
    catalogers: Sequence[Cataloger],
    analyzers: Sequence[Analyzer],
    min_bytes: int,
) -> tuple[StageResult, Inventory]:
    """Catalogs, measures and runs the package analyzers; attaches the inventory to ``data``."""
    warnings: list[str] = []
    files = image_files(data.image, data.filesystem, captured)
    records = catalog(files, catalogers, warnings)
    inventory = Inventory(records, data.image, data.filesystem, data.nodes, data.shadowed.files)
    data.attach(inventory)
    findings, claimed = ledger(data, collect(data, analyzers), min_bytes)
    model = inventory.model(data.files, warnings)
    result = StageResult(
        records=tuple(records),
        packages=model.packages,
        unowned=model.unowned,
        owned_bytes=model.owned_bytes,
        unowned_bytes=model.unowned_bytes,
        warnings=model.warnings,
        findings=findings,
        claimed=frozenset(claimed),
    )
    return result, inventory


class PendingStage:
    """The stage, running in a forked child or already done in-process."""

    def __init__(
        self,
        data: AnalysisInput,
        captured: Sequence[dict[str, bytes]],
        catalogers: Sequence[Cataloger],
        analyzers: Sequence[Analyzer],
        min_bytes: int,
    ) -> None:
        self._data = data
        self._future: Future[StageResult] | None = None
        self._inventory: Inventory | None = None
        self._result: StageResult | None = None
        arguments: _Arguments = (data, captured, catalogers, analyzers, min_bytes)
        if len(data.files) >= _FORK_MIN_FILES and hasattr(os, "fork"):
            self._future = _fork(arguments)
        else:
            self._result, self._inventory = run_stage(*arguments)

    def result(self) -> tuple[StageResult, PackageInventory]:
        if self._result is None:
            assert self._future is not None
            self._result = self._future.result()
        result = self._result
        inventory = PackageInventory(
            packages=result.packages,
            unowned=result.unowned,
            owned_bytes=result.owned_bytes,
            unowned_bytes=result.unowned_bytes,
            warnings=result.warnings,
            what_if_remove=self._what_if(result.records),
        )
        return result, inventory

    def _what_if(self, records: Sequence[PackageRecord]) -> Callable[[Sequence[str]], Removal]:
        """What-if removal needs the graph, which stayed in the child: rebuilt from the records
        on first use (only ``packages --what-if-remove`` asks)."""

        def what_if_remove(names: Sequence[str]) -> Removal:
            if self._inventory is None:
                data = self._data
                self._inventory = Inventory(
                    records, data.image, data.filesystem, data.nodes, data.shadowed.files
                )
            return self._inventory.what_if_remove(names)

        return what_if_remove


_Arguments = tuple[
    AnalysisInput, Sequence[dict[str, bytes]], Sequence[Cataloger], Sequence[Analyzer], int
]
# The child reads its input from here: with fork, it inherits the parent's memory, so the tree
# (hundreds of thousands of objects) is never pickled. Set only between fork and its return.
_INPUT: _Arguments | None = None


def _fork(arguments: _Arguments) -> Future[StageResult]:
    global _INPUT  # noqa: PLW0603 - handed to the forked child through inherited memory
    # imported here: a small image never pays for the machinery
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    _INPUT = arguments
    try:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(_child)  # forks here, with _INPUT set
        pool.shutdown(wait=False)  # the worker exits once this one task is done
        return future
    finally:
        _INPUT = None


def _child() -> StageResult:
    assert _INPUT is not None
    result, _inventory = run_stage(*_INPUT)
    return result
