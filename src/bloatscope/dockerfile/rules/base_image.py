"""Size rules for FROM: a full base (BS140); a base without a tag or on :latest (BS150, BS151).

BS140: the image is built on a full base where a slim variant of the same release exists (the
full/slim pairs are the table in ``slim_pairs``). BS150 (hadolint DL3006): a base image without
a tag; BS151 (DL3007): one on ``:latest``.

Only the base the final image is built on is judged for BS140: a builder stage on a full image
ships nothing but what is copied from it. Tags are judged as written, as hadolint does: a tag
that is a variable (``python:${VERSION}``) is a tag, and an image whose name starts with a
variable (``${BASE}``, ``${REGISTRY}/python``) is not judged when it has none. Where this
differs from hadolint, on purpose: ``FROM Builder`` names the stage ``builder`` (BuildKit
compares stage names in lower case; hadolint does not), ``localhost:5000/python`` has no tag
(hadolint reads ``5000/python`` as one), and quotes go before the tag is read
(``python:"latest"`` is ``:latest``, as BuildKit reads it)."""

from __future__ import annotations

from collections.abc import Iterator

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.rules.context import word_position
from bloatscope.dockerfile.rules.slim_pairs import (
    SLIM_PAIRS,
    full_base,
    hub_name,
    slim_variant,
    split_reference,
)
from bloatscope.model.dockerfile import Dockerfile, Stage
from bloatscope.model.finding import Severity

# the table and reference readers re-exported: they stay importable from here
__all__ = [
    "SLIM_PAIRS",
    "FullBaseImage",
    "LatestBaseTag",
    "UnpinnedBaseTag",
    "full_base",
    "hub_name",
    "slim_variant",
    "split_reference",
]

# the full-base analysis' group (analysis.full_base.GROUP), spelled out: linting without an
# image never loads the analysis
_FULL_BASE_GROUP = "debian"


def _image_base(dockerfile: Dockerfile) -> Stage | None:
    """The stage whose FROM names the image the final stage is built on (the final stage, or
    the stage it names, and so on)."""
    if not dockerfile.stages:
        return None
    stage = dockerfile.final_stage
    while stage.base_stage is not None and stage.base_stage < stage.index:
        stage = dockerfile.stages[stage.base_stage]
    return stage


class FullBaseImage(Rule):
    id = "BS140"
    name = "full-base-image"
    severity = Severity.MEDIUM
    title = "The image is built on a full base where a slim variant exists"

    def check(self, context: LintContext) -> Iterator[Violation]:
        dockerfile = context.dockerfile
        stage = _image_base(dockerfile)
        if stage is None or not stage.base or "$" in stage.base:
            return
        found = full_base(stage.base)
        if found is None:
            return
        pair, slim = found
        if slim:
            fix = (
                f"FROM {slim}, installing only the runtime libraries the app needs; build what "
                f"needs a compiler in a builder stage on {stage.base} and COPY --from the result."
            )
        else:
            fix = pair.advice or f"FROM the -slim variant of {stage.base}'s version."
        line, column = word_position(dockerfile, stage.source, 0)
        yield Violation(
            stage.source,
            f"The image is built on {stage.base}, a full base: {pair.leaves_out} the app "
            "does not run with",
            line,
            column,
            fix,
            cause="full-base",
            group=_FULL_BASE_GROUP,
        )


class _BaseTag(Rule):
    """BS150 and BS151: FROM an image by a tag that moves."""

    severity = Severity.LOW
    latest: bool

    def check(self, context: LintContext) -> Iterator[Violation]:
        dockerfile = context.dockerfile
        for stage in dockerfile.stages:
            source = stage.source
            if stage.base_stage is not None or not source.arguments or stage.base == "scratch":
                continue
            written = _unquoted(source.arguments[0])
            name, tag, digest = split_reference(written)
            if digest is not None or written == "scratch":
                continue
            if not (tag == "latest" if self.latest else tag is None):
                continue
            if tag is None and _without_registry(name).startswith("$"):
                continue  # the whole image is a build argument's: hadolint does not judge it
            line, column = word_position(dockerfile, source, 0)
            yield Violation(source, self._message(written), line, column, self._fix(name))

    def _message(self, written: str) -> str:
        how = "is on :latest" if self.latest else "has no tag, so it means :latest"
        return (
            f"FROM {written} {how}, which moves: two builds of this Dockerfile can differ in "
            "size with nothing in the file to show why"
        )

    def _fix(self, name: str) -> str:
        return (
            f"Pin a version tag ({name}:<version>), or a digest for a build that must not "
            f"change ({name}:<version>@sha256:...)."
        )


class UnpinnedBaseTag(_BaseTag):
    id = "BS150"
    name = "unpinned-base-tag"
    hadolint = "DL3006"
    title = "A base image without a tag"
    latest = False


class LatestBaseTag(_BaseTag):
    id = "BS151"
    name = "latest-base-tag"
    hadolint = "DL3007"
    title = "A base image on :latest"
    latest = True


def _without_registry(name: str) -> str:
    first, slash, rest = name.partition("/")
    registry = slash and ("." in first or ":" in first or first == "localhost")
    return rest if registry else name


def _unquoted(word: str) -> str:
    return word.replace('"', "").replace("'", "")
