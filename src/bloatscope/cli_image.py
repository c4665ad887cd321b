"""The image commands: ``analyze``, ``packages`` and ``history`` (reading an image and showing
what the analysis found)."""

from __future__ import annotations

import argparse
import dataclasses
import io
from typing import assert_never

from rich.console import Console

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.cli_common import EXIT_OK, progress_display, sample_reference, write_output
from bloatscope.reader.image_reader import ReadOptions, read_image
from bloatscope.render.base import OutputFormat
from bloatscope.render.dive_json import DiveJsonRenderer
from bloatscope.render.history import history_json, history_table
from bloatscope.render.json_report import JsonRenderer
from bloatscope.render.packages import packages_json, packages_view, removal_view
from bloatscope.render.text import TextRenderer, title_line


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
        dockerfile=args.dockerfile,
    )
    with progress_display(args) as progress:
        report = analyze(reference, options, progress)
    output = OutputFormat(args.format)
    if output is OutputFormat.TEXT:
        renderer = TextRenderer(color=args.output is None and stdout.is_terminal, top=args.top)
        if args.output is None:
            renderer.print(report, stdout)
        else:
            write_output(renderer.render(report), args.output, stdout.file)
        return EXIT_OK
    if output is OutputFormat.JSON:
        text = JsonRenderer().render(report)
    elif output is OutputFormat.DIVE_JSON:
        text = DiveJsonRenderer().render(report)
    else:
        assert_never(output)
    write_output(text, args.output, stdout.file)
    return EXIT_OK


def run_packages(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    reference = args.image or sample_reference()
    options = AnalyzeOptions(
        platform=args.platform, verify=args.verify, workers=args.workers, findings=False
    )
    with progress_display(args) as progress:
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
        write_output(
            packages_json(report.image.reference, shown, removal), args.output, stdout.file
        )
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
        write_output(buffer.getvalue(), args.output, stdout.file)
    return EXIT_OK


def run_history(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    reference = args.image or sample_reference()
    with progress_display(args) as progress:
        result = read_image(
            reference, ReadOptions(args.platform, args.verify, args.workers), progress
        )
    if args.format == "json":
        write_output(history_json(result.image), None, stdout.file)
    else:
        stdout.print(history_table(result.image, no_trunc=args.no_trunc))
    return EXIT_OK
