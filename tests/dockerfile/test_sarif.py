"""``lint --format sarif``: valid SARIF 2.1.0 (against the schema vendored in tests/data), one
rule entry per registered rule, results that point at the rule and at the same line and column
as the text output, artifact URIs code scanning can place, and the measured bytes with an
image."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from bloatscope.dockerfile.rules import RULES
from bloatscope.model.finding import Severity
from bloatscope.model.lint import LintFinding
from bloatscope.render.sarif import sarif_document
from cli_support import Run

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-2.1.0-rtm.5.json"
SHARED_IMAGES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "images"
DOCKERFILE = """\
FROM python:3.11
RUN apt-get update && apt-get install -y gcc
RUN echo data > /tmp/blob
RUN rm /tmp/blob
COPY . /app
CMD ["python", "/app/main.py"]
"""


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return jsonschema.Draft4Validator(schema)


def sarif_of(run: Run, *args: str) -> dict[str, Any]:
    code, out, err = run("lint", *args, "--format", "sarif", "--fail-on", "none")
    assert (code, err) == (0, "")
    document: dict[str, Any] = json.loads(out)
    return document


def text_places(run: Run, path: str) -> list[tuple[str, int, int]]:
    """(rule, line, column) of each finding, from the text output."""
    places = []
    for line in run("lint", path)[1].splitlines():
        if line.startswith(path + ":"):
            where, rest = line[len(path) + 1 :].split(": ", 1)
            number, column = where.split(":")
            places.append((rest.split(" ", 1)[0], int(number), int(column)))
    return places


def test_the_document_validates_against_sarif_2_1_0(
    run: Run, tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    document = sarif_of(run, str(tmp_path / "Dockerfile"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert document["version"] == "2.1.0"
    assert len(document["runs"]) == 1 and len(document["runs"][0]["results"]) >= 5


def test_the_validator_does_reject_a_broken_document(
    run: Run, tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    # the control for the test above: the schema is strict enough to catch a slip
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    document = sarif_of(run, str(tmp_path / "Dockerfile"))
    region = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    region["startLine"] = 0
    assert not validator.is_valid(document)


def test_one_rule_entry_per_registered_rule(run: Run, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    driver = sarif_of(run, str(tmp_path / "Dockerfile"))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bloatscope"
    entries = driver["rules"]
    assert [entry["id"] for entry in entries] == [rule.id for rule in RULES]
    assert len({entry["id"] for entry in entries}) == len(RULES) == 18
    levels = {"high": "error", "medium": "warning", "low": "note"}
    for entry, rule in zip(entries, RULES, strict=True):
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.title
        assert entry["defaultConfiguration"]["level"] == levels[rule.severity.value]
        assert entry["properties"].get("hadolint") == rule.hadolint
    by_id = {entry["id"]: entry for entry in entries}
    assert by_id["BS101"]["properties"]["hadolint"] == "DL3009"
    assert by_id["BS151"]["properties"]["hadolint"] == "DL3007"
    assert "hadolint" not in by_id["BS110"]["properties"]


def test_results_point_at_their_rule_and_at_the_text_outputs_places(
    run: Run, tmp_path: Path
) -> None:
    path = str(tmp_path / "Dockerfile")
    Path(path).write_text(DOCKERFILE)
    run_ = sarif_of(run, path)["runs"][0]
    rules, results = run_["tool"]["driver"]["rules"], run_["results"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    places = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for r in results
    ]
    assert places == text_places(run, path)
    assert ("BS122", 4, 5) in places  # rm /tmp/blob
    levels = {r["ruleId"]: r["level"] for r in results}
    assert (levels["BS122"], levels["BS101"]) == ("error", "warning")
    apt = next(r for r in results if r["ruleId"] == "BS101")
    assert apt["message"]["text"].startswith("`apt-get update` leaves the package lists")
    assert ". Fix: Mount the lists as a build cache" in apt["message"]["text"]
    assert apt["properties"] == {"stage": 0}  # no image: no bytes, no layer


def test_a_continued_instruction_ends_on_its_last_line(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM debian:12-slim\nRUN apt-get update \\\n && apt-get install -y \\\n  curl\n"
    )
    results = sarif_of(run, str(path))["runs"][0]["results"]
    regions = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"] for r in results}
    assert regions["BS101"] == {"startLine": 2, "startColumn": 5, "endLine": 4}
    assert regions["BS102"] == {"startLine": 3, "startColumn": 5, "endLine": 4}


def uri_of(document: dict[str, Any]) -> str:
    location = document["runs"][0]["results"][0]["locations"][0]
    uri: str = location["physicalLocation"]["artifactLocation"]["uri"]
    return uri


def test_artifact_uris_are_relative_to_the_working_directory_when_under_it(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "repo"
    (project / "docker" / "api").mkdir(parents=True)
    dockerfile = project / "docker" / "api" / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    monkeypatch.chdir(project)
    assert uri_of(sarif_of(run, "docker/api/Dockerfile")) == "docker/api/Dockerfile"
    assert uri_of(sarif_of(run, str(dockerfile))) == "docker/api/Dockerfile"
    # outside the working directory: an absolute file URI
    monkeypatch.chdir(project / "docker" / "api")
    elsewhere = tmp_path / "other" / "Dockerfile"
    elsewhere.parent.mkdir()
    elsewhere.write_text(DOCKERFILE)
    assert uri_of(sarif_of(run, str(elsewhere))) == "file://" + str(elsewhere)


def test_artifact_uris_are_percent_encoded(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = tmp_path / "my project #2"
    odd.mkdir()
    (odd / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(tmp_path)
    relative = uri_of(sarif_of(run, str(odd / "Dockerfile")))
    assert relative == "my%20project%20%232/Dockerfile"
    assert unquote(relative) == os.path.join("my project #2", "Dockerfile")
    monkeypatch.chdir(odd)
    other = tmp_path / "a b"
    other.mkdir()
    (other / "Dockerfile").write_text(DOCKERFILE)
    absolute = uri_of(sarif_of(run, str(other / "Dockerfile")))
    parts = urlsplit(absolute)
    assert (parts.scheme, parts.fragment, " " in absolute) == ("file", "", False)
    assert unquote(parts.path) == str(other / "Dockerfile")


def test_a_finding_of_an_unregistered_rule_has_no_rule_index() -> None:
    finding = LintFinding(
        "XX999", "custom", None, Severity.LOW, "m", "f", "/Dockerfile", 1, 1, 1, 0, 5, 2
    )
    result = sarif_document([finding], RULES)["runs"][0]["results"][0]
    assert result["ruleId"] == "XX999" and "ruleIndex" not in result
    assert result["properties"] == {"stage": 0, "bytes": 5, "layer": 2}
    assert result["message"]["text"] == "m (5 bytes in the image). Fix: f"


@pytest.mark.corpus
def test_with_an_image_results_carry_bytes_and_layer(
    run: Run, corpus_dir: Path, validator: jsonschema.protocols.Validator
) -> None:
    dockerfile = str(SHARED_IMAGES / "waste-zoo" / "Dockerfile")
    image = str(corpus_dir / "waste-zoo.docker.tar")
    document = sarif_of(run, dockerfile, "--image", image, "-q")
    assert validator.is_valid(document)
    lint = json.loads(run("lint", dockerfile, "--image", image, "-q", "-f", "json")[1])
    expected = {(f["rule"], f["line"]): (f["bytes"], f["layer"]) for f in lint["findings"]}
    results = document["runs"][0]["results"]
    got = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): (
            r["properties"].get("bytes"),
            r["properties"].get("layer"),
        )
        for r in results
    }
    assert got == expected
    apt = next(r for r in results if r["ruleId"] == "BS101")
    assert apt["properties"]["layer"] == 2 and apt["properties"]["bytes"] > 50_000_000
    assert f"({apt['properties']['bytes']:,} bytes in the image)" in apt["message"]["text"]


def test_columns_count_code_points_as_the_run_declares(run: Run, tmp_path: Path) -> None:
    line = 'RUN echo "\u00e9\U0001f600" && apt-get install -y curl && rm -rf /var/lib/apt/lists/*'
    path = tmp_path / "Dockerfile"
    path.write_text(f"FROM debian:12-slim\n{line}\n", encoding="utf-8")
    run_ = sarif_of(run, str(path))["runs"][0]
    assert run_["columnKind"] == "unicodeCodePoints"
    (result,) = run_["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    # in UTF-16 units the column would be 19, in bytes 22
    assert region["startColumn"] == line.index("apt-get") + 1 == 18
