"""Cause 6: the same bytes at two or more paths of the final filesystem (hardlinks excluded:
they share one content). Contents are compared by size, then by the xxh3 the reader took of
files whose sizes collide."""

from __future__ import annotations

from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.finding import Severity
from bloatscope.model.tree import ContentId
from bloatscope.reader.hashing import DUPLICATE_MIN_BYTES


class DuplicateAnalyzer(Analyzer):
    """Keeps the first copy (lowest layer, then path) of each content and claims the others."""

    cause = "duplicate"

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        copies: dict[tuple[int, int], list[tuple[ContentId, str]]] = {}
        seen: set[ContentId] = set()
        for path, size, content in data.files:
            if size < DUPLICATE_MIN_BYTES or content in seen:
                continue
            seen.add(content)  # a hardlinked inode is one content, counted at one path
            digest = data.image.layers[content[0]].entries[content[1]].digest
            if digest is not None:
                copies.setdefault((size, digest), []).append((content, "/" + path))
        for (size, _digest), found in copies.items():
            if len(found) < 2:
                continue
            found.sort(key=lambda item: (item[0][0], item[1]))
            for content, path in found[1:]:
                yield Claim("", content, path, size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        del group, paths
        return Description(
            "the same bytes as another path (the earliest copy is kept)",
            "Keep one copy: remove the others in the RUN that makes them, or link them "
            "(`ln -f`, `cp -l`); two copies of a package tree usually mean it was installed "
            "twice, in two places.",
            Severity.MEDIUM,
        )
