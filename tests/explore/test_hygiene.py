"""The browsing model is drawn by a Textual app but never imports a terminal library itself:
it is tested and timed without a terminal."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import importlib, json, pkgutil, sys
import bloatscope.explore
found = pkgutil.walk_packages(bloatscope.explore.__path__, "bloatscope.explore.")
names = [info.name for info in found]
for name in names:
    importlib.import_module(name)
terminal = sorted(m for m in sys.modules if m.split(".")[0] in ("rich", "textual"))
print(json.dumps({"imported": names, "terminal": terminal}))
"""


def test_explore_imports_no_terminal_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert "bloatscope.explore.view" in found["imported"]
    assert "bloatscope.explore.links" in found["imported"]
    assert found["terminal"] == []
