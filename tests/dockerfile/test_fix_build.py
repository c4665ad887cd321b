"""The acceptance test of ``bloatscope fix``: naive-bert's Dockerfile, rewritten with its image
at hand and every suggestion applied, still builds with buildah; the image shrinks from
3.5 GB to under 1.5 GB; and each change's estimate is within 25% of what it saved, measured
on the two images.

The build takes several minutes (pip fetches transformers and its dependencies from PyPI),
so the rebuilt image is kept in $CORPUS_DIR under the hash of the rewritten files: it is
rebuilt only when the rewrite changes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.api_dockerfile import fix_dockerfile, load
from bloatscope.dockerfile.history import map_history
from bloatscope.dockerfile.parser import parse_file
from bloatscope.model.report import Report
from fix_measure import measured_savings

SHARED = Path(os.environ.get("SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
CONTEXT = SHARED / "corpus" / "images" / "naive-bert"
TORCH = os.environ.get("TORCH_SPEC", "torch==2.13.0+cpu")


def _context(tmp: Path) -> Path:
    """naive-bert's build context as build.sh makes it: the junk, and the torch wheel."""
    context = tmp / "context"
    shutil.copytree(CONTEXT, context)
    for path in [context, *context.rglob("*")]:
        path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(context), TORCH],
        check=True,
    )
    subprocess.run(["bash", "./prepare.sh"], cwd=context, check=True)
    for marker in context.glob("NEEDS_*"):
        marker.unlink()
    return context


def _buildah(corpus: Path) -> list[str]:
    store = corpus / ".storage"
    driver = os.environ.get("STORAGE_DRIVER", "overlay")
    return [
        "buildah",
        "--root",
        f"{store}/root",
        "--runroot",
        f"{store}/run",
        "--storage-driver",
        driver,
    ]


def _build(corpus: Path, context: Path, digest: str) -> Path:
    archive = corpus / f"naive-bert-fixed-{digest}.docker.tar"
    if archive.exists():
        return archive
    ca = ["-v", "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"]
    tag = "localhost/naive-bert-fixed:latest"
    buildah = _buildah(corpus)
    subprocess.run(
        [*buildah, "bud", "-q", "--layers", "--isolation", "chroot", *ca, "-t", tag, str(context)],
        check=True,
    )
    # two test runs may build at once: each writes its own partial file, and only other
    # digests' archives are removed
    partial = archive.with_name(f"{archive.name}.partial{os.getpid()}")
    partial.unlink(missing_ok=True)
    subprocess.run(
        [*buildah, "push", "-q", tag, f"docker-archive:{partial}:naive-bert-fixed:latest"],
        check=True,
    )
    for old in corpus.glob("naive-bert-fixed-*.docker.tar"):
        if old != archive:
            old.unlink(missing_ok=True)
    partial.rename(archive)
    return archive


@pytest.mark.corpus
def test_the_fixed_naive_bert_builds_under_1_5_gb_and_each_estimate_holds(
    corpus_dir: Path, tmp_path: Path, naive_bert_report: Report, run: object
) -> None:
    context = _context(tmp_path)
    dockerfile_path = str(context / "Dockerfile")
    original_inputs = load(dockerfile_path, report=naive_bert_report)
    result = fix_dockerfile(original_inputs, apply_suggestions=True)
    code, _out, err = run(  # type: ignore[operator]
        "fix", dockerfile_path, "--image", str(corpus_dir / "naive-bert.docker.tar"), "--write",
        "--apply-suggestions", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    # the CLI wrote what the library computed, and every file it names
    assert (context / "Dockerfile").read_text() == result.text
    for name, content in result.files.items():
        assert (context / name).read_text() == content
    digest = hashlib.sha256(
        "".join([result.text, *sorted(result.files.values())]).encode()
    ).hexdigest()[:16]
    image = _build(corpus_dir, context, digest)
    fixed = analyze(str(image), AnalyzeOptions(min_finding_bytes=0))

    assert naive_bert_report.final_size_bytes > 3_000_000_000
    assert sum(layer.size_bytes for layer in fixed.image.layers) < 1_500_000_000

    fixed_dockerfile = parse_file(dockerfile_path)
    fixed_layers = map_history(fixed.image, fixed_dockerfile).layers_by_line()
    assert original_inputs.layers is not None
    measured = measured_savings(
        (naive_bert_report, original_inputs.dockerfile, original_inputs.layers),
        (fixed, fixed_dockerfile, fixed_layers),
    )
    estimated = {c.fixer: c.estimate_bytes for c in result.changes if c.applied}
    assert set(measured) <= set(estimated)  # every change measured was made
    for fixer, saved in measured.items():
        estimate = estimated[fixer]
        assert estimate is not None and saved > 50_000_000, (fixer, estimate, saved)
        assert abs(estimate - saved) <= 0.25 * saved, (fixer, estimate, saved)


SMALL = """\
FROM localhost/python-full:latest
WORKDIR /app
COPY . /app
RUN pip install -r /app/requirements.txt
CMD ["python", "main.py"]
"""


@pytest.mark.corpus
def test_a_build_step_reading_a_whole_context_copy_still_builds(
    corpus_dir: Path, tmp_path: Path, run: object
) -> None:
    # pip reads requirements.txt from `COPY . /app`: the builder stage must copy the context
    # too, or `pip install` fails there. buildah builds the rewrite; the image has the package
    # pip installed, on the slim base.
    context = tmp_path / "small"
    context.mkdir()
    (context / "Dockerfile").write_text(SMALL)
    (context / "requirements.txt").write_text("six==1.16.0\n")
    (context / "main.py").write_text("import six\n")
    code, _out, err = run("fix", str(context / "Dockerfile"), "--write", "--quiet")  # type: ignore[operator]
    assert code == 0, err
    rewritten = (context / "Dockerfile").read_text()
    assert "FROM localhost/python-slim:latest" in rewritten
    ca = ["-v", "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"]
    tag = "localhost/fix-small-probe:latest"
    buildah = _buildah(corpus_dir)
    subprocess.run(
        [*buildah, "bud", "-q", "--isolation", "chroot", *ca, "-t", tag, str(context)],
        check=True,
    )
    archive = tmp_path / "small.docker.tar"
    try:
        subprocess.run(
            [*buildah, "push", "-q", tag, f"docker-archive:{archive}:small:latest"], check=True
        )
    finally:
        subprocess.run([*buildah, "rmi", "-f", tag], check=False, capture_output=True)
    built = analyze(str(archive), AnalyzeOptions(min_finding_bytes=0))
    slim = analyze(str(corpus_dir / "python-slim.docker.tar"), AnalyzeOptions())
    paths = {entry.path for layer in built.image.layers for entry in layer.entries}
    assert "usr/local/lib/python3.11/dist-packages/six.py" in paths  # Debian's pip
    assert "app/requirements.txt" in paths
    # the slim base's layers under the copied ones
    slim_layers = [layer.diff_id for layer in slim.image.layers]
    assert [layer.diff_id for layer in built.image.layers[: len(slim_layers)]] == slim_layers
