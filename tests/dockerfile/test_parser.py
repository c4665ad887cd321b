"""The parser: instruction places, directives, heredocs, stages, and ARG/ENV substitution as
BuildKit does them (the cross-checks against hadolint and buildah are in test_parse_real.py)."""

from __future__ import annotations

from pathlib import Path

from bloatscope.dockerfile.parser import parse_file, parse_text
from bloatscope.model.dockerfile import Dockerfile, Instruction


def _only(dockerfile: Dockerfile, keyword: str) -> list[Instruction]:
    return [i for i in dockerfile.instructions() if i.keyword == keyword]


def test_places_words_and_source_of_each_instruction() -> None:
    text = (
        "ARG BASE=python:3.12\n"  # 1
        "FROM ${BASE} AS Build\n"  # 2
        "\n"  # 3
        "  RUN apt-get update && \\\n"  # 4
        "    # a comment inside\n"  # 5
        "\n"  # 6
        "    apt-get install -y curl\n"  # 7
        "\tcopy --chown=app:app . /src\n"  # 8
        'CMD ["python", "-m", "app"]\n'  # 9
    )
    dockerfile = parse_text(text, "Dockerfile.test")
    (arg,) = dockerfile.global_args
    assert (arg.keyword, arg.line, arg.column, arg.stage) == ("ARG", 1, 1, -1)
    from_, run, copy, cmd = dockerfile.final_stage.instructions
    assert (from_.line, from_.arguments, from_.expanded) == (
        2,
        ("${BASE}", "AS", "Build"),
        ("python:3.12", "AS", "Build"),
    )
    assert (run.line, run.end_line, run.column) == (4, 7, 3)
    assert (
        run.original
        == "RUN apt-get update && \\\n    # a comment inside\n\n    apt-get install -y curl"
    )
    assert run.arguments == ("apt-get update &&     apt-get install -y curl",)
    assert (copy.keyword, copy.line, copy.column) == ("COPY", 8, 2)
    assert copy.flags == ("--chown=app:app",) and copy.flag("chown") == "app:app"
    assert copy.arguments == (".", "/src")
    assert (cmd.exec_form, cmd.arguments) == (True, ("python", "-m", "app"))
    assert run.exec_form is False
    assert dockerfile.path == "Dockerfile.test" and dockerfile.text == text
    assert dockerfile.lines(run)[0] == "  RUN apt-get update && \\"


def test_keyword_after_a_line_holding_only_the_escape() -> None:
    dockerfile = parse_text("FROM a\n\\\n   RUN x\n")
    run = dockerfile.final_stage.instructions[1]
    assert (run.line, run.column, run.end_line) == (3, 4, 3)


def test_stages_names_bases_and_platforms() -> None:
    text = (
        "ARG TAG=3.12\n"
        "FROM --platform=$BUILDPLATFORM python:${TAG}-slim AS Builder\n"
        "FROM scratch AS empty\n"
        "FROM BUILDER AS test\n"
        "FROM --platform=linux/arm64 builder\n"
        "COPY --from=later /x /x\n"
        "FROM alpine AS later\n"
    )
    stages = parse_text(text).stages
    assert [(s.index, s.name, s.base, s.base_stage, s.platform) for s in stages] == [
        (0, "builder", "python:3.12-slim", None, "$BUILDPLATFORM"),
        (1, "empty", "scratch", None, None),
        (2, "test", "BUILDER", 0, None),
        (3, None, "builder", 0, "linux/arm64"),
        (4, "later", "alpine", None, None),
    ]
    assert [i.stage for i in stages[3].instructions] == [3, 3]


def test_a_stage_name_used_before_it_is_defined_is_an_image() -> None:
    stages = parse_text("FROM app AS base\nFROM base AS app\n").stages
    assert stages[0].base_stage is None and stages[1].base_stage == 0


def test_build_args_reach_from_and_platform_args_when_given() -> None:
    text = "ARG TAG=1\nFROM --platform=$BUILDPLATFORM img:$TAG\n"
    (stage,) = parse_text(text, build_args={"TAG": "2", "BUILDPLATFORM": "linux/amd64"}).stages
    assert (stage.base, stage.platform) == ("img:2", "linux/amd64")
    # an undeclared build arg reaches nothing, as in BuildKit
    (stage,) = parse_text("FROM img:${TAG:-none}\n", build_args={"TAG": "2"}).stages
    assert stage.base == "img:none"


