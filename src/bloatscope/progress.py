"""Progress flows one way: the core reports to an injected observer; only the CLI and TUI draw."""

from __future__ import annotations

from typing import Protocol


class ProgressObserver(Protocol):
    def start(self, label: str, total: int) -> None:
        """A new phase of ``total`` units (bytes, or steps)."""

    def advance(self, amount: int) -> None:
        """``amount`` more units of the current phase are done."""

    def finish(self) -> None:
        """The current phase is over."""


class NullProgress:
    """The observer used when nobody watches."""

    def start(self, label: str, total: int) -> None:
        del label, total

    def advance(self, amount: int) -> None:
        del amount

    def finish(self) -> None:
        return None
