"""Size rules for the build context: a COPY or ADD of the whole context without a .dockerignore
(BS110), and, with the image, the junk such a COPY shipped that the .dockerignore lets through
(BS111). Also where a COPY/ADD source word is, for the other non-RUN rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.dockerignore import DockerIgnore, go_clean
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
        for index in image_stages(dockerfile):
            for instruction in dockerfile.stages[index].instructions:
                position = whole_context_source(instruction)
                if position is None:
                    continue
                source = sources(instruction)[position]
                line, column = word_position(
                    dockerfile, instruction, source_index(instruction, position)
                )
                yield Violation(
                    instruction,
                    f"{instruction.keyword} {source} copies the whole build context and there "
                    "is no .dockerignore: version control, virtualenvs, caches and local data "
                    "go into the image with the sources",
                    line,
                    column,
                    "Write a .dockerignore next to the Dockerfile with what the image does "
                    f"not need, for a start: {lines}; then the local data, model files and "
                    "build output the app does not read at run time.",
                    cause=CAUSE,
                )


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
