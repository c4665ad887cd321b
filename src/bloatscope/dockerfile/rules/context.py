"""Size rules for the build context: a COPY or ADD of the whole context without a .dockerignore
(BS110), and, with the image, the junk such a COPY shipped that the .dockerignore lets through
(BS111). Also where a COPY/ADD source word is, for the other non-RUN rules.

BS110 is about the image's size: a whole-context COPY counts in a stage the image is made of
(the final stage and those it is built FROM), and in a builder stage only when a stage the image
is made of copies from it a path holding where the context went (``COPY --from=build /app /app``
after ``COPY . /app``). ``COPY --from=build /app/dist /app`` ships the build's output, not the
context: the context is still sent to the builder, but the image is no bigger for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.dockerignore import DockerIgnore, go_clean
from bloatscope.dockerfile.rules.run_paths import covers
from bloatscope.dockerfile.rules.runs import absolute, shipped_stages, words_of
from bloatscope.model.dockerfile import Dockerfile, Instruction
from bloatscope.model.finding import Finding, Severity

if TYPE_CHECKING:  # only with an image: linting without one never loads the analysis
    from bloatscope.model.report import Report

CAUSE = "build-context"
# What a context almost never needs inside an image; local data and model files are left to
# the author, since an app may serve them.
USUAL_JUNK = (
    ".git",
    ".venv/",
    "venv/",
    "**/__pycache__",
    "**/*.py[co]",
    "**/node_modules",
    "**/.ipynb_checkpoints",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.DS_Store",
    "*.log",
)
PATHS_SHOWN = 3
MAX_CONTEXT_COPIES = 64


def word_position(dockerfile: Dockerfile, instruction: Instruction, index: int) -> tuple[int, int]:
    """(line, column) of the instruction's ``index``-th argument as written, found after the
    keyword and the flags; the keyword's own place when the text does not show it."""
    if index >= len(instruction.arguments):
        return instruction.line, instruction.column
    text = "\n".join(dockerfile.lines(instruction))
    offset = instruction.column - 1 + len(instruction.keyword)
    for word in (*instruction.flags, *instruction.arguments[: index + 1]):
        found = text.find(word, offset)
        if found < 0:
            return instruction.line, instruction.column
        offset = found + len(word)
    start = offset - len(instruction.arguments[index])
    line_start = text.rfind("\n", 0, start) + 1
    return instruction.line + text.count("\n", 0, start), start - line_start + 1


def sources(instruction: Instruction) -> tuple[str, ...]:
    """A COPY or ADD's sources after substitution (quotes removed); heredoc sources are
    ``<<NAME`` as written."""
    words = instruction.expanded or tuple(_unquoted(a) for a in instruction.arguments)
    return words[:-1]


def source_index(instruction: Instruction, position: int) -> int:
    """The index in ``arguments`` of the ``position``-th source: the same when substitution
    kept the word count, else the first argument (a fallback column, never a wrong word)."""
    same = not instruction.expanded or len(instruction.expanded) == len(instruction.arguments)
    return position if same else 0


def whole_context_source(instruction: Instruction) -> int | None:
    """The position among the sources of one that is the whole build context (``.``, ``./``,
    ``/``, ``*``), for a COPY/ADD from the context; None otherwise. A COPY with ``--exclude``
    names its own exclusions and is not counted."""
    if instruction.keyword not in ("COPY", "ADD"):
        return None
    if instruction.flag("from") is not None or instruction.flag("exclude") is not None:
        return None
    for position, source in enumerate(sources(instruction)):
        if source.startswith("<<") or "://" in source:
            continue
        if go_clean(source).lstrip("/") in ("", ".", "*"):
            return position
    return None


