"""The core (api, sources, reader, analysis, model) never imports a terminal library: scripts and
services that call ``bloatscope.api`` must not pay for, or depend on, Rich or Textual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bloatscope.cli_common import sample_reference

CORE_PACKAGES = (
    "bloatscope.sources",
    "bloatscope.reader",
    "bloatscope.analysis",
    "bloatscope.model",
)
TERMINAL_LIBRARIES = ("rich", "textual")

# Run in a fresh interpreter: this test process has long since imported rich via the CLI tests.
_PROBE = """
import importlib, json, pkgutil, sys
imported = []
for name in ["bloatscope.api", "bloatscope.errors", "bloatscope.progress", *sys.argv[2:]]:
    module = importlib.import_module(name)
    imported.append(name)
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, name + "."):
            importlib.import_module(info.name)
            imported.append(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[1].split(","))
print(json.dumps({"imported": imported, "terminal": bad}))
"""


def _import_in_fresh_process(*modules: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(TERMINAL_LIBRARIES), *modules],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, list[str]] = json.loads(result.stdout)
    return report


def _culprits(modules: list[str]) -> list[str]:
    """The core modules that, imported alone, bring in a terminal library (for the message)."""
    culprits = []
    for name in modules:
        code = (
            f"import importlib, sys; importlib.import_module({name!r}); "
            f"print(any(m.split('.')[0] in {TERMINAL_LIBRARIES!r} for m in sys.modules))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        if result.stdout.strip() == "True":
            culprits.append(name)
    return culprits


def test_core_imports_no_terminal_library() -> None:
    report = _import_in_fresh_process(*CORE_PACKAGES)
    assert "bloatscope.api" in report["imported"]
    for package in CORE_PACKAGES:
        assert any(name.startswith(package + ".") for name in report["imported"]), package
    if report["terminal"]:
        culprits = _culprits(report["imported"])
        raise AssertionError(f"{report['terminal'][:5]} imported by core modules {culprits}")


def test_the_check_sees_rich_when_it_is_imported() -> None:
    # the control: the image commands draw tables with rich, so the probe must report it there
    report = _import_in_fresh_process("bloatscope.cli_image")
    assert "rich" in report["terminal"]


_LINT_PROBE = """
import contextlib, io, json, sys
from bloatscope.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["lint", sys.argv[1]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_lint_without_an_image_loads_neither_rich_nor_the_image_analysis(tmp_path: Path) -> None:
    # start-up is most of lint's time (hadolint answers in 50 ms): lint must not import the
    # terminal library, the readers, the analysis or the package model it does not use
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nRUN apt-get update && apt-get install -y gcc\n")
    result = subprocess.run(
        [sys.executable, "-c", _LINT_PROBE, str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["code"] == 1  # it did lint: the apt RUN has findings
    heavy = ("rich", "bloatscope.reader", "bloatscope.analysis", "bloatscope.sources")
    loaded = [
        m for m in report["modules"] if m.startswith(heavy) or m == "bloatscope.model.package"
    ]
    assert loaded == []


_COMMAND_PROBE = """
import contextlib, io, json, sys
from bloatscope.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _COMMAND_PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    return report["code"], report["modules"]


def _textual(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] == "textual" or m.startswith("bloatscope.tui")]


def test_only_explore_loads_textual() -> None:
    # Textual costs ~0.2 s to import: the other commands, which never draw with it, must not
    # pay for it even though the parser knows the explore command
    code, modules = _modules_after("analyze", sample_reference(), "--format", "json")
    assert code == 0
    assert "bloatscope.cli_explore" in modules  # the command is registered ...
    assert _textual(modules) == []
    # a bad reference fails before the app is loaded
    code, modules = _modules_after("explore", "/nonexistent/image.tar")
    assert code == 2
    assert _textual(modules) == []
    # the control: the probe does see Textual where it is loaded
    assert "textual" in _import_in_fresh_process("bloatscope.tui.app")["terminal"]
