"""Changes to what the image contains, not only to how it is built: shown with their saving
and applied only when asked (``--apply-suggestions``), since only the user knows whether the
application needs what they remove."""

from __future__ import annotations

import posixpath
import re

from bloatscope.dockerfile.fix.base import Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.ignore import copies_context
from bloatscope.dockerfile.fix.text import PIP_INSTALL, annotate, insert_after
from bloatscope.model.dockerfile import Instruction

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_TORCH = re.compile(r"(?<![\w-])torch(?![\w-])")
_USES = ("CMD", "ENTRYPOINT", "RUN", "ENV", "WORKDIR", "VOLUME", "HEALTHCHECK")


class UnusedContextCopyFixer(Fixer):
    """A final-stage ``COPY . /dest`` whose destination nothing later names: no CMD,
    ENTRYPOINT, RUN, ENV or WORKDIR mentions it and it is not the working directory (a copy
    into the WORKDIR is how apps are usually shipped, so it is never suggested)."""

    id = "unused-context-copy"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        dockerfile = context.dockerfile
        final = dockerfile.final_stage
        changes = []
        workdir = "/"
        for instruction in final.instructions:
            if instruction.keyword == "WORKDIR" and instruction.expanded:
                workdir = posixpath.normpath(posixpath.join(workdir, instruction.expanded[0]))
            if not copies_context(instruction):
                continue
            destination = posixpath.normpath(
                posixpath.join(workdir, (instruction.expanded or instruction.arguments)[-1])
            )
            if destination in ("/", workdir) or _named_later(
                final.instructions, instruction, destination
            ):
                continue
            saved = _layer_bytes(context, instruction)
            applied = context.apply_suggestions
            block = next(b for b in draft.blocks if b.origin is instruction)
            if applied:
                draft.blocks.remove(block)
            else:
                block.text = annotate(
                    block.text, f"suggestion: nothing uses {destination}; drop this COPY", saved
                )
            changes.append(
                Change(
                    self.id,
                    None,
                    f"drop COPY of the whole context into {destination} (nothing uses it)",
                    instruction.line,
                    saved,
                    suggestion=True,
                    applied=applied,
                )
            )
        return changes


class CpuTorchFixer(Fixer):
    """A CUDA build of torch where the analysis found no GPU library in use: pip installs of
    torch take the CPU wheel index."""

    id = "cpu-torch"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        report = context.report
        if report is None:
            return []
        saved = sum(
            f.bytes for f in report.findings if f.cause == "ai-stack" and f.group == "cuda-torch"
        )
        if not saved:
            return []
        changes = []
        for block in draft.instructions("RUN"):
            origin = block.origin
            if origin is None or not (
                PIP_INSTALL.search(origin.script) and _TORCH.search(origin.script)
            ):
                continue
            if CPU_INDEX in origin.script:
                continue
            applied = context.apply_suggestions
            if applied:
                block.text = insert_after(block.text, PIP_INSTALL, f" --index-url {CPU_INDEX}")
            block.text = annotate(block.text, "suggestion: the CPU build of torch", saved)
            changes.append(
                Change(
                    self.id,
                    None,
                    f"torch from the CPU wheel index ({CPU_INDEX})",
                    origin.line,
                    saved,
                    suggestion=True,
                    applied=applied,
                )
            )
        return changes


def _named_later(
    instructions: tuple[Instruction, ...], copy: Instruction, destination: str
) -> bool:
    after = instructions[instructions.index(copy) + 1 :]
    for instruction in after:
        if instruction.keyword not in _USES:
            continue
        text = " ".join((*instruction.arguments, *instruction.expanded))
        if destination in text:
            return True
    return False


def _layer_bytes(context: FixContext, instruction: Instruction) -> int | None:
    layer = context.layer_of(instruction)
    if context.report is None or layer is None:
        return None
    return context.report.image.layers[layer].size_bytes
