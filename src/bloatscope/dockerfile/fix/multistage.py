"""A builder stage: language packages are installed on the original (full) base, and only what
they installed is copied onto the slim variant, so compilers, headers and the full base's
other packages stay out of the image."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from bloatscope.dockerfile.fix.base import Block, Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.text import annotate
from bloatscope.model.dockerfile import Instruction

# Installs that need a toolchain or leave build-only files: they move to the builder
_BUILD_STEP = re.compile(
    r"\bpip3?(?:\.\d+)?\s+install\b|\s-m\s+pip\s+install\b|\bnpm\s+(?:install|ci|i)\b"
    r"|\byarn(?:\s+install)?\b|\bpoetry\s+install\b|\buv\s+pip\s+install\b|\bconda\s+install\b"
)
_SETUP = frozenset({"ARG", "ENV", "WORKDIR"})  # needed in both stages, in place
# what says how the image runs, not what a build step can read: never needed in the builder
_RUNTIME_ONLY = frozenset(
    {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "VOLUME", "STOPSIGNAL", "ONBUILD"}
)
# where a build step's files are not worth copying: caches and scratch space
_NOT_COPIED = ("tmp/", "root/.cache/", "var/cache/", "root/.npm/", "var/lib/apt/")
# usr/local, opt/venv: deeper directories may not exist once the builder installs less
_COPY_DEPTH = 2
_DEFAULT_INSTALL_DIRS = ("/usr/local",)
_DIRECTORY = 0x35  # tar typeflag '5'


class BuilderStageFixer(Fixer):
    """Runs when the final stage's base has a slim variant and the stage installs language
    packages. The builder is the original stage's base with the install steps and the files
    they read; the final stage starts from the slim base, copies what the installs wrote
    (with an image: the directories the install layers actually wrote; without: /usr/local)
    and keeps everything else in order."""

    id = "builder-stage"

    def __init__(self, slim_variant: Callable[[str], str | None]) -> None:
        self._slim_variant = slim_variant

    def apply(self, draft: Draft, context: FixContext) -> list[Change]:
        stage = context.dockerfile.final_stage
        slim = self._slim_variant(stage.base)
        if slim is None:
            return []
        blocks = [b for b in draft.blocks if b.stage == stage.index]
        source = next((b for b in blocks if b.keyword == "FROM"), None)
        builds = [b for b in blocks if _is_build_step(b)]
        if source is None or source.origin is None:
            return []
        if stage.base not in source.text:
            return []  # FROM python:${PY}: no literal base to swap; the lint finding explains
        saved = _full_base_bytes(context)
        if not builds:  # nothing to build: the slim base alone
            source.text = annotate(_swap_base(source.text, stage.base, slim), "slim base", saved)
            return [self._change(source.origin, f"base {stage.base} -> {slim}", saved, ())]
        inputs = _build_inputs(blocks, builds)
        name = _free_stage_name(context)
        # the comments above the FROM head the file: they stay above the builder
        leading = blocks[: blocks.index(source)]
        blocks = blocks[len(leading) :]
        builder = [*leading, Block(_builder_from(source.origin, name), None, stage.index)]
        # A build step may read what any earlier step left: `COPY . /app` before
        # `pip install -r /app/requirements.txt`, `apt-get install libpq-dev` before building
        # psycopg2. Those steps run in the builder too (and stay in the final stage); the
        # inputs named by a build step move.
        last_build = max(blocks.index(b) for b in builds)
        for position, block in enumerate(blocks):
            if block is source or block.keyword is None:
                continue
            earlier_step = position < last_build and block.keyword not in _RUNTIME_ONLY
            if block.keyword in _SETUP or block in builds or block in inputs or earlier_step:
                builder.append(Block(block.text, block.origin, stage.index))
        directories = _install_directories(context, [b.origin for b in builds if b.origin])
        saved = _plus_inputs(saved, context, [b.origin for b in inputs if b.origin])
        copies = "".join(f"COPY --from={name} {d} {d}\n" for d in directories)
        final: list[Block] = []
        placed = False
        for block in blocks:
            if block is source:
                text = annotate(
                    _swap_base(source.text, stage.base, slim),
                    f"slim base; packages built in the {name} stage",
                    saved,
                )
                final.append(Block(text, block.origin, stage.index))
            elif block in builds or block in inputs:
                if not placed:
                    final.append(Block(copies, None, stage.index))
                    placed = True
            else:
                final.append(block)
        # the final stage is the file's last: the two stages replace it at the end
        earlier = [b for b in draft.blocks if b.stage != stage.index]
        draft.blocks = [*earlier, *builder, Block("\n", None, stage.index), *final]
        detail = tuple(f"COPY --from={name} {d}" for d in directories)
        return [self._change(source.origin, f"builder stage, then {slim}", saved, detail)]

    def _change(
        self, source: Instruction, title: str, saved: int | None, detail: tuple[str, ...]
    ) -> Change:
        return Change(self.id, "BS140", title, source.line, saved, detail=detail)


def _is_build_step(block: Block) -> bool:
    return (
        block.keyword == "RUN"
        and block.origin is not None
        and _BUILD_STEP.search(block.origin.script) is not None
    )


def _build_inputs(blocks: list[Block], builds: list[Block]) -> list[Block]:
    """COPY/ADD steps whose files a build step reads: a source named in a later build RUN
    (``COPY requirements.txt .`` before ``pip install -r requirements.txt``)."""
    inputs = []
    for index, block in enumerate(blocks):
        origin = block.origin
        if origin is None or origin.keyword not in ("COPY", "ADD") or origin.flag("from"):
            continue
        sources = [posixpath.basename(s.rstrip("/")) for s in origin.expanded[:-1]]
        later = [b.origin.script for b in builds if b.origin and blocks.index(b) > index]
        if sources and all(s and s != "." and any(s in text for text in later) for s in sources):
            inputs.append(block)
    return inputs


def _install_directories(context: FixContext, builds: Iterable[Instruction]) -> list[str]:
    """With an image: the top directories (two levels: /usr/local, /opt/venv) the build
    steps' layers wrote files into, caches and scratch space left out. Without: /usr/local."""
    report = context.report
    layers = {context.layer_of(b) for b in builds} - {None}
    if report is None or not layers:
        return list(_DEFAULT_INSTALL_DIRS)
    found: set[str] = set()
    for layer in layers:
        assert layer is not None
        for entry in report.image.layers[layer].entries:
            path = entry.path
            if entry.typeflag == _DIRECTORY or path.startswith(_NOT_COPIED):
                continue  # a directory entry says nothing of where the files went
            parts = path.split("/")
            if len(parts) <= 1:
                continue
            found.add("/".join(parts[: min(_COPY_DEPTH, len(parts) - 1)]))
    # keep the shallowest: usr/local/bin covers usr/local/bin/x
    chosen: list[str] = []
    for directory in sorted(found, key=lambda d: (d.count("/"), d)):
        if not any(directory == c or directory.startswith(c + "/") for c in chosen):
            chosen.append(directory)
    return ["/" + d for d in sorted(chosen)] or list(_DEFAULT_INSTALL_DIRS)


