"""Which process scans which layer blob, and when: each distinct blob once, the base layer
first, then the costliest, over worker processes when the blobs are worth it; scans come
back in layer order so merging can start before the last layer is read. A caller's cancel
flag stops it all within about a MiB of work per process, the pool included."""

from __future__ import annotations

import functools
import os
from collections.abc import Generator
from concurrent.futures import FIRST_COMPLETED, wait
from typing import TYPE_CHECKING

from bloatscope.model.layer import Compression
from bloatscope.progress import ProgressObserver
from bloatscope.reader.cancelling import CancelFlag, SharedFlag, stop_if_cancelled
from bloatscope.reader.compression import estimate_decoded_size, sniff
from bloatscope.reader.layer import Capture, LayerScan, scan_layer
from bloatscope.reader.prepared import NOT_PREPARED, PreparedFiles
from bloatscope.sources.base import BlobRef

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

# Below this many blob bytes, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 64 << 20
_ESTIMATE_BYTES = 1 << 18
# How often a wait for a worker's scan looks at the caller's cancel flag.
_CANCEL_POLL_S = 0.05
# In a worker process: the pool's copy of the cancel flag (set by _start_worker).
_worker_cancel: CancelFlag | None = None


def all_streamed(verifying: bool, refs: list[BlobRef | None]) -> bool:
    """Whether every blob will be decoded in full (compressed, or read to check a digest): then
    every file's digest comes with its scan and no second pass is needed."""
    if verifying:
        return True
    for ref in refs:
        if ref is None:
            continue
        with open(ref.path, "rb") as handle:
            handle.seek(ref.offset)
            if sniff(handle.read(8)) is Compression.NONE:
                return False
    return True


def scan_in_order(
    refs: list[BlobRef | None],
    *,
    verify_blob: bool,
    verify_diff_id: bool,
    workers: int,
    streamed: bool,
    progress: ProgressObserver,
    capture: Capture | None = None,
    cancel: CancelFlag | None = None,
) -> Generator[tuple[LayerScan | None, PreparedFiles], None, None]:
    """Scans each distinct blob once (a diff_id can repeat), largest first across worker
    processes, and yields the scans in layer order as soon as each is ready.

    With worker processes, each scan's captured files also go back to the pool for the
    capture's ``prepare``, which then runs while the caller merges layers; the pool is left to
    finish those tasks on its own. In-process scans are not prepared: on a small image the
    caller's own parsing costs less than a round trip.

    Progress is reported from the caller's thread only (never from the pool's), so an observer
    that raises stops the read. ``cancel`` is looked at before each layer, every MiB of an
    in-process scan and every _CANCEL_POLL_S of a wait for the pool; once it is set, Cancelled
    is raised, and worker processes stop at their next MiB and are gone when it is."""
    stop_if_cancelled(cancel)
    unique: dict[tuple[str, int], BlobRef] = {}
    for ref in refs:
        if ref is not None:
            unique.setdefault((ref.path, ref.offset), ref)
    total = sum(ref.size for ref in unique.values())
    progress.start("Reading layers", total)
    ordered = _schedule(list(unique.items()))
    cores = os.cpu_count() or 1
    # Decoding layers is all CPU and layer costs are uneven; one worker more than cores lets
    # the scheduler share out the last big layers (naive-bert.oci, 2 cores: median 7.1 s with
    # 3 workers, 7.4 s with 2). Header-only scans of plain tars take one worker per core
    # (naive-bert.docker.tar: median 3.17 s with 2, 3.49 s in-process, for 9 MB more memory).
    workers = workers or (cores + 1 if streamed else cores)
    done: dict[tuple[str, int], LayerScan] = {}
    if workers > 1 and len(ordered) > 1 and total >= _PARALLEL_THRESHOLD:
        # imported here: a small image never pays for starting the machinery
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        context = multiprocessing.get_context("fork")
        stop_workers = SharedFlag(context)  # the workers' copy of the cancel flag
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(ordered)),
            mp_context=context,
            initializer=_start_worker,
            initargs=(stop_workers,),
        )
        prepared: dict[tuple[str, int], PreparedFiles] = {}
        finished = False
        try:
            scan = functools.partial(
                _scan_in_worker,
                verify_blob=verify_blob,
                verify_diff_id=verify_diff_id,
                capture=capture,
            )
            futures = {key: pool.submit(scan, ref) for key, ref in ordered}
            uncounted = {future: unique[key].size for key, future in futures.items()}
            for ref in refs:
                if ref is None:
                    yield None, NOT_PREPARED
                    continue
                key = (ref.path, ref.offset)
                done_scan = _result(futures[key], uncounted, progress, cancel)
                if key not in prepared:
                    prepared[key] = _submit_prepare(pool, capture, done_scan)
                yield done_scan, prepared[key]
            finished = True
        finally:
            if not finished:
                # cancelled, or an error: scans not yet started are dropped, and those under
                # way stop at their next MiB, so waiting for the workers to go takes moments
                # and leaves no process behind; otherwise the prepare tasks finish while the
                # caller goes on
                stop_workers.set()
            pool.shutdown(wait=not finished, cancel_futures=not finished)
    else:
        scan = functools.partial(
            scan_layer,
            verify_blob=verify_blob,
            verify_diff_id=verify_diff_id,
            capture=capture,
            cancel=cancel,
        )
        for ref in refs:
            stop_if_cancelled(cancel)
            if ref is None:
                yield None, NOT_PREPARED
                continue
            key = (ref.path, ref.offset)
            if key not in done:
                done[key] = scan(ref)
                stop_if_cancelled(cancel)  # before the observer is told: the flag comes first
                progress.advance(ref.size)
            yield done[key], NOT_PREPARED
    stop_if_cancelled(cancel)
    progress.finish()


