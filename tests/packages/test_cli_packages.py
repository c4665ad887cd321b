"""``bloatscope packages`` and the packages parts of ``analyze``, on waste-zoo (a real Debian
image with pip on top): tables, JSON, what-if removal, filters, and untrusted names."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import Run, json_of


@pytest.fixture(scope="module")
def zoo(corpus_dir: Path) -> str:
    return str(corpus_dir / "waste-zoo.oci")


def test_packages_table_per_ecosystem(run: Run, zoo: str) -> None:
    code, out, err = run("packages", zoo)
    assert (code, err) == (0, "")
    assert "Debian packages (dpkg): 132," in out
    assert "Python packages:" in out
    assert "tomli_w" in out or "tomli-w" in out  # pip-installed on top of Debian's python3
    assert "Owned by packages:" in out and "Bytes no package owns" in out


def test_packages_json_measures_every_package(run: Run, zoo: str) -> None:
    document = json_of(run, "packages", zoo, "--format", "json")
    packages = document["packages"]
    dpkg = {p["name"]: p for p in packages if p["ecosystem"] == "dpkg"}
    assert len(dpkg) == 132
    curl = dpkg["curl"]
    assert curl["requested"] is True and curl["top_level"] is True
    assert curl["size_bytes"] > 0 and curl["layer"] == 2  # installed by the zoo's first RUN
    assert curl["exclusive_bytes"] >= curl["size_bytes"]
    # curl's library was installed with it, marked automatic by apt, and curl needs it
    libcurl = dpkg["libcurl4"]
    assert libcurl["requested"] is False and libcurl["top_level"] is False
    assert libcurl["exclusive_bytes"] is None and libcurl["layer"] == 2
    # debootstrap's packages are not marked automatic: apt counts them as installed on request
    assert dpkg["libc6"]["requested"] is True and dpkg["libc6"]["size_bytes"] > 10_000_000
    summary = document["package_summary"]
    total = sum(p["size_bytes"] for p in packages)
    assert summary["owned_bytes"] <= total  # shared files count once in the summary
    assert summary["unowned"][0]["size_bytes"] >= summary["unowned"][-1]["size_bytes"]


def test_what_if_remove_lists_what_goes(run: Run, zoo: str) -> None:
    document = json_of(
        run, "packages", zoo, "--what-if-remove", "curl,no-such-package", "--format", "json"
    )
    removal = document["what_if_remove"]
    assert removal["asked"] == ["dpkg:curl"]
    assert removal["unknown"] == ["no-such-package"]
    removed = {p["name"] for p in removal["removed"]}
    assert "curl" in removed and "libcurl4" in removed  # curl's own library goes with it
    assert "libc6" not in removed
    curl = next(p for p in document["packages"] if p["name"] == "curl")
    assert removal["freed_bytes"] == curl["exclusive_bytes"]
    code, out, _err = run("packages", zoo, "--what-if-remove", "curl")
    assert code == 0 and "Removing curl takes" in out and "libcurl4" in out


def test_filters(run: Run, zoo: str) -> None:
    document = json_of(run, "packages", zoo, "--ecosystem", "python", "--format", "json")
    assert {p["ecosystem"] for p in document["packages"]} == {"python"}
    code, out, _err = run("packages", zoo, "--dev-only")
    assert code == 0
    assert "libc6 " not in out


def test_analyze_lists_the_largest_packages(run: Run, zoo: str) -> None:
    code, out, _err = run("analyze", zoo)
    assert code == 0 and "Largest packages" in out
    code, out, _err = run("analyze", zoo, "--no-packages")
    assert code == 0 and "Largest packages" not in out
    document = json_of(run, "analyze", zoo, "--format", "json")
    sizes = [p["size_bytes"] for p in document["packages"]]
    assert len(sizes) > 130 and document["package_summary"]["owned_bytes"] > 0
    bare = json_of(run, "analyze", zoo, "--format", "json", "--no-packages")
    assert bare["packages"] == [] and bare["package_summary"] is None


def test_sample_has_no_package_database(run: Run) -> None:
    code, out, _err = run("packages")
    assert code == 0 and "No package databases found." in out


def test_packages_output_file_and_no_color(
    run: Run, zoo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    target = tmp_path / "packages.txt"
    code, out, err = run("packages", zoo, "--output", str(target))
    assert (code, out, err) == (0, "", "")
    text = target.read_text()
    assert "Debian packages (dpkg)" in text and "\x1b[" not in text


def test_bad_image_is_one_line(run: Run, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not a tar at all" * 100)
    code, out, err = run("packages", str(bogus))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(bogus) in err


def test_package_causes_claim_first_and_path_causes_keep_the_rest(zoo: str) -> None:
    from bloatscope.api import AnalyzeOptions, analyze  # noqa: PLC0415

    with_packages = analyze(zoo, AnalyzeOptions(min_finding_bytes=0))
    without = analyze(zoo, AnalyzeOptions(min_finding_bytes=0, packages=False))
    package_causes = {"dev-packages", "ai-stack", "full-base"}
    assert without.packages is None
    assert not {f.cause for f in without.findings} & package_causes
    # each path cause finds at most what it finds alone: package causes claim first
    for cause in {f.cause for f in without.findings}:
        alone = sum(f.bytes for f in without.findings if f.cause == cause)
        after = sum(f.bytes for f in with_packages.findings if f.cause == cause)
        assert after <= alone, cause
    assert with_packages.reclaimable_bytes == sum(f.bytes for f in with_packages.findings)


def test_top_limits_rows_but_the_title_counts_every_package(run: Run, zoo: str) -> None:
    document = json_of(run, "packages", zoo, "--ecosystem", "dpkg", "--format", "json")
    ranked = sorted(document["packages"], key=lambda p: (-p["size_bytes"], p["name"]))
    code, out, _err = run("packages", zoo, "--top", "5", "--ecosystem", "dpkg")
    assert code == 0
    assert "Debian packages (dpkg): 132," in out and "(the 5 largest shown)" in out
    table = out.split("Owned by packages:")[0]  # the unowned-bytes table follows
    rows = [line.split()[0] for line in table.splitlines() if "│" in line]
    assert rows == [package["display_name"] for package in ranked[:5]]
