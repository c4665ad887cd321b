"""From a parsed Dockerfile to an editable draft and back: blocks of whole lines, one per
instruction and one per run of comments and blank lines, so edits keep everything else."""

from __future__ import annotations

import difflib

from bloatscope.dockerfile.fix.base import Block, Draft
from bloatscope.model.dockerfile import Dockerfile


def draft_of(dockerfile: Dockerfile) -> Draft:
    lines = _lines(dockerfile.text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    blocks: list[Block] = []
    position = 0  # 0-based index of the next line not yet in a block
    for instruction in dockerfile.instructions():
        start, end = instruction.line - 1, instruction.end_line
        if start > position:  # comments and blank lines before it go with its stage
            blocks.append(Block("".join(lines[position:start]), None, instruction.stage))
        blocks.append(Block("".join(lines[start:end]), instruction, instruction.stage))
        position = max(position, end)
    if position < len(lines):
        last = dockerfile.stages[-1].index if dockerfile.stages else -1
        blocks.append(Block("".join(lines[position:]), None, last))
    return Draft(blocks)


def unified_diff(before: str | None, after: str, name: str) -> str:
    """A diff ``patch -p1`` and ``git apply`` take: a last line without its newline gets the
    marker they expect after it; ``before`` None: the file is new (from /dev/null)."""
    hunks = difflib.unified_diff(
        _lines(before or ""),
        _lines(after),
        fromfile="/dev/null" if before is None else f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in hunks
    )


def _lines(text: str) -> list[str]:
    """Lines as the parser counts them: split at newlines only (str.splitlines also splits
    at form feeds, U+2028 and the like, which may sit inside an instruction)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
