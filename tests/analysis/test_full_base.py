"""Full Debian base images: the bytes of the packages a slim base leaves out, alone and after
the dev-packages finding has taken the toolchain; slim images, app libraries without a
toolchain and unknown releases left alone; and the real corpus images."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from analysis.test_ai_stacks import Spec, analysis_input
from bloatscope.analysis.base import AnalysisInput
from bloatscope.analysis.dev_packages import DevPackagesAnalyzer
from bloatscope.analysis.findings import find
from bloatscope.analysis.full_base import (
    DEFAULT_MIN_BYTES,
    FullBaseAnalyzer,
    release_of,
    slim_packages,
)
from bloatscope.analysis.reclaimable import reclaimable, visible_content
from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.finding import Finding, Severity
from bloatscope.model.package import Requirement
from bloatscope.packages.catalog import capture_for, catalog, catalogers, image_files
from bloatscope.packages.inventory import Inventory
from bloatscope.reader.image_reader import ReadOptions, read_image

DPKG = Ecosystem.DPKG
SMALL = 1000  # the size threshold for the synthetic images


def deb(
    name: str,
    size: int,
    requires: tuple[str, ...] = (),
    *,
    requested: bool = False,
    version: str = "1.0-1",
    weak: tuple[str, ...] = (),
    essential: bool = False,
) -> Spec:
    files = {f"usr/share/{name}/data": size}
    spec = Spec(name, version, files, requires, requested=requested, ecosystem=DPKG, root="")
    weak_relations = tuple(Requirement((target,), weak=True) for target in weak)
    spec.record = replace(
        spec.record, requires=spec.record.requires + weak_relations, essential=essential
    )
    return spec


def slim_base(base_files: str = "12.4+deb12u5") -> list[Spec]:
    return [
        deb("base-files", 10, version=base_files, essential=True, requested=True),
        deb("libc6", 2000),
        deb("libgmp10", 500),  # in the slim list, but only the compiler needs it here
        # python3 needs a package the slim list lacks, and recommends build-essential
        deb("python3", 3000, ("libc6", "tzdata-legacy"), requested=True, weak=("build-essential",)),
    ]


def full_extras() -> list[Spec]:
    return [
        deb("gcc-12", 1000, ("cpp-12", "libc6"), requested=True),
        deb("cpp-12", 20_000, ("libisl23", "libgmp10")),
        deb("libisl23", 1500),
        deb("build-essential", 30, ("gcc-12",)),
        deb("git", 4000, ("perl", "libcurl3-gnutls"), requested=True),
        deb("perl", 3500, ("libc6",)),
        deb("libcurl3-gnutls", 600),
        deb("libjpeg-dev", 70, ("libjpeg62-turbo",), requested=True),
        deb("libjpeg62-turbo", 400),
        deb("libtiff6", 800, ("libjpeg62-turbo",), requested=True),
        deb("libx11-6", 1300, ("libxcb1",), requested=True),
        deb("libxcb1", 200),
        deb("curl", 250, ("libcurl4",), requested=True),
        deb("libcurl4", 700),
        deb("tzdata-legacy", 900),
    ]


# what each finding claims of slim_base() + full_extras()
TOOLCHAIN = 1000 + 20_000 + 1500 + 30 + 4000 + 3500 + 600 + 70  # dev tools and their closure
REST = 400 + 800 + 1300 + 200 + 250 + 700  # image, X and curl libraries
GMP = 500  # a slim package: dev-packages frees it with the compiler, full-base never claims it


def full_image(tmp_path: Path) -> AnalysisInput:
    return analysis_input(tmp_path, [*slim_base(), *full_extras()])


def by_cause(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    assert len({f.cause for f in findings}) == len(findings)
    return {finding.cause: finding for finding in findings}


def test_bookworm_is_read_from_base_files() -> None:
    def release(version: str) -> str | None:
        return release_of([deb("base-files", 1, version=version).record])

    assert release("12.4+deb12u5") == "bookworm"
    assert release("12.4") == "bookworm"
    assert release("13.8") == "trixie"
    assert release("11.1+deb11u11") == "bullseye"
    assert release("12ubuntu4.6") is None  # Ubuntu jammy: not Debian's numbering
    assert release("14.1") is None
    assert release("9" * 5000 + ".1") is None  # hostile: too long for int() in Python 3.11
    assert release_of([deb("libc6", 1).record]) is None


def test_alone_it_claims_every_package_the_slim_base_leaves_out(tmp_path: Path) -> None:
    found = by_cause(find(full_image(tmp_path), [FullBaseAnalyzer(min_bytes=SMALL)]))
    finding = found["full-base"]
    assert finding.group == "debian"
    # not tzdata-legacy (python3 needs it), not libgmp10 (the slim base has it)
    assert finding.bytes == TOOLCHAIN + REST
    assert finding.path_count == 14
    assert finding.severity is Severity.MEDIUM
    assert finding.title == (
        "Full Debian bookworm base: 14 packages a slim base leaves out "
        "(cpp-12, git, perl, libisl23, libx11-6, libtiff6, ...)"
    )
    assert finding.fix == (
        "FROM python:3.x-slim (or debian:bookworm-slim) and install only the libraries the "
        "app needs; compile in a builder stage."
    )


def test_after_dev_packages_it_claims_the_rest(tmp_path: Path) -> None:
    analyzers = [DevPackagesAnalyzer(), FullBaseAnalyzer(min_bytes=SMALL)]
    found = by_cause(find(full_image(tmp_path), analyzers))
    assert found["dev-packages"].bytes == TOOLCHAIN + GMP
    assert found["full-base"].bytes == REST
    # the packages still counted lead the title
    assert found["full-base"].title.startswith(
        "Full Debian bookworm base: 14 packages a slim base leaves out "
        "(libx11-6, libtiff6, libcurl4, libjpeg62-turbo, curl, perl, ...)"
    )


def test_below_the_threshold_it_is_not_a_full_base(tmp_path: Path) -> None:
    assert DEFAULT_MIN_BYTES == 50_000_000
    assert find(full_image(tmp_path), [FullBaseAnalyzer()]) == ()


def test_a_slim_image_is_not_flagged(tmp_path: Path) -> None:
    slim = [deb(name, 100, requested=True) for name in ("python3-pip", "python3-venv")]
    data = analysis_input(tmp_path, [*slim_base(), *slim, deb("tzdata-legacy", 900)])
    assert find(data, [FullBaseAnalyzer(min_bytes=0)]) == ()


def test_app_libraries_without_a_toolchain_are_not_a_full_base(tmp_path: Path) -> None:
    libraries = [
        deb("libpq5", 5000, ("libldap-2.5-0",), requested=True),
        deb("libldap-2.5-0", 3000),
        deb("libx11-6", 1300, requested=True),
        deb("tzdata-legacy", 900),
    ]
    data = analysis_input(tmp_path, [*slim_base(), *libraries])
    assert find(data, [FullBaseAnalyzer(min_bytes=SMALL)]) == ()


@pytest.mark.parametrize("base_files", ["12ubuntu4.6", "13.8+deb13u1"])
def test_releases_without_a_slim_list_are_not_judged(tmp_path: Path, base_files: str) -> None:
    if base_files.startswith("13") and "trixie" in slim_packages():
        pytest.skip("trixie has a slim list now")
    data = analysis_input(tmp_path, [*slim_base(base_files), *full_extras()])
    assert find(data, [FullBaseAnalyzer(min_bytes=SMALL)]) == ()


def test_the_slim_list_is_the_slim_corpus_image() -> None:
    releases = json.loads(
        (Path(__file__).parents[2] / "src/bloatscope/data/slim_bases.json").read_text()
    )["releases"]
    assert "python-slim" in releases["bookworm"]["source"]
    bookworm = slim_packages()["bookworm"]
    assert {"base-files", "python3", "python3-pip", "ca-certificates", "libc6"} <= bookworm
    assert not {"gcc-12", "git", "perl", "libx11-6", "build-essential"} & bookworm


# the corpus


def corpus_input(image: Path) -> AnalysisInput:
    """As bloatscope.api.analyze builds it, with the packages cataloged. python-full is not
    one of the images CI builds: without it, its tests skip."""
    if not image.exists():
        pytest.skip(f"{image} is not built (../shared/corpus/build.sh {image.stem})")
    chosen = catalogers()
    result = read_image(str(image), ReadOptions(capture=capture_for(chosen)))
    records = catalog(image_files(result.image, result.filesystem, result.captured), chosen, [])
    nodes = result.filesystem.walk()
    visible = visible_content(nodes)
    waste = reclaimable(result.image, result.filesystem, result.changes, visible)
    inventory = Inventory(records, result.image, result.filesystem, nodes)
    return AnalysisInput(
        result.image, result.filesystem, result.changes, nodes, visible, waste, inventory
    )


@pytest.mark.corpus
def test_python_full_is_a_full_base(corpus_dir: Path) -> None:
    data = corpus_input(corpus_dir / "python-full.oci")
    alone = by_cause(find(data, [FullBaseAnalyzer()]))["full-base"]
    assert alone.bytes >= DEFAULT_MIN_BYTES
    assert alone.title.startswith("Full Debian bookworm base: ")
    after = by_cause(find(data, [DevPackagesAnalyzer(), FullBaseAnalyzer()]))
    assert 0 < after["full-base"].bytes < alone.bytes
    assert after["dev-packages"].bytes + after["full-base"].bytes >= alone.bytes


@pytest.mark.corpus
def test_python_slim_is_not_a_full_base(corpus_dir: Path) -> None:
    data = corpus_input(corpus_dir / "python-slim.oci")
    assert find(data, [FullBaseAnalyzer(min_bytes=0)]) == ()


@pytest.mark.corpus
def test_the_script_regenerates_the_slim_list(corpus_dir: Path, tmp_path: Path) -> None:
    script = Path(__file__).parents[2] / "scripts/slim_bases.py"
    output = tmp_path / "slim_bases.json"
    image = corpus_dir / "python-slim.oci"
    subprocess.run(
        [sys.executable, str(script), str(image), "--source", "test", "--output", str(output)],
        check=True,
        capture_output=True,
    )
    regenerated = json.loads(output.read_text())["releases"]["bookworm"]["packages"]
    assert frozenset(regenerated) == slim_packages()["bookworm"]