def test_directives_are_read_only_at_the_top() -> None:
    text = "# SYNTAX = docker/dockerfile:1.7\n#\tCheck=skip=all\n# escape=`\nFROM a\n"
    assert parse_text(text).directives == {
        "syntax": "docker/dockerfile:1.7",
        "check": "skip=all",
        "escape": "`",
    }
    for late in (
        "# a comment\n# escape=`\nFROM a\n",
        "\n# escape=`\nFROM a\n",
        "FROM a\n# escape=`\n",
        "# unknown=1\n# escape=`\nFROM a\n",
    ):
        assert parse_text(late).directives == {}


def test_escape_after_check_still_applies() -> None:
    # the bundled Go parser stops at "# check", BuildKit does not: the escape must hold
    text = "# check=skip=all\n# escape=`\nFROM a\nRUN echo `\n  hi\n"
    run = parse_text(text).final_stage.instructions[1]
    assert (run.line, run.end_line, run.arguments) == (4, 5, ("echo   hi",))


def test_windows_dockerfile_with_backtick_escape() -> None:
    text = (
        "# escape=`\n"
        "\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "ENV TOOLS=C:\\tools PRICE=`$5\n"
        "COPY testfile.txt c:\\\n"
        "RUN dir c:\\ `\n"
        "    && echo done\n"
        "WORKDIR ${TOOLS}\\bin\n"
    )
    dockerfile = parse_text(text)
    _, env, copy, run, workdir = dockerfile.final_stage.instructions
    assert env.expanded == ("TOOLS", "C:\\tools", "PRICE", "$5")
    assert (copy.line, copy.arguments) == (5, ("testfile.txt", "c:\\"))
    assert (run.line, run.end_line, run.arguments) == (6, 7, ("dir c:\\     && echo done",))
    assert workdir.expanded == ("C:\\tools\\bin",)


def test_heredocs_quoting_tabs_and_descriptors() -> None:
    text = (
        "FROM a\n"
        "RUN <<EOF\n"
        "echo $HOME\n"
        "EOF\n"
        "RUN <<-'EOT' bash\n"
        "\tif true; then\n"
        "\t\techo tabs\n"
        "\tfi\n"
        "\tEOT\n"
        'COPY <<one <<"two" 3<<E"OF" /dst/\n'
        "1\n"
        "one\n"
        "2\n"
        "two\n"
        "3\n"
        "EOF\n"
        "RUN <<\\X cat\n"
        "$Y\n"
        "X\n"
    )
    _, plain, tabbed, copy, escaped = parse_text(text).final_stage.instructions
    assert plain.heredocs[0].name == "EOF" and plain.heredocs[0].content == "echo $HOME\n"
    assert plain.heredocs[0].expands and not plain.heredocs[0].strip_tabs
    assert (plain.line, plain.end_line, plain.script) == (2, 4, "echo $HOME\n")
    doc = tabbed.heredocs[0]
    assert (doc.name, doc.expands, doc.strip_tabs) == ("EOT", False, True)
    assert doc.content == "if true; then\necho tabs\nfi\n"
    assert (tabbed.line, tabbed.end_line) == (5, 9)
    assert [(h.name, h.content, h.expands) for h in copy.heredocs] == [
        ("one", "1\n", True),
        ("two", "2\n", False),
        ("EOF", "3\n", False),
    ]
    assert copy.expanded == ("<<one", '<<"two"', '3<<E"OF"', "/dst/")
    # BuildKit counts only quotes: a backslash-escaped delimiter still expands
    assert escaped.heredocs[0].name == "X" and escaped.heredocs[0].expands


def test_global_args_reach_only_from_lines() -> None:
    text = (
        "ARG VERSION=1.0 OTHER=$VERSION-x IMAGE=scratch\n"
        "FROM $IMAGE\n"
        "LABEL v=$VERSION\n"
        "ARG VERSION\n"
        "LABEL v=$VERSION o=${OTHER:-unset}\n"
        "ARG OTHER\n"
        "LABEL o=$OTHER\n"
    )
    dockerfile = parse_text(text)
    assert dockerfile.global_args[0].expanded == ("VERSION=1.0", "OTHER=1.0-x", "IMAGE=scratch")
    assert dockerfile.final_stage.base == "scratch"
    _, before, redeclared, after, other, later = dockerfile.final_stage.instructions
    assert before.expanded == ("v", "")
    assert redeclared.expanded == ("VERSION=1.0",)
    assert after.expanded == ("v", "1.0", "o", "unset")
    assert (other.expanded, later.expanded) == (("OTHER=1.0-x",), ("o", "1.0-x"))


