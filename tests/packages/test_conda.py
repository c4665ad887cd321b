"""The conda cataloger against hand-built conda-meta directories: records as conda and
micromamba write them, the history that says what was asked for, and broken records."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.catalog import capture_for
from bloatscope.packages.conda import CAPTURE, CondaCataloger, spec_name

PREFIX = "opt/conda"
META = f"{PREFIX}/conda-meta"


def conda_record(name: str, version: str, build: str = "h0_0", **fields: Any) -> bytes:
    document = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "depends": [],
        "files": [],
        **fields,
    }
    return json.dumps(document, indent=2).encode()


def catalog(contents: dict[str, bytes]) -> tuple[list[PackageRecord], list[str]]:
    warnings: list[str] = []
    records = CondaCataloger().catalog(ImageFiles.from_mapping(contents), warnings.append)
    return records, warnings


def by_name(records: list[PackageRecord]) -> dict[str, PackageRecord]:
    return {record.name: record for record in records}


# --- capture ---


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        (f"{META}/numpy-1.26.4-py311h64a7726_0.json", True),
        (f"{META}/history", True),
        ("conda-meta/python-3.11.8-hab00c5b_0_cpython.json", True),
        (f"{PREFIX}/envs/app/conda-meta/pandas-2.2.1-py312_0.json", True),
        ("opt/myconda-meta/numpy-1.26.4-0.json", False),
        (f"{META}/sub/numpy-1.26.4-0.json", False),
        (f"{META}/pinned", False),
        (f"{META}/history.bak", False),
        (f"{PREFIX}/pkgs/numpy-1.26.4-py311_0/info/index.json", False),
    ],
)
def test_capture(path: str, kept: bool) -> None:
    # the reader matches bytes, after a directory prefilter that must let kept names through
    assert bool(re.search(CAPTURE.encode(), path.encode())) is kept
    assert capture_for([CondaCataloger()]).wants(path.encode()) is kept


# --- records ---


def test_record_as_conda_writes_it() -> None:
    path = f"{META}/numpy-1.26.4-py311h64a7726_0.json"
    document = conda_record(
        "numpy",
        "1.26.4",
        "py311h64a7726_0",
        depends=[
            "libblas >=3.9.0,<4.0a0",
            "libgcc-ng >=12",
            "python >=3.11,<3.12.0a0",
            "python_abi 3.11.* *_cp311",
            "__glibc >=2.17,<3.0.a0",
            "conda-forge::libcblas>=3.9.0",
            "libgcc-ng >=12",  # twice, kept once
        ],
        constrains=["numpy-base <0a0"],
        files=[
            "bin/f2py",
            "lib/python3.11/site-packages/numpy/__init__.py",
            "lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD",
            "lib/../share/./doc/numpy.txt",
        ],
        requested_spec="numpy",
    )
    records, warnings = catalog({path: document})
    assert warnings == []
    assert records == [
        PackageRecord(
            ecosystem=Ecosystem.CONDA,
            name="numpy",
            version="1.26.4",
            location=path,
            files=(
                f"{PREFIX}/bin/f2py",
                f"{PREFIX}/lib/python3.11/site-packages/numpy/__init__.py",
                f"{PREFIX}/lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD",
                f"{PREFIX}/share/doc/numpy.txt",
                path,
            ),
            requires=(
                Requirement(names=("libblas",)),
                Requirement(names=("libgcc-ng",)),
                Requirement(names=("python",)),
                Requirement(names=("python_abi",)),
                Requirement(names=("libcblas",)),
            ),
            requested=True,
            display_name="numpy",
        )
    ]


def test_paths_data_when_files_is_absent() -> None:
    path = f"{META}/zlib-1.3.1-h4ab18f5_1.json"
    document = json.loads(conda_record("zlib", "1.3.1"))
    del document["files"]
    document["paths_data"] = {
        "paths_version": 1,
        "paths": [
            {"_path": "lib/libz.so.1.3.1", "path_type": "hardlink", "size_in_bytes": 108000},
            {"_path": "lib/libz.so", "path_type": "softlink"},
        ],
    }
    found = catalog({path: json.dumps(document).encode()})[0][0]
    assert found.files == (f"{PREFIX}/lib/libz.so.1.3.1", f"{PREFIX}/lib/libz.so", path)


def test_a_record_without_any_file_list_lists_only_itself() -> None:
    path = f"{META}/meta-1.0-0.json"
    document = json.loads(conda_record("meta", "1.0"))
    del document["files"]
    found = catalog({path: json.dumps(document).encode()})[0][0]
    assert (found.files, found.files_known) == ((path,), False)
    # an empty list is a metapackage that installs nothing
    empty = catalog({path: conda_record("meta", "1.0", files=[])})[0][0]
    assert (empty.files, empty.files_known) == ((path,), True)


def test_prefix_at_the_root_and_in_envs() -> None:
    root_path = "conda-meta/tzdata-2024a-h0c530f3_0.json"
    env_path = f"{PREFIX}/envs/app/conda-meta/tzdata-2024a-h0c530f3_0.json"
    contents = {
        root_path: conda_record("tzdata", "2024a", files=["share/zoneinfo/UTC"]),
        env_path: conda_record("tzdata", "2024a", files=["share/zoneinfo/UTC"]),
    }
    records, _ = catalog(contents)
    assert sorted((r.location, r.files[0]) for r in records) == [
        ("conda-meta/tzdata-2024a-h0c530f3_0.json", "share/zoneinfo/UTC"),
        (env_path, f"{PREFIX}/envs/app/share/zoneinfo/UTC"),
    ]


def test_absolute_and_escaping_paths_stay_inside_the_root() -> None:
    path = f"{META}/odd-1.0-0.json"
    found = catalog({path: conda_record("odd", "1.0", files=["/etc/odd.conf", "../../../x"])})[0]
    assert found[0].files == ("etc/odd.conf", "x", path)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("python >=3.11,<3.12.0a0", "python"),
        ("numpy 1.26.*", "numpy"),
        ("numpy>=1.26", "numpy"),
        ("python=3.11", "python"),
        ("conda-forge/linux-64::NumPy==1.26.4=py311_0", "numpy"),
        ("numpy[version='>=1.26']", "numpy"),
        ("_openmp_mutex >=4.5", "_openmp_mutex"),
        ("ca-certificates", "ca-certificates"),
        ("  ", ""),
    ],
)
def test_spec_name(spec: str, name: str) -> None:
    assert spec_name(spec) == name


# --- requested ---


def _environment(history: bytes | None, **requested_specs: Any) -> dict[str, bytes]:
    contents = {
        f"{META}/{name}-1.0-0.json": conda_record(name, "1.0", **fields)
        for name, fields in {
            "python": {},
            "numpy": {},
            "pandas": {},
            "jupyter": {},
            "libzlib": {},
        }.items()
    }
    for name, spec in requested_specs.items():
        contents[f"{META}/{name}-1.0-0.json"] = conda_record(name, "1.0", requested_spec=spec)
    if history is not None:
        contents[f"{META}/history"] = history
    return contents


HISTORY = b"""==> 2024-03-01 10:00:00 <==
# cmd: /opt/conda/bin/conda create -p /opt/conda python=3.11 numpy
# conda version: 24.1.2
+conda-forge/linux-64::python-3.11.8-hab00c5b_0_cpython
+conda-forge/linux-64::numpy-1.26.4-py311h64a7726_0
+conda-forge/linux-64::libzlib-1.2.13-hd590300_5
# update specs: ['python=3.11', 'numpy']
==> 2024-03-02 10:00:00 <==
# cmd: micromamba install pandas
# update specs: ["pandas"]
==> 2024-03-03 10:00:00 <==
# cmd: conda remove numpy
# remove specs: ['numpy']
==> 2017-01-01 10:00:00 <==
# cmd: conda install jupyter
# install specs: jupyter >=1.0.0,<2.0,libzlib >=1.2
==> 2017-01-02 10:00:00 <==
# cmd: conda remove libzlib
# remove specs: libzlib
"""


def test_history_replays_requests_and_removals() -> None:
    # numpy is still installed (another package needs it) but no longer asked for
    records, warnings = catalog(_environment(HISTORY, numpy="numpy"))
    assert warnings == []
    assert {name: r.requested for name, r in by_name(records).items()} == {
        "python": True,
        "numpy": False,
        "pandas": True,
        "jupyter": True,
        "libzlib": False,
    }


def test_requested_spec_when_there_is_no_history() -> None:
    records, _ = catalog(_environment(None, python="python=3.11", numpy="None", pandas=""))
    assert {name: r.requested for name, r in by_name(records).items()} == {
        "python": True,
        "numpy": False,
        "pandas": False,
        "jupyter": None,  # no requested_spec key: the record cannot say
        "libzlib": None,
    }


def test_a_history_without_requests_defers_to_requested_spec() -> None:
    # pixi leaves an empty history; an installer's may list only the linked packages
    for history in (b"", b"==> 2024-03-01 10:00:00 <==\n+conda-forge/linux-64::python-3.11.8-0\n"):
        records, _ = catalog(_environment(history, python="python"))
        assert by_name(records)["python"].requested is True
        assert by_name(records)["numpy"].requested is None


def test_each_prefix_has_its_own_history() -> None:
    env_meta = f"{PREFIX}/envs/app/conda-meta"
    contents = {
        f"{META}/python-3.11.8-0.json": conda_record("python", "3.11.8"),
        f"{META}/history": b"# update specs: ['python']\n",
        f"{env_meta}/python-3.12.2-0.json": conda_record("python", "3.12.2"),
        f"{env_meta}/history": b"# update specs: ['flask']\n",
    }
    records, _ = catalog(contents)
    assert sorted((r.version, r.requested) for r in records) == [
        ("3.11.8", True),
        ("3.12.2", False),
    ]


# --- broken records ---


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b'{"name": "numpy", "version": ',
            "not JSON (Expecting value: line 1 column 30 (char 29))",
        ),
        (b"\xff\xfe\x00garbage", "not JSON ("),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON ("),
        (b'["numpy", "1.26.4"]', "not a package record (a JSON list)"),
        (b'{"version": "1.0", "files": []}', "no name and version"),
        (b'{"name": "numpy", "version": 1.26}', "no name and version"),
        (b'{"name": "numpy", "version": "1.26.4", "files": "bin/f2py"}', "files is not a list"),
        (b'{"name": "numpy", "version": "1.26.4", "files": [1, 2]}', "files is not a list"),
    ],
)
def test_broken_record_warns_once_and_the_others_still_count(content: bytes, problem: str) -> None:
    broken = f"{META}/numpy-1.26.4-0.json"
    contents = {broken: content, f"{META}/python-3.11.8-0.json": conda_record("python", "3.11.8")}
    records, warnings = catalog(contents)
    assert [r.name for r in records] == ["python"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{broken}: {problem}")


def test_hostile_history_is_read_without_evaluating_it() -> None:
    history = b"# update specs: [" + b"[" * 50_000 + b"'python'" + b"]" * 50_000 + b"\n"
    history += b"# update specs: __import__('os').system('false')\n"
    contents = {
        f"{META}/python-3.11.8-0.json": conda_record("python", "3.11.8"),
        f"{META}/history": history,
    }
    records, warnings = catalog(contents)
    assert warnings == []
    assert records[0].requested is True


_JSON_PIECES = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"name"', b'"version"', b'"files"', b'"depends"', b":", b",", b'"x"']
)


@settings(max_examples=60, deadline=None)
@given(
    record_bytes=st.lists(st.binary(max_size=8) | _JSON_PIECES, max_size=30).map(b"".join),
    history=st.binary(max_size=200),
)
def test_arbitrary_bytes_never_raise(record_bytes: bytes, history: bytes) -> None:
    path = f"{META}/fuzz-1.0-0.json"
    records, warnings = catalog({path: record_bytes, f"{META}/history": history})
    assert len(records) + len(warnings) == 1
    assert all(w.startswith(f"{path}: ") for w in warnings)
