"""The library entry points for Dockerfiles: ``lint_dockerfile`` and ``fix_dockerfile``, with
or without the image built from it (for the CLI, CI and users' own scripts)."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.dockerignore import dockerignore_path, read_dockerignore
from bloatscope.dockerfile.lint import lint
from bloatscope.dockerfile.parser import parse_file, parse_text
from bloatscope.dockerfile.rules import RULES, slim_variant
from bloatscope.model.dockerfile import Dockerfile
from bloatscope.model.lint import LintFinding
from bloatscope.progress import ProgressObserver

if TYPE_CHECKING:  # with an image, or to fix: loaded when used, so lint alone starts fast
    from bloatscope.dockerfile.fix.run import FixResult
    from bloatscope.model.report import Report


@dataclass(frozen=True, slots=True)
class DockerfileInputs:
    """A Dockerfile with what it is checked against: its build context's .dockerignore, and
    with an image, the analysis and the layer each final-stage instruction made."""

    dockerfile: Dockerfile
    context_dir: str
    dockerignore: tuple[str, ...] | None
    report: Report | None = None
    layers: Mapping[int, int] | None = None
    # the ignore file the build reads (it may not exist yet): the context's .dockerignore,
    # or BuildKit's <Dockerfile>.dockerignore beside the Dockerfile
    dockerignore_path: str | None = None


def load(
    dockerfile_path: str,
    *,
    image: str | None = None,
    report: Report | None = None,
    context_dir: str | None = None,
    build_args: Mapping[str, str] | None = None,
    progress: ProgressObserver | None = None,
) -> DockerfileInputs:
    """Parses the Dockerfile; with ``image`` (or an analyzed ``report``) ties its final stage
    to the image's layers. The context defaults to the Dockerfile's directory."""
    dockerfile = parse_file(dockerfile_path, build_args)
    context = context_dir or os.path.dirname(os.path.abspath(dockerfile_path))
    if not os.path.isdir(context):
        raise DockerfileError("build context is not a directory", path=context)
    ignore_path = dockerignore_path(dockerfile_path, context)
    ignore = read_dockerignore(ignore_path)
    if report is None and image is not None:
        from bloatscope.api import AnalyzeOptions, analyze  # noqa: PLC0415

        report = analyze(image, AnalyzeOptions(min_finding_bytes=0), progress)
    layers = None
    if report is not None:
        from bloatscope.dockerfile.history import map_history  # noqa: PLC0415

        layers = map_history(report.image, dockerfile).layers_by_line()
    return DockerfileInputs(dockerfile, context, ignore, report, layers, ignore_path)


def lint_dockerfile(
    inputs: DockerfileInputs, skip: Collection[str] = ()
) -> tuple[LintFinding, ...]:
    return lint(
        inputs.dockerfile,
        RULES,
        dockerignore=inputs.dockerignore,
        report=inputs.report,
        layers=inputs.layers,
        skip=skip,
    )


def fix_dockerfile(inputs: DockerfileInputs, *, apply_suggestions: bool = False) -> FixResult:
    from bloatscope.dockerfile.fix.base import FixContext  # noqa: PLC0415
    from bloatscope.dockerfile.fix.run import default_fixers, fix  # noqa: PLC0415

    context = FixContext(
        inputs.dockerfile,
        inputs.context_dir,
        inputs.dockerignore,
        inputs.report,
        inputs.layers,
        apply_suggestions=apply_suggestions,
        dockerignore_name=os.path.relpath(
            inputs.dockerignore_path or os.path.join(inputs.context_dir, ".dockerignore"),
            inputs.context_dir,
        ),
    )
    result = fix(context, default_fixers(slim_variant), parse_text)
    if "\r\n" in result.original:
        # a Windows checkout: the new lines get the file's line ending, so that the file does
        # not come back with mixed ones
        result = replace(result, text=_crlf(result.text))
    if _has_byte_order_mark(inputs.dockerfile.path):
        # the parser drops it; kept, the diff applies to the file and --write keeps it
        bom = "\ufeff"
        result = replace(result, original=bom + result.original, text=bom + result.text)
    return result


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _has_byte_order_mark(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False
