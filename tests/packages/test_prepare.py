"""Parsing database files ahead, in the reader's worker processes (Cataloger.prepare): the
values are made on a real read, only where the final tree shows the file where its layer wrote
it, and cataloging with them gives exactly what cataloging without them gives."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.packages.catalog import capture_for, catalog, catalogers, image_files
from bloatscope.packages.database_files import ListedPaths
from bloatscope.packages.dpkg import DpkgCataloger
from bloatscope.packages.python import PythonCataloger
from bloatscope.reader.image_reader import ReadOptions, read_image
from bloatscope.reader.prepared import PreparedFiles

SITE = "usr/local/lib/python3.11/site-packages"


def test_a_record_is_prepared_as_root_relative_paths() -> None:
    value = PythonCataloger().prepare(
        f"{SITE}/six-1.16.0.dist-info/RECORD",
        b"six.py,sha256=x,10\n./six.py,,\n../../../bin/six,,\nsix-1.16.0.dist-info/RECORD,,\n",
    )
    assert isinstance(value, ListedPaths)
    assert value.base == SITE
    assert value.paths == (
        f"{SITE}/six.py",
        "usr/local/bin/six",
        f"{SITE}/six-1.16.0.dist-info/RECORD",
    )


def test_files_prepare_cannot_parse_are_left_to_catalog() -> None:
    python, dpkg = PythonCataloger(), DpkgCataloger()
    broken_record = b'"' + b"x" * 200_000 + b'",,\n'  # past the csv module's field limit
    assert python.prepare(f"{SITE}/a-1.dist-info/RECORD", broken_record) is None
    assert python.prepare(f"{SITE}/a-1.dist-info/METADATA", b"Version: 1\n") is None  # no Name
    assert python.prepare(f"{SITE}/a-1.dist-info/INSTALLER", b"pip\n") is None
    assert dpkg.prepare("var/lib/dpkg/info/bash.list", b"/bin/bash\n\0\n") is None
    assert dpkg.prepare("etc/apt/sources.list", b"/not/a/file/list\n") is None
    listed = dpkg.prepare("var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n")
    assert isinstance(listed, ListedPaths)
    assert listed.paths == ("bin", "bin/bash")
    assert ListedPaths.from_paths("", ("a", "b\nc")) is None  # a newline would split a path
    assert ListedPaths.from_paths("", ()) == ListedPaths("", "", 0)
    assert ListedPaths("", "", 0).paths == ()


def test_a_worker_lost_leaves_nothing_prepared() -> None:
    broken: Future[dict[str, object]] = Future()
    broken.set_exception(BrokenProcessPool("a worker died"))
    assert dict(PreparedFiles(broken)) == {}
    done: Future[dict[str, object]] = Future()
    done.set_result({"a": 1})
    assert dict(PreparedFiles(done)) == {"a": 1}


@pytest.mark.parametrize("name", ["python-full", "naive-bert"])
def test_prepared_on_a_real_read_and_cataloged_the_same(corpus_dir: Path, name: str) -> None:
    chosen = catalogers()
    path = corpus_dir / f"{name}.docker.tar"
    if not path.exists():
        pytest.skip(f"{path} is not built")
    # two workers, as on any machine with more than one core: the prepared values come back
    result = read_image(str(path), ReadOptions(workers=2, capture=capture_for(chosen)))
    prepared = [dict(layer) for layer in result.prepared]
    values = [value for layer in prepared for value in layer.values()]
    lists = [value for value in values if isinstance(value, ListedPaths)]
    assert len(lists) > 100  # every dpkg .list (and on naive-bert, every pip RECORD)
    assert sum(len(value.paths) for value in lists) > 10_000
    with_values = image_files(result.image, result.filesystem, result.captured, prepared)
    without = image_files(result.image, result.filesystem, result.captured)
    warnings_with: list[str] = []
    warnings_without: list[str] = []
    records = catalog(with_values, chosen, warnings_with)
    assert records == catalog(without, chosen, warnings_without)
    assert warnings_with == warnings_without
    assert {r.ecosystem for r in records} >= {Ecosystem.DPKG, Ecosystem.PYTHON}


def test_in_process_reads_prepare_nothing(corpus_dir: Path) -> None:
    result = read_image(
        str(corpus_dir / "python-slim.docker.tar"),
        ReadOptions(workers=1, capture=capture_for(catalogers())),
    )
    assert any(result.captured)
    assert all(len(layer) == 0 for layer in result.prepared)
