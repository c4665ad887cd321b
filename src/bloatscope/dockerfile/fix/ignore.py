"""A .dockerignore for a stage that copies the whole build context: with an image, the lines
the analysis derived from the junk it found in that COPY's layer; without, the usual junk.
A line that would drop a file another COPY names is left out, so the build still works."""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath

from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.context_junk import BuildContextAnalyzer
from bloatscope.dockerfile.fix.base import Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.text import annotate
from bloatscope.dockerfile.rules.context import USUAL_JUNK  # without an image: the usual junk
from bloatscope.model.dockerfile import Instruction
from bloatscope.model.report import Report

DOCKERIGNORE = ".dockerignore"
_CONTEXT_SOURCES = frozenset({".", "./", "*"})


class DockerignoreFixer(Fixer):
    id = "dockerignore"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        final = context.dockerfile.final_stage.index
        copies = [
            b.origin
            for b in draft.instructions()
            if b.stage == final and b.origin is not None and copies_context(b.origin)
        ]
        if not copies:
            return []
        # with an image: per layer and kind of junk, the lines that keep it out
        groups: list[tuple[int | None, str, tuple[str, ...]]] = []
        for copy in copies:
            layer = context.layer_of(copy)
            if context.report is None:
                groups.append((None, "", USUAL_JUNK))
            elif layer is not None:
                by_group = _ignore_lines(context.report).get(layer, {})
                groups += [(layer, group, lines) for group, lines in sorted(by_group.items())]
        existing = context.dockerignore or ()
        needed = _needed_sources(context)
        kept: list[str] = []
        dropped: list[str] = []
        saved = 0
        for layer, group, lines in groups:
            blocked = [line for line in lines if _would_drop(line, needed, context.context_dir)]
            dropped += [line for line in blocked if line not in dropped]
            kept += [line for line in lines if line not in blocked and line not in existing]
            if not blocked and group:  # the whole kind stays out: its bytes are saved
                saved += context.finding_bytes("build-context", layer, (group,))
        kept = list(dict.fromkeys(kept))
        if not kept:
            return []
        measured = context.report is not None
        header = "# written by bloatscope fix: build-context junk the image does not need\n"
        body = "".join(f"{line}\n" for line in kept)
        before = _existing_text(context)
        draft.files[context.dockerignore_name] = before + ("\n" if before else "") + header + body
        for block in draft.instructions():
            if block.origin is copies[0]:
                block.text = annotate(block.text, "junk kept out by .dockerignore", saved or None)
        detail = tuple(kept) + tuple(f"not ignored (another COPY needs it): {d}" for d in dropped)
        return [
            Change(
                self.id,
                "BS110" if context.dockerignore is None else "BS111",
                f"{posixpath.basename(context.dockerignore_name)}: {len(kept)} line(s)",
                copies[0].line,
                saved if measured else None,
                detail=detail,
            )
        ]


def _existing_text(context: FixContext) -> str:
    """The context's .dockerignore as written (its comments too), the new lines go after it;
    its patterns alone when the file is not at hand."""
    if context.dockerignore is None:
        return ""
    if context.context_dir is not None:
        try:
            path = os.path.join(context.context_dir, context.dockerignore_name)
            with open(path, encoding="utf-8") as file:
                text = file.read()
            return text if text.endswith("\n") or not text else text + "\n"
        except (OSError, UnicodeDecodeError):
            pass
    return "".join(f"{line}\n" for line in context.dockerignore)


def copies_context(instruction: Instruction) -> bool:
    if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
        return False
    sources = (instruction.expanded or instruction.arguments)[:-1]
    return any(source in _CONTEXT_SOURCES for source in sources)


def _ignore_lines(report: Report) -> dict[int, dict[str, tuple[str, ...]]]:
    """Per layer and kind of junk, the .dockerignore lines the build-context analysis made
    from what it found."""
    analyzer = BuildContextAnalyzer()
    data = AnalysisInput.from_report(report)
    groups = {(claim.group, claim.content[0]) for claim in analyzer.claims(data)}
    found: dict[int, dict[str, tuple[str, ...]]] = {}
    for group, layer in sorted(groups):
        found.setdefault(layer, {})[group] = analyzer.ignore_lines(group, layer)
    return found


def _needed_sources(context: FixContext) -> list[str]:
    """The context paths (or patterns) other COPY/ADD instructions name, in any stage."""
    needed = []
    for instruction in context.dockerfile.instructions():
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
            continue
        sources = (instruction.expanded or instruction.arguments)[:-1]
        # normpath, not lstrip("./"), which made ".venv" into "venv" and so let ".venv/" in
        needed += [
            posixpath.normpath(s).lstrip("/")
            for s in sources
            if s not in _CONTEXT_SOURCES and "://" not in s
        ]
    return needed


def _would_drop(line: str, needed: list[str], context_dir: str | None) -> bool:
    """Whether an ignore line would remove a file a COPY names: checked on the real files
    when the context is at hand, else on the names as written."""
    pattern = line.rstrip("/").removeprefix("**/")
    for source in needed:
        candidates = [source.rstrip("/")]
        if context_dir is not None:
            base = os.path.join(context_dir, source)
            candidates += [os.path.relpath(p, context_dir) for p in glob.glob(base)]
        for candidate in candidates:
            parts = candidate.split("/")
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
            if fnmatch.fnmatchcase(candidate, pattern) or candidate.startswith(pattern + "/"):
                return True
    return False
