"""Whether a history entry is what a Dockerfile instruction writes, and how sure that is: each
builder rewrites part of the line (variables, paths, sources, the shell) before recording it."""

from __future__ import annotations

import enum
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bloatscope.dockerfile.history_formats import HistoryFormat, ReconstructedStep, exec_list
from bloatscope.model.dockerfile import Instruction


class MatchKind(enum.StrEnum):
    """How an entry was tied to its instruction, surest first."""

    EXACT = "exact"  # the entry records the line's own text (whitespace and quotes aside)
    REWRITTEN = "rewritten"  # the text once the builder rewrote it: variables, paths, shell
    DESTINATION = "destination"  # COPY/ADD to the same place; sources recorded as a digest
    KEYWORD = "keyword"  # the same instruction; too little recorded to compare more


@dataclass(frozen=True, slots=True)
class Scope:
    """What comparing one instruction needs besides the two texts."""

    workdir: str | None  # in effect before the instruction; None when the base image sets it
    escape: str = "\\"


_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_HOLE = "\x00"
_NOISE = re.compile(r"[\"'\[\],=]")  # quoting and list syntax builders add or drop
_HEREDOC_MARKER = r"<<-?\s*[\"']?{}[\"']?"


def compare(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    """How ``step`` matches ``instruction``; None when it does not."""
    keyword = instruction.keyword
    if keyword == "RUN":
        return _run(instruction, step, scope)
    if step.keyword != keyword:
        return None
    if keyword in ("COPY", "ADD"):
        return _copy(instruction, step, scope)
    return _BY_KEYWORD.get(keyword, _words_compare)(instruction, step, scope)


def squash(text: str) -> str:
    return " ".join(text.split())


def written_rest(instruction: Instruction, escape: str = "\\") -> str:
    """What follows the keyword and flags in the source, continuation lines joined and the
    comment lines inside them dropped, as the parser does."""
    text = instruction.original
    if not instruction.heredocs:
        lines = text.split("\n")
        kept = [lines[0], *(line for line in lines[1:] if not line.lstrip().startswith("#"))]
        text = re.sub(re.escape(escape) + r"[ \t]*\r?\n", "", "\n".join(kept))
    parts = text.strip().split(None, 1)
    rest = parts[1] if len(parts) > 1 else ""
    while rest.startswith("--"):
        parts = rest.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest


def _run(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    if step.keyword not in ("RUN", ""):
        return None
    names = [heredoc.name for heredoc in instruction.heredocs]
    written = {c for c in _run_commands(instruction, scope) if c}
    recorded = _canonical_command(step.body if step.keyword else step.text, names)
    if recorded in written:
        return MatchKind.EXACT
    # a SHELL the reader does not know (powershell, say) stays in front of the command
    if not step.shell and any(recorded.endswith(" " + command) for command in written):
        return MatchKind.REWRITTEN
    return None


def _run_commands(instruction: Instruction, scope: Scope) -> Iterable[str]:
    names = [heredoc.name for heredoc in instruction.heredocs]
    if instruction.heredocs:
        contents = "\n".join(heredoc.content for heredoc in instruction.heredocs)
        yield _canonical_command(" ".join(instruction.arguments) + "\n" + contents, names)
        yield _canonical_command(instruction.script, names)
        return
    yield squash(" ".join(instruction.arguments))
    if not instruction.exec_form:
        yield squash(written_rest(instruction, scope.escape))


def _canonical_command(text: str, heredoc_names: list[str]) -> str:
    """A command with heredoc syntax taken out: builders record a heredoc RUN as its content,
    with or without the ``<<EOF`` marker and the closing word."""
    for name in heredoc_names:
        text = re.sub(_HEREDOC_MARKER.format(re.escape(name)), " ", text)
        text = re.sub(rf"(?m)^\s*{re.escape(name)}\s*$", " ", text)
    return squash(text)


def _copy(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    if not instruction.arguments:
        return None
    if step.destination is None:  # "COPY" recorded with nothing after it
        return MatchKind.KEYWORD
    written = [list(instruction.arguments)]
    if len(instruction.expanded) == len(instruction.arguments):
        written.append(list(instruction.expanded))
    if not any(_same_path(step.destination, w[-1], scope.workdir) for w in written):
        return None
    if step.sources_are_digests or not step.sources:
        return MatchKind.DESTINATION
    recorded = list(step.sources)
    if recorded == written[0][:-1]:
        return MatchKind.EXACT
    if recorded == written[-1][:-1] or _pattern_match(
        " ".join(written[0][:-1]), " ".join(recorded)
    ):
        return MatchKind.REWRITTEN
    return None


def _same_path(recorded: str, written: str, workdir: str | None) -> bool:
    """The same destination: as written, or once resolved against the working directory."""
    if recorded == written or _pattern_match(written, recorded):
        return True
    resolved_recorded, resolved_written = posixpath.normpath(recorded), posixpath.normpath(written)
    if resolved_recorded == resolved_written:
        return True
    if not written.startswith("/") and recorded.startswith("/"):
        if workdir is not None:
            return posixpath.normpath(posixpath.join(workdir, written)) == resolved_recorded
        if resolved_written == ".":  # "." in an unknown working directory: anything
            return False
        return resolved_recorded.endswith("/" + resolved_written)
    return False


def _workdir(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    written = " ".join(instruction.arguments)
    if step.body == written:
        return MatchKind.EXACT
    expanded = " ".join(instruction.expanded)
    if any(_same_path(step.body, w, scope.workdir) for w in (written, expanded) if w):
        return MatchKind.REWRITTEN
    return None


def _command(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    """CMD and ENTRYPOINT: BuildKit and the classic builder record the list the image runs
    (a shell-form line with its shell in front); buildah and kaniko the line as written."""
    recorded = exec_list(step.body)
    if instruction.exec_form:
        if recorded == list(instruction.arguments):
            return MatchKind.EXACT
        return None
    line = squash(written_rest(instruction, scope.escape))
    if recorded is None:
        return MatchKind.EXACT if squash(step.body) == line else None
    if len(recorded) >= 2 and recorded[-2] in ("-c", "/C", "/c", "-Command"):
        return MatchKind.REWRITTEN if squash(recorded[-1]) == line else None
    return None


def _expose(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    def ports(text: str) -> set[str]:
        return {p.lower() if "/" in p else f"{p}/tcp" for p in text.split()}

    if ports(step.body) == ports(written_rest(instruction, scope.escape)):
        return MatchKind.EXACT
    return _words_compare(instruction, step, scope)


def _arg(instruction: Instruction, step: ReconstructedStep, scope: Scope) -> MatchKind | None:
    """BuildKit and the classic builder record ``ARG NAME=value`` (the value in effect);
    buildah only the names of the build arguments given on its command line."""
    exact = _words_compare(instruction, step, scope)
    if exact is not None:
        return exact
    recorded = [word.split("=", 1)[0] for word in step.body.split()]
    declared = [_NOISE.sub(" ", a).split()[0] for a in instruction.arguments if a.strip()]
    if recorded == declared:
        return MatchKind.REWRITTEN
    if step.format is HistoryFormat.CLASSIC and all("=" not in w for w in step.body.split()):
        return MatchKind.KEYWORD
    return None


def _healthcheck(
    instruction: Instruction, step: ReconstructedStep, scope: Scope
) -> MatchKind | None:
    """Recorded as a Go struct dump; the command's words show in it."""
    words = _words(" ".join(instruction.arguments)).split()
    if words and all(word in step.body for word in words if word.upper() != "CMD"):
        return MatchKind.REWRITTEN
    return None


def _words_compare(
    instruction: Instruction, step: ReconstructedStep, scope: Scope
) -> MatchKind | None:
    """ENV, LABEL, USER, VOLUME, SHELL, ...: the same words once quoting, list syntax and
    ``=`` are set aside (``ENV A 1`` is recorded ``ENV A=1``)."""
    recorded = _words(step.body)
    as_written = written_rest(instruction, scope.escape)
    if recorded in (_words(as_written), _words(" ".join(instruction.arguments))):
        return MatchKind.EXACT
    if instruction.expanded and recorded == _words(" ".join(instruction.expanded)):
        return MatchKind.REWRITTEN
    return MatchKind.REWRITTEN if _pattern_match(as_written, step.body) else None


def _words(text: str) -> str:
    return squash(_NOISE.sub(" ", text))


def _pattern_match(written: str, recorded: str) -> bool:
    """``written`` with each ``$VAR`` standing for any text matches ``recorded``: builders
    record values expanded with variables the Dockerfile alone does not know (the base
    image's PATH, say). A wildcard match by finding each literal piece in turn, leftmost:
    linear, where a regex of lazy groups backtracks without bound."""
    holes = _VARIABLE.sub(_HOLE, written)
    if _HOLE not in holes:
        return False
    pieces = [_words(piece) for piece in holes.split(_HOLE)]
    text = _words(recorded)
    first, *middle, last = pieces
    if not text.startswith(first) or len(first) + len(last) > len(text):
        return False
    position, end = len(first), len(text) - len(last)
    for piece in middle:
        found = text.find(piece, position, end)
        if found == -1:
            return False
        position = found + len(piece)
    return text.endswith(last) and position <= end


_Comparer = Callable[[Instruction, ReconstructedStep, Scope], MatchKind | None]
_BY_KEYWORD: dict[str, _Comparer] = {
    "WORKDIR": _workdir,
    "CMD": _command,
    "ENTRYPOINT": _command,
    "EXPOSE": _expose,
    "ARG": _arg,
    "HEALTHCHECK": _healthcheck,
}
