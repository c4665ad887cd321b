"""Cause 3: package-manager caches and indexes left in the image (apt lists and archives, the
pip, uv, conda, npm, yarn, pnpm, apk, Go, cargo, Maven and gem caches). This module owns those
paths: the installer analyzer leaves files under them alone. Only visible regular files are
claimed; bytes a later layer hides belong to the shadowed causes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.entry import EntryType
from bloatscope.model.finding import Severity

_HOME = r"(?:root|home/[^/]+)/"
# Install roots of conda and its relatives; their pkgs/ directory is the package cache.
_CONDA = (
    r"(?:opt/|usr/local/|" + _HOME + r")"
    r"(?:conda|(?:mini|ana)conda3?|miniforge3?|mambaforge|micromamba)/pkgs/"
)

# One alternative per kind, each a named group, so that one anchored match per path both tests
# and names the kind (80k paths or more: one compiled regex, no per-kind loop). Group names use
# "_" where the kind id has "-".
_KINDS: tuple[tuple[str, str], ...] = (
    ("apt_lists", r"var/lib/apt/lists/(?!lock$|partial/).+"),
    ("apt_cache", r"var/cache/apt/[^/]+\.bin"),
    ("apt_archives", r"var/cache/apt/archives/[^/]+\.deb"),
    ("pip", _HOME + r"\.cache/pip/.+"),
    ("uv", _HOME + r"\.cache/uv/.+"),
    ("conda_pkgs", _CONDA + r".+"),
    ("npm", _HOME + r"\.npm/_cacache/.+"),
    ("yarn", r"(?:" + _HOME + r"|usr/local/share/)\.cache/yarn/.+"),
    ("pnpm", _HOME + r"(?:\.local/share/pnpm/store|\.pnpm-store)/.+"),
    ("apk", r"var/cache/apk/.+"),
    ("go_build", _HOME + r"\.cache/go-build/.+"),
    ("go_mod", r"(?:" + _HOME + r")?go/pkg/mod/cache/.+"),
    ("cargo", r"(?:" + _HOME + r"\.cargo|usr/local/cargo)/registry/.+"),
    ("maven", _HOME + r"\.m2/repository/.+"),
    # the Ruby install roots are spelled out: a free prefix would make every path scan
    (
        "gem",
        r"(?:usr/local/bundle/cache/.+"
        r"|(?:usr/(?:local/)?|opt/[^/]+/|"
        + _HOME
        + r"\.rubies/[^/]+/)?lib/ruby/gems/[^/]+/cache/.+)",
    ),
)
_PATTERN = re.compile("|".join(f"(?P<{name}>{rule})" for name, rule in _KINDS), re.DOTALL)

# Every rule above starts with one of these: one startswith turns away most of an image (the
# bulk of /usr and /usr/local) before the regex runs. Keep the two in step.
_STARTS = (
    "var/lib/apt/lists/",
    "var/cache/apt/",
    "var/cache/apk/",
    "root/",
    "home/",
    "opt/",
    "go/pkg/mod/cache/",
    "lib/ruby/gems/",
    "usr/lib/ruby/gems/",
    "usr/local/share/.cache/yarn/",
    "usr/local/cargo/registry/",
    "usr/local/bundle/cache/",
    "usr/local/lib/ruby/gems/",
    "usr/local/conda/",
    "usr/local/miniconda",
    "usr/local/anaconda",
    "usr/local/miniforge",
    "usr/local/mambaforge/",
    "usr/local/micromamba/",
)

_HARDLINK = int(EntryType.HARDLINK)  # a plain int: compared once per file

KINDS = tuple(name.replace("_", "-") for name, _rule in _KINDS)

_APT_CLEAN = (
    "Run `apt-get clean` in the same RUN as `apt-get install` (a later RUN cannot shrink the "
    "layer), or keep the cache out of the image with "
    "`RUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update && ...`."
)

_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "apt-lists": (
        "apt package lists left behind",
        "End the RUN that calls `apt-get update && apt-get install` with "
        "`&& rm -rf /var/lib/apt/lists/*`, or mount them as a cache: "
        "`RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked ...`.",
    ),
    "apt-cache": ("apt package cache (pkgcache.bin) left behind", _APT_CLEAN),
    "apt-archives": ("downloaded .deb archives left in the apt cache", _APT_CLEAN),
    "pip": (
        "pip cache left behind",
        "Use `pip install --no-cache-dir ...` (or `ENV PIP_NO_CACHE_DIR=1`), or mount the "
        "cache: `RUN --mount=type=cache,target=/root/.cache/pip pip install ...`.",
    ),
    "uv": (
        "uv cache left behind",
        "Use `uv pip install --no-cache ...` (or `ENV UV_NO_CACHE=1`), or mount the cache: "
        "`RUN --mount=type=cache,target=/root/.cache/uv uv ...`.",
    ),
    "conda-pkgs": (
        "conda package cache (pkgs/) left behind",
        "End the RUN that calls `conda install` (or `mamba`) with `&& conda clean -afy`.",
    ),
    "npm": (
        "npm cache left behind",
        "Run `npm ci && npm cache clean --force` in the same RUN, or mount the cache: "
        "`RUN --mount=type=cache,target=/root/.npm npm ci`.",
    ),
    "yarn": (
        "yarn cache left behind",
        "Run `yarn install && yarn cache clean` in the same RUN, or mount the cache: "
        "`RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install`.",
    ),
    "pnpm": (
        "pnpm store left behind",
        "Run `pnpm install && pnpm store prune` in the same RUN, or mount the store: "
        "`RUN --mount=type=cache,target=/root/.local/share/pnpm/store pnpm install`.",
    ),
    "apk": (
        "apk package cache left behind",
        "Use `apk add --no-cache ...`, which neither keeps the index nor the packages.",
    ),
    "go-build": (
        "Go build cache left behind",
        "Mount it: `RUN --mount=type=cache,target=/root/.cache/go-build go build ...`, or end "
        "the RUN with `&& go clean -cache`; better, build in a stage and copy the binary.",
    ),
    "go-mod": (
        "Go module download cache left behind",
        "Mount it: `RUN --mount=type=cache,target=/go/pkg/mod go build ...`, or end the RUN "
        "with `&& go clean -modcache`; better, build in a stage and copy the binary.",
    ),
    "cargo": (
        "cargo registry cache left behind",
        "Mount it: `RUN --mount=type=cache,target=/usr/local/cargo/registry cargo build ...` "
        "(`/root/.cargo/registry` outside the rust image); better, build in a stage.",
    ),
    "maven": (
        "Maven local repository (~/.m2) left behind",
        "Mount it: `RUN --mount=type=cache,target=/root/.m2 mvn package`; better, build in a "
        "stage and copy only the artifact.",
    ),
    "gem": (
        "gem cache left behind",
        "End the RUN that calls `bundle install` (or `gem install`) with "
        "`&& rm -rf /usr/local/bundle/cache` (or `$(gem env gemdir)/cache`).",
    ),
}


def cache_kind(path: str) -> str | None:
    """The cache kind that owns ``path`` (root-relative, no leading slash), or None."""
    if not path.startswith(_STARTS):
        return None
    match = _PATTERN.fullmatch(path)
    if match is None or match.lastgroup is None:
        return None
    return match.lastgroup.replace("_", "-")


class PackageCacheAnalyzer(Analyzer):
    """Claims every visible regular file under a package manager's cache, one group per kind."""

    cause = "package-cache"

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        found: list[Claim] = []
        # Bytes also reachable through a hardlink outside any cache (conda hardlinks pkgs/
        # into its environments) would stay after the clean-up, so they are not this cause's.
        kept: set[tuple[int, int]] = set()
        for path, node in data.nodes:
            content = node.content
            if content is None:
                continue
            kind = cache_kind(path) if path.startswith(_STARTS) else None
            if kind is not None:
                if node.size > 0:
                    found.append(Claim(kind, content, "/" + path, node.size))
            elif node.entry is not None and node.entry.typeflag == _HARDLINK:
                kept.add(content)
        for claim in found:
            if claim.content not in kept:
                yield claim

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        del paths
        title, fix = _DESCRIPTIONS[group]
        return Description(title, fix, Severity.MEDIUM)
