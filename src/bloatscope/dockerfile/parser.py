"""The Dockerfile parser: BuildKit's Go parser gives the instructions; this adds what it does not
report (parser directives, keyword columns, heredoc quoting, BuildKit's instruction checks) and
splits the stages, with ARG and ENV values substituted as BuildKit substitutes them."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bloatscope.dockerfile import parse_checks, parse_guards, parse_heredocs, parse_scope
from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.directives import read_directives
from bloatscope.dockerfile.parse_go import GoCommand, go_commands
from bloatscope.dockerfile.parse_input import check_text, read_text
from bloatscope.dockerfile.parse_scope import Scope
from bloatscope.dockerfile.substitution import SubstitutionError, go_lstrip
from bloatscope.model.dockerfile import Dockerfile, Instruction, Stage


def parse_file(path: str, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """The Dockerfile at ``path`` (at most 1 MiB of UTF-8), parsed as :func:`parse_text`."""
    return parse_text(read_text(path), path, build_args)


def parse_text(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None
) -> Dockerfile:
    """The Dockerfile in ``text``; ``build_args`` as ``docker build --build-arg`` gives them.
    Raises DockerfileError (one line, naming the line where known) for what BuildKit would
    refuse to parse, and for text that is no Dockerfile."""
    check_text(text, path)
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    header = read_directives(lines, path)
    parse_guards.guard(lines, header.escape, path)
    commands = go_commands(header.text_for_go(lines), path, header.escape)
    # a generator: each instruction is checked just before it is placed, so errors come in
    # file order
    written = (_instruction(command, lines, header.escape, path) for command in commands)
    arguments = dict(build_args or {})
    global_args, stages = _Stages(path, header.escape, arguments).build(written)
    return Dockerfile(path, text, dict(header.values), global_args, stages, arguments)


def _instruction(command: GoCommand, lines: Sequence[str], escape: str, path: str) -> Instruction:
    """One instruction as written; its stage and substituted words come later."""
    keyword = command.keyword.upper()
    arguments = command.value
    if keyword == "ONBUILD" and command.sub_keyword:
        arguments = (command.sub_keyword.upper(), *(word for word in arguments if word))
    line, column = _keyword_place(lines, command, escape)
    problem = parse_checks.problem(command, keyword, arguments)
    if problem is not None:
        raise DockerfileError(f"line {line}: {problem}", path=path)
    logical_line = command.original.split("\n", 1)[0]
    return Instruction(
        keyword=keyword,
        flags=command.flags,
        arguments=arguments,
        original=_source(lines, line, column, command.end_line),
        line=line,
        end_line=command.end_line,
        column=column,
        stage=-1,
        exec_form=command.exec_form,
        heredocs=parse_heredocs.heredocs(logical_line, command.heredocs),
    )


def _keyword_place(lines: Sequence[str], command: GoCommand, escape: str) -> tuple[int, int]:
    """The 1-based line and column of the keyword. The Go parser's start line can be an
    earlier line that holds only an escape character, and continuation lines may be blank
    or comments; leading whitespace counts in the column."""
    only_escape = _only_escape(escape)
    last = min(command.end_line, len(lines))
    for number in range(command.start_line, last + 1):
        text = lines[number - 1].rstrip("\r\n")
        stripped = go_lstrip(text)
        if stripped and not stripped.startswith("#") and not only_escape.fullmatch(stripped):
            return number, len(text) - len(stripped) + 1
    return command.start_line, 1


@functools.cache
def _only_escape(escape: str) -> re.Pattern[str]:
    return re.compile(re.escape(escape) + r"[ \t]*")


def _source(lines: Sequence[str], line: int, column: int, end_line: int) -> str:
    """The instruction's text from its keyword to its last line, line endings as ``\\n``."""
    span = [text.rstrip("\r") for text in lines[line - 1 : end_line]]
    if span:
        span[0] = span[0][column - 1 :]
    return "\n".join(span)


@dataclass(slots=True)
class _Draft:
    """A stage while its instructions are read."""

    index: int
    name: str | None
    base: str
    base_stage: int | None
    platform: str | None
    scope: Scope
    instructions: list[Instruction] = field(default_factory=list)

    def stage(self) -> Stage:
        return Stage(
            self.index,
            self.name,
            self.base,
            self.base_stage,
            self.platform,
            tuple(self.instructions),
        )


class _Stages:
    """Splits the instructions at each FROM and substitutes their words in order."""

    def __init__(self, path: str, escape: str, build_args: Mapping[str, str]) -> None:
        self.path = path
        self.escape = escape
        self.build_args = build_args
        self.globals = parse_scope.global_scope(escape, build_args)
        self.drafts: list[_Draft] = []

    def build(
        self, written: Iterable[Instruction]
    ) -> tuple[tuple[Instruction, ...], tuple[Stage, ...]]:
        global_args: list[Instruction] = []
        for instruction in written:
            try:
                if instruction.keyword == "FROM":
                    self._open(instruction)
                elif self.drafts:
                    self._add(instruction, self.drafts[-1])
                else:
                    global_args.append(self._global_arg(instruction))
            except SubstitutionError as error:
                raise DockerfileError(
                    f"line {instruction.line}: {instruction.keyword}: {error}", path=self.path
                ) from None
        if not self.drafts:
            raise DockerfileError("no FROM instruction: there is no stage to build", path=self.path)
        return tuple(global_args), tuple(draft.stage() for draft in self.drafts)

    def _global_arg(self, instruction: Instruction) -> Instruction:
        if instruction.keyword != "ARG":
            raise DockerfileError(
                f"line {instruction.line}: {instruction.keyword} before the first FROM "
                "(only ARG may come before it)",
                path=self.path,
            )
        expanded = parse_scope.declare_args(
            instruction.arguments, self.globals, self.build_args, outer=None
        )
        return dataclasses.replace(instruction, stage=-1, expanded=expanded)

    def _open(self, instruction: Instruction) -> None:
        """A FROM: its image and platform substituted with the global ARGs only."""
        index = len(self.drafts)
        words = instruction.arguments
        base = self.globals.expand(words[0])
        platform = instruction.flag("platform")
        parent = next((d for d in reversed(self.drafts) if d.name == base.lower()), None)
        scope = parse_scope.stage_scope(self.escape, base, parent.scope if parent else None)
        draft = _Draft(
            index=index,
            name=words[2].lower() if len(words) == 3 else None,
            base=base,
            base_stage=parent.index if parent else None,
            platform=None if platform is None else self.globals.expand(platform),
            scope=scope,
        )
        expanded = (base, *words[1:])
        draft.instructions.append(dataclasses.replace(instruction, stage=index, expanded=expanded))
        self.drafts.append(draft)

    def _add(self, instruction: Instruction, draft: _Draft) -> None:
        scope, words = draft.scope, instruction.arguments
        if instruction.keyword == "ARG":
            expanded = parse_scope.declare_args(words, scope, self.build_args, self.globals)
        elif instruction.keyword == "ENV":
            expanded = parse_scope.set_env(words, scope)
        else:
            expanded = parse_scope.substituted(instruction.keyword, words, scope)
        draft.instructions.append(
            dataclasses.replace(instruction, stage=draft.index, expanded=expanded)
        )
