"""The Dockerfile commands: ``lint`` (size rules at lines, priced with an image when given)
and ``fix`` (the rewritten Dockerfile as a diff, or written in place)."""

from __future__ import annotations

import argparse
import os
import sys

from bloatscope.api_dockerfile import DockerfileInputs, fix_dockerfile, lint_dockerfile, load
from bloatscope.cli_common import (
    EXIT_GATE_FAILED,
    EXIT_OK,
    progress_display,
    write_output,
)
from bloatscope.dockerfile.rules import RULES
from bloatscope.errors import BloatscopeError
from bloatscope.model.finding import Severity
from bloatscope.render.lint import lint_json, lint_markdown, lint_text

_FAIL_LEVELS = {"none": None, "high": 0, "medium": 1, "low": 2}
_SEVERITY_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lint_cmd = sub.add_parser(
        "lint",
        help="check a Dockerfile for what makes images big (with an image: what it cost)",
        description="Check a Dockerfile against bloatscope's size rules. Without an image it "
        "works like hadolint, for size; with --image it ties each layer to its line and "
        "gives each finding the bytes the analysis measured.",
    )
    _dockerfile_arguments(lint_cmd)
    lint_cmd.add_argument(
        "--format", "-f", choices=["text", "json", "sarif", "markdown"], default="text"
    )
    lint_cmd.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")
    lint_cmd.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="RULE",
        help="skip a rule, by id (BS101) or name (repeatable; comma-separated works too)",
    )
    lint_cmd.add_argument(
        "--fail-on",
        choices=list(_FAIL_LEVELS),
        default="low",
        help="exit 1 when a finding of this severity or worse is found (default: low, i.e. "
        "any finding; none: always exit 0)",
    )
    fix_cmd = sub.add_parser(
        "fix",
        help="rewrite a Dockerfile so the image it builds is smaller",
        description="Print the rewritten Dockerfile as a unified diff (or write it with "
        "--write), with a .dockerignore where the build context needs one. Each change is "
        "annotated with its estimated saving (measured in the image given with --image). "
        "Changes to what the image contains (dropping a COPY nothing uses, the CPU build of "
        "torch) are shown as suggestions and applied only with --apply-suggestions.",
    )
    _dockerfile_arguments(fix_cmd)
    fix_cmd.add_argument(
        "--write", action="store_true", help="write the Dockerfile and .dockerignore in place"
    )
    fix_cmd.add_argument(
        "--apply-suggestions",
        action="store_true",
        help="also apply the suggestions (each one changes what the image contains)",
    )


def _dockerfile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dockerfile", metavar="DOCKERFILE", help="the Dockerfile to read")
    parser.add_argument(
        "--image",
        metavar="IMAGE",
        help="the image built from it (any reference analyze takes): findings get the bytes "
        "measured there",
    )
    parser.add_argument(
        "--context",
        metavar="DIR",
        help="the build context (default: the Dockerfile's directory); its .dockerignore is read",
    )
    parser.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a build argument, as given to the build (repeatable)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")


def _inputs(args: argparse.Namespace) -> DockerfileInputs:
    build_args = {}
    for item in args.build_arg:
        name, equals, value = item.partition("=")
        if not equals:  # like docker build: NAME alone takes the value from the environment
            value = os.environ.get(name, "")
        build_args[name] = value
    with progress_display(args) as progress:
        return load(
            args.dockerfile,
            image=args.image,
            context_dir=args.context,
            build_args=build_args,
            progress=progress,
        )


def run_lint(args: argparse.Namespace) -> int:
    inputs = _inputs(args)
    skip = {part.strip() for item in args.ignore for part in item.split(",") if part.strip()}
    known = {rule.id for rule in RULES} | {rule.name for rule in RULES}
    unknown = sorted(skip - known)
    if unknown:  # a typo would otherwise leave the rule on without a word
        ids = ", ".join(rule.id for rule in RULES)
        raise BloatscopeError(f"--ignore: no rule {', '.join(unknown)} (the rules: {ids})")
    findings = lint_dockerfile(inputs, skip)
    image = inputs.report.image.reference if inputs.report else None
    if args.format == "json":
        text = lint_json(findings, args.dockerfile, image)
    elif args.format == "sarif":
        from bloatscope.render.sarif import render_sarif  # noqa: PLC0415

        text = render_sarif(findings, RULES, base=os.getcwd())
    elif args.format == "markdown":
        text = lint_markdown(findings, args.dockerfile, image)
    else:
        text = lint_text(findings)
    write_output(text, args.output)
    threshold = _FAIL_LEVELS[args.fail_on]
    failed = threshold is not None and any(
        _SEVERITY_RANK[f.severity] <= threshold for f in findings
    )
    return EXIT_GATE_FAILED if failed else EXIT_OK


def run_fix(args: argparse.Namespace) -> int:
    inputs = _inputs(args)
    from bloatscope.render.fix import fix_summary  # noqa: PLC0415 - fix only

    result = fix_dockerfile(inputs, apply_suggestions=args.apply_suggestions)
    if args.write:
        write_output(result.text, args.dockerfile)
        for name, content in result.files.items():
            write_output(content, os.path.join(inputs.context_dir, name))
    else:
        from bloatscope.dockerfile.fix.draft import unified_diff  # noqa: PLC0415 - fix only

        # Paths are named from the directory holding the Dockerfile and the context, so that
        # `bloatscope fix Dockerfile | patch -p1` there writes every file (patch refuses
        # names with "..").
        dockerfile = os.path.abspath(args.dockerfile)
        files = {
            os.path.abspath(os.path.join(inputs.context_dir, name)): content
            for name, content in result.files.items()
        }
        base = os.path.commonpath([os.path.dirname(dockerfile), *map(os.path.dirname, files)])
        sys.stdout.write(result.diff(_shown(dockerfile, base)))
        for path, content in files.items():
            sys.stdout.write(unified_diff(_read_text(path), content, _shown(path, base)))
        if base != os.path.dirname(dockerfile) and result.changes:
            sys.stderr.write(f"paths are relative to {base}: apply the diff there\n")
    # with --write the summary is the output; otherwise it must not get in the diff's way
    summary = sys.stdout if args.write else sys.stderr
    summary.write(fix_summary(result, written=args.write) + "\n")
    summary.flush()
    return EXIT_OK


def _shown(path: str, base: str) -> str:
    return os.path.relpath(path, base).replace(os.sep, "/")


def _read_text(path: str) -> str | None:
    """A file fix extends (an existing .dockerignore); None when there is none."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as file:
            return file.read()
    except FileNotFoundError:
        return None
