"""Editing one instruction's text: flags after the keyword, options after a command word,
commands appended to a shell-form RUN, and the comment that says what a change saves."""

from __future__ import annotations

import re

from bloatscope.render.units import human_bytes

# pip's install command, however it is run (pip, pip3, pip3.11, python -m pip)
PIP_INSTALL = re.compile(r"\bpip3?(?:\.\d+)?\s+install\b|\s-m\s+pip\s+install\b")
_KEYWORD = re.compile(r"^(\s*)([A-Za-z]+)([ \t]+)", re.MULTILINE)


def add_flags(text: str, flags: list[str]) -> str:
    """``RUN --mount=... cmd``: flags go right after the keyword, on its line."""
    match = _KEYWORD.search(_first_instruction_line(text))
    if match is None or not flags:
        return text
    offset = text.index(_first_instruction_line(text))
    at = offset + match.end()
    return text[:at] + " ".join(flags) + " " + text[at:]


def insert_after(text: str, pattern: re.Pattern[str], insertion: str) -> str:
    """``insertion`` after every match of ``pattern`` (a command word such as ``apt-get
    install``), keeping what follows."""
    return pattern.sub(lambda match: match.group(0) + insertion, text)


def append_commands(text: str, commands: list[str]) -> str:
    """``&& command`` at the end of a shell-form RUN, each on a continuation line."""
    body = text.rstrip()
    indent = "    "
    for command in commands:
        body += f" \\\n{indent}&& {command}"
    return body + "\n"


def annotate(text: str, note: str, saved: int | None) -> str:
    """A ``# bloatscope:`` comment line above the instruction, with the estimated saving."""
    cost = f" (saves ~{human_bytes(saved)})" if saved else ""
    return f"# bloatscope: {note}{cost}\n{text}"


def _first_instruction_line(text: str) -> str:
    """The line the keyword is on: annotations added earlier are comments above it."""
    for line in text.split("\n"):
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return text
