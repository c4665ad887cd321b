"""``bloatscope explore IMAGE``: the terminal UI. The image's outline is read here first, so a
wrong reference fails on one line before the screen is taken over."""

from __future__ import annotations

import argparse
import sys

from bloatscope.cli_common import EXIT_BAD_INPUT, EXIT_OK, image_arguments, sample_reference


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explore_cmd = sub.add_parser(
        "explore",
        help="browse an image's layers and files in a terminal UI, like dive, with the causes",
        description="Browse the layers and the file tree of an image (what each layer added, "
        "modified and removed, as dive shows them), with bloatscope's findings and packages: "
        "choosing one shows its files. Look inside any file at any layer and extract it. "
        "Press ? in the UI for every key.",
    )
    image_arguments(explore_cmd)
    explore_cmd.add_argument(
        "--no-packages", action="store_true", help="skip reading package databases (faster)"
    )
    explore_cmd.add_argument(
        "--extract-to",
        metavar="DIR",
        default=".",
        help="where ctrl+e writes the file it extracts (default: the current directory)",
    )


def run_explore(args: argparse.Namespace) -> int:
    from bloatscope.api import AnalyzeOptions, outline  # noqa: PLC0415

    reference = args.image or sample_reference()
    sketch = outline(reference, args.platform)  # a bad reference fails here, on one line

    from bloatscope.tui.app import ExploreApp  # noqa: PLC0415 - Textual only here

    options = AnalyzeOptions(
        platform=args.platform,
        verify=args.verify,
        workers=args.workers,
        packages=not args.no_packages,
        min_finding_bytes=10_000,
    )
    app = ExploreApp(reference, options, outline=sketch, extract_to=args.extract_to)
    app.run()
    if app.failure is not None:
        raise app.failure  # a bug: cli.main reports it as for any command (exit 3, or --debug)
    if app.error is not None:
        sys.stderr.write(f"bloatscope: error: {app.error}\n")
        return EXIT_BAD_INPUT
    return EXIT_OK