def _result(
    future: Future[LayerScan],
    uncounted: dict[Future[LayerScan], int],
    progress: ProgressObserver,
    cancel: CancelFlag | None,
) -> LayerScan:
    """The scan ``future`` brings. Meanwhile each scan the pool finishes is reported (its blob's
    bytes, taken out of ``uncounted``), and ``cancel`` is looked at every _CANCEL_POLL_S."""
    while True:
        stop_if_cancelled(cancel)
        for finished in [each for each in uncounted if each.done()]:
            progress.advance(uncounted.pop(finished))
        if future.done():
            return future.result()
        # future is not done, so it is still uncounted: this waits for it or another scan
        timeout = _CANCEL_POLL_S if cancel is not None else None
        wait(uncounted, timeout=timeout, return_when=FIRST_COMPLETED)


def _start_worker(cancel: SharedFlag) -> None:
    """A worker process's first step: it keeps the pool's cancel flag for its scans."""
    global _worker_cancel  # noqa: PLW0603 - one per process, set once, before any task
    _worker_cancel = cancel


def _scan_in_worker(
    ref: BlobRef, *, verify_blob: bool, verify_diff_id: bool, capture: Capture | None
) -> LayerScan:
    return scan_layer(
        ref,
        verify_blob=verify_blob,
        verify_diff_id=verify_diff_id,
        capture=capture,
        cancel=_worker_cancel,
    )


def _submit_prepare(
    pool: ProcessPoolExecutor, capture: Capture | None, scan: LayerScan
) -> PreparedFiles:
    if capture is None or capture.prepare is None or not scan.captured:
        return NOT_PREPARED
    return PreparedFiles(pool.submit(capture.prepare, scan.captured))


def _schedule(
    blobs: list[tuple[tuple[str, int], BlobRef]],
) -> list[tuple[tuple[str, int], BlobRef]]:
    """The base layer first, so merging can start while the rest decode; then the costliest
    first, so no large layer is left for the end."""
    if len(blobs) < 2:
        return blobs
    first, rest = blobs[0], blobs[1:]
    costs = {}
    for key, ref in rest:
        with open(ref.path, "rb") as handle:
            handle.seek(ref.offset)
            costs[key] = estimate_decoded_size(
                handle.read(min(ref.size, _ESTIMATE_BYTES)), ref.size
            )
    return [first, *sorted(rest, key=lambda item: -costs[item[0]])]
