"""The size lint rules, registered in one list in id order (the order SARIF lists them)."""

from __future__ import annotations

from bloatscope.dockerfile.base import Rule
from bloatscope.dockerfile.rules.add import AddUrlOrArchive
from bloatscope.dockerfile.rules.base_image import (
    FullBaseImage,
    LatestBaseTag,
    UnpinnedBaseTag,
    slim_variant,
)
from bloatscope.dockerfile.rules.context import CopyContextWithoutDockerignore, DockerignoreMisses
from bloatscope.dockerfile.rules.package_managers import (
    ApkCache,
    AptListsNotRemoved,
    AptNoInstallRecommends,
    DnfCleanup,
    NpmCache,
    PipCache,
    YarnCache,
    YumCleanup,
    ZypperCleanup,
)
from bloatscope.dockerfile.rules.run_hygiene import (
    BuildToolsInFinalStage,
    ChmodAfterCopy,
    DeletesEarlierLayer,
)

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
