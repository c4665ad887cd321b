"""The library entry point: ``analyze(reference) -> Report``, for the CLI, the TUI and scripts."""

from __future__ import annotations

from dataclasses import dataclass

from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.dive import DiveAccumulator
from bloatscope.analysis.findings import analyzers, collect, ledger, sort_findings
from bloatscope.analysis.largest import largest_directories, largest_files
from bloatscope.analysis.model_weights import DEFAULT_MIN_BYTES as MODEL_MIN_BYTES
from bloatscope.analysis.package_stage import run_stage
from bloatscope.analysis.reclaimable import reclaimable, visible_content
from bloatscope.model.finding import Finding
from bloatscope.model.image import Image
from bloatscope.model.report import DockerfileSource, Report
from bloatscope.model.tree import ContentId
from bloatscope.packages.catalog import capture_for, catalogers
from bloatscope.progress import NullProgress, ProgressObserver
from bloatscope.reader.image_reader import ReadOptions, read_image


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    platform: str | None = None
    verify: bool = False
    workers: int = 0
    top: int = 10
    min_finding_bytes: int = 10_000  # smaller findings are not worth a line
    model_min_bytes: int = MODEL_MIN_BYTES  # weight files this large are reported
    findings: bool = True  # False: layers, sizes and dive's numbers only, a little faster
    packages: bool = True  # read the package databases and measure every package
    dockerfile: str | None = None  # the Dockerfile the image was built from: layers get its lines


def analyze(
    reference: str, options: AnalyzeOptions | None = None, progress: ProgressObserver | None = None
) -> Report:
    options = options or AnalyzeOptions()
    progress = progress or NullProgress()
    dive = DiveAccumulator()  # fed while layers are read
    chosen = catalogers() if options.packages else ()
    read_options = ReadOptions(
        options.platform,
        options.verify,
        options.workers,
        compare_same_sizes=options.findings,
        capture=capture_for(chosen) if chosen else None,
    )
    result = read_image(reference, read_options, progress, dive.add)
    image, filesystem, changes, captured, prepared = (
        result.image,
        result.filesystem,
        result.changes,
        list(result.captured),
        result.prepared,
    )
    del result  # the captured database files go once cataloged
    progress.start("Analyzing", 3)
    dive_stats = dive.result()
    del dive  # its per-path tables are the largest structures left; free them before findings
    progress.advance(1)
    nodes = filesystem.walk()
    visible = visible_content(nodes)
    waste = reclaimable(image, filesystem, changes, visible)
    data = AnalysisInput(image, filesystem, changes, nodes, visible, waste)
    every = analyzers(options.model_min_bytes) if options.findings else ()
    by_path = [analyzer for analyzer in every if not analyzer.needs_inventory]
    packages = None
    claimed: frozenset[ContentId] = frozenset()
    package_findings: tuple[Finding, ...] = ()
    if chosen:  # packages and their findings, which claim their bytes first
        by_package = [analyzer for analyzer in every if analyzer.needs_inventory]
        stage = run_stage(
            data,
            captured,
            prepared,
            catalogers=chosen,
            analyzers=by_package,
            min_bytes=options.min_finding_bytes,
        )
        del prepared
        packages, claimed, package_findings = stage.packages, stage.claimed, stage.findings
    collected = collect(data, by_path)
    largest = largest_files(data.files, options.top), largest_directories(nodes, options.top)
    findings, _claimed = ledger(data, collected, options.min_finding_bytes, claimed)
    progress.advance(1)
    entries = [layer.entries for layer in image.layers]
    final_size = sum(entries[layer][index].size for layer, index in visible)
    report = Report(
        image=image,
        filesystem=filesystem,
        changes=changes,
        dive=dive_stats,
        reclaimable=waste,
        largest_files=largest[0],
        largest_directories=largest[1],
        final_size_bytes=final_size,
        findings=tuple(sort_findings([*package_findings, *findings])),
        packages=packages,
        dockerfile=_dockerfile_source(options.dockerfile, image) if options.dockerfile else None,
    )
    progress.advance(1)
    progress.finish()
    return report


def _dockerfile_source(path: str, image: Image) -> DockerfileSource:
    """Each layer's Dockerfile line, by matching the image's history to the final stage."""
    from bloatscope.dockerfile.history import map_history  # noqa: PLC0415 - only when given
    from bloatscope.dockerfile.parser import parse_file  # noqa: PLC0415

    dockerfile = parse_file(path)
    history = map_history(image, dockerfile)
    layers = {}
    for match in history.instructions:
        if match.layer_index is not None:
            first = match.instruction.original.split("\n", 1)[0].strip()
            layers[match.layer_index] = (match.instruction.line, first)
    return DockerfileSource(path, layers)
