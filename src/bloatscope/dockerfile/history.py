"""Tying each image history entry (and so each layer) to the Dockerfile instruction that made
it: the final stage's instructions are the last entries, matched from the end backwards."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from bloatscope.dockerfile.history_compare import MatchKind, Scope, compare
from bloatscope.dockerfile.history_formats import (
    HistoryFormat,
    ReconstructedStep,
    reconstruct,
)
from bloatscope.model.dockerfile import Dockerfile, Instruction, Stage
from bloatscope.model.image import Image
from bloatscope.model.layer import HistoryEntry

__all__ = [
    "EntryMatch",
    "HistoryFormat",
    "HistoryMap",
    "InstructionMatch",
    "MatchKind",
    "ReconstructedStep",
    "map_history",
    "reconstruct",
]

# metadata instructions: some builders record none for them (BuildKit never for ONBUILD)
_MAY_BE_UNRECORDED = frozenset(
    {
        "ARG", "ONBUILD", "ENV", "LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "VOLUME",
        "STOPSIGNAL", "SHELL", "HEALTHCHECK", "MAINTAINER",
    }
)  # fmt: skip
# buildah's comment on a step built on the previous step's image rather than on the FROM
_INTERMEDIATE_BASE = re.compile(r"FROM ([0-9a-f]{12})")
BASE_IMAGE = "from the base image: before the final stage's first instruction"
_BEFORE_FIRST = "not matched: a step this Dockerfile lacks, or the base image's"


@dataclass(frozen=True, slots=True)
class EntryMatch:
    """One history entry, read back as a step, and the instruction that made it if known."""

    index: int  # in image.history
    entry: HistoryEntry
    step: ReconstructedStep
    instruction: Instruction | None
    kind: MatchKind | None
    reason: str  # how it was matched, or why it was not


@dataclass(frozen=True, slots=True)
class InstructionMatch:
    """One instruction of the final stage (and of the stages it is built FROM) and its entry."""

    instruction: Instruction
    history_index: int | None
    layer_index: int | None  # None as well for an entry that made no layer (ENV, CMD, ...)
    kind: MatchKind | None
    reason: str


@dataclass(frozen=True, slots=True)
class HistoryMap:
    """Entries and instructions tied both ways, with lookups by entry, layer and line."""

    entries: tuple[EntryMatch, ...]  # one per image.history entry, oldest first
    instructions: tuple[InstructionMatch, ...]  # in file order, FROMs left out
    complete: bool  # every instruction found where expected
    problem: str | None  # why the Dockerfile and the history disagree, when they do

    def instruction_of_entry(self, history_index: int) -> Instruction | None:
        return self.entries[history_index].instruction

    def instruction_of_layer(self, layer_index: int) -> Instruction | None:
        return next(
            (m.instruction for m in self.instructions if m.layer_index == layer_index), None
        )

    def match_of(self, instruction: Instruction) -> InstructionMatch | None:
        return next((m for m in self.instructions if m.instruction == instruction), None)

    def layer_of(self, instruction: Instruction) -> int | None:
        found = self.match_of(instruction)
        return found.layer_index if found else None

    def layers_by_line(self) -> dict[int, int]:
        """The layer each instruction made, by the instruction's line (LintContext.layers)."""
        return {
            m.instruction.line: m.layer_index
            for m in self.instructions
            if m.layer_index is not None
        }


def map_history(image: Image, dockerfile: Dockerfile) -> HistoryMap:
    """Each of ``image``'s history entries tied to the instruction of ``dockerfile``'s final
    stage that made it; None for the base image's entries and for entries that do not match.
    Only a run of matches that ends at the newest entry counts: a Dockerfile that is not the
    one the image was built from gets no matches rather than coincidental ones."""
    instructions = _own_instructions(dockerfile)
    steps = tuple(reconstruct(entry) for entry in image.history)
    scopes = _scopes(instructions, dockerfile.directives.get("escape", "\\"))
    walk = _walk(instructions, steps, scopes)
    problem = walk.problem or _boundary_problem(image.history, instructions, walk.matched)
    matched = walk.matched
    if walk.problem is not None and not _convincing(instructions, matched):
        matched = {}
    return _assemble(image, instructions, steps, matched=matched, walk=walk, problem=problem)


@dataclass(frozen=True, slots=True)
class _Walk:
    matched: dict[int, tuple[int, MatchKind]]  # instruction position -> (entry, kind)
    unrecorded: frozenset[int]  # instruction positions passed over as making no entry
    stop_entry: int  # the newest entry left unmatched by the walk; -1 when none
    stop_position: int  # the instruction the walk broke at; -1 when it did not
    problem: str | None


def _own_instructions(dockerfile: Dockerfile) -> tuple[Instruction, ...]:
    """The final stage's instructions, after those of the stages it is built FROM (their
    steps are in its history too); FROM lines make no entry of their own."""
    chain: list[Stage] = []
    stage: Stage | None = dockerfile.final_stage if dockerfile.stages else None
    while stage is not None and stage.index not in {s.index for s in chain}:
        chain.append(stage)
        base = stage.base_stage
        stage = dockerfile.stages[base] if base is not None and base < stage.index else None
    return tuple(i for s in reversed(chain) for i in s.instructions if i.keyword != "FROM")