def image_stages(dockerfile: Dockerfile) -> tuple[int, ...]:
    """The stages whose files can reach the image: the final stage, the stages it is built
    FROM, and those a ``COPY --from`` in any of them copies from, in file order."""
    if not dockerfile.stages:
        return ()
    found: set[int] = set()
    pending = [dockerfile.final_stage.index]
    while pending:
        index = pending.pop()
        if index in found:
            continue
        found.add(index)
        stage = dockerfile.stages[index]
        if stage.base_stage is not None:
            pending.append(stage.base_stage)
        for instruction in stage.instructions:
            origin = instruction.flag("from") if instruction.keyword == "COPY" else None
            named = dockerfile.stage_named(origin) if origin else None
            if named is not None and named.index < index:
                pending.append(named.index)
    return tuple(sorted(found))


class CopyContextWithoutDockerignore(Rule):
    id = "BS110"
    name = "copy-context-without-dockerignore"
    severity = Severity.MEDIUM
    title = "The whole build context is copied and there is no .dockerignore"

    def check(self, context: LintContext) -> Iterator[Violation]:
        if context.dockerignore is not None:
            return
        dockerfile = context.dockerfile
        lines = ", ".join(f"`{line}`" for line in USUAL_JUNK)
        for instruction, position, through in _shipped_context_copies(dockerfile):
            source = sources(instruction)[position]
            line, column = word_position(
                dockerfile, instruction, source_index(instruction, position)
            )
            yield Violation(
                instruction,
                f"{instruction.keyword} {source} copies the whole build context and there "
                "is no .dockerignore: version control, virtualenvs, caches and local data "
                f"go into the image with the sources{through}",
                line,
                column,
                "Write a .dockerignore next to the Dockerfile with what the image does "
                f"not need, for a start: {lines}; then the local data, model files and "
                "build output the app does not read at run time.",
                cause=CAUSE,
            )


class _ContextCopy(NamedTuple):
    instruction: Instruction
    position: int  # of its whole-context source
    destination: str  # where the context goes: absolute, against the WORKDIR in effect


def _shipped_context_copies(dockerfile: Dockerfile) -> Iterator[tuple[Instruction, int, str]]:
    """The whole-context COPYs and ADDs whose context reaches the image, in file order, each
    with the position of its whole-context source and, for one in a builder stage, the words
    saying which COPY --from ships it ("" in a stage the image is made of)."""
    shipped = {stage.index for stage in shipped_stages(dockerfile)}
    in_chain = _context_copies(dockerfile)
    through: dict[Instruction, str] = {}
    for stage in shipped_stages(dockerfile):
        for copy in stage.instructions:
            origin = copy.flag("from") if copy.keyword == "COPY" else None
            named = dockerfile.stage_named(origin) if origin else None
            if named is None or named.index >= stage.index:
                continue
            # a COPY --from source is a path in that stage's filesystem, from its root
            paths = [absolute(source, "/") for source in sources(copy)]
            for item in in_chain[named.index]:
                if item.instruction not in through and any(
                    covers(path, item.destination) for path in paths
                ):
                    through[item.instruction] = (
                        f" (the COPY --from at line {copy.line} ships {item.destination})"
                    )
    for stage in dockerfile.stages:
        for item in in_chain[stage.index]:
            if item.instruction.stage != stage.index:
                continue  # a stage it is built FROM: listed there
            if stage.index in shipped:
                yield item.instruction, item.position, ""
            elif item.instruction in through:
                yield item.instruction, item.position, through[item.instruction]


def _context_copies(dockerfile: Dockerfile) -> list[tuple[_ContextCopy, ...]]:
    """For each stage, the whole-context copies its filesystem holds: its own, and those of the
    stages it is built FROM (WORKDIR carries over too). Only the first ``MAX_CONTEXT_COPIES``
    of a chain of stages: no real Dockerfile has that many, and a hostile one stays fast."""
    found: list[tuple[_ContextCopy, ...]] = []
    ends: list[str] = []  # the WORKDIR at each stage's end
    for stage in dockerfile.stages:
        base = stage.base_stage
        inherited = base is not None and base < stage.index
        workdir = ends[base] if inherited and base is not None else "/"
        copies = list(found[base]) if inherited and base is not None else []
        for instruction in stage.instructions[1:]:
            words = words_of(instruction)
            position = whole_context_source(instruction)
            if instruction.keyword == "WORKDIR" and words:
                workdir = absolute(words[-1], workdir)
            elif position is not None and words and len(copies) < MAX_CONTEXT_COPIES:
                copies.append(_ContextCopy(instruction, position, absolute(words[-1], workdir)))
        found.append(tuple(copies))
        ends.append(workdir)
    return found


