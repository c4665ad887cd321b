"""The parser against real tools: hadolint (its findings' lines must be our instructions' lines)
and buildah (the image config it builds must be what our substituted words say). buildah uses
its own Dockerfile code, which differs from BuildKit in places (it ignores the escape directive
inside words, lacks ``${VAR-x}``, and does not pass ARGs on to child stages): these fixtures keep
to what both agree on; test_parser.py covers the BuildKit-only rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bloatscope.dockerfile.parser import parse_file
from bloatscope.model.dockerfile import Dockerfile

HADOLINT_FIXTURE = """\
# syntax=docker/dockerfile:1

ARG BASE=debian
FROM ${BASE} AS build
# a comment before a continued RUN
  RUN apt-get update && \\
      # a comment inside the continuation
      apt-get install -y curl \\

      && rm -rf /var/lib/apt/lists/*
RUN <<EOT bash
  set -e
  cd /tmp
EOT

COPY <<EOF /etc/motd
hello
EOF

\tRUN cd /tmp && sudo make
WORKDIR app
FROM build AS final
RUN --mount=type=cache,target=/var/cache/apt \\
    apt-get install -y nano
CMD python -m http.server
"""
# which instruction each hadolint finding is about
_HADOLINT_KEYWORDS = {
    "DL3000": "WORKDIR",
    "DL3003": "RUN",
    "DL3004": "RUN",
    "DL3008": "RUN",
    "DL3015": "RUN",
    "DL3025": "CMD",
}


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_hadolint_findings_sit_on_our_instruction_lines(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    path = tmp_path / "Dockerfile"
    path.write_text(HADOLINT_FIXTURE)
    ran = subprocess.run(
        [hadolint, "--no-fail", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    findings = [(f["line"], f["code"]) for f in json.loads(ran.stdout)]
    ours = {i.line: i for i in parse_file(str(path)).instructions()}
    assert {line for line, _ in findings} == {6, 11, 20, 21, 23, 25}
    for line, code in findings:
        assert ours[line].keyword == _HADOLINT_KEYWORDS[code], (line, code)
    assert (ours[6].end_line, ours[6].column, ours[20].column) == (10, 3, 2)
    assert (ours[11].end_line, ours[16].end_line) == (14, 18)


BUILDAH_FIXTURE = """\
ARG REGISTRY=docker.io
ARG FLAVOR
FROM scratch AS base
ARG FLAVOR
ARG PREFIX=/opt
ENV APP_HOME=$PREFIX/app \\
    EMPTY= \\
    QUOTED="two words" SINGLE='$PREFIX'
ENV abc=hello
ENV abc=bye def=$abc
LABEL dash="${UNSET:-d3}|${EMPTY:-d4}" \\
      plus="${APP_HOME:+p3}|${EMPTY:+p4}" \\
      escaped="\\$APP_HOME|\\${APP_HOME}" flavor="${FLAVOR:-none}" home=${APP_HOME}
WORKDIR ${APP_HOME}/src
USER ${FLAVOR:-nobody}:${FLAVOR:-nogroup}
EXPOSE 8080/tcp ${PORT:-9090}
VOLUME ["/data", "$PREFIX/cache"]
STOPSIGNAL SIGTERM
COPY a.txt ${APP_HOME}/
FROM base AS final
ENV LEAF=$APP_HOME/leaf
LABEL child="$QUOTED" ghi=$abc
"""


def _buildah_config(context: Path, build_args: dict[str, str]) -> dict[str, object]:
    """The config of the image buildah builds from the context (scratch stages only: no
    registry, no runtime), in a throwaway store."""
    buildah = _tool("buildah")
    store = context.parent / "store"
    base = [buildah, "--root", str(store / "root"), "--runroot", str(store / "run")]
    base += ["--storage-driver", "vfs"]
    arguments = [f"--build-arg={name}={value}" for name, value in build_args.items()]
    built = subprocess.run(
        [*base, "build", "--layers=false", "-q", *arguments, "-t", "parsed", str(context)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0 and "STEP" not in built.stdout + built.stderr:
        pytest.skip(f"buildah cannot build here: {built.stderr.strip()[-200:]}")
    assert built.returncode == 0, built.stderr
    shown = subprocess.run(
        [*base, "inspect", "--type", "image", "parsed"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config: dict[str, object] = json.loads(shown.stdout)["OCIv1"]["config"]
    return config


def _pairs(dockerfile: Dockerfile, keyword: str) -> dict[str, str]:
    """ENV or LABEL values of the final stage and the stages it is built from."""
    chain = [dockerfile.final_stage]
    while chain[-1].base_stage is not None:
        chain.append(dockerfile.stages[chain[-1].base_stage])
    found: dict[str, str] = {}
    for stage in reversed(chain):
        for instruction in stage.instructions:
            if instruction.keyword == keyword:
                words = instruction.expanded
                found.update(zip(words[::2], words[1::2], strict=True))
    return found


def _last(dockerfile: Dockerfile, keyword: str) -> tuple[str, ...]:
    return [i for i in dockerfile.instructions() if i.keyword == keyword][-1].expanded


def test_buildah_builds_the_config_our_words_describe(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "a.txt").write_text("hi\n")
    (context / "Dockerfile").write_text(BUILDAH_FIXTURE)
    build_args = {"FLAVOR": "slim"}
    config = _buildah_config(context, build_args)
    ours = parse_file(str(context / "Dockerfile"), build_args=build_args)

    labels = dict(config["Labels"])  # type: ignore[call-overload]
    labels.pop("io.buildah.version", None)
    assert labels == _pairs(ours, "LABEL")
    env = dict(entry.split("=", 1) for entry in config["Env"])  # type: ignore[attr-defined]
    expected_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    assert env == expected_env | _pairs(ours, "ENV")
    assert config["WorkingDir"] == _last(ours, "WORKDIR")[0] == "/opt/app/src"
    assert config["User"] == _last(ours, "USER")[0] == "slim:slim"
    ports = {p if "/" in p else p + "/tcp" for p in _last(ours, "EXPOSE")}
    assert set(config["ExposedPorts"]) == ports  # type: ignore[call-overload]
    assert set(config["Volumes"]) == set(_last(ours, "VOLUME"))  # type: ignore[call-overload]
    assert config["StopSignal"] == _last(ours, "STOPSIGNAL")[0]
    assert [(s.name, s.base, s.base_stage) for s in ours.stages] == [
        ("base", "scratch", None),
        ("final", "base", 0),
    ]


def test_buildah_joins_backtick_continuations_as_we_do(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "# escape=`\n\nFROM scratch\nLABEL one=1 `\n    # comment\n    two=2 `\n\n    three=3\n"
    )
    config = _buildah_config(context, {})
    ours = parse_file(str(context / "Dockerfile"))
    label = ours.final_stage.instructions[1]
    assert (label.line, label.end_line) == (4, 8)
    labels = dict(config["Labels"])  # type: ignore[call-overload]
    labels.pop("io.buildah.version", None)
    assert labels == _pairs(ours, "LABEL") == {"one": "1", "two": "2", "three": "3"}
