"""docs/explore.md's key table says what the help screen (``?``) says: both come from
``bloatscope.tui.screens.KEYS``, so a key added, changed or dropped in the app must be
changed in the docs too."""

from __future__ import annotations

from pathlib import Path

from bloatscope.tui.screens import KEYS

EXPLORE_DOC = Path(__file__).resolve().parents[1] / "docs" / "explore.md"
HEADER = ("Where", "Keys", "Does")


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def key_table(text: str) -> list[tuple[str, ...]]:
    """The rows of the Markdown table headed ``| Where | Keys | Does |``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if _cells(line) == HEADER)
    rows = []
    for line in lines[start + 2 :]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


def test_every_key_of_the_help_screen_is_in_the_docs() -> None:
    documented = key_table(EXPLORE_DOC.read_text(encoding="utf-8"))
    missing = [row for row in KEYS if row not in documented]
    assert missing == [], f"not in docs/explore.md's key table: {missing}"


def test_the_docs_list_no_key_the_app_does_not_have() -> None:
    documented = key_table(EXPLORE_DOC.read_text(encoding="utf-8"))
    extra = [row for row in documented if row not in KEYS]
    assert extra == [], f"in docs/explore.md but not in KEYS: {extra}"
    assert len(documented) == len(KEYS)  # each once


def test_the_table_reader_finds_the_rows_it_is_given() -> None:
    # the control: a table in the docs' shape reads back as its rows, and the rows end there
    text = "# t\n\n| Where | Keys | Does |\n|---|---|---|\n| a | ctrl+a / A | x, y |\n\nafter\n"
    assert key_table(text) == [("a", "ctrl+a / A", "x, y")]
