"""What a capture's ``prepare`` made of one layer's captured files, computed in a worker process
while the main process merges layers.

Preparing is an optimization and never the only way: whoever reads these values can parse
the captured bytes itself, so a value that is missing (no worker pool, a failed worker, a
file the prepare function left alone) costs time, not correctness.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool


class PreparedFiles(Mapping[str, object]):
    """Per captured path, its prepared value; resolved on first use (by then the worker has
    long finished: cataloging starts after every layer is merged)."""

    def __init__(self, pending: Future[dict[str, object]] | None = None) -> None:
        self._pending = pending
        self._values: dict[str, object] | None = None if pending is not None else {}

    def _resolved(self) -> dict[str, object]:
        if self._values is None:
            assert self._pending is not None
            try:
                self._values = self._pending.result()
            except (BrokenProcessPool, CancelledError):  # the bytes are still there to parse
                self._values = {}
            self._pending = None
        return self._values

    def __getitem__(self, path: str) -> object:
        return self._resolved()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())


NOT_PREPARED = PreparedFiles()
