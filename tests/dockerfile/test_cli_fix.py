"""``bloatscope fix``: the diff it prints applies to the original with patch and git apply and
gives what --write writes; --write keeps the file's mode and writes the .dockerignore; where
the summary goes; the rewritten Dockerfile parses and has the edits; suggestions wait for
--apply-suggestions."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from bloatscope.dockerfile.parser import parse_file
from bloatscope.model.dockerfile import Dockerfile, Instruction
from cli_support import Run

ORIGINAL = """\
FROM python:3.11
# build dependencies
RUN apt-get update && apt-get install -y gcc

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY run.sh /app/run.sh
RUN chmod 755 /app/run.sh
COPY . /app
CMD ["/app/run.sh"]
"""
CONTEXT_FILES = {
    "requirements.txt": "flask\n",
    "run.sh": "#!/bin/sh\nexec python main.py\n",
    "main.py": "import flask\n",
}


def project(directory: Path, dockerfile: str = ORIGINAL) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in CONTEXT_FILES.items():
        (directory / name).write_text(text)
    (directory / "Dockerfile").write_text(dockerfile)
    return directory / "Dockerfile"


def fixed(run: Run, path: Path, *extra: str) -> tuple[str, str]:
    """(the diff, the summary) of ``fix`` without --write."""
    code, out, err = run("fix", str(path), *extra)
    assert code == 0, err
    return out, err


def patch_tool() -> str:
    found = shutil.which("patch")
    if found is None:
        pytest.skip("GNU patch is not installed (apt-get install patch)")
    return found


def apply_with_patch(diff: str, directory: Path, *, dry_run: bool = False) -> str:
    command = [patch_tool(), "-p1", "--batch", "--forward"] + (["--dry-run"] if dry_run else [])
    done = subprocess.run(
        command, input=diff, cwd=directory, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_diff_applies_to_the_original_with_patch_and_git_apply(
    run: Run, tmp_path: Path
) -> None:
    path = project(tmp_path / "p")
    diff, _ = fixed(run, path)
    assert diff.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,11 +1,")
    checked = apply_with_patch(diff, path.parent, dry_run=True)
    assert "checking file Dockerfile" in checked and "checking file .dockerignore" in checked
    assert (path.parent / "Dockerfile").read_text() == ORIGINAL  # a dry run
    git = shutil.which("git")
    if git is not None:
        done = subprocess.run(
            [git, "apply", "--check", "-"], input=diff, cwd=path.parent, text=True, check=False
        )
        assert done.returncode == 0


def test_the_patched_files_are_what_write_writes(run: Run, tmp_path: Path) -> None:
    patched = project(tmp_path / "patched")
    written = project(tmp_path / "written")
    diff, _ = fixed(run, patched)
    apply_with_patch(diff, patched.parent)
    code, _, err = run("fix", str(written), "--write")
    assert (code, err) == (0, "")
    for name in ("Dockerfile", ".dockerignore"):
        assert (patched.parent / name).read_text() == (written.parent / name).read_text(), name
    assert (written.parent / "Dockerfile").read_text() != ORIGINAL


def test_an_existing_dockerignore_is_extended_as_written(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p")
    mine = "# keep the secrets out\nsecrets/\n.git"  # no newline at the end
    (path.parent / ".dockerignore").write_text(mine)
    diff, _ = fixed(run, path)
    assert "\n--- a/.dockerignore\n+++ b/.dockerignore\n" in diff
    apply_with_patch(diff, path.parent)
    ignore = (path.parent / ".dockerignore").read_text()
    assert ignore.startswith("# keep the secrets out\nsecrets/\n.git\n\n# written by bloatscope")
    lines = ignore.splitlines()
    assert lines.count(".git") == 1 and "venv/" in lines  # no line twice


def test_a_dockerfile_without_a_final_newline_still_gets_a_valid_diff(
    run: Run, tmp_path: Path
) -> None:
    path = project(tmp_path / "p", ORIGINAL.rstrip("\n"))
    diff, _ = fixed(run, path)
    assert "\n\\ No newline at end of file\n" in diff
    apply_with_patch(diff, path.parent)
    assert (path.parent / "Dockerfile").read_text().endswith('CMD ["/app/run.sh"]\n')


def test_a_byte_order_mark_is_kept(run: Run, tmp_path: Path) -> None:
    # the parser drops it; the diff must still apply to the file, and --write keep it
    patched = project(tmp_path / "patched", "\ufeff" + ORIGINAL)
    written = project(tmp_path / "written", "\ufeff" + ORIGINAL)
    diff, _ = fixed(run, patched)
    apply_with_patch(diff, patched.parent)
    assert run("fix", str(written), "--write")[0] == 0
    result = (written.parent / "Dockerfile").read_bytes()
    assert result.startswith(b"\xef\xbb\xbfFROM python:3.11 AS builder\n")
    assert (patched.parent / "Dockerfile").read_bytes() == result


def test_without_write_the_diff_is_stdout_and_the_summary_stderr(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p")
    diff, summary = fixed(run, path)
    assert "Would change" not in diff
    assert summary.startswith("Would change 6 thing(s):\n")
    assert "  line   9          -  COPY --chmod=755 instead of a RUN chmod [BS121]\n" in summary
    assert path.read_text() == ORIGINAL
    assert not (path.parent / ".dockerignore").exists()


def test_write_rewrites_in_place_keeps_the_mode_and_prints_the_summary(
    run: Run, tmp_path: Path
) -> None:
    path = project(tmp_path / "p")
    path.chmod(0o640)
    code, out, err = run("fix", str(path), "--write")
    assert (code, err) == (0, "")
    assert out.startswith("Wrote 6 thing(s):\n") and "--- a/Dockerfile" not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    ignore = (path.parent / ".dockerignore").read_text().splitlines()
    assert ignore[0].startswith("# written by bloatscope fix")
    assert {".git", ".venv/", "**/__pycache__"} <= set(ignore)
    # a second run finds nothing more to do with the package caches or the chmod
    again = run("fix", str(path))
    assert again[0] == 0 and "BS121" not in again[2] and "BS103" not in again[2]


def instructions_of(dockerfile: Dockerfile, stage: int, keyword: str) -> list[Instruction]:
    return [i for i in dockerfile.stages[stage].instructions if i.keyword == keyword]


def test_the_rewritten_dockerfile_parses_and_has_the_edits(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p")
    assert run("fix", str(path), "--write")[0] == 0
    rewritten = parse_file(str(path))
    builder, final = rewritten.stages
    # the builder: the full base, the pip install and the file it reads, pip's cache mounted,
    # after the apt install before it (gcc, which a pip install may need to build)
    assert (builder.name, builder.base) == ("builder", "python:3.11")
    runs = instructions_of(rewritten, 0, "RUN")
    assert [i.script for i in runs] == [
        "apt-get update && apt-get install --no-install-recommends -y gcc",
        "pip install -r requirements.txt",
    ]
    assert runs[1].flag_values("mount") == ("type=cache,target=/root/.cache/pip",)
    assert [i.arguments for i in instructions_of(rewritten, 0, "COPY")] == [
        ("requirements.txt", ".")
    ]
    # the final stage: the slim base, apt without recommends and with cache mounts
    assert final.base == "python:3.11-slim" and final.name is None
    (apt,) = instructions_of(rewritten, 1, "RUN")  # the chmod RUN is gone
    assert "apt-get install --no-install-recommends -y gcc" in apt.script
    assert apt.flag_values("mount") == (
        "type=cache,target=/var/cache/apt,sharing=locked",
        "type=cache,target=/var/lib/apt,sharing=locked",
    )
    copies = instructions_of(rewritten, 1, "COPY")
    assert [(c.flags, c.arguments) for c in copies] == [
        (("--from=builder",), ("/usr/local", "/usr/local")),
        (("--chmod=755",), ("run.sh", "/app/run.sh")),
        ((), (".", "/app")),
    ]
    assert [i.keyword for i in final.instructions] == [
        "FROM", "RUN", "WORKDIR", "COPY", "COPY", "COPY", "CMD",
    ]  # fmt: skip
    # the original's comment is still above the apt RUN; each edit says what it does
    text = rewritten.text
    assert "# build dependencies\n# bloatscope: apt cache in a cache mount\nRUN --mount" in text
    assert "# bloatscope: chmod at copy time\nCOPY --chmod=755 run.sh /app/run.sh\n" in text


SUGGESTED = """\
FROM python:3.11-slim
WORKDIR /app
COPY app.py .
COPY . /src/
CMD ["python", "app.py"]
"""


def test_suggestions_are_shown_but_applied_only_when_asked(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p", SUGGESTED)
    (path.parent / "app.py").write_text("print('hi')\n")
    diff, summary = fixed(run, path)
    assert "+# bloatscope: suggestion: nothing uses /src; drop this COPY\n COPY . /src/\n" in diff
    assert "drop COPY of the whole context into /src (nothing uses it)" in summary
    assert "(suggestion: --apply-suggestions)" in summary
    code, out, _ = run("fix", str(path), "--write")
    assert code == 0 and "COPY . /src/" in path.read_text()
    assert "(suggestion: --apply-suggestions)" in out

    path = project(tmp_path / "q", SUGGESTED)
    code, out, err = run("fix", str(path), "--write", "--apply-suggestions")
    assert (code, err) == (0, "")
    assert "(suggestion, applied)" in out
    rewritten = parse_file(str(path))
    assert [i.arguments for i in instructions_of(rewritten, 0, "COPY")] == [("app.py", ".")]


def test_nothing_to_change(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p", 'FROM python:3.11-slim\nCOPY app.py /app.py\nCMD ["python"]\n')
    assert run("fix", str(path)) == (
        0,
        "",
        "Nothing to change: no size fix applies to this Dockerfile.\n",
    )
    assert run("fix", str(path), "--write")[0] == 0
    assert path.read_text() == 'FROM python:3.11-slim\nCOPY app.py /app.py\nCMD ["python"]\n'


def test_a_crlf_dockerfile_comes_back_with_crlf_lines_only(run: Run, tmp_path: Path) -> None:
    crlf = ORIGINAL.replace("\n", "\r\n")
    patched = project(tmp_path / "patched", crlf)
    written = project(tmp_path / "written", crlf)
    diff, _ = fixed(run, patched)
    apply_with_patch(diff, patched.parent)
    assert run("fix", str(written), "--write")[0] == 0
    result = (written.parent / "Dockerfile").read_bytes()
    assert result != crlf.encode() and b"AS builder\r\n" in result
    assert result.count(b"\n") == result.count(b"\r\n")  # no bare newline anywhere
    assert (patched.parent / "Dockerfile").read_bytes() == result


def test_a_dockerfile_specific_dockerignore_is_the_one_read_and_extended(
    run: Run, tmp_path: Path
) -> None:
    # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile before the context's
    path = project(tmp_path / "p")
    app = path.rename(path.parent / "app.Dockerfile")
    (path.parent / ".dockerignore").write_text("secrets/\n")  # the other file: left alone
    specific = path.parent / "app.Dockerfile.dockerignore"
    specific.write_text("# app only\n.git\n")
    diff, _ = fixed(run, app)
    assert "\n--- a/app.Dockerfile.dockerignore\n+++ b/app.Dockerfile.dockerignore\n" in diff
    assert "a/.dockerignore" not in diff
    code, _, err = run("fix", str(app), "--write")
    assert (code, err) == (0, "")
    extended = specific.read_text()
    assert extended.startswith("# app only\n.git\n\n# written by bloatscope")
    assert "venv/" in extended.splitlines() and extended.splitlines().count(".git") == 1
    assert (path.parent / ".dockerignore").read_text() == "secrets/\n"


def test_lint_reads_the_dockerfile_specific_dockerignore(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p")
    app = path.rename(path.parent / "app.Dockerfile")
    code, out, _ = run("lint", str(app), "--format", "json")
    assert code == 1 and '"BS110"' in out  # COPY . /app and no ignore file at all
    (path.parent / "app.Dockerfile.dockerignore").write_text(".git\n")
    _, out, _ = run("lint", str(app), "--format", "json")
    assert '"BS110"' not in out


def test_with_a_context_elsewhere_the_diff_applies_from_the_common_directory(
    run: Run, tmp_path: Path
) -> None:
    # docker build -f docker/Dockerfile src: the diff names docker/Dockerfile and
    # src/.dockerignore, never "../src/.dockerignore", which patch refuses
    context = tmp_path / "repo" / "src"
    project(context)
    (context / "Dockerfile").unlink()
    dockerfile = tmp_path / "repo" / "docker" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(ORIGINAL)
    code, diff, err = run("fix", str(dockerfile), "--context", str(context))
    assert code == 0
    assert diff.startswith("--- a/docker/Dockerfile\n+++ b/docker/Dockerfile\n")
    assert "\n--- /dev/null\n+++ b/src/.dockerignore\n" in diff and ".." not in diff
    assert f"paths are relative to {tmp_path / 'repo'}" in err
    apply_with_patch(diff, tmp_path / "repo")
    assert (context / ".dockerignore").read_text().startswith("# written by bloatscope")
    assert "AS builder" in dockerfile.read_text()


def test_a_summary_says_how_many_details_it_left_out(run: Run, tmp_path: Path) -> None:
    path = project(tmp_path / "p")
    _, summary = fixed(run, path)
    # the .dockerignore change lists its lines: the usual junk is more than eight lines
    shown = [line.strip() for line in summary.splitlines()]
    more = [line for line in shown if line.startswith("... and ")]
    assert len(more) == 1
    written = path.parent / ".dockerignore"
    assert not written.exists()
    diff, _ = fixed(run, path)
    added = [
        line for line in diff.split("+++ b/.dockerignore\n")[1].splitlines() if line[:1] == "+"
    ]
    lines = [line[1:] for line in added if not line.startswith("+#") and not line.startswith("+@")]
    assert more[0] == f"... and {len(lines) - 8} more"


def test_the_builder_has_what_its_build_step_reads_from_a_whole_context_copy(
    run: Run, tmp_path: Path
) -> None:
    # pip reads /app/requirements.txt, which only `COPY . /app` brings: the builder copies
    # the context too, and the final stage keeps its copy
    dockerfile = "FROM python:3.11\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
    path = project(tmp_path / "p", dockerfile)
    assert run("fix", str(path), "--write")[0] == 0
    rewritten = parse_file(str(path))
    builder, final = rewritten.stages
    assert [(i.keyword, i.arguments) for i in builder.instructions[1:]] == [
        ("COPY", (".", "/app")),
        ("RUN", ("pip install -r /app/requirements.txt",)),
    ]
    # what pip installed comes where the pip install was
    assert [(i.keyword, i.flags, i.arguments) for i in final.instructions[1:]] == [
        ("COPY", (), (".", "/app")),
        ("COPY", ("--from=builder",), ("/usr/local", "/usr/local")),
    ]
