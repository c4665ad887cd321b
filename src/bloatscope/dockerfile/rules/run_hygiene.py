"""Size rules for what a RUN does to what earlier layers hold (BS121, BS122).

A chmod or chown that ships copied files again (BS121), an rm that cannot take bytes out of the
image (BS122).

Earlier means earlier in the stages the image is made of (the final stage and those it is
built FROM). A path is matched once the ENV and ARG values in effect replace its variables; one
still holding a ``$`` (a variable the base image sets, a loop's, a ``$(...)``) is left out rather
than matched as written. With an image, a violation's bytes are the shadowed files the analysis
found hidden by this RUN's layer and touched by this command; each file counted for the first
command of the RUN that touches it."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.rules.additions import Added, Additions, added_by_copy, created
from bloatscope.dockerfile.rules.build_tools import BuildToolsInFinalStage
from bloatscope.dockerfile.rules.run_paths import (
    GLOB,
    covers,
    literal_part,
    mount_targets,
    overlaps,
    removed,
)
from bloatscope.dockerfile.rules.runs import (
    Call,
    RunStep,
    absolute,
    calls,
    expanded,
    run_step,
    steps,
    violation,
)
from bloatscope.dockerfile.rules.shadowed import DELETED, METADATA_ONLY, shadowed_bytes
from bloatscope.dockerfile.shell_commands import Word
from bloatscope.model.finding import Severity

# BuildToolsInFinalStage re-exported: the RUN hygiene rules stay importable from here
__all__ = ["BuildToolsInFinalStage", "ChmodAfterCopy", "DeletesEarlierLayer"]


class _MetadataChange(NamedTuple):
    verb: str  # chmod, chown, chgrp
    setting: str  # the mode or owner it sets
    targets: tuple[str, ...]
    recursive: bool

    def touches(self, path: str) -> bool:
        """Whether this change rewrites the file at ``path``."""
        return any(
            target == path
            or (GLOB.search(target) is not None and fnmatch.fnmatchcase(path, target))
            or (self.recursive and covers(target, path))
            for target in self.targets
        )

    def reaches(self, added: Added) -> bool:
        """Whether it rewrites some of the files a COPY added (a directory's own mode is no
        bytes: ``chmod 755 /app`` after ``COPY . /app`` ships nothing again)."""
        for target in self.targets:
            if GLOB.search(target) and fnmatch.fnmatchcase(added.path, target):
                return True
            if covers(added.path, literal_part(target)) and (
                target != added.path or not added.directory or self.recursive
            ):
                return True
            if self.recursive and covers(target, added.path):
                return True
        return False


_MODE_NOT_OPTION = re.compile(r"-[rwxXst]+")  # chmod -x FILE: a mode, not an option


def metadata_change(call: Call) -> _MetadataChange | None:
    call = expanded(call)
    command = call.command
    if command.program not in ("chmod", "chown", "chgrp"):
        return None
    recursive = reference = False
    positional: list[str] = []
    options = True
    for arg in command.args:
        if options and arg == "--":
            options = False
        elif options and arg.startswith("--"):
            recursive |= arg == "--recursive"
            reference |= arg.startswith("--reference")
        elif options and arg.startswith("-") and len(arg) > 1:
            if command.program == "chmod" and _MODE_NOT_OPTION.fullmatch(arg):
                positional.append(arg)
            else:
                recursive |= "R" in arg
        else:
            positional.append(arg)
    setting = "" if reference or not positional else positional[0]
    targets = positional if reference else positional[1:]
    paths = _placed(absolute(target, call.cwd) for target in targets)
    return _MetadataChange(command.program, setting, paths, recursive) if paths else None


class ChmodAfterCopy(Rule):
    id = "BS121"
    name = "chmod-after-copy"
    title = "chmod or chown ships copied files a second time"

    def check(self, context: LintContext) -> Iterator[Violation]:
        copies = Additions()
        for step in steps(context.dockerfile):
            instruction = step.instruction
            if instruction.keyword in ("COPY", "ADD"):
                for item in added_by_copy(step):
                    copies.add(item)
            elif instruction.keyword == "RUN":
                run = run_step(context.dockerfile, step)
                for call in calls(run):
                    change = metadata_change(call)
                    if change is None:
                        continue
                    near = (item for target in change.targets for item in copies.near(target))
                    hit = next((item for item in near if change.reaches(item)), None)
                    if hit is not None:
                        yield _chmod_violation(run, call, change, hit)

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        def touches(call: Call) -> Callable[[str], bool] | None:
            change = metadata_change(call)
            return change.touches if change else None

        return shadowed_bytes(violation, context, METADATA_ONLY, touches)


def _chmod_violation(run: RunStep, call: Call, change: _MetadataChange, copy: Added) -> Violation:
    flag = "chmod" if change.verb == "chmod" else "chown"
    value = change.setting
    if flag == "chmod" and not re.fullmatch(r"[0-7]{3,4}", value):
        value = "755"
    elif change.verb == "chgrp":
        value = f"<user>:{value}"
    return violation(
        run,
        call.command,
        f"`{change.verb}` rewrites {copy.path}, which the {copy.how} at line {copy.line} "
        "added: this layer ships those files a second time",
        f"Set it when the files are added: `{copy.how} --{flag}={value or '...'} ...` at line "
        f"{copy.line}, and drop this `{change.verb}`.",
        cause=METADATA_ONLY,
    )


class DeletesEarlierLayer(Rule):
    id = "BS122"
    name = "deletes-earlier-layer"
    severity = Severity.HIGH
    title = "rm of what an earlier layer added: the bytes stay in the image"

    def check(self, context: LintContext) -> Iterator[Violation]:
        added = Additions()
        for step in steps(context.dockerfile):
            instruction = step.instruction
            if instruction.keyword in ("COPY", "ADD"):
                for item in added_by_copy(step):
                    added.add(item)
            elif instruction.keyword == "RUN":
                yield from _deletions(run_step(context.dockerfile, step), added)

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        def touches(call: Call) -> Callable[[str], bool] | None:
            targets = _removed(call)
            return (lambda path: any(covers(t, path) for t in targets)) if targets else None

        return shadowed_bytes(violation, context, DELETED, touches)


def _deletions(run: RunStep, added: Additions) -> list[Violation]:
    """The RUN's deletions of what earlier instructions added; what the RUN leaves added
    joins them."""
    mounts = mount_targets(run)  # what a RUN writes under any mount stays out of its layer
    found: list[Violation] = []
    fresh = Additions()
    for call in calls(run):
        targets = _removed(call)
        hits = [item for t in targets for item in added.near(t) if overlaps(t, item.path)]
        if hits:
            found.append(_rm_violation(run, call, targets, list(dict.fromkeys(hits))))
        for target in targets:
            added.remove(target)
            fresh.remove(target)
        for path, how in _created(run, call):
            if not any(covers(mount, path) for mount in mounts):
                fresh.add(Added(path, run.instruction.line, how))
    for item in fresh.alive():
        added.add(item)
    return found


def _removed(call: Call) -> tuple[str, ...]:
    """What the command deletes, at the paths its known variables place it."""
    return _placed(removed(expanded(call)))


def _placed(paths: Iterable[str]) -> tuple[str, ...]:
    """The paths no unknown variable is left in: ``/app/$BUNDLE_PATH/cache`` is not a path
    under /app, and guessing where it is would flag what the RUN never touches."""
    return tuple(path for path in paths if "$" not in path)


_UNPLACED = "\0"  # in front of a word that starts with an unknown variable: no path has a NUL
_LEADING_HOME = re.compile(r"\$(?:HOME|\{HOME\})(?=/|$)")  # absolute() places it: /root


def _created(run: RunStep, call: Call) -> list[tuple[str, str]]:
    """What the command writes (``created``) where its known variables place it. A file
    written as ``/srv/assets/f$i`` is in /srv/assets whatever ``$i`` is, and only a deletion
    of all of that reaches it (the deletions with unknown variables are left out); a word that
    starts with an unknown variable, or a relative one where ``cd`` went through one, may be
    anywhere and is left out."""
    call = expanded(call)
    command = call.command

    def marked(words: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(
            word._replace(text=_UNPLACED + word.text)
            if word.text.startswith("$") and not _LEADING_HOME.match(word.text)
            else word
            for word in words
        )

    command = command._replace(
        words=command.words[:1] + marked(command.words[1:]), writes=marked(command.writes)
    )
    unplaced_cwd = "$" in call.cwd
    return [
        (path, how)
        for path, how in created(run, dataclasses.replace(call, command=command))
        if _UNPLACED not in path and not (unplaced_cwd and covers(call.cwd, path))
    ]


def _rm_violation(
    run: RunStep, call: Call, targets: tuple[str, ...], hits: list[Added]
) -> Violation:
    first = hits[0]
    target = next(t for t in targets if overlaps(t, first.path))
    inside = target != first.path and covers(first.path, literal_part(target))
    what = f"part of what the {first.how}" if inside else f"which the {first.how}"
    more = f" ({len(hits) - 1} more earlier additions too)" if len(hits) > 1 else ""
    if first.how in ("COPY", "ADD"):
        fix = (
            f"Keep it out where it is added (line {first.line}): exclude it in .dockerignore or "
            "copy only what the image needs; deleting it later leaves its bytes in that layer."
        )
    elif first.how == "cache":
        fix = (
            f"Clean the cache in the RUN that fills it (line {first.line}), or mount it there: "
            f"`RUN --mount=type=cache,target={first.path} ...`."
        )
    else:
        fix = (
            f"Delete it in the RUN that creates it (line {first.line}: `... && rm -rf "
            f"{first.path}`), or make it in a build stage and COPY --from only the result."
        )
    return violation(
        run,
        call.command,
        f"`{call.command.program}` deletes {target}, {what} at line {first.line} added{more}: "
        "its bytes stay in that layer",
        fix,
        cause=DELETED,
    )
