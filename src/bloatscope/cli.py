"""The command line: argument parsing, exit codes, progress display. No analysis here.

Exit codes: 0 done; 1 a gate failed (later: ``bloatscope ci``); 2 the input or the command line
was wrong, with one line on stderr; 3 an internal error (a bug: please report it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import io
import os
import traceback
from collections.abc import Sequence
from typing import assert_never

from rich.console import Console

from bloatscope import __version__, cli_dockerfile
from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    image_arguments,
    positive_argument,
    progress_display,
    sample_reference,
    size_argument,
    write_output,
)
from bloatscope.errors import BloatscopeError
from bloatscope.model.package import Ecosystem
from bloatscope.reader.image_reader import ReadOptions, read_image
from bloatscope.render.base import OutputFormat
from bloatscope.render.dive_json import DiveJsonRenderer
from bloatscope.render.history import history_json, history_table
from bloatscope.render.json_report import JsonRenderer
from bloatscope.render.packages import packages_json, packages_view, removal_view
from bloatscope.render.text import TextRenderer, safe, title_line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bloatscope",
        description="Why is my container image so big? Reads images without a Docker engine.",
        epilog="Exit codes: 0 done, 1 a CI gate failed, 2 bad input or usage, 3 internal error. "
        "Set NO_COLOR to turn colour off.",
    )
    parser.add_argument("--version", action="version", version=f"bloatscope {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    analyze_cmd = sub.add_parser(
        "analyze",
        help="explain an image's size: layers, largest paths, waste",
        description="Read an image and report its layers, its largest files and directories, "
        "bloatscope's reclaimable bytes and dive's efficiency numbers.",
    )
    image_arguments(analyze_cmd)
    analyze_cmd.add_argument(
        "--format",
        "-f",
        choices=[f.value for f in OutputFormat],
        default="text",
        help="text (default), json (versioned bloatscope document), "
        "dive-json (what `dive --json` writes)",
    )
    analyze_cmd.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write to FILE (atomically) instead of standard output",
    )
    analyze_cmd.add_argument(
        "--min-bytes",
        type=size_argument,
        default=10_000,
        metavar="SIZE",
        help="leave out findings smaller than SIZE (bytes, or with kB/MB/GB/KiB/MiB/GiB; "
        "default 10kB); the reclaimable total counts only what is listed",
    )
    analyze_cmd.add_argument(
        "--model-size",
        type=size_argument,
        default=50_000_000,
        metavar="SIZE",
        help="report model weight files (.safetensors, .bin, .pt, .onnx, .gguf, ...) of SIZE "
        "or more (default 50MB)",
    )
    analyze_cmd.add_argument(
        "--no-findings",
        action="store_true",
        help="skip the causes of waste: layers, sizes and dive's numbers only (a little faster)",
    )
    analyze_cmd.add_argument(
        "--no-packages",
        action="store_true",
        help="skip reading package databases (no package table, no package findings)",
    )
    analyze_cmd.add_argument(
        "--top",
        type=positive_argument,
        default=10,
        metavar="N",
        help="rows in the largest-paths and waste tables (default 10)",
    )

    packages_cmd = sub.add_parser(
        "packages",
        help="list installed packages with the bytes each one costs",
        description="Read the image's package databases (dpkg, apk, rpm, Python, npm, conda) "
        "and measure every package against the final filesystem: its size, the layer that "
        "installed it, and for top-level packages the exclusive bytes (what uninstalling it "
        "with every dependency nothing else needs would free).",
    )
    image_arguments(packages_cmd)
    packages_cmd.add_argument(
        "--what-if-remove",
        metavar="NAMES",
        help="comma-separated packages (name or ecosystem:name, e.g. jupyter,pytest or "
        "dpkg:gcc-12): print what would go with them and the bytes freed",
    )
    packages_cmd.add_argument(
        "--ecosystem",
        action="append",
        choices=[e.value for e in Ecosystem],
        help="only these ecosystems (repeatable)",
    )
    packages_cmd.add_argument(
        "--top", type=positive_argument, metavar="N", help="only the N largest of each ecosystem"
    )
    packages_cmd.add_argument(
        "--dev-only", action="store_true", help="only development tools (tests, linters, ...)"
    )
    packages_cmd.add_argument("--format", "-f", choices=["text", "json"], default="text")
    packages_cmd.add_argument(
        "--output", "-o", metavar="FILE", help="write to FILE (atomically) instead of stdout"
    )

    history_cmd = sub.add_parser(
        "history",
        help="show build steps newest first, like docker history",
        description="Show the image's history, newest first.",
    )
    image_arguments(history_cmd)
    history_cmd.add_argument("--no-trunc", action="store_true", help="do not truncate commands")
    history_cmd.add_argument("--format", "-f", choices=["text", "json"], default="text")
    cli_dockerfile.add_commands(sub)
    return parser


def run_analyze(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    reference = args.image or sample_reference()
    options = AnalyzeOptions(
        min_finding_bytes=args.min_bytes,
        findings=not args.no_findings,
        model_min_bytes=args.model_size,
        platform=args.platform,
        verify=args.verify,
        workers=args.workers,
        top=args.top,
        packages=not args.no_packages,
    )
    with progress_display(args, stderr) as progress:
        report = analyze(reference, options, progress)
    output = OutputFormat(args.format)
    if output is OutputFormat.TEXT:
        renderer = TextRenderer(color=args.output is None and stdout.is_terminal, top=args.top)
        if args.output is None:
            renderer.print(report, stdout)
        else:
            write_output(renderer.render(report), args.output, stdout)
        return EXIT_OK
    if output is OutputFormat.JSON:
        text = JsonRenderer().render(report)
    elif output is OutputFormat.DIVE_JSON:
        text = DiveJsonRenderer().render(report)
    else:
        assert_never(output)
    write_output(text, args.output, stdout)
    return EXIT_OK


def run_packages(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    reference = args.image or sample_reference()
    options = AnalyzeOptions(
        platform=args.platform, verify=args.verify, workers=args.workers, findings=False
    )
    with progress_display(args, stderr) as progress:
        report = analyze(reference, options, progress)
    inventory = report.packages
    assert inventory is not None  # packages=True is the default
    removal = None
    if args.what_if_remove:
        names = [name.strip() for name in args.what_if_remove.split(",") if name.strip()]
        removal = inventory.what_if_remove(names)
    chosen = [
        p
        for p in inventory.packages
        if (not args.ecosystem or p.ecosystem.value in args.ecosystem)
        and (not args.dev_only or p.dev_only)
    ]
    shown = dataclasses.replace(inventory, packages=tuple(chosen))
    if args.format == "json":
        write_output(packages_json(report.image.reference, shown, removal), args.output, stdout)
        return EXIT_OK
    console = stdout
    buffer = None
    if args.output is not None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=120, color_system=None, highlight=False)
    console.print(title_line(report), soft_wrap=True)
    if removal is not None:
        console.print(removal_view(removal))
    else:
        console.print(packages_view(shown, args.top))
    if buffer is not None:
        write_output(buffer.getvalue(), args.output, stdout)
    return EXIT_OK


def run_history(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    reference = args.image or sample_reference()
    with progress_display(args, stderr) as progress:
        result = read_image(
            reference, ReadOptions(args.platform, args.verify, args.workers), progress
        )
    if args.format == "json":
        write_output(history_json(result.image), None, stdout)
    else:
        stdout.print(history_table(result.image, no_trunc=args.no_trunc))
    return EXIT_OK


def _fail(stderr: Console, message: str, code: int) -> int:
    # messages quote paths from the image: control characters are shown escaped
    stderr.print(
        f"bloatscope: error: {safe(message)}", markup=False, highlight=False, soft_wrap=True
    )
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # NO_COLOR (no-color.org): no colour, and no bold or dim either, so no escape codes at all
    plain = {"color_system": None} if os.environ.get("NO_COLOR") else {}
    stdout = Console(highlight=False, soft_wrap=False, **plain)  # type: ignore[arg-type]
    stderr = Console(stderr=True, highlight=False, **plain)  # type: ignore[arg-type]
    # Analysis builds hundreds of thousands of small objects and frees them together at exit;
    # the cyclic collector would only re-scan them over and over.
    gc.disable()
    try:
        return _run(args, parser, stdout, stderr)
    finally:
        gc.enable()


def _run(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    stdout: Console,
    stderr: Console,
) -> int:
    try:
        if args.command == "analyze":
            return run_analyze(args, stdout, stderr)
        if args.command == "packages":
            return run_packages(args, stdout, stderr)
        if args.command == "history":
            return run_history(args, stdout, stderr)
        if args.command == "lint":
            return cli_dockerfile.run_lint(args, stdout, stderr)
        if args.command == "fix":
            return cli_dockerfile.run_fix(args, stdout, stderr)
        parser.error(f"unknown command {args.command}")
    except BloatscopeError as exc:
        if args.debug:
            traceback.print_exc()
        return _fail(stderr, str(exc), EXIT_BAD_INPUT)
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if args.debug:
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(stderr, f"{where}{exc.strerror or exc}", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail(stderr, "interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # a bug, not bad input: say so in one line unless --debug
        if args.debug:
            raise
        return _fail(
            stderr,
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            EXIT_INTERNAL,
        )
    return EXIT_OK
