"""Calling the command line in-process from tests (the ``run`` fixture lives in conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Run = Callable[..., tuple[int, str, str]]


def json_of(run: Run, *args: str) -> Any:
    """A command's JSON output, after checking it succeeded quietly."""
    code, out, err = run(*args)
    assert (code, err) == (0, "")
    return json.loads(out)
