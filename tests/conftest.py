"""Shared fixtures: the image corpus (built by ../shared/corpus/build.sh) and its zstd copies.

Without the corpus, corpus tests skip with the reason; under CI (CI=true), which builds the
corpus first, a missing corpus fails them instead.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

CORPUS_IMAGES = ("base-debian", "python-slim", "waste-zoo")  # the only ones CI builds
_FORMS = (".docker.tar", ".oci.tar", ".oci")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _unavailable(reason: str) -> NoReturn:
    if _in_ci():
        pytest.fail(f"{reason} (CI=true, and CI builds the corpus, so this is an error)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """$CORPUS_DIR (default ~/.cache/image-corpus), holding every form of the CI images."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "image-corpus"
    root = Path(os.environ.get("CORPUS_DIR") or default)
    missing = [
        name + form
        for name in CORPUS_IMAGES
        for form in _FORMS
        if not (root / (name + form)).exists()
    ]
    if missing:
        _unavailable(
            f"image corpus incomplete in {root}: missing {', '.join(missing)}; build it with "
            f"`bash ../shared/corpus/build.sh {' '.join(CORPUS_IMAGES)}` or scripts/test.sh"
        )
    return root


@pytest.fixture(scope="session")
def zstd_corpus(corpus_dir: Path) -> dict[str, Path]:
    """NAME -> NAME.zstd.oci (an OCI layout with zstd layers), made with skopeo when absent."""
    copies: dict[str, Path] = {}
    for name in CORPUS_IMAGES:
        target = corpus_dir / f"{name}.zstd.oci"
        if not (target / "index.json").is_file():
            skopeo = shutil.which("skopeo")
            if skopeo is None:
                _unavailable(f"{target} is missing and skopeo, which makes it, is not installed")
            # a private scratch name, so that two test runs making the copy do not collide
            scratch = corpus_dir / f"{name}.zstd.oci.tmp{os.getpid()}"
            shutil.rmtree(scratch, ignore_errors=True)
            subprocess.run(
                [
                    skopeo, "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd",
                    f"oci-archive:{corpus_dir / name}.oci.tar", f"oci:{scratch}:{name}:latest",
                ],
                check=True,
            )  # fmt: skip
            if (target / "index.json").is_file():  # another run finished first
                shutil.rmtree(scratch)
            else:
                shutil.rmtree(target, ignore_errors=True)
                scratch.rename(target)
        copies[name] = target
    return copies


@pytest.fixture(scope="session")
def naive_bert_report() -> object:
    """naive-bert (3.5 GB, the seed article's image) analyzed once for every test that needs
    it, with every finding kept. scripts/test.sh builds it, so under CI a missing image is an
    error; elsewhere these tests skip."""
    from bloatscope.api import AnalyzeOptions, analyze  # noqa: PLC0415 - only when used

    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "image-corpus"
    image = Path(os.environ.get("CORPUS_DIR") or default) / "naive-bert.docker.tar"
    if not image.exists():
        _unavailable(f"{image} is not built (../shared/corpus/build.sh naive-bert)")
    return analyze(str(image), AnalyzeOptions(min_finding_bytes=0))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., tuple[int, str, str]]]:
    """``bloatscope ARGS`` in-process: (exit code, stdout, stderr)."""
    from bloatscope.cli import main  # noqa: PLC0415 - only when used

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield invoke
    # main() turns the cyclic collector off for the rest of the process (fine for a CLI run);
    # in-process calls must not leave the test session without it
    gc.enable()
