"""From a parsed Dockerfile to an editable draft and back: blocks of whole lines, one per
instruction and one per run of comments and blank lines, so edits keep everything else."""

from __future__ import annotations

import difflib

from bloatscope.dockerfile.fix.base import Block, Draft
from bloatscope.model.dockerfile import Dockerfile


def draft_of(dockerfile: Dockerfile) -> Draft:
    lines = dockerfile.text.splitlines(keepends=True)
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


def unified_diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
