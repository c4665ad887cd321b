"""The instruction structure from BuildKit's own Go parser (the ``dockerfile`` package), and its
errors turned into one line that names the line where the parser stopped."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import dockerfile
from bloatscope.dockerfile import parse_heredocs
from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.substitution import go_lstrip

_LOCATE_SECONDS = 3.0  # locating re-parses prefixes; past this the error goes without a line
_NO_INSTRUCTIONS = "file with no instructions"


class GoCommand(NamedTuple):
    """One node as the Go parser gives it."""

    keyword: str  # as written (the parser keeps the case)
    sub_keyword: str | None  # ONBUILD's instruction
    exec_form: bool
    original: str  # the logical line, then the heredoc bodies
    start_line: int
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]
    heredocs: tuple[tuple[str, str], ...]  # (name, body)


def go_commands(text: str, path: str, escape: str = "\\") -> tuple[GoCommand, ...]:
    """Every instruction the Go parser finds in the text (checked by parse_input first: the
    parser must never see a NUL or a lone surrogate)."""
    try:
        return tuple(_command(node) for node in _parse(text))
    except _Failed as failure:
        raise DockerfileError(_explain(text, failure.message, escape), path=path) from None


class _Failed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse(text: str) -> list[Any]:
    try:
        return list(dockerfile.parse_string(text))
    except dockerfile.GoParseError as error:
        raise _Failed(" ".join(str(error).split())) from None
    except UnicodeDecodeError:
        # the Go side cut a UTF-8 character in two (it splits HEALTHCHECK at byte 0x85)
        raise _Failed("the Go parser split a multi-byte character") from None


def _command(node: Any) -> GoCommand:
    return GoCommand(
        keyword=str(node.cmd),
        sub_keyword=None if node.sub_cmd is None else str(node.sub_cmd),
        exec_form=bool(node.json),
        original=str(node.original),
        start_line=int(node.start_line),
        end_line=int(node.end_line),
        flags=tuple(str(flag) for flag in node.flags),
        value=tuple(str(word) for word in node.value),
        heredocs=tuple((str(doc.name), str(doc.content)) for doc in node.heredocs),
    )


def _explain(text: str, message: str, escape: str) -> str:
    lines = text.split("\n")
    if message == _NO_INSTRUCTIONS:
        return "no instructions: the file is empty or only comments"
    if message == "unterminated heredoc":
        found = parse_heredocs.unterminated(lines)
        if found is not None:
            return f"line {found[0]}: unterminated heredoc: no line after it reads {found[1]}"
        return message
    line = _first_failing_line(lines, message, escape)
    return f"line {line}: {message}" if line else message


def _first_failing_line(lines: Sequence[str], message: str, escape: str) -> int | None:
    """The line of the instruction the parser fails on: the shortest prefix of lines on which
    it fails with the same message ends in that instruction (parsing is sequential, so a prefix
    that stops before it parses, or has no instructions). When that prefix ends inside a
    continued instruction, the instruction's first line is the one to name."""
    deadline = time.monotonic() + _LOCATE_SECONDS
    good, bad = 0, len(lines)
    parsed: list[Any] = []  # what the parser found in lines[:good]
    while bad - good > 1:
        if time.monotonic() > deadline:
            return None
        middle = (good + bad) // 2
        try:
            found = _parse("\n".join(lines[:middle]) + "\n")
        except _Failed as failure:
            if failure.message == message:
                bad = middle
                continue
            found = []
        good, parsed = middle, found
    if parsed and int(parsed[-1].end_line) == good:
        start = int(parsed[-1].start_line)
        if _continues(lines[start - 1 : good], escape):
            return start
    return bad


def _continues(lines: Sequence[str], escape: str) -> bool:
    """Whether the last of these lines that is neither blank nor a comment ends in the escape
    character, so the instruction goes on past them."""
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    for line in reversed(lines):
        text = line.rstrip("\r\n")
        stripped = go_lstrip(text)
        if stripped and not stripped.startswith("#"):
            return continued.search(text) is not None
    return False
