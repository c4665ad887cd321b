"""The ledger: runs the analyzers in order of precedence, counts each content for the first
that claims it, and groups the claims into findings, one per cause, kind and layer."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from bloatscope.analysis.ai_stacks import AiStacksAnalyzer
from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, ClaimBatch
from bloatscope.analysis.caches import PackageCacheAnalyzer
from bloatscope.analysis.context_junk import BuildContextAnalyzer
from bloatscope.analysis.dev_packages import DevPackagesAnalyzer
from bloatscope.analysis.duplicates import DuplicateAnalyzer
from bloatscope.analysis.full_base import FullBaseAnalyzer
from bloatscope.analysis.installers import InstallerAnalyzer
from bloatscope.analysis.model_weights import DEFAULT_MIN_BYTES as MODEL_MIN_BYTES
from bloatscope.analysis.model_weights import ModelWeightsAnalyzer
from bloatscope.analysis.runtime_extras import RuntimeExtrasAnalyzer
from bloatscope.analysis.shadowed import ShadowedAnalyzer
from bloatscope.model.finding import Finding
from bloatscope.model.report import ShadowCause
from bloatscope.model.tree import ContentId


def analyzers(model_min_bytes: int = MODEL_MIN_BYTES) -> tuple[Analyzer, ...]:
    """Every analyzer, in precedence order: the first to claim a content counts it. Shadowed
    bytes come first (no other cause can remove them), then packages nothing at run time needs
    (whole packages go, whatever their paths), then causes found by path, the most specific
    first, and the broad low-severity kinds last."""
    return (
        ShadowedAnalyzer(ShadowCause.OVERWRITTEN),
        ShadowedAnalyzer(ShadowCause.METADATA_ONLY),
        ShadowedAnalyzer(ShadowCause.DELETED),
        DevPackagesAnalyzer(),
        AiStacksAnalyzer(),
        FullBaseAnalyzer(),
        BuildContextAnalyzer(),
        PackageCacheAnalyzer(),
        InstallerAnalyzer(),
        ModelWeightsAnalyzer(model_min_bytes),
        DuplicateAnalyzer(),
        RuntimeExtrasAnalyzer(),
    )


ANALYZERS = analyzers()

PATHS_LISTED = 5


def find(
    data: AnalysisInput, analyzers: Sequence[Analyzer] = ANALYZERS, min_bytes: int = 0
) -> tuple[Finding, ...]:
    """The findings of at least ``min_bytes``, largest first. Smaller ones are left out, and so
    are their bytes from the total: the report's reclaimable bytes are what it lists."""
    return ledger(data, collect(data, analyzers), min_bytes)[0]


Collected = list[tuple[Analyzer, Iterable[Claim | ClaimBatch]]]


def collect(data: AnalysisInput, analyzers: Sequence[Analyzer]) -> Collected:
    """Each analyzer with its claims, produced as the ledger reads them."""
    return [(analyzer, analyzer.claims(data)) for analyzer in analyzers]


def ledger(
    data: AnalysisInput,
    collected: Collected,
    min_bytes: int = 0,
    claimed_before: Iterable[ContentId] = (),
) -> tuple[tuple[Finding, ...], set[ContentId]]:
    """The findings from claims in precedence order, each content counted for the first claim,
    none for contents ``claimed_before``; and every content claimed."""
    claimed: set[ContentId] = set(claimed_before)
    findings: list[Finding] = []
    for analyzer, analyzer_claims in collected:
        groups: dict[tuple[str, int], list[Claim]] = {}
        batched: dict[tuple[str, int], list[ContentId]] = {}
        sizes: dict[str, Mapping[ContentId, int]] = {}
        for claim in analyzer_claims:
            if isinstance(claim, ClaimBatch):
                new = [content for content in claim.contents if content not in claimed]
                claimed.update(new)
                sizes[claim.group] = claim.sizes
                for content in new:
                    batched.setdefault((claim.group, content[0]), []).append(content)
                continue
            if claim.content in claimed:
                continue
            claimed.add(claim.content)
            groups.setdefault((claim.group, claim.content[0]), []).append(claim)
        for key in dict.fromkeys([*groups, *batched]):
            claims = groups.get(key, [])
            contents = batched.get(key, [])
            batch_sizes = list(map(sizes[key[0]].__getitem__, contents)) if contents else []
            total = sum(claim.size for claim in claims) + sum(batch_sizes)
            if total >= min_bytes:
                # a batch's contents become claims only for the files a finding lists
                claims = claims + _largest_of(data, key[0], contents, batch_sizes)
                count = len(groups.get(key, [])) + len(contents)
                findings.append(_finding(data, analyzer, key, claims, total=total, count=count))
    return tuple(sort_findings(findings)), claimed


def _largest_of(
    data: AnalysisInput, group: str, contents: list[ContentId], sizes: list[int]
) -> list[Claim]:
    """Claims for the largest contents of a batch, with their paths."""
    layers = data.image.layers
    return [
        Claim(group, content, "/" + layers[content[0]].entries[content[1]].path, size)
        for size, content in heapq.nlargest(PATHS_LISTED, zip(sizes, contents, strict=True))
    ]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (-f.bytes, f.cause, f.layer if f.layer is not None else -1)
    )


def _finding(
    data: AnalysisInput,
    analyzer: Analyzer,
    key: tuple[str, int],
    claims: list[Claim],
    *,
    total: int,
    count: int,
) -> Finding:
    group, layer = key
    biggest = heapq.nlargest(PATHS_LISTED, claims, key=lambda c: (c.size, c.path))
    paths = tuple(claim.path for claim in biggest)
    description = analyzer.describe(group, paths)
    return Finding(
        cause=analyzer.cause,
        group=group,
        title=description.title,
        severity=description.severity,
        bytes=total,
        layer=layer,
        created_by=data.image.layers[layer].created_by,
        paths=paths,
        path_count=count,
        fix=description.fix,
    )
