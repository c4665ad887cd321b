"""A RUN's commands placed at their lines and columns in the Dockerfile.

The RUN's logical line (continuations joined as BuildKit joins them) and the heredoc bodies its
shell runs are split into commands, each word's offset mapped back to a line and column."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from bloatscope.dockerfile.shell_commands import (
    Command,
    Word,
    resolve_command,
    split_commands,
    split_script,
)
from bloatscope.dockerfile.shell_lexer import BLANKS
from bloatscope.dockerfile.shell_word import Token, read_word
from bloatscope.dockerfile.shell_wrappers import SHELLS
from bloatscope.model.dockerfile import Dockerfile, Instruction

# Command and split_commands re-exported: the shell's public names stay importable from here
__all__ = ["Command", "RunScript", "run_script", "split_commands"]


class RunScript(NamedTuple):
    """A RUN's commands, and the way from a word's offset back to the Dockerfile: the RUN's
    logical line (continuations joined, comment lines dropped, as BuildKit hands it to the
    shell) and its heredoc scripts, laid end to end."""

    commands: tuple[Command, ...]
    starts: tuple[int, ...]  # offset where each source line's text begins, ascending
    places: tuple[tuple[int, int], ...]  # (line, column) of that text's first character

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), 1-based, of the character at ``offset``."""
        at = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        line, column = self.places[at]
        return line, column + max(offset - self.starts[at], 0)

    def where(self, command: Command) -> tuple[int, int]:
        return self.position(command.offset)


def run_script(dockerfile: Dockerfile, instruction: Instruction) -> RunScript:
    """The commands a RUN runs, placed in ``dockerfile.text``. Heredoc bodies count when the
    shell runs them (``RUN <<EOF``, ``RUN bash <<EOF``), not when they are a command's input
    (``RUN cat <<EOF > file``) or name another interpreter (``#!/usr/bin/env python3``)."""
    escape = dockerfile.directives.get("escape", "\\")
    known = _scripts(dockerfile.text, escape)  # every rule asks for the same RUNs
    script = known.get(instruction)
    if script is None:
        script = known[instruction] = _run_script(dockerfile.text, escape, instruction)
    return script


@functools.lru_cache(maxsize=2)
def _scripts(text: str, escape: str) -> dict[Instruction, RunScript]:
    """The RUNs of one Dockerfile split so far; only the latest Dockerfiles are kept."""
    del text, escape  # the cache's key
    return {}


def _run_script(text: str, escape: str, instruction: Instruction) -> RunScript:
    here = ((instruction.line, instruction.column),)
    if instruction.exec_form:
        tokens = [Token(arg, 0, arg or "''", [(0, 0)]) for arg in instruction.arguments]
        found = resolve_command(tokens, [], [], 0) if tokens else []
        # JSON words have no offsets of their own: every command is at the instruction
        at_keyword = [
            Command(tuple(Word(w.text, 0) for w in c.words), c.assignments, (), c.heredocs)
            for c in found
            if c.words
        ]
        return RunScript(tuple(at_keyword), (0,), here)
    lines = _lines(text)[instruction.line - 1 : instruction.end_line]
    if not lines:
        return RunScript(split_commands(instruction.script), (0,), here)
    logical, starts, places, body_line = _logical_line(lines, instruction.line, escape)
    begin = _after_flags(logical, len(instruction.flags))
    found = _shifted(split_script(logical[begin:], 0), begin)
    owners = [command for command in found for _ in command.heredocs]
    commands = [command for command in found if command.words]
    offset = len(logical) + 1
    for index, heredoc in enumerate(instruction.heredocs):
        body: list[str] = []
        first = body_line
        while body_line < len(lines):
            text = lines[body_line].rstrip("\r")
            body_line += 1
            if (text.lstrip("\t") if heredoc.strip_tabs else text) == heredoc.name:
                break
            body.append(text)
        if _runs_as_script(owners[index] if index < len(owners) else None, body):
            for number, text in enumerate(body):
                starts.append(offset)
                places.append((instruction.line + first + number, 1))
                offset += len(text) + 1
            script = "\n".join(body)
            commands.extend(
                c for c in _shifted(split_script(script, 0), offset - len(script) - 1) if c.words
            )
    return RunScript(tuple(commands), tuple(starts), tuple(places))


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> tuple[str, ...]:
    return tuple(text.split("\n"))


def _logical_line(
    lines: Sequence[str], first_line: int, escape: str
) -> tuple[str, list[int], list[tuple[int, int]], int]:
    """The instruction's text as BuildKit joins it: each line's escape-newline removed, blank
    and comment lines inside the continuation skipped. Returns the text, where each line's
    piece starts in it and at which (line, column), and the index of the next line."""
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    pieces: list[str] = []
    starts: list[int] = []
    places: list[tuple[int, int]] = []
    offset = 0
    index = 0
    while index < len(lines):
        text = lines[index].rstrip("\r")
        index += 1
        if index > 1 and (not text.strip() or text.lstrip().startswith("#")):
            continue
        more = continued.search(text)
        piece = text[: more.start()] if more else text
        starts.append(offset)
        places.append((first_line + index - 1, 1))
        pieces.append(piece)
        offset += len(piece)
        if more is None:
            break
    return "".join(pieces), starts, places, index


def _after_flags(logical: str, flags: int) -> int:
    """Where the command begins: past the keyword and the ``--flag`` words."""
    found: list[Token] = []
    i = 0
    for count in range(flags + 1):
        while i < len(logical) and logical[i] in BLANKS:
            i += 1
        if i >= len(logical) or (count and not logical.startswith("--", i)):
            break
        i = read_word(logical, i, found)  # the same word rules as the script's
    while i < len(logical) and logical[i] in BLANKS:
        i += 1
    return i


def _shifted(commands: list[Command], by: int) -> list[Command]:
    def moved(words: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(Word(word.text, word.offset + by) for word in words)

    return [Command(moved(c.words), c.assignments, moved(c.writes), c.heredocs) for c in commands]


def _runs_as_script(owner: Command | None, body: list[str]) -> bool:
    """A heredoc is the script when it is all the RUN says, or the input of a shell that
    reads its script from stdin; a shebang naming something else (python) is not ours."""
    if owner is None:
        return False
    if owner.words:
        if owner.program not in SHELLS:
            return False
        if any(not arg.startswith(("-", "+")) for arg in owner.args):
            return False  # bash script.sh: the heredoc is that script's input
    if body and body[0].startswith("#!"):
        interpreter = [word.rsplit("/", 1)[-1] for word in body[0][2:].split()]
        if interpreter[:1] == ["env"]:
            interpreter = [word for word in interpreter[1:] if not word.startswith("-")]
        return bool(interpreter) and interpreter[0] in SHELLS
    return True