def test_build_args_override_defaults_in_and_out_of_stages() -> None:
    text = "ARG V=1\nFROM scratch\nARG V\nARG W=2 X\nENV ALL=$V-$W-$X\n"
    env = parse_text(text, build_args={"V": "9", "W": "8", "X": "7"}).final_stage.instructions[-1]
    assert env.expanded == ("ALL", "9-8-7")
    _, arg_v, arg_wx, env = parse_text(text).final_stage.instructions
    assert (arg_v.expanded, arg_wx.expanded, env.expanded) == (
        ("V=1",),
        ("W=2", "X"),
        ("ALL", "1-2-"),
    )


def test_the_later_of_arg_and_env_wins() -> None:
    text = (
        "FROM scratch\n"
        "ARG A=from-arg\n"
        "ENV A=from-env\n"
        "LABEL a=$A\n"
        "ENV B=from-env\n"
        "ARG B=from-arg\n"
        "LABEL b=$B\n"
    )
    instructions = parse_text(text).final_stage.instructions
    assert instructions[3].expanded == ("a", "from-env")
    assert instructions[6].expanded == ("b", "from-arg")


def test_env_values_in_one_instruction_see_the_values_from_before_it() -> None:
    # the Dockerfile reference's own example
    text = "FROM scratch\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n"
    _, _, second, third = parse_text(text).final_stage.instructions
    assert second.expanded == ("abc", "bye", "def", "hello")
    assert third.expanded == ("ghi", "bye")


def test_stages_built_from_stages_inherit_env_and_args() -> None:
    text = (
        "FROM scratch AS base\n"
        "ARG FLAG=baz\n"
        "ENV HOME_DIR=/srv FLAG=env\n"
        "ARG FLAG=arg\n"
        "FROM base AS child\n"
        "LABEL home=$HOME_DIR flag=$FLAG\n"
        "FROM scratch\n"
        "LABEL home=$HOME_DIR\n"
    )
    stages = parse_text(text).stages
    # BuildKit: a child starts with its parent's values, the parent's ENVs applied last
    assert stages[1].instructions[1].expanded == ("home", "/srv", "flag", "env")
    assert stages[2].instructions[1].expanded == ("home", "")


def test_unknowable_values_stay_as_written() -> None:
    text = (
        "FROM python:3.12\n"
        "ENV PATH=/venv/bin:$PATH\n"
        "ARG TARGETARCH\n"
        "COPY bin-$TARGETARCH /usr/bin/\n"
        "FROM scratch\n"
        "ENV PATH=/venv/bin:$PATH X=$TARGETARCH\n"
    )
    image, scratch = parse_text(text).stages
    assert image.instructions[1].expanded == ("PATH", "/venv/bin:$PATH")
    assert image.instructions[3].expanded == ("bin-$TARGETARCH", "/usr/bin/")
    default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert scratch.instructions[1].expanded == ("PATH", "/venv/bin:" + default_path, "X", "")


def test_what_buildkit_substitutes_and_what_it_leaves_to_the_shell() -> None:
    text = (
        "FROM scratch\n"
        "ENV D=/app U=app P=8080\n"
        'LABEL "the dir"="$D" plain=$D\n'
        "WORKDIR $D\n"
        "USER ${U}:${U}\n"
        "EXPOSE $P/tcp\n"
        'VOLUME ["$D/data"]\n'
        "STOPSIGNAL SIG${U:+TERM}\n"
        "COPY ${D}/a $D/\n"
        "RUN echo $D\n"
        'CMD ["echo", "$D"]\n'
        "ONBUILD COPY $D /x\n"
    )
    words = [i.expanded for i in parse_text(text).final_stage.instructions[2:]]
    assert words == [
        ("the dir", "/app", "plain", "/app"),
        ("/app",),
        ("app:app",),
        ("8080/tcp",),
        ("/app/data",),
        ("SIGTERM",),
        ("/app/a", "/app/"),
        ("echo $D",),
        ("echo", "$D"),
        ("COPY", "$D", "/x"),
    ]


def test_parse_file_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes("\ufeffFROM alpine\r\nRUN echo \\\r\n  héllo\r\n".encode())
    dockerfile = parse_file(str(path), build_args={"A": "1"})
    run = dockerfile.final_stage.instructions[1]
    assert (run.line, run.end_line, run.column) == (2, 3, 1)
    assert run.original == "RUN echo \\\n  héllo"
    assert dockerfile.text.startswith("FROM alpine\r\n")
    assert dockerfile.build_args == {"A": "1"} and dockerfile.path == str(path)
