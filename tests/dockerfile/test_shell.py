"""Splitting RUN scripts into simple commands, and placing them back in the Dockerfile."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bloatscope.dockerfile.parser import parse_text
from bloatscope.dockerfile.shell import Command, run_script, split_commands
from bloatscope.model.dockerfile import Dockerfile, Heredoc, Instruction


def words(script: str) -> list[list[str]]:
    return [[word.text for word in command.words] for command in split_commands(script)]


def at(script: str, command: Command) -> str:
    """The script's text where the command's first word is."""
    return script[command.offset : command.offset + len(command.name)]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("a && b || c ; d | e & f", [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]),
        ("a\nb\n\nc", [["a"], ["b"], ["c"]]),
        ("apt-get install -y \\\n  curl \\\n  git", [["apt-get", "install", "-y", "curl", "git"]]),
        ("pip install a\\\nb c", [["pip", "install", "ab", "c"]]),  # no blank: one word
        ("echo 'a && b' \"c ; d\"", [["echo", "a && b", "c ; d"]]),
        ('echo "a \\"b\\" \\$x"', [["echo", 'a "b" $x']]),
        ("echo $(a && b) `c ; d` && e", [["echo", "$(a && b)", "`c ; d`"], ["e"]]),
        ('echo "$(echo ")")" x && y', [["echo", '$(echo ")")', "x"], ["y"]]),
        ("echo ${A#b} http://x/#y # apt-get install z", [["echo", "${A#b}", "http://x/#y"]]),
        ("# apt-get update\nls", [["ls"]]),
        ("a;;b", [["a"], ["b"]]),
        ("(cd /x && make) || true", [["cd", "/x"], ["make"], ["true"]]),
        ("echo $'it\\'s' ok", [["echo", "it\\'s", "ok"]]),
        ("diff <(sort a) b", [["diff", "<(sort a)", "b"]]),
    ],
)
def test_splits_on_operators_newlines_and_not_inside_quotes(
    script: str, expected: list[list[str]]
) -> None:
    assert words(script) == expected


def test_each_word_at_its_offset() -> None:
    script = 'set -eux;  DEBIAN_FRONTEND=noninteractive apt-get  install -y "curl"'
    set_command, apt = split_commands(script)
    assert at(script, set_command) == "set"
    assert [script[w.offset : w.offset + len(w.text)] for w in apt.words[:3]] == [
        "apt-get",
        "install",
        "-y",
    ]
    assert apt.words[3].text == "curl" and script[apt.words[3].offset] == '"'
    assert apt.assignments == (("DEBIAN_FRONTEND", "noninteractive"),)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("sudo -E -u root apt-get update", ["apt-get", "update"]),
        ("env -i A=1 PATH=/x pip install y", ["pip", "install", "y"]),
        ("xargs -r -n 1 rm -f < list", ["rm", "-f"]),
        ("exec gosu app python -m pip install x", ["python", "-m", "pip", "install", "x"]),
        ("command pip install x", ["pip", "install", "x"]),
        ("timeout -s KILL 60 nice -n 5 nohup make", ["make"]),
        ("time -p /usr/bin/env apk add x", ["apk", "add", "x"]),
    ],
)
def test_wrappers_are_looked_through(script: str, expected: list[str]) -> None:
    assert words(script) == [expected]


def test_command_v_is_a_lookup_not_a_run() -> None:
    assert words("command -v pip && pip install x") == [["pip", "install", "x"]]


def test_assignments_from_the_prefix_and_env_are_kept() -> None:
    (command,) = split_commands("A=1 B='2 3' env C=4 pip install")
    assert command.assignments == (("A", "1"), ("B", "2 3"), ("C", "4"))
    assert words('"A=1" pip') == [["A=1", "pip"]]  # quoted: a program name, not an assignment


@pytest.mark.parametrize(
    "script",
    [
        "sh -c 'apt-get update && apt-get install -y curl'",
        'bash -ec "apt-get update && apt-get install -y curl"',
        "/bin/sh -o pipefail -c 'apt-get update && apt-get install -y curl'",
        "su app -c 'apt-get update && apt-get install -y curl'",
        "eval 'apt-get update && apt-get install -y curl'",
    ],
)
def test_shell_strings_are_split_and_placed_inside_the_string(script: str) -> None:
    update, install = split_commands(script)
    assert update.args == ("update",) and install.args == ("install", "-y", "curl")
    assert at(script, update) == "apt-get" and at(script, install) == "apt-get"
    assert script[install.words[-1].offset : install.words[-1].offset + 4] == "curl"


def test_nested_shell_strings_with_escapes_keep_offsets() -> None:
    script = """bash -c "echo \\"x\\" && sh -c 'pip install y'" """
    echo, pip = split_commands(script)
    assert echo.args == ("x",)  # the outer string unquotes \", the inner shell the quotes
    assert at(script, pip) == "pip" and pip.args == ("install", "y")


def test_a_shell_without_c_runs_a_file_not_a_string() -> None:
    assert words("sh ./install.sh 'apt-get update'") == [["sh", "./install.sh", "apt-get update"]]


def test_compound_commands_count_their_bodies() -> None:
    script = (
        "if [ -f x ]; then apt-get update; elif true; then :; else { apk add y; }; fi\n"
        "for p in a b; do pip install $p; done\n"
        "while read l; do rm -f $l; done < list\n"
        "case $x in\n  a|b) yum install z ;;\n  *) dnf install w;;\nesac\n"
        "f() { npm ci; }"
    )
    assert words(script) == [
        ["[", "-f", "x", "]"],
        ["apt-get", "update"],
        ["true"],
        [":"],
        ["apk", "add", "y"],
        ["pip", "install", "$p"],
        ["read", "l"],
        ["rm", "-f", "$l"],
        ["yum", "install", "z"],
        ["dnf", "install", "w"],
        ["npm", "ci"],
    ]


def test_redirections_are_not_words_and_output_targets_are_kept() -> None:
    (command,) = split_commands("curl -fsSL https://x 2>&1 > /tmp/out < in >> log &> both")
    assert command.args == ("-fsSL", "https://x")
    assert [w.text for w in command.writes] == ["/tmp/out", "log", "both"]


def test_heredoc_bodies_inside_a_script_are_not_commands() -> None:
    script = "cat <<'EOF' > /etc/x\napt-get install nope\nEOF\ncat <<-E2\n\trm -rf /\n\tE2\nls"
    commands = split_commands(script)
    assert [c.name for c in commands] == ["cat", "cat", "ls"]
    assert commands[0].heredocs == ("EOF",) and commands[0].writes[0].text == "/etc/x"
    assert at(script, commands[2]) == "ls"


@pytest.mark.parametrize(
    "script",
    [
        "echo 'unbalanced && apt-get update",
        'echo "unbalanced && apt-get update',
        "echo $(unbalanced && apt-get update",
        "echo `unbalanced && apt-get update",
        "echo ${unbalanced && apt-get update",
        "cat <<EOF\nno end",
        "\\",
        "a \\",
        "<<",
        ")))(((",
        "case",
        "esac esac ;; )",
    ],
)
def test_unbalanced_input_returns_what_it_can(script: str) -> None:
    commands = split_commands(script)
    assert all(0 <= w.offset < len(script) for c in commands for w in c.words)
    assert not any(c.name == "apt-get" for c in commands)  # it is inside the open quote


@pytest.mark.parametrize(
    "unit",
    ["a ", "ab;", "'", '"a$(', "$(", "`", "\\", "\n", "#", "A=1 ", "cat <<E ", "sh -c ", "<("],
)
def test_a_megabyte_of_hostile_text_ends(unit: str) -> None:
    script = unit * (1_000_000 // len(unit))
    started = time.monotonic()
    commands = split_commands(script)
    assert time.monotonic() - started < 60  # linear: seconds, not hours
    assert all(w.offset <= len(script) for c in commands[:1000] for w in c.words)


_SAFE_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./=+,:@%", min_size=1)
_OPERATOR = st.sampled_from([" && ", " || ", "; ", " | ", " & ", "\n", " ;\n", " \\\n&& "])


@given(
    st.lists(
        st.lists(_SAFE_WORD.filter(lambda w: "=" not in w[:1]), min_size=1, max_size=5),
        min_size=1,
        max_size=6,
    ),
    st.data(),
)
def test_generated_scripts_split_back_into_their_commands(
    commands: list[list[str]], data: st.DataObject
) -> None:
    commands = [c for c in commands if not _is_reserved_or_assignment(c[0])]
    script = ""
    for index, command in enumerate(commands):
        if index:
            script += data.draw(_OPERATOR)
        script += " ".join(command)
    found = split_commands(script)
    assert [[w.text for w in c.words] for c in found] == commands
    for command in found:
        for word in command.words:
            assert script[word.offset : word.offset + len(word.text)] == word.text


def _is_reserved_or_assignment(word: str) -> bool:
    reserved = {"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "for"}
    reserved |= {"case", "esac", "select", "function", "time", "!", "{", "}", "in"}
    wrappers = {"sudo", "env", "xargs", "command", "exec", "nohup", "nice", "timeout", "eval"}
    wrappers |= {"stdbuf", "gosu", "su-exec", "tini", "dumb-init", "doas", "builtin", "su"}
    wrappers |= {"ionice", "runuser", "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"}
    head = word.split("=", 1)[0].removesuffix("+")  # NAME+=value appends, and assigns too
    is_assignment = "=" in word and head.isidentifier()
    return word in reserved or word.rsplit("/", 1)[-1] in wrappers or is_assignment


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("ab $()`'\"\\;&|<>#\n{}=-c\t")), max_size=200))
def test_any_text_splits_without_raising_and_offsets_stay_inside(script: str) -> None:
    for command in split_commands(script):
        assert command.words
        for word in command.words:
            assert 0 <= word.offset <= len(script)


def _dockerfile(text: str, **directives: str) -> Dockerfile:
    return Dockerfile("Dockerfile", text, dict(directives))


def _run(line: int, end_line: int, **fields: object) -> Instruction:
    values: dict[str, object] = {
        "keyword": "RUN",
        "flags": (),
        "arguments": (),
        "original": "",
        "line": line,
        "end_line": end_line,
        "column": 1,
        "stage": 0,
    }
    values.update(fields)
    return Instruction(**values)  # type: ignore[arg-type]


def placed(text: str, instruction: Instruction, **directives: str) -> list[tuple[str, int, int]]:
    script = run_script(_dockerfile(text, **directives), instruction)
    return [(c.name, *script.where(c)) for c in script.commands]


def test_a_continued_run_places_each_command_on_its_own_line() -> None:
    text = (
        "FROM debian\n"
        "RUN --mount=type=cache,target=/var/cache/apt \\\n"
        "    --network=none \\\n"
        "    apt-get update && \\\n"
        "    # a comment line BuildKit drops\n"
        "\n"
        "    apt-get install -y \\\n"
        "      curl && rm -rf /var/lib/apt/lists/*\n"
        "RUN ls\n"
    )
    flags = ("--mount=type=cache,target=/var/cache/apt", "--network=none")
    assert placed(text, _run(2, 8, flags=flags)) == [
        ("apt-get", 4, 5),
        ("apt-get", 7, 5),
        ("rm", 8, 15),
    ]


def test_a_comment_line_inside_a_continuation_does_not_end_the_command() -> None:
    text = "FROM x\nRUN apt-get install -y \\\n  # curl is needed\n  curl\n"
    script = run_script(_dockerfile(text), _run(2, 4))
    (command,) = script.commands
    assert command.args == ("install", "-y", "curl")
    assert script.position(command.words[-1].offset) == (4, 3)


def test_heredoc_scripts_are_placed_on_their_lines() -> None:
    text = (
        "FROM x\n"
        "RUN <<EOF\n"
        "set -e\n"
        "  apt-get update\n"
        "EOF\n"
        "RUN <<EOF bash -ex\n"
        "pip install y\n"
        "EOF\n"
        "RUN <<-EOF\n"
        "\tnpm ci\n"
        "\tEOF\n"
    )
    assert placed(text, _run(2, 5, heredocs=(Heredoc("EOF", "", True),))) == [
        ("set", 3, 1),
        ("apt-get", 4, 3),
    ]
    assert placed(text, _run(6, 8, heredocs=(Heredoc("EOF", "", True),))) == [
        ("bash", 6, 11),
        ("pip", 7, 1),
    ]
    heredoc = Heredoc("EOF", "", True, strip_tabs=True)
    assert placed(text, _run(9, 11, heredocs=(heredoc,))) == [("npm", 10, 2)]


@pytest.mark.parametrize(
    "text",
    [
        "FROM x\nRUN cat <<EOF > /etc/x\napt-get update\nEOF\n",
        "FROM x\nRUN python3 <<EOF\napt-get update\nEOF\n",
        "FROM x\nRUN bash install.sh <<EOF\napt-get update\nEOF\n",
        "FROM x\nRUN <<EOF\n#!/usr/bin/env python3\napt-get update\nEOF\n",
    ],
)
def test_a_heredoc_that_is_input_or_another_language_is_not_split(text: str) -> None:
    instruction = _run(2, 5, heredocs=(Heredoc("EOF", "", True),))
    assert "apt-get" not in [name for name, _, _ in placed(text, instruction)]


def test_exec_form_runs_its_words_and_descends_into_sh_c() -> None:
    text = 'FROM x\nRUN ["sh", "-c", "apt-get update && pip install y"]\n'
    instruction = _run(
        2, 2, exec_form=True, arguments=("sh", "-c", "apt-get update && pip install y")
    )
    assert placed(text, instruction) == [("apt-get", 2, 1), ("pip", 2, 1)]


def test_a_backtick_escape_directive_joins_its_continuation_lines() -> None:
    text = "# escape=`\nFROM x\nRUN apt-get update `\n  && apt-get install -y curl\n"
    assert placed(text, _run(3, 4), escape="`") == [("apt-get", 3, 5), ("apt-get", 4, 6)]


def test_placed_through_the_parser() -> None:
    text = (
        "FROM debian:12\n"
        "  RUN --mount=type=cache,target=/var/cache/apt \\\n"
        "    apt-get update && \\\n"
        "    # comment\n"
        "    apt-get install -y curl\n"
        "RUN <<EOF\n"
        "pip install x\n"
        "EOF\n"
        'RUN ["sh", "-c", "npm ci"]\n'
    )
    dockerfile = parse_text(text)
    runs = [i for i in dockerfile.stages[0].instructions if i.keyword == "RUN"]
    found = [
        (c.name, *script.where(c))
        for script in (run_script(dockerfile, run) for run in runs)
        for c in script.commands
    ]
    assert found == [("apt-get", 3, 5), ("apt-get", 5, 5), ("pip", 7, 1), ("npm", 9, 1)]
