"""The fixers, each through the whole pipeline (``fix`` with the default fixers and the
project's parser): what each one rewrites, the lookalikes it leaves alone, and the rest of
the Dockerfile (comments, blank lines, other stages) kept as it was."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bloatscope.api_dockerfile import load
from bloatscope.dockerfile.fix.base import Change, Draft, FixContext, Fixer
from bloatscope.dockerfile.fix.ignore import DOCKERIGNORE
from bloatscope.dockerfile.fix.run import FixResult, default_fixers, fix
from bloatscope.dockerfile.parser import parse_text
from bloatscope.dockerfile.rules import slim_variant
from bloatscope.dockerfile.rules.context import USUAL_JUNK
from bloatscope.model.report import Report

SHARED_IMAGES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "images"
PIP_MOUNT = "--mount=type=cache,target=/root/.cache/pip"
APT_MOUNTS = (
    "--mount=type=cache,target=/var/cache/apt,sharing=locked "
    "--mount=type=cache,target=/var/lib/apt,sharing=locked"
)


def rewrite(
    text: str,
    *,
    context_dir: Path | None = None,
    dockerignore: tuple[str, ...] | None = None,
    report: Report | None = None,
    layers: Mapping[int, int] | None = None,
    apply_suggestions: bool = False,
) -> FixResult:
    context = FixContext(
        parse_text(text),
        str(context_dir) if context_dir is not None else None,
        dockerignore,
        report,
        layers,
        apply_suggestions=apply_suggestions,
    )
    return fix(context, default_fixers(slim_variant), parse_text)


def fixers_of(result: FixResult) -> list[tuple[str, int]]:
    return [(change.fixer, change.line) for change in result.changes]


def unchanged(text: str, **options: Any) -> None:
    result = rewrite(text, **options)
    assert (result.text, result.files, result.changes) == (text, {}, ())
    assert result.diff() == ""


# --- cache mounts -------------------------------------------------------------------------


def test_pip_cache_gets_a_cache_mount() -> None:
    result = rewrite("FROM python:3.11-slim\nRUN pip install flask\n")
    assert result.text == (
        "FROM python:3.11-slim\n"
        "# bloatscope: pip cache in a cache mount\n"
        f"RUN {PIP_MOUNT} pip install flask\n"
    )
    (change,) = result.changes
    assert (change.fixer, change.rule, change.line) == ("cache-mounts", "BS103", 2)
    assert change.estimate_bytes is None  # no image: nothing measured
    assert change.detail == ("--mount=type=cache,target=/root/.cache/pip",)


@pytest.mark.parametrize(
    "run",
    [
        f"RUN {PIP_MOUNT} pip install flask",
        "RUN --mount=type=cache,target=/root/.cache/pip/ pip install flask",  # same target
        "RUN pip install --no-cache-dir flask",
        "RUN PIP_NO_CACHE_DIR=1 python -m pip install flask",
        "RUN <<EOF\npip install flask\nEOF",  # heredocs are left to the lint finding
        "RUN pip3 --version",  # pip, but installs nothing
        "RUN echo pipe install",
    ],
)
def test_pip_runs_that_keep_no_cache_are_left_alone(run: str) -> None:
    unchanged(f"FROM python:3.11-slim\n{run}\n")


def test_apt_gets_both_cache_mounts_and_no_recommends() -> None:
    result = rewrite("FROM debian:12-slim\nRUN apt-get update && apt-get -y install curl\n")
    assert result.text == (
        "FROM debian:12-slim\n"
        "# bloatscope: apt cache in a cache mount\n"
        f"RUN {APT_MOUNTS} apt-get update && apt-get -y install --no-install-recommends curl\n"
    )
    assert fixers_of(result) == [("no-install-recommends", 2), ("cache-mounts", 2)]


def test_a_mount_already_there_is_not_added_twice() -> None:
    text = (
        "FROM debian:12-slim\n"
        "RUN --mount=type=cache,target=/var/cache/apt apt-get update && "
        "apt-get install --no-install-recommends -y curl\n"
    )
    result = rewrite(text)
    assert result.text == (
        "FROM debian:12-slim\n"
        "# bloatscope: apt cache in a cache mount\n"
        "RUN --mount=type=cache,target=/var/lib/apt,sharing=locked "
        "--mount=type=cache,target=/var/cache/apt apt-get update && "
        "apt-get install --no-install-recommends -y curl\n"
    )
    both = text.replace("--mount=", "--mount=type=cache,target=/var/lib/apt --mount=", 1)
    unchanged(both)


def test_apt_lists_removed_in_the_run_get_no_mount_without_an_image() -> None:
    text = (
        "FROM debian:12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl "
        "&& rm -rf /var/lib/apt/lists/*\n"
    )
    unchanged(text)


def test_npm_and_the_exec_form() -> None:
    text = (
        'FROM node:20-slim\nRUN npm ci\nRUN npm ci && npm cache clean --force\nRUN ["npm", "i"]\n'
    )
    result = rewrite(text)
    assert result.text == (
        "FROM node:20-slim\n"
        "# bloatscope: npm cache in a cache mount\n"
        "RUN --mount=type=cache,target=/root/.npm npm ci\n"
        "RUN npm ci && npm cache clean --force\n"
        "# bloatscope: npm cache in a cache mount\n"
        'RUN --mount=type=cache,target=/root/.npm ["npm", "i"]\n'
    )
    parsed = parse_text(result.text)
    assert parsed.final_stage.instructions[-1].exec_form


def test_only_the_final_stage_is_edited() -> None:
    # an earlier stage's caches never reach the image
    unchanged(
        "FROM debian:12-slim AS tools\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "RUN pip install flask\n"
        "FROM debian:12-slim\n"
        "COPY --from=tools /usr/bin/curl /usr/bin/curl\n"
    )


# --- --no-install-recommends --------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("apt-get install -y curl", "apt-get install --no-install-recommends -y curl"),
        ("apt -y install curl", "apt -y install --no-install-recommends curl"),
        (
            "apt-get install -y a && apt-get install -y b",
            "apt-get install --no-install-recommends -y a && "
            "apt-get install --no-install-recommends -y b",
        ),
    ],
)
def test_no_install_recommends_goes_after_install(written: str, expected: str) -> None:
    result = rewrite(f"FROM debian:12-slim\nRUN {written} && rm -rf /var/lib/apt/lists/*\n")
    assert result.text == f"FROM debian:12-slim\nRUN {expected} && rm -rf /var/lib/apt/lists/*\n"
    assert [c.rule for c in result.changes] == ["BS102"]


@pytest.mark.parametrize(
    "written",
    [
        "apt-get install --no-install-recommends -y curl",
        "apt-get install -o APT::Install-Recommends=false -y curl",
        "apt-get update",
        "aptitude install -y curl",
        "apt-cache show curl",
    ],
)
def test_no_install_recommends_lookalikes(written: str) -> None:
    unchanged(f"FROM debian:12-slim\nRUN {written} && rm -rf /var/lib/apt/lists/*\n")


def test_a_heredoc_run_is_not_edited() -> None:
    unchanged("FROM debian:12-slim\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n")


# --- .dockerignore ------------------------------------------------------------------------


def test_a_context_copy_without_a_dockerignore_gets_the_usual_junk() -> None:
    text = 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'
    result = rewrite(text)
    ignore = result.files[DOCKERIGNORE].splitlines()
    assert ignore[0] == "# written by bloatscope fix: build-context junk the image does not need"
    assert ignore[1:] == list(USUAL_JUNK)
    assert result.text == text.replace(
        "COPY", "# bloatscope: junk kept out by .dockerignore\nCOPY", 1
    )
    (change,) = result.changes
    assert (change.rule, change.line, change.title) == ("BS110", 2, ".dockerignore: 11 line(s)")


@pytest.mark.parametrize(
    "copy",
    ["COPY src/ /app/", "COPY --from=build . /app", "COPY requirements.txt app.py /app/"],
)
def test_no_dockerignore_without_a_whole_context_copy(copy: str) -> None:
    unchanged(f'FROM python:3.11-slim AS build\nFROM python:3.11-slim\n{copy}\nCMD ["x"]\n')


def test_a_line_that_would_drop_a_file_another_copy_needs_is_not_written(
    tmp_path: Path,
) -> None:
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "site.py").write_text("")
    (tmp_path / "setup.log").write_text("")
    text = (
        "FROM python:3.11-slim\nCOPY .venv /opt/venv\nCOPY ./setup.log /var/log/\n"
        'COPY . /app\nCMD ["python", "/app/main.py"]\n'
    )
    result = rewrite(text, context_dir=tmp_path)
    written = result.files[DOCKERIGNORE].splitlines()
    assert ".venv/" not in written and "*.log" not in written
    assert "venv/" in written and ".git" in written  # the rest is still there
    (change,) = result.changes
    assert change.line == 4  # the context copy
    assert "not ignored (another COPY needs it): .venv/" in change.detail
    assert "not ignored (another COPY needs it): *.log" in change.detail


def test_an_existing_dockerignore_is_extended_not_repeated(tmp_path: Path) -> None:
    (tmp_path / DOCKERIGNORE).write_text("# mine\n.git\nsecrets/\n")
    text = 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'
    result = rewrite(text, context_dir=tmp_path, dockerignore=(".git", "secrets/"))
    written = result.files[DOCKERIGNORE]
    assert written.startswith("# mine\n.git\nsecrets/\n\n# written by bloatscope fix")
    assert written.splitlines().count(".git") == 1
    assert [c.rule for c in result.changes] == ["BS111"]  # a .dockerignore that misses junk
    unchanged(text, context_dir=tmp_path, dockerignore=USUAL_JUNK)


# --- COPY --chmod / --chown ---------------------------------------------------------------


def permissions_context(directory: Path) -> Path:
    (directory / "run.sh").write_text("#!/bin/sh\n")
    (directory / "app").mkdir()
    return directory


def test_chmod_of_a_copied_file_moves_to_copy(tmp_path: Path) -> None:
    context = permissions_context(tmp_path)
    text = (
        "FROM alpine:3.20\nWORKDIR /app\nCOPY run.sh run.sh\n"
        '# make it runnable\nRUN chmod 755 run.sh\nCMD ["./run.sh"]\n'
    )
    result = rewrite(text, context_dir=context)
    assert result.text == (
        "FROM alpine:3.20\nWORKDIR /app\n"
        "# bloatscope: chmod at copy time\nCOPY --chmod=755 run.sh run.sh\n"
        '# make it runnable\nCMD ["./run.sh"]\n'
    )
    (change,) = result.changes
    assert (change.rule, change.line, change.title) == (
        "BS121",
        5,
        "COPY --chmod=755 instead of a RUN chmod",
    )


def test_recursive_chown_of_a_copied_directory_moves_to_copy(tmp_path: Path) -> None:
    text = "FROM alpine:3.20\nCOPY app/ /srv/app\nRUN chown -R app:app /srv/app\n"
    result = rewrite(text, context_dir=permissions_context(tmp_path))
    assert result.text == (
        "FROM alpine:3.20\n# bloatscope: chown at copy time\nCOPY --chown=app:app app/ /srv/app\n"
    )


@pytest.mark.parametrize(
    ("copy", "run"),
    [
        ("COPY run.sh /run.sh", "RUN chmod +x /run.sh"),  # symbolic: COPY --chmod needs 1.14
        ("COPY app/ /srv/app", "RUN chmod 755 /srv/app"),  # the directory alone
        ("COPY . /srv", "RUN chmod 755 /srv/run.sh"),  # a file inside the copy, not its target
        ("COPY run.sh /run.sh", "RUN chmod 755 /run.sh && /run.sh"),  # more than the chmod
        ("COPY run.sh /run.sh", "RUN chmod 755 /other.sh"),
        ("COPY --chmod=700 run.sh /run.sh", "RUN chmod 755 /run.sh"),  # already set at copy
        ("COPY run.sh /run.sh", "RUN <<EOF\nchmod 755 /run.sh\nEOF"),
        ("COPY --from=tools /bin/x /x", "RUN chmod 755 /x"),  # a file or a tree: not known
    ],
)
def test_chmod_lookalikes_are_left_alone(tmp_path: Path, copy: str, run: str) -> None:
    unchanged(
        f"FROM alpine:3.20 AS tools\nFROM alpine:3.20\n{copy}\n{run}\n",
        context_dir=permissions_context(tmp_path),
        dockerignore=USUAL_JUNK,
    )


def test_a_non_recursive_chmod_needs_the_context_to_know_the_source_is_a_file() -> None:
    unchanged("FROM alpine:3.20\nCOPY run.sh /run.sh\nRUN chmod 755 /run.sh\n", context_dir=None)


# --- builder stage ------------------------------------------------------------------------


def test_a_full_base_with_pip_installs_gets_a_builder_stage() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM python:3.11\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    result = rewrite(text)
    assert result.text == (
        "# syntax=docker/dockerfile:1\n"
        "FROM python:3.11 AS builder\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "\n"
        "# bloatscope: slim base; packages built in the builder stage\n"
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY --from=builder /usr/local /usr/local\n"
        "COPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    (change,) = result.changes
    assert (change.rule, change.line, change.detail) == (
        "BS140",
        2,
        ("COPY --from=builder /usr/local",),
    )
    assert parse_text(result.text).directives == {"syntax": "docker/dockerfile:1"}


def test_nothing_to_build_swaps_the_base_only() -> None:
    result = rewrite('FROM python:3.11\nCOPY app.py /app.py\nCMD ["python", "/app.py"]\n')
    assert result.text == (
        "# bloatscope: slim base\nFROM python:3.11-slim\n"
        'COPY app.py /app.py\nCMD ["python", "/app.py"]\n'
    )


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        ("FROM alpine AS builder\n", "build"),
        ("FROM alpine AS Builder\nFROM alpine AS build\n", "bloatscope-builder"),
        (
            "FROM alpine AS builder\nFROM alpine AS build\nFROM alpine AS bloatscope-builder\n"
            "FROM alpine AS builder2\n",
            "builder3",
        ),
    ],
)
def test_the_builder_stage_name_never_collides(earlier: str, expected: str) -> None:
    text = f"{earlier}FROM python:3.11\nRUN pip install --no-cache-dir flask\n"
    result = rewrite(text)
    assert result.text.startswith(earlier)  # earlier stages stay as they were
    assert f"FROM python:3.11 AS {expected}\n" in result.text
    assert f"COPY --from={expected} /usr/local /usr/local\n" in result.text
    parsed = parse_text(result.text)
    names = [stage.name for stage in parsed.stages]
    assert len(set(names)) == len(names)


def test_an_image_copy_from_uses_keeps_its_name() -> None:
    # COPY --from=builder names an image here; a stage called builder would replace it
    text = (
        "FROM python:3.11\nCOPY --from=builder /bin/tool /usr/bin/tool\n"
        "RUN pip install --no-cache-dir flask\n"
    )
    result = rewrite(text)
    assert "FROM python:3.11 AS build\n" in result.text
    assert "COPY --from=builder /bin/tool /usr/bin/tool\n" in result.text


def test_the_platform_and_the_final_stage_name_are_kept() -> None:
    text = "FROM --platform=linux/amd64 python:3.11 AS app\nRUN pip install --no-cache-dir flask\n"
    result = rewrite(text)
    stages = parse_text(result.text).stages
    assert [(s.name, s.base, s.platform) for s in stages] == [
        ("builder", "python:3.11", "linux/amd64"),
        ("app", "python:3.11-slim", "linux/amd64"),
    ]


@pytest.mark.parametrize("copy", ["COPY a /a", "RUN pip install --no-cache-dir flask"])
def test_a_base_written_with_an_argument_is_left_to_the_lint_finding(copy: str) -> None:
    # the slim base could only be written over ${PY}, losing what the ARG chooses
    unchanged(f"ARG PY=3.11\nFROM python:${{PY}}\n{copy}\n")


def test_a_slim_base_gets_no_builder_stage() -> None:
    unchanged("FROM python:3.11-slim\nRUN pip install --no-cache-dir flask\n")


# --- suggestions --------------------------------------------------------------------------

UNUSED_COPY = (
    'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nCOPY . /src/\nCMD ["python", "app.py"]\n'
)


def test_an_unused_context_copy_is_suggested_and_dropped_only_when_asked() -> None:
    shown = rewrite(UNUSED_COPY, dockerignore=USUAL_JUNK)
    assert shown.text == UNUSED_COPY.replace(
        "COPY . /src/", "# bloatscope: suggestion: nothing uses /src; drop this COPY\nCOPY . /src/"
    )
    (change,) = shown.changes
    assert (change.suggestion, change.applied, change.line) == (True, False, 4)
    applied = rewrite(UNUSED_COPY, dockerignore=USUAL_JUNK, apply_suggestions=True)
    assert applied.text == UNUSED_COPY.replace("COPY . /src/\n", "")
    assert applied.changes[0].applied


@pytest.mark.parametrize(
    "uses",
    [
        'CMD ["python", "/src/app.py"]',
        "RUN python -m compileall /src",
        "WORKDIR /src",
        "ENV P=/src",
    ],
)
def test_a_context_copy_something_uses_is_not_suggested(uses: str) -> None:
    unchanged(f"FROM python:3.11-slim\nCOPY . /src/\n{uses}\n", dockerignore=USUAL_JUNK)


def test_a_copy_into_the_workdir_is_not_suggested() -> None:
    unchanged("FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n", dockerignore=USUAL_JUNK)


# --- the rest of the file -----------------------------------------------------------------


def test_comments_and_blank_lines_stay_in_place() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "# A service\n"
        "\n"
        "FROM debian:12-slim\n"
        "\n"
        "# tools\n"
        "RUN apt-get update \\\n"
        "    # the client only\n"
        "    && apt-get install -y curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "\n"
        "\t# indented comment\n"
        'CMD ["curl", "--version"]\n'
        "# the end, no newline"
    )
    result = rewrite(text)
    expected = text.replace("install -y", "install --no-install-recommends -y") + "\n"
    assert result.text == expected


def test_line_separators_other_than_newline_do_not_shift_edits() -> None:
    # a form feed and U+2028 inside lines: str.splitlines would see more lines than the parser
    text = (
        "# caf\u00e9 \u2028 notes\nFROM debian:12-slim\nRUN echo 'a\x0cb'\n"
        "RUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    )
    result = rewrite(text)
    assert result.text == text.replace("install -y", "install --no-install-recommends -y")
    assert result.diff().count("\n-RUN") == 1


def test_a_rewrite_that_does_not_parse_is_reported_as_a_bug() -> None:
    class Breaks(Fixer):
        id = "breaks"

        def apply(self, draft: Draft, context: FixContext) -> list[Change]:
            draft.blocks[0].text = "FROB x\n" + draft.blocks[0].text
            return []

    context = FixContext(parse_text("FROM debian:12-slim\n"), None, None)
    with pytest.raises(AssertionError, match="does not parse"):
        fix(context, [Breaks()], parse_text)


# --- with an image ------------------------------------------------------------------------


@pytest.mark.corpus
def test_with_naive_berts_image_the_fixers_follow_what_was_measured(
    naive_bert_report: Report,
) -> None:
    report = naive_bert_report
    inputs = load(str(SHARED_IMAGES / "naive-bert" / "Dockerfile"), report=report)
    context = FixContext(
        inputs.dockerfile, inputs.context_dir, inputs.dockerignore, report, inputs.layers
    )
    result = fix(context, default_fixers(slim_variant), parse_text)
    changes = {(c.fixer, c.line): c for c in result.changes}
    # apt (line 4, layer 2): the lists, pkgcache and archives the analysis found there
    apt = changes["cache-mounts", 4]
    caches = ("apt-lists", "apt-cache", "apt-archives")
    assert apt.estimate_bytes == sum(
        f.bytes
        for f in report.findings
        if f.cause == "package-cache" and f.layer == 2 and f.group in caches
    )
    assert apt.estimate_bytes is not None and apt.estimate_bytes > 150_000_000
    # the pip RUNs left no pip cache in their layers: no mount where nothing was measured
    assert ("cache-mounts", 7) not in changes and ("cache-mounts", 9) not in changes
    # the .dockerignore keeps out what the analysis found, but not the wheel COPY needs
    ignore = changes["dockerignore", 12]
    assert "not ignored (another COPY needs it): *.whl" in ignore.detail
    junk = [
        f.bytes
        for f in report.findings
        if f.cause == "build-context" and f.layer == 9 and f.group != "wheels"
    ]
    assert ignore.estimate_bytes == sum(junk)
    assert "*.whl" not in result.files[DOCKERIGNORE].splitlines()
    # suggestions: shown, not applied; the torch here is the CPU build already
    unused = changes["unused-requirements", 8]
    assert (unused.suggestion, unused.applied) == (True, False)
    assert "requirements.runtime.txt" not in result.files
    assert not any(c.fixer == "cpu-torch" for c in result.changes)

    applied = fix(
        FixContext(
            inputs.dockerfile,
            inputs.context_dir,
            inputs.dockerignore,
            report,
            inputs.layers,
            apply_suggestions=True,
        ),
        default_fixers(slim_variant),
        parse_text,
    )
    kept = applied.files["requirements.runtime.txt"].splitlines()
    assert {"transformers", "numpy"} <= set(kept)
    assert not {"flask", "pytest", "jupyter", "black"} & set(kept)
    assert "COPY requirements.runtime.txt ./requirements.txt\n" in applied.text
    assert "COPY . /src/" not in applied.text
