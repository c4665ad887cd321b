"""The paths a RUN's commands reach: what they delete, and where its mounts are.

What an ``rm`` or a ``find -delete`` deletes, whether one path (maybe a glob) covers another,
and where the RUN's mounts keep writes out of its layer."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable

from bloatscope.dockerfile.rules.arguments import operands
from bloatscope.dockerfile.rules.runs import Call, RunStep, absolute, home_form

GLOB = re.compile(r"[*?\[]")


def covers(pattern: str, path: str) -> bool:
    """Whether deleting ``pattern`` (absolute, maybe a glob) deletes ``path`` or everything
    in it: ``/var/lib/apt/lists/*`` covers /var/lib/apt/lists."""
    if not GLOB.search(pattern):
        return pattern in (path, "/") or path.startswith(pattern + "/")
    if fnmatch.fnmatchcase(path + "/\0", pattern):
        return True
    probe = path
    while probe not in ("/", ""):  # a relative path (~/.npm) ends at "", not "/"
        if fnmatch.fnmatchcase(probe, pattern):
            return True
        probe = posixpath.dirname(probe)
    return False


def literal_part(pattern: str) -> str:
    """The directory a glob starts in: /app for /app/*.pyc."""
    glob = GLOB.search(pattern)
    return pattern if glob is None else posixpath.dirname(pattern[: glob.start()]) or "/"


def overlaps(pattern: str, path: str) -> bool:
    """Whether deleting ``pattern`` deletes ``path``, all of it or some of what is in it."""
    return covers(pattern, path) or covers(path, literal_part(pattern))


def removed(call: Call) -> tuple[str, ...]:
    """The absolute paths (maybe globs) an ``rm``, or a ``find ... -delete``, deletes."""
    command = call.command
    if command.program == "rm":
        targets = operands(command.args)
    elif command.program == "find" and ("-delete" in command.args or _finds_rm(command.args)):
        targets = []
        for arg in command.args:
            if arg.startswith(("-", "(", "!")):
                break
            targets.append(arg)
    else:
        return ()
    return tuple(absolute(target, call.cwd) for target in targets if target)


def _finds_rm(args: tuple[str, ...]) -> bool:
    return any(
        arg in ("-exec", "-execdir") and args[index + 1 : index + 2] == ("rm",)
        for index, arg in enumerate(args)
    )


class Removals:
    """The paths a run of commands deletes, asked about one directory at a time in time that
    grows with the directory's depth (home directories compared as ``~``). Globs are matched
    one by one; past the first hundred they are not kept."""

    def __init__(self) -> None:
        self._paths: set[str] = set()
        self._globs: list[str] = []

    def add(self, call: Call) -> None:
        for target in map(home_form, removed(call)):
            if not GLOB.search(target):
                self._paths.add(target)
            elif len(self._globs) < 100 and target not in self._globs:
                self._globs.append(target)

    def clear(self, directories: Iterable[str]) -> bool:
        """Whether one of the directories (or all its content) is deleted."""
        for directory in map(home_form, directories):
            probe = directory
            while probe:
                if probe in self._paths:
                    return True
                parent = posixpath.dirname(probe)
                probe = "" if parent == probe else parent
            if "/" in self._paths or any(covers(glob, directory) for glob in self._globs):
                return True
        return False


def mounted(step: RunStep, directories: Iterable[str]) -> bool:
    """Whether a ``cache`` or ``tmpfs`` mount of the RUN holds one of the directories (the
    mount is the directory or one of its parents); homes compared as ``~``."""
    targets = [home_form(target) for target in mount_targets(step, ("cache", "tmpfs"))]
    return any(
        covers(target, home_form(directory)) for target in targets for directory in directories
    )


def mount_targets(step: RunStep, kinds: Iterable[str] | None = None) -> list[str]:
    """Where the RUN's mounts of these types (any type: None) are, absolute. What the RUN
    writes under them stays out of its layer."""
    found = []
    for value in step.instruction.flag_values("mount"):
        fields: dict[str, str] = {}
        for part in value.split(","):
            key, equals, setting = part.partition("=")
            fields[key.strip().strip("\"'").lower()] = (
                setting.strip().strip("\"'") if equals else ""
            )
        if kinds is not None and fields.get("type", "bind") not in kinds:
            continue
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if target:
            found.append(absolute(target, step.workdir))
    return found
