"""BS130: ADD of a download that stays in its layer, and ADD of plain files where COPY would
do; a differential test against hadolint's DL3020, with the places we differ on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rules_context import context_of, hadolint, parse, places

from bloatscope.api import AnalyzeOptions, analyze
from bloatscope.dockerfile.lint import lint
from bloatscope.dockerfile.rules.add import AddUrlOrArchive, is_git, may_unpack
from synth import Image, Layer, write_skopeo_archive

RULE = AddUrlOrArchive()
CODES = frozenset({"DL3020"})


def lines_of(text: str) -> set[tuple[str, int]]:
    return {("DL3020", v.line) for v in RULE.check(context_of(text))}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("git@github.com:moby/buildkit.git", True),
        ("git://example.com/repo", True),
        ("https://github.com/moby/buildkit.git#v0.10.1", True),
        ("https://github.com/moby/buildkit.git", True),
        ("https://example.com/buildkit.tar.gz", False),
        ("repo.git", False),  # a local directory named so
    ],
)
def test_is_git(source: str, expected: bool):
    assert is_git(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a.tar", True),
        ("a.tar.gz", True),
        ("a.TGZ", True),
        ("a.tar.zst", True),
        ("a.gz", True),
        ("a.zip", False),
        ("a.tar.lz", False),
        ("a.Z", False),
        ("a.whl", False),
        ("a.tar.gz.bak", False),
    ],
)
def test_may_unpack(source: str, expected: bool):
    assert may_unpack(source) is expected


def test_plain_file_at_its_source_with_the_copy_to_write():
    text = "FROM python:3.12-slim\nADD --chown=app:app app.py /app/\n"
    violations = list(RULE.check(context_of(text)))
    assert places(violations) == [(2, 21)]
    assert violations[0].fix == "Use COPY: `COPY --chown=app:app app.py /app/`"
    assert violations[0].cause is None


def test_plain_file_next_to_an_archive_keeps_add_for_the_archive():
    text = "FROM debian:bookworm-slim\nADD rootfs.tar.xz config.yaml /\n"
    violations = list(RULE.check(context_of(text)))
    assert places(violations) == [(2, 19)]
    assert "COPY config.yaml in a COPY of their own" in violations[0].fix


def test_heredoc_is_a_plain_file():
    text = "FROM alpine:3.20\nADD <<EOF /etc/motd\nhello\nEOF\n"
    assert places(RULE.check(context_of(text))) == [(2, 5)]


def test_download_of_an_archive():
    text = "FROM python:3.12-slim\nADD https://example.com/pkg-1.0.tar.gz /tmp/\n"
    violations = list(RULE.check(context_of(text)))
    assert places(violations) == [(2, 5)]
    assert "ADD downloads pkg-1.0.tar.gz: ADD does not unpack a download" in violations[0].message
    assert "RUN curl" in violations[0].fix and "--checksum" in violations[0].fix
    assert violations[0].cause == "installer-left"


def test_download_a_later_run_works_on():
    text = (
        "FROM debian:bookworm-slim\n"
        "ADD https://example.com/tool?version=2 /usr/local/bin/tool\n"
        "RUN chmod +x /usr/local/bin/tool\n"
    )
    violations = list(RULE.check(context_of(text)))
    assert places(violations) == [(2, 5)]
    assert "the RUN at line 3 works on it" in violations[0].message


@pytest.mark.parametrize(
    "text",
    [
        # a binary used as downloaded
        "FROM debian:bookworm-slim\nADD --chmod=755 https://example.com/tini /tini\n",
        # a later RUN that names another file only
        "FROM debian:bookworm-slim\nADD https://example.com/tool /tool\nRUN ./toolbox\n",
        # in a builder stage nothing copies from, a download costs the image nothing
        "FROM debian:bookworm AS fetch\nADD https://example.com/a.tar.gz /tmp/\n"
        "FROM debian:bookworm-slim\n",
        "FROM x\nADD git@github.com:moby/buildkit.git /src\n",
        "FROM x\nADD https://github.com/moby/buildkit.git#v0.10.1 /src\n",
        "FROM x\nCOPY app.py /app/\nCOPY --from=build /a.tar.gz /b/\n",
        "FROM x\nADD ${UNSET} /x\n",
    ],
)
def test_lookalikes(text: str):
    assert list(RULE.check(context_of(text))) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM x\nADD . /app\nADD app.py /app/\nADD dir/ /x/\n", {2, 3, 4}),
        (
            "FROM x\nADD archive.tar.gz /opt/\nADD a.tgz /o/\nADD a.tar /o/\n"
            "ADD a.tar.xz b.tar.bz2 /o/\n",
            set(),
        ),
        ("FROM x\nADD app.py archive.tar.gz /opt/\n", {2}),
        ('FROM x\nADD ["app.py", "/app/"]\nADD ["a.tar.gz", "/app/"]\n', {2}),
        (
            "FROM x\nADD --chown=1000 app.py /app/\nADD \"app.py\" /app/\nADD 'x.tar.gz' /app/\n",
            {2, 3},
        ),
        ("FROM x\nADD https://example.com/tool /usr/local/bin/tool\n", set()),
        ("FROM x\nADD https://github.com/moby/buildkit.git#v0.10.1 /bk\n", set()),
        ("FROM x\nARG SRC=app.py\nADD ${SRC} /x\n", {3}),  # an ARG in the stage's scope
        ("FROM x\nADD foo.gz /opt/\nADD foo.bz2 foo.xz /opt/\nADD *.tar.gz /opt/\n", set()),
        ("FROM x\nADD a.zip /opt/\nADD foo.whl /opt/\nADD foo.deb /opt/\n", {2, 3, 4}),
        ("FROM x AS b\nADD notes.txt /\nFROM y\nCOPY --from=b /notes.txt /\n", {2}),
    ],
)
def test_agrees_with_hadolint(text: str, expected: set[int], tmp_path: Path):
    wanted = {("DL3020", line) for line in expected}
    assert lines_of(text) == wanted
    assert hadolint(tmp_path, text, CODES) == wanted


def test_where_we_differ_from_hadolint_on_purpose(tmp_path: Path):
    text = (
        "FROM python:3.12\n"
        "ADD https://example.com/pkg.tar.gz /tmp/\n"  # ours: a download kept; DL3020: a URL
        "ADD git@github.com:moby/buildkit.git /src\n"  # a clone COPY cannot do; DL3020 flags
        "ADD foo.tar.zst /opt/\n"  # Docker unpacks zstd tars; DL3020 flags
        "ADD archive.TAR.GZ /opt/\n"  # Docker unpacks by content, not name; DL3020 flags
        "ADD foo.tar.lz /opt/\n"  # Docker cannot unpack lzip: a plain copy; DL3020 passes it
        "ADD ${UNSET} /x\n"  # nothing to judge; DL3020 flags it
    )
    # a global ARG is not in a stage's scope until the stage declares it again: BuildKit leaves
    # ${SRC} empty, hadolint judges the variable as a file name
    scoped = "ARG SRC=app.py\nFROM x\nADD ${SRC} /x\n"
    assert lines_of(scoped) == set()
    assert hadolint(tmp_path, scoped, CODES) == {("DL3020", 3)}
    assert lines_of(text) == {("DL3020", 2), ("DL3020", 6)}
    assert hadolint(tmp_path, text, CODES) == {("DL3020", line) for line in (3, 4, 5, 7)}


def test_download_priced_by_what_hid_it(tmp_path: Path):
    """The bytes of an ADD-ed archive a later RUN deleted are the ADD layer's "deleted"
    finding; the linter reports them on the ADD line."""
    text = (
        "FROM scratch\n"
        "ADD https://example.com/pkg.tar.gz /tmp/\n"
        "RUN tar -xzf /tmp/pkg.tar.gz -C /opt && rm /tmp/pkg.tar.gz\n"
    )
    layers = [
        Layer().file("etc/os-release", b"ID=test\n").build(),
        Layer().file("tmp/pkg.tar.gz", b"z" * 25_000).build(),
        Layer().file("opt/pkg/lib.so", b"l" * 3_000).whiteout("tmp/pkg.tar.gz").build(),
    ]
    history = [
        {"created_by": c} for c in ("ADD rootfs /", text.split("\n")[1], text.split("\n")[2])
    ]
    path = write_skopeo_archive(tmp_path / "image.tar", Image(layers, history=history))
    report = analyze(str(path), AnalyzeOptions(min_finding_bytes=0, packages=False))
    findings = lint(parse(text), [RULE], report=report, layers={2: 1, 3: 2})
    assert [(f.rule, f.line, f.bytes, f.layer) for f in findings] == [("BS130", 2, 25_000, 1)]
