"""BlobStore to Image: plan the image, scan its layers, hash what recurs, merge in order."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Image
from bloatscope.model.layer import Compression, Layer
from bloatscope.model.tree import FileSystem, LayerChanges
from bloatscope.progress import NullProgress, ProgressObserver
from bloatscope.reader.cancelling import CancelFlag, stop_if_cancelled
from bloatscope.reader.config import ParsedConfig
from bloatscope.reader.hashing import hash_where_needed
from bloatscope.reader.layer import Capture, LayerScan
from bloatscope.reader.manifest import ImagePlan
from bloatscope.reader.merge import Merger, SymlinkLoopError
from bloatscope.reader.opening import locate_layer, open_image
from bloatscope.reader.prepared import PreparedFiles
from bloatscope.reader.scanning import all_streamed, scan_in_order


@dataclass(frozen=True, slots=True)
class ReadOptions:
    platform: str | None = None
    verify: bool = False  # also check every diff_id (sha256 of each uncompressed layer)
    workers: int = 0  # 0: chosen by the kind of layers (see reader.scanning)
    compare_same_sizes: bool = True  # hash files whose sizes collide, to find duplicates
    capture: Capture | None = None  # files whose bytes to keep (package databases)
    cancel: CancelFlag | None = None  # once set, the read stops soon with Cancelled


@dataclass(frozen=True, slots=True)
class ReadResult:
    image: Image
    filesystem: FileSystem
    changes: tuple[LayerChanges, ...]
    captured: tuple[dict[str, bytes], ...] = ()  # per layer: path -> bytes of captured files
    prepared: tuple[PreparedFiles, ...] = ()  # per layer: what the capture's prepare made of them


LayerSink = Callable[[Layer], None]
# What an eStargz layer adds to its tar for lazy pulling: a table of contents and a landmark.
_ESTARGZ_ENTRIES = frozenset({"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"})


def read_image(
    reference: str,
    options: ReadOptions | None = None,
    progress: ProgressObserver | None = None,
    on_layer: LayerSink | None = None,
) -> ReadResult:
    """Reads the image. ``on_layer`` sees each finished layer in stack order, while later
    layers are still being decoded, so per-layer analysis overlaps the reading.

    With ``options.cancel`` set (from any thread), Cancelled is raised within about a MiB of
    work: before any layer is read if it was set already; no worker process is left."""
    options = options or ReadOptions()
    progress = progress or NullProgress()
    cancel = options.cancel
    stop_if_cancelled(cancel)
    opened = open_image(reference, options.platform)
    store, plan, config = opened.store, opened.plan, opened.config
    scans: Generator[tuple[LayerScan | None, PreparedFiles], None, None] | None = None
    try:
        refs = [locate_layer(store, layer) for layer in plan.layers]
        assembler = _Assembler(opened.reference, plan, config, on_layer)
        streamed = all_streamed(plan.verify_blobs or options.verify, refs)
        scans = scan_in_order(
            refs,
            verify_blob=plan.verify_blobs,
            verify_diff_id=options.verify,
            workers=options.workers,
            streamed=streamed,
            progress=progress,
            capture=options.capture,
            cancel=cancel,
        )
        if streamed:
            # every blob is decoded anyway, so every file came with its digest: no second pass
            for index, (scan, prepared) in enumerate(scans):  # each step looks at cancel
                _verify(index, plan, config, scan, store.label)
                assembler.add(index, scan, prepared)
        else:
            collected, prepared_layers = zip(*scans, strict=True) if refs else ((), ())
            for index, scan in enumerate(collected):
                _verify(index, plan, config, scan, store.label)
            hashed = hash_where_needed(
                list(collected), refs, same_sizes=options.compare_same_sizes, cancel=cancel
            )
            for index, (scan, prepared) in enumerate(zip(hashed, prepared_layers, strict=True)):
                stop_if_cancelled(cancel)
                assembler.add(index, scan, prepared)
        return assembler.result()
    except SymlinkLoopError as exc:  # the merger knows layers, not files: name the file here
        raise SymlinkLoopError(str(exc), path=store.label) from None
    finally:
        if scans is not None:  # on an error here, its worker processes go now, not at exit
            scans.close()
        store.close()


def _verify(
    index: int, plan: ImagePlan, config: ParsedConfig, scan: LayerScan | None, label: str
) -> None:
    layer = plan.layers[index]
    if scan is None:
        return
    if scan.blob_digest and layer.digest and scan.blob_digest != layer.digest:
        raise BloatscopeError(
            f"layer {index} blob does not match its digest {layer.digest} (got {scan.blob_digest})",
            path=label,
        )
    if scan.diff_id and scan.diff_id != config.diff_ids[index]:
        raise BloatscopeError(
            f"layer {index} content does not match its diff_id {config.diff_ids[index]} "
            f"(got {scan.diff_id})",
            path=label,
        )


class _Assembler:
    """Builds layers in stack order, folding each into the merged tree as it arrives."""

    def __init__(
        self, reference: str, plan: ImagePlan, config: ParsedConfig, on_layer: LayerSink | None
    ) -> None:
        self._reference = reference
        self._plan = plan
        self._config = config
        self._on_layer = on_layer
        self._history = config.history_by_layer()
        self._merger = Merger()
        self._layers: list[Layer] = []
        self._changes: list[LayerChanges] = []
        self._missing: list[int] = []
        self._captured: list[dict[str, bytes]] = []
        self._prepared: list[PreparedFiles] = []

    def add(self, index: int, scan: LayerScan | None, prepared: PreparedFiles) -> None:
        layer_plan = self._plan.layers[index]
        entries = scan.entries if scan is not None else ()
        if scan is None:
            self._missing.append(index)
        if layer_plan.estargz:
            entries = tuple(e for e in entries if e.path not in _ESTARGZ_ENTRIES)
        self._changes.append(self._merger.apply(index, entries))
        layer = Layer(
            index=index,
            location=layer_plan.blob_name,
            diff_id=self._config.diff_ids[index],
            blob_digest=layer_plan.digest,
            media_type=layer_plan.media_type,
            compression=scan.compression if scan is not None else Compression.NONE,
            size_bytes=sum(entry.size for entry in entries),
            tar_bytes=scan.tar_bytes if scan is not None else 0,
            compressed_size_bytes=scan.blob_bytes if scan is not None else (layer_plan.size or 0),
            history=self._history.get(index),
            entries=entries,
        )
        self._layers.append(layer)
        self._captured.append(scan.captured if scan is not None else {})
        self._prepared.append(prepared)
        if self._on_layer is not None:
            self._on_layer(layer)

    def result(self) -> ReadResult:
        warnings = list(self._config.warnings) + self._merger.warnings
        warnings += [f"layer {i} is not available (non-distributable)" for i in self._missing]
        image = Image(
            reference=self._reference,
            source_format=self._plan.source_format,
            image_id=self._plan.image_id,
            repo_tags=self._plan.repo_tags,
            platform=self._config.platform,
            created=self._config.created,
            config=self._config.config,
            history=self._config.history,
            layers=tuple(self._layers),
            warnings=tuple(warnings),
        )
        return ReadResult(
            image,
            self._merger.filesystem(),
            tuple(self._changes),
            tuple(self._captured),
            tuple(self._prepared),
        )
