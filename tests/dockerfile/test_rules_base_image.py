"""The FROM rules: BS140 (the image built on a full base with a slim variant), BS150/BS151 (a
base without a tag, or on :latest), the full/slim table, and a differential test of BS150/BS151
against hadolint's DL3006/DL3007."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rules_context import context_of, hadolint, places

from bloatscope.dockerfile.base import Rule
from bloatscope.dockerfile.rules.base_image import (
    SLIM_PAIRS,
    FullBaseImage,
    LatestBaseTag,
    UnpinnedBaseTag,
    full_base,
    hub_name,
    slim_variant,
    split_reference,
)

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("python", ("python", None, None)),
        ("python:3.12", ("python", "3.12", None)),
        ("localhost:5000/python", ("localhost:5000/python", None, None)),
        ("localhost:5000/python:3", ("localhost:5000/python", "3", None)),
        (f"python:3@{DIGEST}", ("python", "3", DIGEST)),
        (f"python@{DIGEST}", ("python", None, DIGEST)),
    ],
)
def test_split_reference(reference: str, expected: tuple[str, str | None, str | None]):
    assert split_reference(reference) == expected


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("docker.io/library/python", "python"),
        ("index.docker.io/library/python", "python"),
        ("library/python", "python"),
        ("docker.io/bitnami/python", "bitnami/python"),
        ("ghcr.io/library/python", "ghcr.io/library/python"),
        ("localhost/python-full", "localhost/python-full"),
    ],
)
def test_hub_name(name: str, short: str):
    assert hub_name(name) == short


@pytest.mark.parametrize(
    ("base", "slim"),
    [
        ("python:3.12", "python:3.12-slim"),
        ("python:3.12.4", "python:3.12.4-slim"),
        ("python:3.13.0rc1", "python:3.13.0rc1-slim"),
        ("python:3.12-bookworm", "python:3.12-slim-bookworm"),
        ("python:bookworm", "python:slim-bookworm"),
        ("python", "python:slim"),
        ("python:latest", "python:slim"),
        ("docker.io/library/python:3.11", "docker.io/library/python:3.11-slim"),
        (f"python:3.11@{DIGEST}", "python:3.11-slim"),  # the digest pinned the full image
        ("ruby:3.3-bookworm", "ruby:3.3-slim-bookworm"),
        ("node:22", "node:22-slim"),
        ("node:22-bookworm", "node:22-bookworm-slim"),
        ("node:lts", "node:lts-slim"),
        ("node:iron-bookworm", "node:iron-bookworm-slim"),
        ("debian:bookworm", "debian:bookworm-slim"),
        ("debian:12", "debian:12-slim"),
        ("debian:bookworm-20240311", "debian:bookworm-20240311-slim"),
        ("debian", "debian:stable-slim"),
        ("buildpack-deps:bookworm-scm", "debian:bookworm-slim"),
        ("docker.io/library/buildpack-deps:bullseye", "docker.io/library/debian:bullseye-slim"),
        ("buildpack-deps:jammy", "ubuntu:jammy"),
        ("eclipse-temurin:21", "eclipse-temurin:21-jre"),
        ("eclipse-temurin:21-jdk-jammy", "eclipse-temurin:21-jre-jammy"),
        ("eclipse-temurin:21.0.2_13-jdk", "eclipse-temurin:21.0.2_13-jre"),
        ("eclipse-temurin:21-jdk-alpine", "eclipse-temurin:21-jre-alpine"),
        ("openjdk:17-jdk-bookworm", "eclipse-temurin:17-jre"),
        ("localhost/python-full", "localhost/python-slim:latest"),
        ("localhost/python-full:latest", "localhost/python-slim:latest"),
        # not full, or not a full image this table can read
        ("python:3.12-slim", None),
        ("python:3.12-slim-bookworm", None),
        ("python:3.12-alpine3.20", None),
        ("python:3.12-windowsservercore-ltsc2022", None),
        ("python:my-own-build", None),
        ("node:22-alpine", None),
        ("node:slim", None),
        ("node:alpine", None),
        ("node:current-alpine3.20", None),
        ("node:bookworm-slim", None),
        ("debian:bookworm-slim", None),
        ("debian:bookworm-backports", None),
        ("eclipse-temurin:21-jre", None),
        ("eclipse-temurin:latest", None),
        ("openjdk:17-jdk-slim", None),
        ("ubuntu:24.04", None),
        ("alpine:3.20", None),
        ("ghcr.io/library/python:3.12", None),  # not Docker Hub's python
        ("golang:1.22", None),  # full, but no drop-in slim image
    ],
)
def test_slim_variant(base: str, slim: str | None):
    assert slim_variant(base) == slim


def test_full_base_without_a_drop_in():
    golang = full_base("golang:1.22-bookworm")
    assert golang is not None and golang[0].full == "golang" and golang[1] is None
    assert full_base("golang:1.22-alpine") is None
    pinned = full_base(f"python@{DIGEST}")  # full, but the version is hidden in the digest
    assert pinned is not None and pinned[1] is None


def test_pairs_table_is_unique():
    names = [pair.full for pair in SLIM_PAIRS]
    assert len(names) == len(set(names))


# --- BS140 -----------------------------------------------------------------------------------


def test_bs140_flags_the_final_base():
    text = "FROM python:3.12\nRUN pip install flask\n"
    violations = list(FullBaseImage().check(context_of(text)))
    assert places(violations) == [(1, 6)]
    violation = violations[0]
    assert violation.cause == "full-base" and violation.group == "debian"
    assert violation.fix.startswith("FROM python:3.12-slim,")
    assert "builder stage on python:3.12" in violation.fix


def test_bs140_never_flags_a_builder_stage():
    text = (
        "FROM python:3.12 AS build\nRUN pip wheel -w /w flask\n"
        "FROM python:3.12-slim\nCOPY --from=build /w /w\n"
    )
    assert list(FullBaseImage().check(context_of(text))) == []


def test_bs140_follows_the_final_stage_to_its_image():
    text = 'FROM node:22 AS base\nRUN npm ci\nFROM base AS app\nCMD ["node"]\n'
    violations = list(FullBaseImage().check(context_of(text)))
    assert places(violations) == [(1, 6)]
    assert violations[0].fix.startswith("FROM node:22-slim,")


def test_bs140_reads_the_base_after_build_arguments():
    text = "ARG PY=3.11\nFROM --platform=linux/amd64 python:${PY}\n"
    violations = list(FullBaseImage().check(context_of(text)))
    assert places(violations) == [(2, 29)]
    assert "python:3.11 " in violations[0].message or "python:3.11," in violations[0].message
    assert violations[0].fix.startswith("FROM python:3.11-slim,")


def test_bs140_golang_gets_advice_not_a_swap():
    violations = list(FullBaseImage().check(context_of("FROM golang:1.22\n")))
    assert len(violations) == 1 and "distroless" in violations[0].fix


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12-slim\n",
        "FROM scratch\nCOPY app /app\n",
        "FROM gcr.io/distroless/python3\n",
        "FROM python:3.12 AS build\nFROM scratch\nCOPY --from=build /x /x\n",
        "FROM ${BASE}\n",
    ],
)
def test_bs140_lookalikes(text: str):
    assert list(FullBaseImage().check(context_of(text))) == []


# --- BS150, BS151 ----------------------------------------------------------------------------

TAG_RULES: tuple[Rule, ...] = (UnpinnedBaseTag(), LatestBaseTag())
CODES = frozenset({"DL3006", "DL3007"})


def ours(text: str) -> set[tuple[str, int]]:
    context = context_of(text)
    return {(str(rule.hadolint), v.line) for rule in TAG_RULES for v in rule.check(context)}


def test_bs150_bs151_positions_and_texts():
    text = "FROM --platform=linux/arm64 node\nFROM python:latest AS x\n"
    context = context_of(text)
    unpinned = list(UnpinnedBaseTag().check(context))
    latest = list(LatestBaseTag().check(context))
    assert places(unpinned) == [(1, 29)] and places(latest) == [(2, 6)]
    assert "has no tag" in unpinned[0].message and "node:<version>" in unpinned[0].fix
    assert "is on :latest" in latest[0].message and "python:<version>" in latest[0].fix
    assert unpinned[0].cause is None and latest[0].cause is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM python\n", {("DL3006", 1)}),
        ("FROM python:latest\n", {("DL3007", 1)}),
        ("from debian\nFROM docker.io/library/node:latest\n", {("DL3006", 1), ("DL3007", 2)}),
        ("FROM python:3.12\nFROM python:3.12-slim AS final\n", set()),
        (f"FROM python@{DIGEST}\nFROM python:latest@{DIGEST}\n", set()),
        ("FROM scratch\n", set()),
        ("FROM python:3.12 AS builder\nFROM builder\nFROM builder:latest\n", {("DL3007", 3)}),
        (
            "ARG VERSION=3.12\nFROM python:${VERSION}\nFROM ${IMAGE}\nFROM ${REG}/python\n"
            "FROM python${SUFFIX}\nFROM $IMAGE:latest\nFROM python:${TAG:-latest}\n",
            {("DL3006", 5), ("DL3007", 6)},
        ),
        (
            "FROM localhost/python-full\nFROM x/$Y\nFROM registry.io/x${X}\n",
            {("DL3006", i) for i in (1, 2, 3)},
        ),
        ('FROM "python"\nFROM --platform=linux/amd64 node AS n\n', {("DL3006", 1), ("DL3006", 2)}),
    ],
)
def test_tags_agree_with_hadolint(text: str, expected: set[tuple[str, int]], tmp_path: Path):
    assert ours(text) == expected
    assert hadolint(tmp_path, text, CODES) == expected


def test_tags_where_we_differ_from_hadolint_on_purpose(tmp_path: Path):
    text = (
        "FROM python:3.12 AS builder\n"
        "FROM Builder\n"  # BuildKit: the stage "builder"; hadolint: an untagged image
        "FROM localhost:5000/python\n"  # no tag; hadolint takes "5000/python" for one
        'FROM python:"latest"\n'  # BuildKit drops the quotes: :latest; hadolint keeps them
    )
    assert ours(text) == {("DL3006", 3), ("DL3007", 4)}
    assert hadolint(tmp_path, text, CODES) == {("DL3006", 2)}
