"""``bloatscope lint``: its text, JSON and Markdown on Dockerfiles written here, exit codes and
--fail-on, --ignore by id and by name, one-line errors for bad input; and with an image (the
corpus' waste-zoo and naive-bert), the bytes each finding carries against the analysis' own
findings of the same layer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bloatscope.api_dockerfile import lint_dockerfile, load
from bloatscope.model.finding import Finding
from bloatscope.model.report import Report
from bloatscope.render.units import human_bytes
from cli_support import Run, json_of

SHARED_IMAGES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "images"

# Seven findings, every one at a place the test can work out from the text
SMALL = """\
FROM python:3.11
# build dependencies
RUN apt-get update && apt-get install -y gcc

COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . /app
RUN chmod +x /app/run.sh
CMD ["python", "/app/main.py"]
"""
CLEAN = """\
FROM python:3.11-slim
COPY app.py /app/app.py
CMD ["python", "/app/app.py"]
"""
MEDIUM_ONLY = (
    "FROM debian:12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n"
)
WITH_HIGH = "FROM debian:12-slim\nRUN echo data > /tmp/blob\nRUN rm /tmp/blob\n"


def write(directory: Path, text: str, name: str = "Dockerfile") -> str:
    path = directory / name
    path.write_text(text)
    return str(path)


def column_of(text: str, line: int, word: str) -> int:
    return text.split("\n")[line - 1].index(word) + 1


# --- text -----------------------------------------------------------------------------------


def test_text_output_puts_each_finding_at_its_line_and_column(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    code, out, err = run("lint", path)
    assert (code, err) == (1, "")
    heads = [line for line in out.splitlines() if line.startswith(path + ":")]
    places = [tuple(line[len(path) + 1 :].split(": ", 1)[0].split(":")) for line in heads]
    rules = [line[len(path) + 1 :].split(": ", 1)[1].split(" ", 1)[0] for line in heads]
    assert list(zip(places, rules, strict=True)) == [
        (("1", str(column_of(SMALL, 1, "python:3.11"))), "BS140"),
        (("3", str(column_of(SMALL, 3, "apt-get update"))), "BS101"),
        (("3", str(column_of(SMALL, 3, "apt-get install"))), "BS102"),
        (("3", str(column_of(SMALL, 3, "apt-get install"))), "BS141"),
        (("6", str(column_of(SMALL, 6, "pip install"))), "BS103"),
        (("7", str(column_of(SMALL, 7, "."))), "BS110"),
        (("8", str(column_of(SMALL, 8, "chmod"))), "BS121"),
    ]
    # the hadolint id and the severity follow the rule id; the fix is indented below
    apt = next(line for line in heads if " BS101 " in line)
    assert " BS101 [DL3009] medium: `apt-get update` leaves the package lists" in apt
    below = out.splitlines()[out.splitlines().index(apt) + 1]
    assert below.startswith("    fix: ") and "--mount=type=cache,target=/var/lib/apt/lists" in below
    assert " BS140 medium: " in heads[0]  # no hadolint counterpart: no brackets
    assert out.endswith("\n7 finding(s)\n")


def test_a_clean_dockerfile_says_so_and_exits_0(run: Run, tmp_path: Path) -> None:
    assert run("lint", write(tmp_path, CLEAN)) == (0, "No size problems found.\n", "")


def test_fail_on_sets_the_severity_that_fails(run: Run, tmp_path: Path) -> None:
    medium = write(tmp_path, MEDIUM_ONLY)
    high = write(tmp_path, WITH_HIGH, "Dockerfile.high")
    assert run("lint", medium)[0] == 1  # default: any finding fails
    assert run("lint", medium, "--fail-on", "medium")[0] == 1
    assert run("lint", medium, "--fail-on", "high")[0] == 0
    assert run("lint", medium, "--fail-on", "none")[0] == 0
    code, out, _ = run("lint", high, "--fail-on", "high")
    assert code == 1 and " BS122 high: `rm` deletes /tmp/blob" in out
    assert run("lint", high, "--fail-on", "none")[0] == 0
    # --fail-on changes the exit code only, never what is reported
    assert run("lint", medium, "--fail-on", "none")[1] == run("lint", medium)[1]


def test_ignore_takes_rule_ids_and_names_comma_separated_or_repeated(
    run: Run, tmp_path: Path
) -> None:
    path = write(tmp_path, SMALL)

    def rules(*extra: str) -> list[str]:
        document = json_of(run, "lint", path, "-f", "json", "--fail-on", "none", *extra)
        return [finding["rule"] for finding in document["findings"]]

    everything = rules()
    assert {"BS101", "BS102", "BS103"} <= set(everything)
    by_id_and_name = rules("--ignore", "BS101,apt-no-install-recommends")
    assert by_id_and_name == [r for r in everything if r not in ("BS101", "BS102")]
    repeated = rules("--ignore", "pip-cache", "--ignore", " BS140 ")
    assert repeated == [r for r in everything if r not in ("BS103", "BS140")]


# --- JSON and Markdown ----------------------------------------------------------------------


def test_json_document(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    code, out, err = run("lint", path, "--format", "json")
    assert (code, err) == (1, "")
    document = json.loads(out)
    assert document["schema_version"] == "1.0"
    assert document["tool"]["name"] == "bloatscope"
    assert (document["dockerfile"], document["image"]) == (path, None)
    assert document["measured_bytes"] == 0  # no image, nothing measured
    findings = document["findings"]
    assert len(findings) == 7
    apt = next(f for f in findings if f["rule"] == "BS101")
    assert apt == {
        "rule": "BS101",
        "name": "apt-lists-not-removed",
        "hadolint": "DL3009",
        "severity": "medium",
        "message": apt["message"],
        "fix": apt["fix"],
        "path": path,
        "line": 3,
        "column": column_of(SMALL, 3, "apt-get update"),
        "end_line": 3,
        "stage": 0,
        "bytes": None,
        "layer": None,
    }
    assert "/var/lib/apt/lists" in apt["message"]
    # the same places as the text output, in the same order
    text_places = [
        line.split(": ", 1)[0]
        for line in run("lint", path)[1].splitlines()
        if line.startswith(path)
    ]
    assert text_places == [f"{path}:{f['line']}:{f['column']}" for f in findings]


def test_json_end_line_and_stage_of_a_continued_instruction_in_a_second_stage(
    run: Run, tmp_path: Path
) -> None:
    text = (
        "FROM debian:12-slim AS base\nRUN true\n"
        "FROM debian:12-slim\nRUN apt-get update \\\n    && apt-get install -y \\\n      curl\n"
    )
    document = json_of(run, "lint", write(tmp_path, text), "-f", "json", "--fail-on", "none")
    apt = next(f for f in document["findings"] if f["rule"] == "BS102")
    assert (apt["line"], apt["column"], apt["end_line"], apt["stage"]) == (5, 8, 6, 1)


def test_markdown_has_a_title_a_table_and_escaped_pipes(run: Run, tmp_path: Path) -> None:
    text = 'FROM debian:12-slim\nRUN echo hi > "/tmp/a|b"\nRUN rm "/tmp/a|b"\n'
    path = write(tmp_path, text)
    code, out, err = run("lint", path, "--format", "markdown")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == f"### bloatscope: `{path}`"
    assert lines[2] == "1 size finding(s)"
    assert lines[4:6] == ["| Line | Rule | Problem | Cost | Fix |", "|---:|---|---|---:|---|"]
    row = lines[6]
    assert row.startswith("| 3 | `BS122` | `rm` deletes /tmp/a\\|b, which the RUN at line 2")
    # every pipe in the row is a cell border or escaped: five cells
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert lines[7:] == []


def test_markdown_of_a_clean_dockerfile(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN)
    assert run("lint", path, "-f", "markdown") == (
        0,
        f"### bloatscope: `{path}`\n\nNo size problems found.\n",
        "",
    )


def test_output_file(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    target = tmp_path / "lint.json"
    code, out, err = run("lint", path, "-f", "json", "-o", str(target))
    assert (code, out, err) == (1, "", "")
    assert len(json.loads(target.read_text())["findings"]) == 7


# --- bad input ------------------------------------------------------------------------------


def bad_inputs(tmp_path: Path) -> list[tuple[list[str], str, str]]:
    """(arguments, the path the message names, what it says)."""
    binary = tmp_path / "binary"
    binary.write_bytes(b"FROM x\n\xff\xfe\x00\x01")
    broken = write(tmp_path, "FROM debian:12\nRUN <<EOF\necho unterminated\n", "Dockerfile.heredoc")
    unknown = write(tmp_path, "FROM debian:12\nFROB x\n", "Dockerfile.unknown")
    good = write(tmp_path, CLEAN)
    return [
        ([str(tmp_path / "missing" / "Dockerfile")], str(tmp_path / "missing"), "no such file"),
        ([str(tmp_path)], str(tmp_path), "is a directory"),
        ([str(binary)], str(binary), "not UTF-8"),
        ([broken], broken, "line 2: unterminated heredoc"),
        ([unknown], unknown, "line 2: unknown instruction"),
        ([good, "--context", good], good, "build context is not a directory"),
        ([good, "--context", str(tmp_path / "nowhere")], "nowhere", "not a directory"),
    ]


@pytest.mark.parametrize("command", ["lint", "fix"])
def test_bad_input_is_one_line_on_stderr_and_exit_2(run: Run, tmp_path: Path, command: str) -> None:
    for arguments, named, says in bad_inputs(tmp_path):
        code, out, err = run(command, *arguments)
        assert (code, out) == (2, ""), arguments
        assert err.startswith("bloatscope: error: ") and err.count("\n") == 1, err
        assert named in err and says in err, err
        assert "Traceback" not in err


def test_an_image_that_cannot_be_read_is_exit_2(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN)
    not_an_image = tmp_path / "image.tar"
    not_an_image.write_bytes(b"not a tar archive at all" * 40)
    code, out, err = run("lint", path, "--image", str(not_an_image), "-q")
    assert (code, out) == (2, "")
    assert err.startswith("bloatscope: error: ") and err.count("\n") == 1


# --- with an image --------------------------------------------------------------------------


def analysis_bytes(findings: list[dict[str, Any]], cause: str, kind: str | None, layer: int) -> int:
    matches = [
        int(f["bytes"])
        for f in findings
        if (f["cause"], f["kind"], f["layer"]) == (cause, kind, layer)
    ]
    assert len(matches) == 1, (cause, kind, layer)
    return matches[0]


def _apt_finding(finding: Finding, group: str, layer: int) -> bool:
    return (finding.cause, finding.group, finding.layer) == ("package-cache", group, layer)


@pytest.mark.corpus
def test_waste_zoo_findings_carry_the_bytes_the_analysis_found_in_their_layers(
    run: Run, corpus_dir: Path
) -> None:
    dockerfile = str(SHARED_IMAGES / "waste-zoo" / "Dockerfile")
    image = str(corpus_dir / "waste-zoo.docker.tar")
    code, out, err = run("lint", dockerfile, "--image", image, "-q", "-f", "json")
    assert (code, err) == (1, "")
    lint = json.loads(out)
    assert lint["image"] == image
    # the independent path: the analysis' own findings, every one kept
    analysis = json_of(run, "analyze", image, "-f", "json", "--min-bytes", "0", "-q")["findings"]
    by_rule = {(f["rule"], f["line"]): f for f in lint["findings"]}

    apt = by_rule["BS101", 4]  # RUN apt-get update && apt-get install ... curl
    assert apt["layer"] == 2
    # the lists, and the pkgcache.bin/srcpkgcache.bin apt-get update built from them
    lists = analysis_bytes(analysis, "package-cache", "apt-lists", 2)
    pkgcache = analysis_bytes(analysis, "package-cache", "apt-cache", 2)
    assert lists > 50_000_000 and pkgcache > 50_000_000  # 82.9 and 78.2 MB as built today
    assert apt["bytes"] == lists + pkgcache
    pip = by_rule["BS103", 17]
    assert pip["layer"] == 10
    assert pip["bytes"] == analysis_bytes(analysis, "package-cache", "pip", 10)
    # rm of what an earlier RUN wrote: priced in the layer that wrote it, not the rm's
    artifact = by_rule["BS122", 10]
    assert (artifact["layer"], artifact["bytes"]) == (5, 3_000_000)
    assert artifact["bytes"] == analysis_bytes(analysis, "deleted", None, 5)
    assets = by_rule["BS122", 13]
    assert (assets["layer"], assets["bytes"]) == (7, 1_500_000)
    assert assets["bytes"] == analysis_bytes(analysis, "deleted", None, 7)
    # the chmod at the end changes a file a RUN wrote, not a COPY: BS121 is about COPY
    assert not any(f["rule"] == "BS121" for f in lint["findings"])
    # the :latest base is the only unmeasured finding
    unmeasured = [f["rule"] for f in lint["findings"] if f["bytes"] is None]
    assert unmeasured == ["BS151"]
    assert lint["measured_bytes"] == sum(f["bytes"] or 0 for f in lint["findings"])
    # the text output shows the same bytes per layer
    text = run("lint", dockerfile, "--image", image, "-q")[1]
    shown = re.escape(human_bytes(apt["bytes"]))  # 161.1 MB: the lists and pkgcache.bin
    assert re.search(rf":4:5: BS101 \[DL3009\] medium: .*, {shown} in layer 2\n", text)


@pytest.mark.corpus
def test_naive_bert_context_and_apt_findings_carry_their_layers_bytes(
    naive_bert_report: Report,
) -> None:
    report = naive_bert_report
    inputs = load(str(SHARED_IMAGES / "naive-bert" / "Dockerfile"), report=report)
    findings = {f.rule: f for f in lint_dockerfile(inputs)}

    context = findings["BS110"]  # COPY . /src/ at line 12, no .dockerignore
    assert (context.line, context.layer) == (12, 9)
    in_layer = [f for f in report.findings if f.cause == "build-context" and f.layer == 9]
    assert {f.group for f in in_layer} >= {"git", "venv", "notebooks", "data"}
    assert context.bytes == sum(f.bytes for f in in_layer)
    assert 360_000_000 < context.bytes < 375_000_000

    apt = findings["BS101"]  # RUN apt-get update && apt-get install -y curl, line 4
    assert (apt.line, apt.layer) == (4, 2)
    # the lists and the pkgcache.bin apt built from them, one finding each
    (lists,) = [f for f in report.findings if _apt_finding(f, "apt-lists", 2)]
    (pkgcache,) = [f for f in report.findings if _apt_finding(f, "apt-cache", 2)]
    assert lists.bytes > 0 and pkgcache.bytes > 0
    assert apt.bytes == lists.bytes + pkgcache.bytes


def test_an_unknown_rule_to_ignore_is_an_error_not_a_silent_no_op(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12-slim\nRUN apt-get update\n")
    code, out, err = run("lint", str(path), "--ignore", "BS101,BS1O2")  # a letter O
    assert (code, out) == (2, "")
    assert err.startswith("bloatscope: error: --ignore: no rule BS1O2 (the rules: BS101, ")
    assert len(err.splitlines()) == 1
    code, _, err = run("lint", str(path), "--ignore", "BS101", "--ignore", "apt-lists-not-removed")
    assert code == 0 and err == ""
