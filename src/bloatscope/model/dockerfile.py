"""A parsed Dockerfile: parser directives, stages and instructions, each at its line and column,
with build arguments and environment substituted the way BuildKit does."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Heredoc:
    """``<<EOF`` ... ``EOF``: a RUN script or a COPY source written inline."""

    name: str  # the delimiter word
    content: str
    expands: bool  # an unquoted delimiter: $VAR in the content is substituted at build time
    strip_tabs: bool = False  # ``<<-EOF``: leading tabs removed from each line


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction as written, and as BuildKit would see it after substitution.

    Lines and columns are 1-based and point into the Dockerfile's text; ``line`` is where the
    keyword is, ``end_line`` the last line of its continuations or heredocs."""

    keyword: str  # upper case: RUN, COPY, FROM, ...
    flags: tuple[str, ...]  # as written: ("--mount=type=cache,target=/root/.cache", ...)
    arguments: tuple[str, ...]  # the words after the flags, as the parser split them
    original: str  # the instruction's source text, continuation lines included
    line: int
    end_line: int
    column: int
    stage: int  # index of its stage; -1 for the ARGs before the first FROM
    exec_form: bool = False  # JSON array form: RUN ["a", "b"], CMD ["python"]
    heredocs: tuple[Heredoc, ...] = ()
    # the arguments with ARG and ENV values substituted where the instruction substitutes
    # (FROM, COPY, ADD, ENV, ARG, WORKDIR, USER, ...); RUN's are left to the shell, as written
    expanded: tuple[str, ...] = ()

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value`` (the last one wins), "" for a bare ``--name``; None
        when absent."""
        found: str | None = None
        for written in self.flags:
            key, equals, value = written.removeprefix("--").partition("=")
            if key == name:
                found = value if equals else ""
        return found

    def flag_values(self, name: str) -> tuple[str, ...]:
        """Every value of a repeatable flag (``--mount`` may come several times)."""
        values = []
        for written in self.flags:
            key, _, value = written.removeprefix("--").partition("=")
            if key == name:
                values.append(value)
        return tuple(values)

    @property
    def script(self) -> str:
        """What a RUN runs in its shell: the heredoc bodies when it has any, else its command
        line (exec form joined by spaces)."""
        if self.heredocs:
            return "\n".join(heredoc.content for heredoc in self.heredocs)
        return " ".join(self.arguments)


@dataclass(frozen=True, slots=True)
class Stage:
    """``FROM base [AS name]`` and the instructions up to the next FROM."""

    index: int
    name: str | None  # lower-cased, as BuildKit compares stage names
    base: str  # the FROM image after substitution ("python:3.11-slim", "scratch", a stage name)
    base_stage: int | None  # the stage FROM names, when it names an earlier one
    platform: str | None  # FROM --platform=...
    instructions: tuple[Instruction, ...]  # the FROM first

    @property
    def source(self) -> Instruction:
        return self.instructions[0]


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """The whole file. ``stages[-1]`` is what ``docker build`` builds without ``--target``."""

    path: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)  # syntax, escape, check
    global_args: tuple[Instruction, ...] = ()  # ARGs before the first FROM
    stages: tuple[Stage, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)  # --build-arg values applied

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    def stage_named(self, name: str) -> Stage | None:
        """A stage by ``AS`` name or by index (``COPY --from=0``)."""
        if name.isdigit():
            index = int(name)
            return self.stages[index] if index < len(self.stages) else None
        wanted = name.lower()
        return next((stage for stage in self.stages if stage.name == wanted), None)

    def instructions(self) -> tuple[Instruction, ...]:
        """Every instruction in file order, the global ARGs first."""
        return self.global_args + tuple(i for stage in self.stages for i in stage.instructions)

    def lines(self, instruction: Instruction) -> list[str]:
        """The source lines an instruction spans."""
        return self.text.split("\n")[instruction.line - 1 : instruction.end_line]
