"""The RUNs of the image's stages, each command with its directory and environment; RunRule.

``RunRule`` is the base of the rules that look at one RUN at a time.

Only the stages the image is made of are walked: the final stage and the stages it is built
FROM. What a builder stage does never reaches the image."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.shell import RunScript, run_script
from bloatscope.dockerfile.shell_commands import Command, Word
from bloatscope.model.dockerfile import Dockerfile, Instruction, Stage

MAX_COMMANDS = 2000
_HOME = re.compile(r"^(?:~|\$HOME|\$\{HOME\}|/root|/home/[^/]+)(?=/|$)")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class Step(NamedTuple):
    """One instruction of a stage the image is made of, and the state it starts from."""

    stage: Stage
    instruction: Instruction
    workdir: str
    env: Mapping[str, str]  # ENV, and ARG values, in effect


class RunStep(NamedTuple):
    """One RUN of a stage the image is made of, and what its shell starts from."""

    stage: Stage
    instruction: Instruction
    script: RunScript
    workdir: str
    env: Mapping[str, str]  # ENV, and ARG values, in effect


@dataclass(frozen=True, slots=True)
class Call:
    """One command of a RUN, with its place among them, directory and environment."""

    command: Command
    index: int
    cwd: str
    env: Mapping[str, str]  # the RUN's, what the script exported before, its own NAME=value


def shipped_stages(dockerfile: Dockerfile) -> tuple[Stage, ...]:
    """The final stage and the stages it is built FROM, the earliest first."""
    chain: list[Stage] = []
    stage: Stage | None = dockerfile.stages[-1] if dockerfile.stages else None
    while stage is not None and stage not in chain:
        chain.append(stage)
        base = stage.base_stage
        stage = dockerfile.stages[base] if base is not None and base < stage.index else None
    return tuple(reversed(chain))


def steps(dockerfile: Dockerfile) -> Iterator[Step]:
    """Every instruction of the shipped stages after their FROM, in file order, with the
    state before it. ENV and WORKDIR carry into a stage built FROM another; ARG values don't."""
    defaults = dict(_arg_pairs(dockerfile.global_args))
    env: dict[str, str] = {}
    workdir = "/"
    for stage in shipped_stages(dockerfile):
        args: dict[str, str] = {}
        for instruction in stage.instructions[1:]:
            yield Step(stage, instruction, workdir, {**args, **env})
            keyword = instruction.keyword
            if keyword == "ENV":
                env.update(env_pairs(instruction))
            elif keyword == "ARG":
                for name, value in _arg_pairs((instruction,)):
                    given = dockerfile.build_args.get(name, value or defaults.get(name))
                    if given is not None:
                        args[name] = given
            elif keyword == "WORKDIR" and words_of(instruction):
                workdir = absolute(words_of(instruction)[-1], workdir)


def run_steps(dockerfile: Dockerfile) -> Iterator[RunStep]:
    """The RUNs among ``steps``, each with its commands."""
    for step in steps(dockerfile):
        if step.instruction.keyword == "RUN":
            yield run_step(dockerfile, step)


def run_step(dockerfile: Dockerfile, step: Step) -> RunStep:
    script = run_script(dockerfile, step.instruction)
    return RunStep(step.stage, step.instruction, script, step.workdir, step.env)


def calls(step: RunStep) -> list[Call]:
    """The RUN's commands with the directory ``cd`` left them in and the variables exported
    before them (a subshell's ``cd`` is taken to last: the script is not run). Only the first
    ``MAX_COMMANDS``: no real RUN has that many, and the rules stay fast on a hostile one."""
    found: list[Call] = []
    cwd, env = step.workdir, dict(step.env)
    for index, command in enumerate(step.script.commands[:MAX_COMMANDS]):
        own = {**env, **dict(command.assignments)} if command.assignments else env
        found.append(Call(command, index, cwd, own))
        if command.program == "cd":
            targets = [arg for arg in command.args if not arg.startswith("-")]
            cwd = absolute(known_variables(targets[0], env) if targets else "~", cwd)
        elif command.program == "export":
            exported = dict(_assignment(arg) for arg in command.args if "=" in arg)
            env = {**env, **exported}
    return found


def known_variables(text: str, env: Mapping[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced by their values in ``env``. Any other expansion, a
    name ``env`` lacks (the base image's ENV is not known here) or a value with whitespace (the
    shell may split it, or not: the quoting is gone) stays as written, so a path still holding
    ``$`` is one the rules cannot place. ``$HOME`` that ``env`` lacks is left to ``absolute``."""
    if "$" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        found = env.get(match.group(1) or match.group(2))
        return match.group() if found is None or any(c.isspace() for c in found) else found

    return _VARIABLE.sub(value, text)


def expanded(call: Call) -> Call:
    """The call with the known variables of its words and redirection targets replaced
    (``known_variables``); the words keep their places in the script."""
    command = call.command
    if not any("$" in word.text for word in (*command.words, *command.writes)):
        return call

    def words(given: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(word._replace(text=known_variables(word.text, call.env)) for word in given)

    changed = command._replace(words=words(command.words), writes=words(command.writes))
    return dataclasses.replace(call, command=changed)


def words_of(instruction: Instruction) -> tuple[str, ...]:
    """The instruction's words with ARG and ENV substituted when the parser did so."""
    return instruction.expanded or instruction.arguments


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """``ENV A=1 B="x y"`` and the legacy ``ENV A 1``, whichever way the parser split them."""
    words = words_of(instruction)
    if not words:
        return []
    if "=" in words[0]:
        return [_assignment(word) for word in words]
    pairs = zip(words[::2], words[1::2], strict=False)
    return [(name, _unquoted(value)) for name, value in pairs]


def _arg_pairs(instructions: Iterable[Instruction]) -> Iterator[tuple[str, str | None]]:
    for instruction in instructions:
        for word in words_of(instruction):
            name, equals, value = word.partition("=")
            yield name, _unquoted(value) if equals else None


def _assignment(word: str) -> tuple[str, str]:
    name, _, value = word.partition("=")
    return name, _unquoted(value)


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def absolute(path: str, cwd: str) -> str:
    """``path`` made absolute against ``cwd`` and normalized; ``~`` and ``$HOME`` are /root."""
    home = _HOME.match(path)
    if home is not None and home.group()[0] in "~$":
        path = "/root" + path[home.end() :]
    if not path.startswith("/"):
        path = posixpath.join(cwd, path)
    return "/" + posixpath.normpath(path).lstrip("/")


def home_form(path: str) -> str:
    """A path under any home written from ``~``: whose home a cache is in is unknown (USER)."""
    home = _HOME.match(path)
    return "~" + path[home.end() :] if home is not None else path


def violation(
    step: RunStep,
    command: Command,
    message: str,
    fix: str,
    *,
    cause: str | None = None,
    group: str | None = None,
) -> Violation:
    """A violation at the command's first word in the Dockerfile."""
    line, column = step.script.where(command)
    return Violation(step.instruction, message, line, column, fix, cause, group)


class RunRule(Rule):
    """A rule that looks at one RUN of the shipped stages at a time."""

    def check(self, context: LintContext) -> Iterator[Violation]:
        for step in run_steps(context.dockerfile):
            yield from self.check_run(step)

    @abstractmethod
    def check_run(self, step: RunStep) -> Iterator[Violation]:
        """Every place this RUN breaks the rule."""
