"""The size lint rules, registered in one list in id order (the order SARIF lists them)."""

from __future__ import annotations

from bloatscope.dockerfile.base import Rule
from bloatscope.dockerfile.rules.add import AddUrlOrArchive
from bloatscope.dockerfile.rules.apt import AptListsNotRemoved, AptNoInstallRecommends
from bloatscope.dockerfile.rules.base_image import FullBaseImage, LatestBaseTag, UnpinnedBaseTag
from bloatscope.dockerfile.rules.build_tools import BuildToolsInFinalStage
from bloatscope.dockerfile.rules.context import CopyContextWithoutDockerignore, DockerignoreMisses
from bloatscope.dockerfile.rules.distro_caches import (
    ApkCache,
    DnfCleanup,
    YumCleanup,
    ZypperCleanup,
)
from bloatscope.dockerfile.rules.language_caches import NpmCache, PipCache, YarnCache
from bloatscope.dockerfile.rules.run_hygiene import ChmodAfterCopy, DeletesEarlierLayer
from bloatscope.dockerfile.rules.slim_pairs import slim_variant

__all__ = ["RULES", "slim_variant"]

RULES: tuple[Rule, ...] = (
    AptListsNotRemoved(),
    AptNoInstallRecommends(),
    PipCache(),
    NpmCache(),
    YarnCache(),
    ApkCache(),
    YumCleanup(),
    DnfCleanup(),
    ZypperCleanup(),
    CopyContextWithoutDockerignore(),
    DockerignoreMisses(),
    ChmodAfterCopy(),
    DeletesEarlierLayer(),
    AddUrlOrArchive(),
    FullBaseImage(),
    BuildToolsInFinalStage(),
    UnpinnedBaseTag(),
    LatestBaseTag(),
)
