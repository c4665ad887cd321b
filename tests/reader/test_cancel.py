"""Cancelling a read: a flag set from another thread stops ``analyze`` with Cancelled long before
the read would end, with no worker process left; a flag set beforehand stops it before any layer
is read; a layer scan looks at the flag once per MiB of tar, not once per file."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.errors import BloatscopeError, Cancelled
from bloatscope.model.layer import Layer
from bloatscope.reader.cancelling import CHECK_BYTES
from bloatscope.reader.image_reader import ReadOptions, read_image
from bloatscope.reader.layer import scan_layer
from bloatscope.reader.opening import locate_layer, open_image
from bloatscope.sources.base import BlobRef

SAMPLE = str(Path(__file__).resolve().parents[2] / "src/bloatscope/sample/sample.oci.tar")


@pytest.fixture
def large_image(corpus_dir: Path) -> str:
    """An image that takes seconds to read: naive-bert (3.5 GB), or else python-full (1 GB)."""
    for name in ("naive-bert.oci", "python-full.oci.tar"):
        if (corpus_dir / name).exists():
            return str(corpus_dir / name)
    pytest.skip(f"neither naive-bert.oci nor python-full.oci.tar is built in {corpus_dir}")


class _CancelAfterFirstLayer:
    """A progress observer that records what it is told and, once the first layer is read, sets
    the cancel flag from a thread of its own (as an app's UI thread would)."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.phases: list[tuple[str, int]] = []
        self.finished: list[str] = []
        self.done = 0
        self.setter: threading.Thread | None = None

    def start(self, label: str, total: int) -> None:
        self.phases.append((label, total))
        self.done = 0

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.setter is None:
            self.setter = threading.Thread(target=self.cancel.set)
            self.setter.start()

    def finish(self) -> None:
        self.finished.append(self.phases[-1][0])


@pytest.mark.parametrize("workers", [0, 1], ids=["worker-processes", "in-process"])
def test_a_flag_set_during_the_read_stops_it_with_no_process_left(
    large_image: str, workers: int
) -> None:
    cancel = threading.Event()
    watcher = _CancelAfterFirstLayer(cancel)

    with pytest.raises(Cancelled) as raised:
        analyze(large_image, AnalyzeOptions(workers=workers, cancel=cancel), watcher)

    assert not isinstance(raised.value, BloatscopeError)  # not bad input: nobody reports it
    assert watcher.setter is not None and cancel.is_set()
    # stopped inside the read: some layer read, not all, and the analysis never began
    [(label, total)] = watcher.phases
    assert label == "Reading layers"
    assert 0 < watcher.done < total
    assert watcher.finished == []
    assert multiprocessing.active_children() == []  # the pool's workers are gone, not orphaned


def test_a_flag_set_beforehand_stops_before_any_layer_is_read() -> None:
    cancel = threading.Event()
    cancel.set()
    watcher = _CancelAfterFirstLayer(cancel)
    with pytest.raises(Cancelled):
        analyze(SAMPLE, AnalyzeOptions(cancel=cancel), watcher)
    assert watcher.phases == []

    layers: list[Layer] = []
    with pytest.raises(Cancelled):
        read_image(SAMPLE, ReadOptions(cancel=cancel), None, layers.append)
    assert layers == []

    assert read_image(SAMPLE, ReadOptions(), None, layers.append).image.layers  # unset: reads
    assert len(layers) == 12


class _CountingFlag:
    """A cancel flag that counts how often it is looked at, and is set from look ``set_at`` on."""

    def __init__(self, set_at: int | None = None) -> None:
        self.looks = 0
        self.set_at = set_at

    def is_set(self) -> bool:
        self.looks += 1
        return self.set_at is not None and self.looks >= self.set_at


def _largest_layer(reference: str) -> BlobRef:
    opened = open_image(reference)
    refs = [locate_layer(opened.store, layer) for layer in opened.plan.layers]
    return max((ref for ref in refs if ref is not None), key=lambda ref: ref.size)


@pytest.mark.parametrize("form", ["docker.tar", "oci.tar"], ids=["plain-tar", "gzip"])
def test_a_layer_scan_looks_at_the_flag_once_a_mib_not_once_a_file(
    corpus_dir: Path, form: str
) -> None:
    ref = _largest_layer(str(corpus_dir / f"base-debian.{form}"))
    flag = _CountingFlag()
    scan = scan_layer(ref, verify_blob=False, verify_diff_id=False, cancel=flag)

    mib = scan.tar_bytes // CHECK_BYTES
    assert mib > 50 and len(scan.entries) > 10 * mib  # a layer of many small files
    assert 0.5 * mib <= flag.looks <= mib + 1

    stopping = _CountingFlag(set_at=3)
    with pytest.raises(Cancelled):
        scan_layer(ref, verify_blob=False, verify_diff_id=False, cancel=stopping)
    assert stopping.looks == 3  # raised at the first look that found it set
