"""BlobStore to Image: plan the image, scan its layers (in parallel), hash what recurs, merge."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Image
from bloatscope.model.layer import Compression, Layer
from bloatscope.model.tree import FileSystem, LayerChanges
from bloatscope.progress import NullProgress, ProgressObserver
from bloatscope.reader.config import ParsedConfig, parse_config
from bloatscope.reader.hashing import fill_digests
from bloatscope.reader.layer import LayerScan, scan_layer
from bloatscope.reader.manifest import ImagePlan, LayerPlan, plan_docker_archive, plan_oci_layout
from bloatscope.reader.merge import Merger
from bloatscope.reader.platforms import parse_platform
from bloatscope.sources.base import BlobRef, BlobStore, SourceError
from bloatscope.sources.reference import open_store, parse_reference

# Below this many blob bytes, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 64 << 20


@dataclass(frozen=True, slots=True)
class ReadOptions:
    platform: str | None = None
    verify: bool = False  # also check every diff_id (sha256 of each uncompressed layer)
    workers: int = 0  # 0: one per core


@dataclass(frozen=True, slots=True)
class ReadResult:
    image: Image
    filesystem: FileSystem
    changes: tuple[LayerChanges, ...]


def read_image(
    reference: str, options: ReadOptions | None = None, progress: ProgressObserver | None = None
) -> ReadResult:
    options = options or ReadOptions()
    progress = progress or NullProgress()
    ref = parse_reference(reference)
    store, source_format = open_store(ref)
    try:
        if source_format == "docker-archive":
            plan = plan_docker_archive(store, ref.selector)
        else:
            plan = plan_oci_layout(store, ref.selector, options.platform, source_format)
        config = parse_config(plan.config_bytes, store.label)
        _check_consistency(plan, config, options, store.label)
        refs = [_locate(store, layer) for layer in plan.layers]
        scans = _scan_all(plan, refs, options, progress)
        _verify(plan, config, scans, refs, store.label)
        scans = _hash_recurring(scans, refs)
        return _assemble(str(ref), plan, config, scans, progress)
    finally:
        store.close()


def _check_consistency(plan: ImagePlan, config: ParsedConfig, options: ReadOptions, label: str) -> None:
    if len(config.diff_ids) != len(plan.layers):
        raise BloatscopeError(
            f"inconsistent layer count: the manifest lists {len(plan.layers)} layers, "
            f"the config {len(config.diff_ids)} diff_ids",
            path=label,
        )
    if options.platform and plan.source_format == "docker-archive":
        wanted = parse_platform(options.platform)
        have = config.platform
        if (have.os, have.architecture) != (wanted.os, wanted.architecture):
            raise BloatscopeError(f"holds a {have} image, not {wanted}", path=label)


def _locate(store: BlobStore, layer: LayerPlan) -> BlobRef | None:
    try:
        ref = store.locate(layer.blob_name)
    except SourceError:
        if layer.foreign:
            return None  # non-distributable layers are often left out of archives
        raise BloatscopeError(f"manifest names blob {layer.digest or layer.blob_name}, which is missing",
                              path=store.label) from None
    if layer.size is not None and layer.size != ref.size:
        raise BloatscopeError(f"blob {layer.blob_name} is {ref.size} bytes, its descriptor says {layer.size}",
                              path=store.label)
    return ref


def _scan_all(
    plan: ImagePlan, refs: list[BlobRef | None], options: ReadOptions, progress: ProgressObserver
) -> list[LayerScan | None]:
    unique: dict[tuple[str, int], BlobRef] = {}
    for ref in refs:
        if ref is not None:
            unique.setdefault((ref.path, ref.offset), ref)
    total = sum(ref.size for ref in unique.values())
    progress.start("Reading layers", total)
    kwargs = {"verify_blob": plan.verify_blobs, "verify_diff_id": options.verify}
    done: dict[tuple[str, int], LayerScan] = {}
    ordered = sorted(unique.items(), key=lambda item: -item[1].size)
    workers = options.workers or os.cpu_count() or 1
    if workers > 1 and len(ordered) > 1 and total >= _PARALLEL_THRESHOLD:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(ordered)), mp_context=context) as pool:
            futures = {key: pool.submit(scan_layer, ref, **kwargs) for key, ref in ordered}
            for key, future in futures.items():
                done[key] = future.result()
                progress.advance(unique[key].size)
    else:
        for key, ref in ordered:
            done[key] = scan_layer(ref, **kwargs)
            progress.advance(ref.size)
    progress.finish()
    return [done[(ref.path, ref.offset)] if ref is not None else None for ref in refs]


def _verify(
    plan: ImagePlan,
    config: ParsedConfig,
    scans: list[LayerScan | None],
    refs: list[BlobRef | None],
    label: str,
) -> None:
    for index, (layer, scan, ref) in enumerate(zip(plan.layers, scans, refs, strict=True)):
        if scan is None or ref is None:
            continue
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


def _hash_recurring(scans: list[LayerScan | None], refs: list[BlobRef | None]) -> list[LayerScan | None]:
    """Content digests where a path occurs in two or more layers: only there can a later layer
    re-ship the same bytes, and only there does dive compare content."""
    occurrences: Counter[str] = Counter()
    for scan in scans:
        if scan is not None:
            occurrences.update({entry.path for entry in scan.entries})
    result: list[LayerScan | None] = []
    for scan, ref in zip(scans, refs, strict=True):
        if scan is None or ref is None or scan.hashed:
            result.append(scan)
            continue
        wanted = [i for i, entry in enumerate(scan.entries) if occurrences[entry.path] > 1]
        result.append(fill_digests(ref, scan, wanted))
    return result


def _assemble(
    reference: str,
    plan: ImagePlan,
    config: ParsedConfig,
    scans: list[LayerScan | None],
    progress: ProgressObserver,
) -> ReadResult:
    by_layer = {h.layer_index: h for h in config.history if h.layer_index is not None}
    merger = Merger()
    layers = []
    changes = []
    progress.start("Merging layers", len(scans))
    for index, (layer_plan, scan) in enumerate(zip(plan.layers, scans, strict=True)):
        entries = scan.entries if scan is not None else ()
        changes.append(merger.apply(index, entries))
        layers.append(
            Layer(
                index=index,
                location=layer_plan.blob_name,
                diff_id=config.diff_ids[index],
                blob_digest=layer_plan.digest,
                media_type=layer_plan.media_type,
                compression=scan.compression if scan is not None else Compression.NONE,
                size_bytes=sum(entry.size for entry in entries),
                tar_bytes=scan.tar_bytes if scan is not None else 0,
                compressed_size_bytes=scan.blob_bytes if scan is not None else (layer_plan.size or 0),
                history=by_layer.get(index),
                entries=entries,
            )
        )
        progress.advance(1)
    progress.finish()
    warnings = list(config.warnings) + merger.warnings
    warnings += [f"layer {i} is not available (non-distributable)" for i, s in enumerate(scans) if s is None]
    image = Image(
        reference=reference,
        source_format=plan.source_format,
        image_id="sha256:" + hashlib.sha256(plan.config_bytes).hexdigest(),
        repo_tags=plan.repo_tags,
        platform=config.platform,
        created=config.created,
        config=config.config,
        history=config.history,
        layers=tuple(layers),
        warnings=tuple(warnings),
    )
    return ReadResult(image, merger.filesystem(), tuple(changes))