def _scopes(instructions: tuple[Instruction, ...], escape: str) -> tuple[Scope, ...]:
    scopes, workdir = [], None
    for instruction in instructions:
        scopes.append(Scope(workdir, escape))
        if instruction.keyword == "WORKDIR" and instruction.arguments:
            path = (instruction.expanded or instruction.arguments)[0]
            if "$" in path:
                workdir = None
            elif path.startswith("/"):
                workdir = posixpath.normpath(path)
            elif workdir is not None:
                workdir = posixpath.normpath(posixpath.join(workdir, path))
    return tuple(scopes)


def _walk(
    instructions: tuple[Instruction, ...],
    steps: tuple[ReconstructedStep, ...],
    scopes: tuple[Scope, ...],
) -> _Walk:
    """From the newest entry and the last instruction backwards, each instruction matching
    the next older entry; a metadata instruction that matches none is passed over."""
    matched: dict[int, tuple[int, MatchKind]] = {}
    unrecorded: set[int] = set()
    entry = len(steps) - 1
    for position in range(len(instructions) - 1, -1, -1):
        instruction = instructions[position]
        kind = compare(instruction, steps[entry], scopes[position]) if entry >= 0 else None
        if kind is not None:
            matched[position] = (entry, kind)
            entry -= 1
        elif instruction.keyword in _MAY_BE_UNRECORDED:
            unrecorded.add(position)
        else:
            where = (
                f"history entry {entry} is {_short(steps[entry].text)!r}"
                if entry >= 0
                else "the history has no older entry"
            )
            problem = (
                f"line {instruction.line}: {instruction.keyword} is not in the image's history "
                f"where expected ({where}); the image was not built from this Dockerfile as it is"
            )
            return _Walk(matched, frozenset(unrecorded), entry, position, problem)
    return _Walk(matched, frozenset(unrecorded), entry, -1, None)


def _convincing(
    instructions: tuple[Instruction, ...], matched: dict[int, tuple[int, MatchKind]]
) -> bool:
    """Whether the matches found before the walk broke stand on their own: a RUN's command
    or a COPY's sources recorded verbatim, not just a CMD or a destination any file has."""
    for position, (_, kind) in matched.items():
        keyword = instructions[position].keyword
        if keyword == "RUN" and kind in (MatchKind.EXACT, MatchKind.REWRITTEN):
            return True
        if keyword in ("COPY", "ADD") and kind is MatchKind.EXACT:
            return True
    return False


def _boundary_problem(
    history: tuple[HistoryEntry, ...],
    instructions: tuple[Instruction, ...],
    matched: dict[int, tuple[int, MatchKind]],
) -> str | None:
    """buildah notes on each step what it was built on: the first instruction's entry on the
    FROM image, every later one on the previous step's image id. An id on the entry of the
    first instruction means the image has steps this Dockerfile lacks."""
    if 0 not in matched:
        return None
    first_entry = matched[0][0]
    found = _INTERMEDIATE_BASE.fullmatch(history[first_entry].comment)
    if found is None:
        return None
    return (
        f"history entry {first_entry} (line {instructions[0].line}) was built on image "
        f"{found.group(1)}, an earlier step of the same build: the image has steps before "
        "it that this Dockerfile does not have"
    )


def _assemble(
    image: Image,
    instructions: tuple[Instruction, ...],
    steps: tuple[ReconstructedStep, ...],
    *,
    matched: dict[int, tuple[int, MatchKind]],
    walk: _Walk,
    problem: str | None,
) -> HistoryMap:
    entries = _entry_matches(
        image, instructions, steps, matched=matched, walk=walk, problem=problem
    )
    results = []
    for position, instruction in enumerate(instructions):
        if position in matched:
            entry_index, kind = matched[position]
            layer = image.history[entry_index].layer_index
            reason = f"history entry {entry_index} ({kind})"
            results.append(InstructionMatch(instruction, entry_index, layer, kind, reason))
            continue
        if position in walk.unrecorded and matched and position > walk.stop_position:
            reason = "made no history entry (a metadata instruction not every builder records)"
        else:
            reason = "not found in the image's history"
        results.append(InstructionMatch(instruction, None, None, None, reason))
    complete = problem is None and all(
        m.history_index is not None or m.instruction.keyword == "ONBUILD" for m in results
    )
    return HistoryMap(entries, tuple(results), complete, problem)


def _entry_matches(
    image: Image,
    instructions: tuple[Instruction, ...],
    steps: tuple[ReconstructedStep, ...],
    *,
    matched: dict[int, tuple[int, MatchKind]],
    walk: _Walk,
    problem: str | None,
) -> tuple[EntryMatch, ...]:
    by_entry = {entry: (position, kind) for position, (entry, kind) in matched.items()}
    entries = []
    for index, (entry, step) in enumerate(zip(image.history, steps, strict=True)):
        if index in by_entry:
            position, kind = by_entry[index]
            instruction = instructions[position]
            reason = f"line {instruction.line} ({kind})"
            entries.append(EntryMatch(index, entry, step, instruction, kind, reason))
            continue
        if walk.problem is None:
            reason = BASE_IMAGE if problem is None else _BEFORE_FIRST
        elif not matched:
            reason = "not matched: the Dockerfile does not match this image's history"
        elif index == walk.stop_entry:
            reason = "not matched: the Dockerfile stops matching the history here"
        else:
            reason = "not matched: older than where the Dockerfile stops matching"
        entries.append(EntryMatch(index, entry, step, None, None, reason))
    return tuple(entries)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
