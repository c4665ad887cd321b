"""The package managers' cache rules as one set, and the caches a command fills.

The set: apt lists, pip, npm, yarn, apk, yum, dnf and zypper."""

from __future__ import annotations

from bloatscope.dockerfile.rules.apt import AptListsNotRemoved, AptNoInstallRecommends
from bloatscope.dockerfile.rules.cache_rule import CacheRule
from bloatscope.dockerfile.rules.distro_caches import (
    ApkCache,
    DnfCleanup,
    YumCleanup,
    ZypperCleanup,
)
from bloatscope.dockerfile.rules.language_caches import NpmCache, PipCache, YarnCache
from bloatscope.dockerfile.rules.run_paths import mounted
from bloatscope.dockerfile.rules.runs import Call, RunStep

# the package-manager rules re-exported: they stay importable from here, as one set
__all__ = [
    "ApkCache",
    "AptListsNotRemoved",
    "AptNoInstallRecommends",
    "DnfCleanup",
    "NpmCache",
    "PipCache",
    "YarnCache",
    "YumCleanup",
    "ZypperCleanup",
    "caches_filled",
]

_CACHE_RULES: tuple[CacheRule, ...] = (
    AptListsNotRemoved(),
    PipCache(),
    NpmCache(),
    YarnCache(),
    ApkCache(),
    YumCleanup(),
    DnfCleanup(),
    ZypperCleanup(),
)


def caches_filled(step: RunStep, call: Call) -> tuple[str, ...]:
    """The cache directories a command fills in its layer (none held by a mount)."""
    return tuple(
        directory
        for rule in _CACHE_RULES
        if rule.fills(call)
        for directory in rule.caches(call)[:1]
        if not mounted(step, (directory,))
    )
