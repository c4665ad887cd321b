"""What the parser refuses: each kind of bad input gets one DockerfileError line naming the file
(and the line where known), quickly; arbitrary text never gets anything else."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.parser import parse_file, parse_text


def _refusal(text: str) -> str:
    with pytest.raises(DockerfileError) as caught:
        parse_text(text, "ctx/Dockerfile")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("ctx/Dockerfile: ")
    assert caught.value.path == "ctx/Dockerfile"
    return message.removeprefix("ctx/Dockerfile: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the Go parser's own errors, with the line it stopped at
        ("FROM a\nRUN x\nLABEL a\n", "line 3: LABEL must have two arguments"),
        ("FROM a\n\nCMD [1]\n", "line 3: when using JSON array syntax, arrays must be"),
        # an instruction continued over lines is named by its first line
        ('FROM a\nCMD ["a", \\\n  # c\n\n 1]\n', "line 2: when using JSON array syntax"),
        ("FROM a\nRUN x\nLABEL a=1 \\\n b\n", 'line 3: Syntax error - can\'t find = in "b"'),
        ("FROM a\nRUN " + "x " * 35000 + "\n", "line 2: dockerfile line greater than max allowed"),
        ("FROM a\nHEALTHCHECK a\x85b\n", "line 2: the Go parser split a multi-byte character"),
        ("", "no instructions: the file is empty or only comments"),
        ("# only\n\n# comments\n", "no instructions"),
        # heredocs
        (
            "FROM a\nRUN <<EOF\nx\nEOF\nRUN <<EOT\nx\nEOF\n",
            "line 5: unterminated heredoc: no line after it reads EOT",
        ),
        ("FROM a\nCOPY a <<EOF\nx\nEOF\n", "line 2: COPY cannot accept a heredoc as a destination"),
        # directives
        ("# escape=`\n# Escape=\\\nFROM a\n", "line 2: only one escape parser directive"),
        ("# check=a\n# CHECK=b\nFROM a\n", "line 2: only one check parser directive"),
        ("# escape=x\nFROM a\n", "line 1: invalid escape token 'x' does not match ` or \\"),
        # stages
        ("ARG A=1\n", "no FROM instruction: there is no stage to build"),
        (
            "ARG A\nRUN x\nFROM a\n",
            "line 2: RUN before the first FROM (only ARG may come before it)",
        ),
        ("FROM a b\n", "line 1: FROM requires either one or three arguments"),
        ("FROM a AS 1st\n", 'line 1: invalid name for build stage: "1st"'),
        # BuildKit's instruction checks
        ("FROM a\n\nFOO bar\n", "line 3: unknown instruction: FOO"),
        ("FROM a\ncopy x\n", "line 2: COPY requires at least two arguments"),
        ("FROM a\nENV\n", "line 2: ENV requires at least one argument"),
        ("FROM a\nWORKDIR\n", "line 2: WORKDIR requires exactly one argument"),
        ("FROM a\nARG =x\n", "line 2: ARG names can not be blank"),
        ("FROM a\nONBUILD ONBUILD RUN x\n", "line 2: Chaining ONBUILD via `ONBUILD ONBUILD`"),
        ("FROM a\nONBUILD FROM b\n", "line 2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM a\nSHELL bash -c\n", "line 2: SHELL requires the arguments to be in JSON form"),
        # substitution BuildKit refuses
        ("FROM a\nENV A=1\nWORKDIR ${A\n", "line 3: WORKDIR: syntax error: missing '}'"),
        ("ARG X\nFROM img:${X:?unset}\n", "line 2: FROM: X: unset"),
        ('FROM a\nCOPY "a b" /c\n', "line 2: COPY: unexpected end of statement while looking"),
        # text that is no Dockerfile
        ("FROM a\nRUN x\0\n", "line 2: a NUL byte; this is not a text file"),
        ("FROM a\nRUN \udcff\n", "not valid Unicode text: character 11 (line 2) is a lone"),
        ("FROM a\n" + "RUN x\n" * 200_000, "is over 1048576 bytes; a Dockerfile is at most 1 MiB"),
    ],
)
def test_refusals_name_the_problem_and_line(text: str, expected: str) -> None:
    assert _refusal(text).startswith(expected)


def test_copy_from_an_unknown_or_later_stage_is_not_a_parse_error() -> None:
    stages = parse_text("FROM a\nCOPY --from=later /x /x\nCOPY --from=7 /y /y\nFROM b AS later\n")
    assert stages.stages[0].instructions[1].flag("from") == "later"


def test_huge_heredocs_are_refused_before_the_go_parser_sees_them() -> None:
    started = time.monotonic()
    message = _refusal("FROM a\nRUN <<EOF\n" + "echo hi\n" * 6000 + "EOF\n")
    assert (
        message == "line 2: a heredoc of 6000 lines; bloatscope reads heredocs of up to 5000 lines"
    )
    message = _refusal("FROM a\nCOPY <<EOF /x\n" + "y\n" * 6000)
    assert message == "line 2: unterminated heredoc: no line after it reads EOF"
    assert time.monotonic() - started < 1  # the Go parser needs ~3 s for such a heredoc


def test_huge_words_are_refused_before_the_go_parser_sees_them() -> None:
    started = time.monotonic()
    continued = 'FROM a\nENV A="' + ("x" * 60_000 + "\\\n") * 8 + '"\n'
    assert _refusal(continued) == (
        "line 2: a word of 480004 characters; bloatscope reads words of up to 16384"
    )
    assert time.monotonic() - started < 1  # the Go parser needs ~25 s for this one
    spaced = "FROM a\nRUN " + ("word " * 5000 + "\\\n") * 20 + "end\n"
    assert len(parse_text(spaced).final_stage.instructions[1].arguments[0]) > 16384


def test_substitution_cannot_grow_without_bound() -> None:
    doubling = "FROM scratch\nENV A=xx\n" + "ENV A=$A$A\n" * 40
    started = time.monotonic()
    assert _refusal(doubling) == (
        "line 22: ENV: substitution makes a word of over 1048576 characters"
    )
    assert time.monotonic() - started < 1


def test_a_heredoc_word_outside_run_copy_and_add_is_not_a_heredoc() -> None:
    dockerfile = parse_text("FROM a\nCMD cat <<EOF\nRUN echo\n" + "ENV A=1\n" * 6000)
    assert dockerfile.final_stage.instructions[1].heredocs == ()


def _file_refusal(path: Path) -> str:
    with pytest.raises(DockerfileError) as caught:
        parse_file(str(path))
    message = str(caught.value)
    assert "\n" not in message and caught.value.path == str(path)
    return message.removeprefix(f"{path}: ")


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    assert _file_refusal(tmp_path / "missing") == "no such file"
    assert _file_refusal(tmp_path / "missing" / "Dockerfile") == "no such file"
    assert _file_refusal(tmp_path) == "is a directory, not a Dockerfile"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it would block forever
    assert _file_refusal(fifo) == "is not a regular file"


def test_files_that_are_not_utf8(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1"
    latin1.write_bytes("FROM a\nLABEL x=café\n".encode("latin-1"))
    assert _file_refusal(latin1) == "not UTF-8 text: invalid byte 0xe9 at byte 18 (line 2)"


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse"
    with sparse.open("wb") as file:
        file.truncate(8 << 30)  # 8 GiB of holes: reading it would take long and all memory
    started = time.monotonic()
    assert (
        _file_refusal(sparse)
        == "is 8589934592 bytes; a Dockerfile is at most 1 MiB (this is not one)"
    )
    assert time.monotonic() - started < 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "Dockerfile"
    locked.write_text("FROM a\n")
    locked.chmod(0)
    assert _file_refusal(locked) == "cannot read it: permission denied"


_FRAGMENTS = st.sampled_from(
    [
        "FROM a",
        "FROM $B AS x",
        "from scratch",
        "ARG B=c",
        "ARG",
        "RUN echo $A",
        "RUN <<EOF",
        "RUN <<-'E' cat",
        "EOF",
        "\tE",
        "COPY <<A /x",
        "A",
        "COPY --from=x a b",
        'ENV A=1 B="2 3"',
        "LABEL a",
        "# escape=`",
        "# syntax=x",
        "# check=y",
        "\\",
        "`",
        "ONBUILD RUN x",
        "HEALTHCHECK CMD x",
        'CMD ["a"]',
        'CMD ["a", 1]',
        "${",
        "${A:-",
        '"',
        "'",
        "WORKDIR ${A}",
        "",
        " ",
        "#",
        "\r",
        "\x85",
        "é",
        "\u2028",
        "EXPOSE",
        "USER a b",
        "SHELL x",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FRAGMENTS, max_size=12).map("\n".join))
def test_dockerfile_like_text_parses_or_is_refused(text: str) -> None:
    _parses_or_refuses_quickly(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=200))
def test_any_text_parses_or_is_refused(text: str) -> None:
    _parses_or_refuses_quickly(text)


def _parses_or_refuses_quickly(text: str) -> None:
    started = time.monotonic()
    try:
        dockerfile = parse_text(text, build_args={"A": "1"})
    except DockerfileError as error:
        assert "\n" not in str(error)
    else:
        assert dockerfile.stages and all(i.line >= 1 for i in dockerfile.instructions())
    assert time.monotonic() - started < 2
