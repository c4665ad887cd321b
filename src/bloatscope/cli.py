"""The command line: argument parsing, exit codes, progress display. No analysis here.

Exit codes: 0 done; 1 a gate failed (later: ``bloatscope ci``); 2 the input or the command line
was wrong, with one line on stderr; 3 an internal error (a bug: please report it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from bloatscope import __version__, cli_dockerfile, cli_explore
from bloatscope.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    consoles,
    image_arguments,
    positive_argument,
    size_argument,
)
from bloatscope.errors import BloatscopeError, os_error_line
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.render.base import OutputFormat
from bloatscope.render.escape import safe


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
        "--dockerfile",
        metavar="PATH",
        help="the Dockerfile the image was built from: each layer is shown with the line "
        "that made it (without it, the instruction read back from the image's history)",
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
    cli_explore.add_command(sub)
    return parser


def _print_traceback() -> None:
    import traceback  # noqa: PLC0415 - only with --debug; it costs lint a tenth of its time

    traceback.print_exc()


def _fail(message: str, code: int) -> int:
    # one plain line, no rich: messages quote paths from the image, so control characters are
    # shown escaped
    sys.stderr.write(f"bloatscope: error: {safe(message)}\n")
    sys.stderr.flush()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Analysis builds hundreds of thousands of small objects and frees them together at exit;
    # the cyclic collector would only re-scan them over and over.
    gc.disable()
    try:
        return _run(args, parser)
    finally:
        gc.enable()


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        # each command imports what it runs: `lint` without an image never loads the analysis
        if args.command in ("analyze", "packages", "history"):
            from bloatscope import cli_image  # noqa: PLC0415

            run = {
                "analyze": cli_image.run_analyze,
                "packages": cli_image.run_packages,
                "history": cli_image.run_history,
            }[args.command]
            return run(args, *consoles())
        if args.command == "lint":
            return cli_dockerfile.run_lint(args)
        if args.command == "fix":
            return cli_dockerfile.run_fix(args)
        if args.command == "explore":
            return cli_explore.run_explore(args)
        parser.error(f"unknown command {args.command}")
    except BloatscopeError as exc:
        if args.debug:
            _print_traceback()
        return _fail(str(exc), EXIT_BAD_INPUT)
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if args.debug:
            _print_traceback()
        return _fail(os_error_line(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # a bug, not bad input: say so in one line unless --debug
        if args.debug:
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            EXIT_INTERNAL,
        )
    return EXIT_OK
