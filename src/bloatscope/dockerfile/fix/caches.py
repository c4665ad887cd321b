"""Package-manager caches kept out of the layer by cache mounts, which also keep them for the
next build (BuildKit and buildah both honour ``RUN --mount=type=cache``); and apt told not to
pull in recommended packages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bloatscope.dockerfile.fix.base import Block, Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.text import PIP_INSTALL, add_flags, annotate, insert_after
from bloatscope.model.dockerfile import Instruction

_APT_INSTALL = re.compile(r"\bapt(?:-get)?(?:\s+-{1,2}[\w=-]+)*\s+install\b")
_APT_ANY = re.compile(r"\bapt(?:-get)?\s+(?:-{1,2}[\w=-]+\s+)*(?:update|install|upgrade)\b")
_NO_RECOMMENDS = re.compile(r"--no-install-recommends|Install-Recommends=(?:false|0)\b")
_NPM_INSTALL = re.compile(r"\bnpm\s+(?:install|ci|i)\b")


@dataclass(frozen=True, slots=True)
class _Cache:
    """One package manager's cache: what runs it, where it lives, which finding groups it is."""

    name: str
    rule: str
    uses: re.Pattern[str]
    targets: tuple[str, ...]
    groups: tuple[str, ...]
    mount_options: str = ""
    off_switch: re.Pattern[str] | None = None  # the RUN already keeps no cache


_CACHES = (
    _Cache(
        "apt",
        "BS101",
        _APT_ANY,
        ("/var/cache/apt", "/var/lib/apt"),
        ("apt-lists", "apt-cache", "apt-archives"),
        ",sharing=locked",  # apt takes a lock in both; parallel builds must wait for it
    ),
    _Cache(
        "pip",
        "BS103",
        PIP_INSTALL,
        ("/root/.cache/pip",),
        ("pip",),
        off_switch=re.compile(r"--no-cache-dir|PIP_NO_CACHE_DIR"),
    ),
    _Cache(
        "npm",
        "BS104",
        _NPM_INSTALL,
        ("/root/.npm",),
        ("npm",),
        off_switch=re.compile(r"npm\s+cache\s+clean"),
    ),
)


class CacheMountFixer(Fixer):
    """Final-stage RUNs that leave a package manager's cache in their layer get a cache mount
    over it. Without an image, a RUN counts as leaving its cache unless it visibly removes or
    disables it; with one, only where the analysis found that cache's bytes in its layer."""

    id = "cache-mounts"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        changes = []
        for block, instruction in draft.runs(context.dockerfile.final_stage.index):
            changes += self._fix_run(block, instruction, context)
        return changes

    def _fix_run(self, block: Block, instruction: Instruction, context: FixContext) -> list[Change]:
        script = instruction.script
        mounted = {_mount_target(m) for m in instruction.flag_values("mount") if "cache" in m}
        changes = []
        for cache in _CACHES:
            if not cache.uses.search(script) or set(cache.targets) <= mounted:
                continue
            layer = context.layer_of(instruction)
            saved = context.finding_bytes("package-cache", layer, cache.groups)
            if context.report is not None and layer is not None and not saved:
                continue  # measured: this RUN leaves none of that cache
            if context.report is None and cache.off_switch and cache.off_switch.search(script):
                continue
            if cache.name == "apt" and context.report is None and "/var/lib/apt/lists" in script:
                continue
            flags = [
                f"--mount=type=cache,target={target}{cache.mount_options}"
                for target in cache.targets
                if target not in mounted
            ]
            block.text = annotate(
                add_flags(block.text, flags), f"{cache.name} cache in a cache mount", saved
            )
            changes.append(
                Change(
                    self.id,
                    cache.rule,
                    f"{cache.name} cache kept out of the layer with a cache mount",
                    instruction.line,
                    saved if context.report is not None else None,
                    detail=tuple(flags),
                )
            )
        return changes


class NoRecommendsFixer(Fixer):
    """``apt-get install --no-install-recommends`` in the final stage. What it saves cannot be
    told from the image (which packages came in only as recommendations is not recorded), so
    it carries no estimate."""

    id = "no-install-recommends"

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        changes = []
        for block, instruction in draft.runs(context.dockerfile.final_stage.index):
            script = instruction.script
            if not _APT_INSTALL.search(script) or _NO_RECOMMENDS.search(script):
                continue
            block.text = insert_after(block.text, _APT_INSTALL, " --no-install-recommends")
            changes.append(
                Change(
                    self.id,
                    "BS102",
                    "apt installs without recommended packages",
                    instruction.line,
                    None,
                )
            )
        return changes


def _mount_target(mount: str) -> str:
    for part in mount.split(","):
        key, _, value = part.partition("=")
        if key in ("target", "dst", "destination"):
            return value.rstrip("/")
    return ""
