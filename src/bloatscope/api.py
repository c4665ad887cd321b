"""The library entry point: ``analyze(reference) -> Report``, for the CLI, the TUI and scripts."""

from __future__ import annotations

from dataclasses import dataclass

from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.dive import DiveAccumulator
from bloatscope.analysis.findings import analyzers, find
from bloatscope.analysis.largest import largest_directories, largest_files
from bloatscope.analysis.model_weights import DEFAULT_MIN_BYTES as MODEL_MIN_BYTES
from bloatscope.analysis.reclaimable import reclaimable, visible_content
from bloatscope.model.report import Report
from bloatscope.packages.catalog import capture_for, catalog, catalogers, image_files
from bloatscope.packages.inventory import Inventory
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
    image, filesystem = result.image, result.filesystem
    progress.start("Analyzing", 3)
    dive_stats = dive.result()
    del dive  # its per-path tables are the largest structures left; free them before findings
    progress.advance(1)
    nodes = filesystem.walk()
    visible = visible_content(nodes)
    waste = reclaimable(image, filesystem, result.changes, visible)
    inventory = None
    warnings: list[str] = []
    if chosen:
        files = image_files(image, filesystem, result.captured)
        records = catalog(files, chosen, warnings)
        inventory = Inventory(records, image, filesystem, nodes, waste.files)
    data = AnalysisInput(image, filesystem, result.changes, nodes, visible, waste, inventory)
    findings = (
        find(data, analyzers(options.model_min_bytes), options.min_finding_bytes)
        if options.findings
        else ()
    )
    progress.advance(1)
    entries = [layer.entries for layer in image.layers]
    final_size = sum(entries[layer][index].size for layer, index in visible)
    report = Report(
        image=image,
        filesystem=filesystem,
        changes=result.changes,
        dive=dive_stats,
        reclaimable=waste,
        largest_files=largest_files(data.files, options.top),
        largest_directories=largest_directories(nodes, options.top),
        final_size_bytes=final_size,
        findings=findings,
        packages=inventory.model(data.files, warnings) if inventory is not None else None,
    )
    progress.advance(1)
    progress.finish()
    return report
