"""Causes 1 and 2: bytes a layer ships that a later layer overwrites, re-ships with only new
metadata, or deletes. The bytes still travel with the image; only where they are made can they
go."""

from __future__ import annotations

from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.finding import Severity
from bloatscope.model.report import ShadowCause

_DESCRIPTIONS = {
    ShadowCause.OVERWRITTEN: (
        "overwritten in a later layer",
        "Write the file once, in its final form: the earlier copy ships even though nothing "
        "sees it. Build it where it is used, or in a build stage and `COPY --from` the result.",
    ),
    ShadowCause.METADATA_ONLY: (
        "re-shipped by a chmod/chown/touch in a later layer",
        "Set mode and owner when the file is added (`COPY --chmod=... --chown=...`), or in the "
        "same RUN that creates it; a later chmod/chown copies the whole file again.",
    ),
    ShadowCause.DELETED: (
        "deleted in a later layer, still shipped",
        "Delete it in the same RUN that creates it (`... && rm -rf PATH`), or create it in a "
        "build stage and copy only what the image needs; a later rm does not shrink the image.",
    ),
}


class ShadowedAnalyzer(Analyzer):
    """Claims every shadowed entry under its own cause; one analyzer per shadow cause keeps
    the cause id on the finding."""

    def __init__(self, cause: ShadowCause) -> None:
        self._kind = cause
        self.cause = str(cause)

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        for item in data.shadowed.files:
            if item.cause is self._kind:
                yield Claim("", (item.layer, item.entry_index), "/" + item.path, item.size_bytes)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        del group, paths
        title, fix = _DESCRIPTIONS[self._kind]
        return Description(title, fix, Severity.HIGH)