class DockerignoreMisses(Rule):
    """Needs the image: the build-context findings in the layer a whole-context COPY made,
    less what the .dockerignore already keeps out (an image older than the .dockerignore)."""

    id = "BS111"
    name = "dockerignore-misses"
    severity = Severity.HIGH
    title = "The .dockerignore lets junk from the build context into the image"

    def check(self, context: LintContext) -> Iterator[Violation]:
        report, layers = context.report, context.layers
        if context.dockerignore is None or report is None or layers is None:
            return
        dockerfile = context.dockerfile
        copies = []
        for instruction in dockerfile.final_stage.instructions:
            position = whole_context_source(instruction)
            layer = layers.get(instruction.line)
            if position is not None and layer is not None:
                copies.append((instruction, position, layer))
        findings = [f for f in report.findings if f.cause == CAUSE and f.layer is not None]
        if not copies or not findings:
            return
        lines_of, destination = _ignore_lines(report)
        ignore = DockerIgnore.of(context.dockerignore)
        present = {go_clean(p) for p in context.dockerignore}
        for instruction, position, layer in copies:
            dest = destination.get(layer, "")
            for finding in (f for f in findings if f.layer == layer):
                relative = [_relative(path, dest) for path in finding.paths]
                if relative and all(ignore.excludes(path) for path in relative):
                    continue  # the .dockerignore covers them now; the image predates it
                wanted = lines_of(finding.group, layer) or tuple(relative[:PATHS_SHOWN])
                missing = [line for line in wanted if go_clean(line) not in present]
                if not missing:
                    continue
                yield self._violation(dockerfile, instruction, position, finding, missing)

    def _violation(
        self,
        dockerfile: Dockerfile,
        instruction: Instruction,
        position: int,
        finding: Finding,
        missing: list[str],
    ) -> Violation:
        shown = ", ".join(finding.paths[:PATHS_SHOWN])
        more = finding.path_count - min(len(finding.paths), PATHS_SHOWN)
        listed = f"{shown} and {more} more" if more > 0 else shown
        add = ", ".join(f"`{line}`" for line in missing)
        line, column = word_position(dockerfile, instruction, source_index(instruction, position))
        return Violation(
            instruction,
            f"{instruction.keyword} {sources(instruction)[position]} shipped "
            f"{finding.group} files the .dockerignore lets through: {listed}",
            line,
            column,
            f"Add to .dockerignore, next to the Dockerfile: {add}.",
            cause=CAUSE,
            group=finding.group,
        )


def _ignore_lines(
    report: Report,
) -> tuple[Callable[[str, int], tuple[str, ...]], dict[int, str]]:
    """The build-context analysis run again on the image, for the .dockerignore lines it makes
    for each (group, layer), and each context layer's destination prefix ("app/")."""
    from bloatscope.analysis.base import AnalysisInput  # noqa: PLC0415 - with an image only
    from bloatscope.analysis.context_junk import (  # noqa: PLC0415
        BuildContextAnalyzer,
        context_layers,
    )

    analyzer = BuildContextAnalyzer()
    data = AnalysisInput.from_report(report)
    for _claim in analyzer.claims(data):
        pass  # claiming is what records the lines
    return analyzer.ignore_lines, context_layers(data)


def _relative(path: str, dest: str) -> str:
    """An image path made relative to the build context, given the COPY's destination."""
    inside = path.lstrip("/")
    return inside[len(dest) :] if dest and inside.startswith(dest) else inside


def _unquoted(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word
