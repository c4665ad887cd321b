"""Acceptance: on python-slim and waste-zoo, the dpkg cataloger finds exactly the packages the
host's ``dpkg-query`` lists for the same database, with exactly the files it lists for each,
and marks requested exactly the packages ``apt-mark showmanual`` lists.

The database is the images' ``var/lib/dpkg/`` and apt's ``extended_states`` as the layers
leave them (whiteouts applied), unpacked with tarfile; dpkg-query and apt-mark read them there,
and the cataloger reads the same bytes through ``ImageFiles``, keeping what its capture pattern
names as the reader would."""

from __future__ import annotations

import functools
import json
import posixpath
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import isal.igzip
import pytest

from bloatscope.model.package import PackageRecord
from bloatscope.packages.base import ImageFiles
from bloatscope.packages.catalog import capture_for
from bloatscope.packages.dpkg import DpkgCataloger

pytestmark = pytest.mark.corpus

IMAGES = ("python-slim", "waste-zoo")
ADMINDIR = "var/lib/dpkg"
EXTENDED_STATES = "var/lib/apt/extended_states"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
# dpkg states in which a package's files are on disk (dpkg-query -W also lists config-files
# packages, whose files are gone, and not-installed ones it still remembers)
FILES_ON_DISK = {
    "installed",
    "unpacked",
    "half-configured",
    "half-installed",
    "triggers-awaiting",
    "triggers-pending",
}

Tree = dict[str, bytes]


@pytest.fixture(scope="module")
def dpkg_query() -> str:
    path = shutil.which("dpkg-query")
    if path is None:
        pytest.skip("dpkg-query is not installed on this host")
    return path


@pytest.fixture(scope="module")
def apt_mark() -> str:
    path = shutil.which("apt-mark")
    if path is None:
        pytest.skip("apt-mark is not installed on this host")
    return path


@pytest.fixture(scope="module", params=IMAGES)
def unpacked(
    request: pytest.FixtureRequest, corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Tree]:
    """The image's final var/lib/dpkg (and extended_states), unpacked under a temporary root,
    and its files."""
    image = corpus_dir / f"{request.param}.oci"
    tree: Tree = {}
    for layer in _layer_blobs(image):
        _apply(tree, *_dpkg_changes(layer))
    root = tmp_path_factory.mktemp(request.param)
    for path, data in tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root, tree


def test_installed_packages_are_what_dpkg_query_lists(
    unpacked: tuple[Path, Tree], dpkg_query: str
) -> None:
    root, tree = unpacked
    listed = _run(
        dpkg_query, root / ADMINDIR, "-W", "-f", r"${Package}\t${Version}\t${db:Status-Status}\n"
    )
    expected = {
        (name, version)
        for name, version, state in (line.split("\t") for line in listed.splitlines())
        if state in FILES_ON_DISK
    }
    records, warnings = _catalog(tree)
    assert warnings == []
    assert len(expected) > 100  # both images carry Debian's slim base and more
    assert {(record.name, record.version) for record in records} == expected
    assert len(records) == len(expected)


def test_each_package_owns_the_files_dpkg_query_lists(
    unpacked: tuple[Path, Tree], dpkg_query: str
) -> None:
    root, tree = unpacked
    admindir = root / ADMINDIR
    records, _ = _catalog(tree)
    names = _run(dpkg_query, admindir, "-W", "-f", r"${Package}\t${binary:Package}\n")
    qualified = dict(line.split("\t") for line in names.splitlines())
    # -L prints each package's .list, packages separated by a blank line, with notes on
    # diversions on lines of their own
    listing = _run(dpkg_query, admindir, "-L", *(qualified[r.name] for r in records))
    lists = listing.rstrip("\n").split("\n\n")
    assert len(lists) == len(records)
    for record, listed in zip(records, lists, strict=True):
        paths = [line for line in listed.splitlines() if line.startswith("/")]
        expected = [posixpath.normpath(path).lstrip("/") for path in paths if path != "/."]
        assert record.files_known
        assert list(record.files) == expected, record.name


