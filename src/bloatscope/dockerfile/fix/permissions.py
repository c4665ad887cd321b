"""``COPY --chmod``/``--chown`` instead of a RUN that changes the copied files' mode or owner
afterwards: such a RUN copies every file it touches into a layer of its own."""

from __future__ import annotations

import os
import posixpath
import re
import shlex

from bloatscope.dockerfile.fix.base import Block, Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.text import add_flags, annotate
from bloatscope.model.dockerfile import Instruction

_TOOLS = {"chmod": "chmod", "chown": "chown"}
_OCTAL = re.compile(r"[0-7]{3,4}")


class CopyPermissionsFixer(Fixer):
    """Handles the plain case: a RUN that is nothing but ``chmod [-R] MODE PATH...`` or
    ``chown [-R] OWNER PATH...`` on exactly the destination of one earlier COPY/ADD of the
    stage. Anything more mixed is left to the lint finding."""

    id = "copy-permissions"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        final = context.dockerfile.final_stage
        changes = []
        workdir = "/"
        copies: dict[str, Block] = {}
        for block in [b for b in draft.blocks if b.stage == final.index and b.origin]:
            origin = block.origin
            assert origin is not None
            if origin.keyword == "WORKDIR" and origin.expanded:
                workdir = posixpath.normpath(posixpath.join(workdir, origin.expanded[0]))
            elif origin.keyword in ("COPY", "ADD") and not origin.heredocs:
                destination = (origin.expanded or origin.arguments)[-1]
                copies[posixpath.normpath(posixpath.join(workdir, destination))] = block
            elif origin.keyword == "RUN" and not origin.heredocs and not origin.exec_form:
                change = self._merge(
                    draft, block, origin, copies=copies, workdir=workdir, context=context
                )
                if change is not None:
                    changes.append(change)
        return changes

    def _merge(
        self,
        draft: Draft,
        block: Block,
        run: Instruction,
        *,
        copies: dict[str, Block],
        workdir: str,
        context: FixContext,
    ) -> Change | None:
        try:
            words = shlex.split(run.script)
        except ValueError:
            return None
        if len(words) < 3 or words[0] not in _TOOLS:
            return None
        tool, rest = words[0], [w for w in words[1:] if w not in ("-R", "-r", "--recursive")]
        if len(rest) != 2 or rest[0].startswith("-"):
            return None
        if tool == "chmod" and not _OCTAL.fullmatch(rest[0]):
            return None  # COPY --chmod=+x needs Dockerfile 1.14; buildah takes octal only
        target = posixpath.normpath(posixpath.join(workdir, rest[1]))
        copy = copies.get(target)
        if copy is None or copy.origin is None or copy.origin.flag(tool) is not None:
            return None
        recursive = any(w in ("-R", "--recursive") for w in words[1:])
        if not recursive and not _copies_one_file(copy.origin, context.context_dir):
            return None  # chmod /app changes the directory alone; --chmod, every file in it
        # the bytes the RUN hid are the COPY's: its layer holds the metadata-only finding
        layer = context.layer_of(copy.origin)
        saved = context.finding_bytes("metadata-only", layer) if context.report else None
        copy.text = annotate(
            add_flags(copy.text, [f"--{tool}={rest[0]}"]), f"{tool} at copy time", saved
        )
        draft.blocks.remove(block)
        return Change(
            self.id,
            "BS121",
            f"COPY --{tool}={rest[0]} instead of a RUN {tool}",
            run.line,
            saved,
        )


def _copies_one_file(copy: Instruction, context_dir: str | None) -> bool:
    """Whether the COPY adds a single file, as far as the build context shows (a directory,
    a wildcard, another stage's files or a context not at hand: not known to be one file)."""
    sources = (copy.expanded or copy.arguments)[:-1]
    if len(sources) != 1 or copy.flag("from") is not None:
        return False
    source = sources[0]
    if "://" in source:  # ADD of a URL fetches one file; of a git repository, a tree
        return not re.search(r"\.git(?:#|$)", source)
    if copy.keyword == "ADD" or context_dir is None:  # ADD unpacks a local archive
        return False
    if any(char in source for char in "*?[") or source.endswith("/"):
        return False
    return os.path.isfile(os.path.join(context_dir, source.lstrip("/")))
