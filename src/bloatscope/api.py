"""The library entry point, for the CLI, the TUI and scripts: ``analyze(reference) -> Report``;
``outline(reference) -> ImageOutline`` (the layer list from the manifest and config alone);
``read_file`` and ``open_files`` (a file's bytes at any layer); ``extract`` (files of a layer
to local disk).

``analyze`` can be stopped from another thread: set the ``threading.Event`` passed as
``AnalyzeOptions.cancel`` and it raises ``bloatscope.errors.Cancelled`` within moments (a MiB of
reading per process, or one step of the analysis), leaving no worker process behind.

Importing this module is cheap: each function imports what it needs when called, so the
outline, which a UI shows first, never waits for the analysis to load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading

    from bloatscope.analysis.base import Analyzer
    from bloatscope.model.finding import Finding
    from bloatscope.model.image import Image
    from bloatscope.model.outline import ImageOutline
    from bloatscope.model.report import DockerfileSource, Report
    from bloatscope.model.tree import ContentId
    from bloatscope.progress import ProgressObserver
    from bloatscope.reader.extract import Extracted
    from bloatscope.reader.file_content import FileContent, LayerFiles


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    platform: str | None = None
    verify: bool = False
    workers: int = 0
    top: int = 10
    min_finding_bytes: int = 10_000  # smaller findings are not worth a line
    model_min_bytes: int | None = None  # weight files this large are reported (None: 50 MB)
    findings: bool = True  # False: layers, sizes and dive's numbers only, a little faster
    packages: bool = True  # read the package databases and measure every package
    dockerfile: str | None = None  # the Dockerfile the image was built from: layers get its lines
    cancel: threading.Event | None = None  # set from any thread: analyze raises Cancelled soon


def analyze(
    reference: str, options: AnalyzeOptions | None = None, progress: ProgressObserver | None = None
) -> Report:
    # the analysis loads here, not at import: see the module docstring
    from bloatscope.analysis.base import AnalysisInput  # noqa: PLC0415
    from bloatscope.analysis.dive import DiveAccumulator  # noqa: PLC0415
    from bloatscope.analysis.findings import analyzers, collect, ledger, sort_findings  # noqa: PLC0415
    from bloatscope.analysis.largest import largest_directories, largest_files  # noqa: PLC0415
    from bloatscope.analysis.package_stage import run_stage  # noqa: PLC0415
    from bloatscope.analysis.reclaimable import reclaimable, visible_content  # noqa: PLC0415
    from bloatscope.model.report import Report  # noqa: PLC0415
    from bloatscope.packages.catalog import capture_for, catalogers  # noqa: PLC0415
    from bloatscope.progress import NullProgress  # noqa: PLC0415
    from bloatscope.reader.cancelling import stop_if_cancelled  # noqa: PLC0415
    from bloatscope.reader.image_reader import ReadOptions, read_image  # noqa: PLC0415

    options = options or AnalyzeOptions()
    progress = progress or NullProgress()
    cancel = options.cancel
    # the reader looks at the flag as it reads; the analysis between its steps, the longest of
    # which (the findings' ledger) takes 0.7 s on naive-bert
    stop_if_cancelled(cancel)
    dive = DiveAccumulator()  # fed while layers are read
    chosen = catalogers() if options.packages else ()
    read_options = ReadOptions(
        options.platform,
        options.verify,
        options.workers,
        compare_same_sizes=options.findings,
        capture=capture_for(chosen) if chosen else None,
        cancel=cancel,
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
    stop_if_cancelled(cancel)
    progress.start("Analyzing", 3)
    dive_stats = dive.result()
    del dive  # its per-path tables are the largest structures left; free them before findings
    stop_if_cancelled(cancel)
    progress.advance(1)
    nodes = filesystem.walk()
    visible = visible_content(nodes)
    waste = reclaimable(image, filesystem, changes, visible)
    stop_if_cancelled(cancel)
    data = AnalysisInput(image, filesystem, changes, nodes, visible, waste)
    every: tuple[Analyzer, ...] = ()
    if options.findings:
        every = (
            analyzers() if options.model_min_bytes is None else analyzers(options.model_min_bytes)
        )
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
        stop_if_cancelled(cancel)
    collected = collect(data, by_path)
    largest = largest_files(data.files, options.top), largest_directories(nodes, options.top)
    stop_if_cancelled(cancel)
    findings, _claimed = ledger(data, collected, options.min_finding_bytes, claimed)
    stop_if_cancelled(cancel)
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
    from bloatscope.model.report import DockerfileSource  # noqa: PLC0415

    dockerfile = parse_file(path)
    history = map_history(image, dockerfile)
    layers = {}
    for match in history.instructions:
        if match.layer_index is not None:
            first = match.instruction.original.split("\n", 1)[0].strip()
            layers[match.layer_index] = (match.instruction.line, first)
    return DockerfileSource(path, layers)


def outline(reference: str, platform: str | None = None) -> ImageOutline:
    """The image's layer list from its manifest and config alone: no layer blob is read, so it
    takes milliseconds. Bad input raises the BloatscopeError the full read would."""
    from bloatscope.reader.outline import read_outline  # noqa: PLC0415

    return read_outline(reference, platform)


def open_files(reference: str, platform: str | None = None) -> LayerFiles:
    """The image opened for reading files at any layer, many times: ``.read(layer, path,
    limit)``; ``.add_layer(layer)`` with the full read's layers spares it scanning them;
    ``.close()`` when done."""
    from bloatscope.reader.file_content import LayerFiles  # noqa: PLC0415

    return LayerFiles.open(reference, platform)


def read_file(
    reference: str, layer_index: int, path: str, *, limit: int, platform: str | None = None
) -> FileContent:
    """The first ``limit`` bytes of the regular file ``path`` as layer ``layer_index`` wrote it
    (a hardlink reads its target), with the file's full size. One read: the image is opened
    and closed; keep ``open_files`` for many."""
    from bloatscope.reader.file_content import read_file as read_one  # noqa: PLC0415

    return read_one(reference, layer_index, path, limit=limit, platform=platform)


def extract(
    reference: str,
    layer_index: int,
    path: str,
    destination: str,
    *,
    overwrite: bool = False,
    platform: str | None = None,
    files: LayerFiles | None = None,
) -> Extracted:
    """Writes ``path`` (a file, or a directory's files) as layer ``layer_index`` has it to
    ``destination``, as ``cp -r`` would, never outside it and never through a symlink there
    (see reader.extract). ``files``: an image already open (``open_files``) to read from."""
    from bloatscope.reader.extract import extract as extract_files  # noqa: PLC0415
    from bloatscope.reader.file_content import LayerFiles  # noqa: PLC0415

    if files is not None:
        return extract_files(files, layer_index, path, destination, overwrite=overwrite)
    with LayerFiles.open(reference, platform) as opened:
        return extract_files(opened, layer_index, path, destination, overwrite=overwrite)
