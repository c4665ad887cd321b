"""The packages issue's acceptance checks on naive-bert: sizes equal the bytes of each package's
files in the final tree (computed here independently, from the databases' own file lists), the
requirements and dev tools appear with their exclusive closures, and the dev-tools findings
carry exactly those closures' bytes."""

from __future__ import annotations

import posixpath

import pytest

from bloatscope.analysis.dev_packages import dev_removal
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import Package, PackageInventory
from bloatscope.model.report import Report
from bloatscope.packages.catalog import capture_for, catalog, catalogers, image_files
from bloatscope.packages.inventory import Inventory
from bloatscope.reader.image_reader import ReadOptions, read_image

# usrmerge: Debian's .list files name /lib/... and /bin/... where the tree has usr/lib, usr/bin
_MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
REQUIREMENTS = ("torch", "transformers", "jupyter", "pytest", "black", "flake8", "mypy")


@pytest.fixture(scope="module")
def report(naive_bert_report: Report) -> Report:
    return naive_bert_report


@pytest.fixture(scope="module")
def packages(report: Report) -> PackageInventory:
    assert report.packages is not None
    return report.packages


def by_name(packages: PackageInventory, ecosystem: Ecosystem) -> dict[str, Package]:
    return {p.name: p for p in packages.packages if p.ecosystem is ecosystem}


def final_bytes(report: Report, listed: tuple[str, ...]) -> int:
    """The bytes of these paths in the final tree, each content once, usrmerge undone by hand."""
    contents: set[tuple[int, int]] = set()
    for raw in listed:
        path = posixpath.normpath("/" + raw).lstrip("/")
        node = report.filesystem.get(path)
        if node is None and path.split("/", 1)[0] in _MERGED:
            node = report.filesystem.get("usr/" + path)
        if node is not None and node.children is None and node.content is not None:
            contents.add(node.content)
    layers = report.image.layers
    return sum(layers[layer].entries[index].size for layer, index in contents)


def test_python_and_dpkg_sizes_are_the_final_bytes_of_their_files(
    report: Report, packages: PackageInventory
) -> None:
    python = by_name(packages, Ecosystem.PYTHON)
    dpkg = by_name(packages, Ecosystem.DPKG)
    assert len(python) > 150 and len(dpkg) > 250
    checked = 0
    for package in [*python.values(), *dpkg.values()]:
        if not package.record.files_known:
            continue
        expected = final_bytes(report, package.record.files)
        assert package.size_bytes == expected, package.name
        checked += 1
    assert checked > 400
    assert python["torch"].size_bytes > 500_000_000
    assert dpkg["gcc-12"].size_bytes > 30_000_000


def test_the_requirements_appear_with_their_exclusive_closures(
    packages: PackageInventory,
) -> None:
    python = by_name(packages, Ecosystem.PYTHON)
    for name in REQUIREMENTS:
        package = python[name]
        assert package.top_level, name
        assert package.record.requested, name  # pip wrote REQUESTED for each
        assert package.exclusive_packages[0] == name
        assert package.exclusive_bytes >= package.size_bytes, name
    # jupyter is a metapackage: nearly all of its bytes are its notebook stack
    jupyter = python["jupyter"]
    assert {"jupyterlab", "notebook", "nbconvert"} <= set(jupyter.exclusive_packages)
    assert jupyter.exclusive_bytes > 50 * jupyter.size_bytes
    # numpy is requested and needed by pandas and torch: removing it frees numpy alone
    numpy = python["numpy"]
    assert numpy.exclusive_packages == ("numpy",)
    assert numpy.exclusive_bytes == numpy.size_bytes
    removal = packages.what_if_remove(["jupyter", "pytest"])
    removed = {p.name for p in removal.removed}
    assert {"jupyter", "pytest", "jupyterlab", "pluggy", "iniconfig"} <= removed
    assert "numpy" not in removed and removal.unknown == ()
    assert removal.freed_bytes >= python["jupyter"].exclusive_bytes + python["pytest"].size_bytes


@pytest.fixture(scope="module")
def inventory(report: Report) -> Inventory:
    """The graph behind the report's packages: the image read again, as the API reads it."""
    chosen = catalogers()
    result = read_image(report.image.reference, ReadOptions(capture=capture_for(chosen)))
    records = catalog(image_files(result.image, result.filesystem, result.captured), chosen, [])
    return Inventory(records, result.image, result.filesystem, result.filesystem.walk())


def test_dev_tool_findings_carry_their_exclusive_closures(
    report: Report, inventory: Inventory
) -> None:
    for ecosystem, expected in (
        (Ecosystem.PYTHON, {"pytest", "black", "flake8", "mypy", "jupyter", "ipython"}),
        (Ecosystem.DPKG, {"build-essential", "gcc-12", "git", "libssl-dev", "python3-dev"}),
    ):
        tools, removed = dev_removal(inventory, ecosystem)
        names = {inventory.records[i].name for i in tools}
        assert expected <= names, ecosystem
        findings = [
            f for f in report.findings if f.cause == "dev-packages" and f.group == ecosystem
        ]
        assert findings, ecosystem
        freed = inventory.attribution.freed_bytes(removed)
        assert sum(f.bytes for f in findings) == freed
        title = " ".join(f.title for f in findings)
        biggest = sorted(tools, key=lambda i: -inventory.packages[i].size_bytes)[:3]
        assert all(inventory.records[i].label in title for i in biggest)
    dpkg_freed = sum(
        f.bytes for f in report.findings if f.cause == "dev-packages" and f.group == "dpkg"
    )
    assert dpkg_freed > 200_000_000  # the gcc/-dev toolchain of the full base
    assert all(
        f.layer == 1 for f in report.findings if f.cause == "dev-packages" and f.group == "dpkg"
    )


def test_cpu_torch_is_not_a_cuda_finding(report: Report) -> None:
    assert not [f for f in report.findings if f.cause == "ai-stack" and f.group == "cuda-torch"]


def test_the_largest_packages_are_listed_by_analyze(packages: PackageInventory) -> None:
    largest = packages.largest(10)
    assert largest[0].name == "torch"
    assert [p.size_bytes for p in largest] == sorted((p.size_bytes for p in largest), reverse=True)
    assert packages.owned_bytes + packages.unowned_bytes > 3_000_000_000
    unowned_dirs = {group.directory for group in packages.unowned}
    assert {"/src", "/var/cache/apt"} <= unowned_dirs