def _full_base_bytes(context: FixContext) -> int | None:
    """What the slim base and the builder keep out: in the base image's layers (those no
    instruction of the final stage made), its build tools and the packages a slim variant
    leaves out (the analysis' Debian dev-tool and full-base findings), and the package
    caches its own build left behind."""
    report, layers = context.report, context.layers
    if report is None or layers is None:
        return None
    made = set(layers.values())
    return sum(
        f.bytes
        for f in report.findings
        if f.layer is not None
        and f.layer not in made
        and (
            f.cause in ("full-base", "package-cache")
            or (f.cause == "dev-packages" and f.group == "dpkg")
        )
    )


def _plus_inputs(
    saved: int | None, context: FixContext, inputs: Iterable[Instruction]
) -> int | None:
    """The files the build steps read (a wheel, a requirements file) stay in the builder:
    their layers' bytes are saved too."""
    report = context.report
    if saved is None or report is None:
        return saved
    layers = {context.layer_of(i) for i in inputs} - {None}
    return saved + sum(
        report.image.layers[layer].size_bytes for layer in layers if layer is not None
    )


def _swap_base(text: str, base: str, slim: str) -> str:
    return text.replace(base, slim, 1) if base in text else text


def _builder_from(source: Instruction, name: str) -> str:
    platform = source.flag("platform")
    flag = f"--platform={platform} " if platform else ""
    return (
        f"FROM {flag}{source.expanded[0] if source.expanded else source.arguments[0]} AS {name}\n"
    )


def _free_stage_name(context: FixContext) -> str:
    """A name no stage has and no FROM, COPY --from or RUN --mount=from= uses (a new stage
    of that name would take the place of the image it names)."""
    dockerfile = context.dockerfile
    taken = {stage.name for stage in dockerfile.stages} | {s.base for s in dockerfile.stages}
    for instruction in dockerfile.instructions():
        taken.add(instruction.flag("from"))
        for mount in instruction.flag_values("mount"):
            taken.update(p[5:] for p in mount.split(",") if p.startswith("from="))
    taken = {name.lower() for name in taken if name}
    names = ("builder", "build", "bloatscope-builder")
    return next(
        name for name in (*names, *(f"builder{n}" for n in range(2, 10**6))) if name not in taken
    )