def test_requested_packages_are_what_apt_mark_lists_as_manual(
    unpacked: tuple[Path, Tree], apt_mark: str
) -> None:
    root, tree = unpacked
    admindir = root / ADMINDIR
    assert EXTENDED_STATES in tree
    options = {
        "Dir::State::status": admindir / "status",
        "Dir::State::extended_states": root / EXTENDED_STATES,
        # no package lists, sources or caches: only the two state files count
        "Dir::State::lists": root / "nonexistent",
        "Dir::Etc::sourcelist": "/dev/null",
        "Dir::Etc::sourceparts": root / "nonexistent",
        "Dir::Cache::pkgcache": "",
        "Dir::Cache::srcpkgcache": "",
    }
    command = [apt_mark, *(f"-o{key}={value}" for key, value in options.items()), "showmanual"]
    manual = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    records, _ = _catalog(tree)
    assert len(manual) > 50  # the base image's packages, which apt never marked automatic
    assert sorted(record.name for record in records if record.requested) == sorted(manual)
    assert all(record.requested is not None for record in records)


def _catalog(tree: Tree) -> tuple[list[PackageRecord], list[str]]:
    """What the cataloger makes of the tree when the reader keeps what its pattern names."""
    capture = capture_for([DpkgCataloger()])
    captured = {path: data for path, data in tree.items() if capture.wants(path.encode())}
    files = ImageFiles.from_mapping(captured, other_paths=tree.keys() - captured.keys())
    warnings: list[str] = []
    return DpkgCataloger().catalog(files, warnings.append), warnings


def _run(dpkg_query: str, admindir: Path, *arguments: str) -> str:
    command = [dpkg_query, f"--admindir={admindir}", *arguments]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


# --- unpacking the dpkg database out of an OCI layout -----------------------------------------


def _layer_blobs(image: Path) -> list[Path]:
    blobs = image / "blobs"
    index = json.loads((image / "index.json").read_text())
    manifest = json.loads(_blob(blobs, index["manifests"][0]["digest"]).read_text())
    return [_blob(blobs, layer["digest"]) for layer in manifest["layers"]]


def _blob(blobs: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return blobs / algorithm / hexdigest


@functools.cache
def _dpkg_changes(layer: Path) -> tuple[tuple[str, ...], Tree]:
    """What one gzip layer does to the files we want: the paths it deletes from the layers below
    (whiteouts; an opaque directory deletes what is below it), and the files it writes.
    Cached: python-slim's layers are waste-zoo's first two."""
    deleted: list[str] = []
    written: Tree = {}
    with isal.igzip.open(layer) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            path = posixpath.normpath(member.name.removeprefix("./")).lstrip("/")
            directory, name = posixpath.split(path)
            if name == OPAQUE:
                deleted.append(directory + "/")
            elif name.startswith(WHITEOUT):
                deleted.append(posixpath.join(directory, name.removeprefix(WHITEOUT)))
            elif _wanted(path) and member.isfile():
                content = tar.extractfile(member)
                assert content is not None
                written[path] = content.read()
            elif _wanted(path) and member.islnk():
                target = posixpath.normpath(member.linkname.removeprefix("./")).lstrip("/")
                written[path] = written[target]
    return tuple(deleted), written


def _wanted(path: str) -> bool:
    return path.startswith(ADMINDIR + "/") or path == EXTENDED_STATES


def _apply(tree: Tree, deleted: tuple[str, ...], written: Tree) -> None:
    for gone in deleted:
        for path in list(_under(tree, gone)):
            del tree[path]
    tree.update(written)


def _under(tree: Tree, gone: str) -> Iterator[str]:
    """The tree's paths a whiteout of ``gone`` removes (``dir/`` for an opaque directory's
    contents)."""
    prefix = gone if gone.endswith("/") else gone + "/"
    return (path for path in tree if path == gone or path.startswith(prefix))
