"""Stopping a read nobody waits for any more: the flag the reader looks at between units of
work (a layer, a MiB of tar, a wait for a worker process), and the copy of it that worker
processes see. A look costs one attribute read, so checks sit at MiB scale, never per file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bloatscope.errors import Cancelled

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

CHECK_BYTES = 1 << 20  # at most this much tar is read between two looks at the flag


class CancelFlag(Protocol):
    """What the caller sets to stop the work: a threading.Event, or a SharedFlag."""

    def is_set(self) -> bool: ...


def stop_if_cancelled(cancel: CancelFlag | None) -> None:
    """Raises Cancelled once the flag is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled by the caller")


class SharedFlag:
    """A flag that worker processes forked after it was made see set: one byte of shared memory.
    Unlike multiprocessing.Event, looking at it takes no lock. It reaches a worker by
    inheritance only (a pool's initializer arguments), never in a pickled task."""

    def __init__(self, context: BaseContext) -> None:
        self._byte = context.RawValue("b", 0)

    def set(self) -> None:
        self._byte.value = 1

    def is_set(self) -> bool:
        return bool(self._byte.value)
