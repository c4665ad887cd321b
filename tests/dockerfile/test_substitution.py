"""The substitution lexer against BuildKit's documented forms and its shell lexer's own test
table (frontend/dockerfile/shell), and properties that must hold for any text."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bloatscope.dockerfile import parse_patterns
from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.substitution import (
    SubstitutionError,
    expand,
    expand_words,
    raw_words,
)

SET = {"FOO": "xxx", "BAR": ""}  # FOO set, BAR set but empty, BAZ unset


@pytest.mark.parametrize(
    ("word", "env", "expected"),
    [
        ("$FOO and ${FOO}_x", SET, "xxx and xxx_x"),
        ("x ${BAZ}", SET, "x "),
        # the four forms the Dockerfile reference documents
        ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", SET, "xxx  ccc"),
        ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", SET, "xxx bbb ccc"),
        ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", SET, "aaa bbb "),
        ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", SET, "aaa  "),
        ("${FOO?gone} ${BAR?gone}", SET, "xxx "),
        # the pattern forms (the reference's own examples)
        ("${str#f*b}", {"str": "foobarbaz"}, "arbaz"),
        ("${str##f*b}", {"str": "foobarbaz"}, "az"),
        ("${string%b*}", {"string": "foobarbaz"}, "foobar"),
        ("${string%%b*}", {"string": "foobarbaz"}, "foo"),
        ("${string/ba/fo}", {"string": "foobarbaz"}, "fooforbaz"),
        ("${string//ba/fo}", {"string": "foobarbaz"}, "fooforfoz"),
        # BuildKit's lexer tests
        ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x"),
        ("${FOO%%\\**}", {"FOO": "xx**"}, "xx"),
        ("${FOO#*x*y}", {"FOO": "xxyy"}, "y"),
        ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy"),
        ("${FOO#?\\?}", {"FOO": "???y"}, "?y"),
        ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a"),
        (
            "${FOO/$N/.} - ${FOO//$N/.}",
            {"FOO": "/foo*/*/*.txt", "N": "\\*/"},
            "/foo.*/*.txt - /foo..*.txt",
        ),
        ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt"),
        ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy"),
        ("${FOO///}", {"FOO": "xxyy"}, "xxyy"),
        ("${V:+-${V}}", {"V": "v7"}, "-v7"),
        # quoting and escapes
        ("'$FOO' \"$FOO\" \\$FOO \\${FOO}", SET, "$FOO xxx $FOO ${FOO}"),
        ('"a\\"b" "c\\d" \'e\\f\'', {}, 'a"b c\\d e\\f'),
        ("$ $1 $@ ${1}", {"1": "one"}, "$ one  one"),
        ("a\\", {}, "a"),
    ],
)
def test_expands_as_buildkit(word: str, env: dict[str, str], expected: str) -> None:
    assert expand(word, env) == expected


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${", "missing '}'"),
        ("${FOO", "missing '}'"),
        ("${FOO:-x", "missing '}'"),
        ("${}", "bad substitution"),
        ("${:x}", "bad substitution"),
        ("${FOO x}", "unsupported modifier ( ) in substitution"),
        ("${FOO:x}", "unsupported modifier (:x) in substitution"),
        ("${FOO=bar}", "unsupported modifier (=) in substitution"),
        ("${BAZ?must be set}", "BAZ: must be set"),
        ("${BAR:?}", "BAR: is not allowed to be empty"),
        ("${FOO/x", "missing '/' in ${}"),
        ("${FOO#\\x}", "invalid pattern"),
        ('"open', "matching double-quote"),
        ("'open", "matching single-quote"),
    ],
)
def test_refuses_what_buildkit_refuses(word: str, message: str) -> None:
    with pytest.raises(SubstitutionError, match=re.escape(message)):
        expand(word, SET)


def test_errors_are_dockerfile_errors() -> None:
    with pytest.raises(DockerfileError):
        expand("${", {})


def test_backtick_escape_leaves_backslashes_alone() -> None:
    assert expand("C:\\x `$P", {"P": "1"}, escape="`") == "C:\\x $P"
    assert expand('"a`"b" "c\\d"', {}, escape="`") == 'a"b c\\d'


def test_unknown_names_stay_as_written() -> None:
    unknown = {"TARGETARCH", "TARGETOS"}
    written = "$TARGETARCH/${TARGETOS:-linux}/${TARGETOS%x}/$OTHER"
    assert expand(written, {}, unknown=unknown) == "$TARGETARCH/${TARGETOS:-linux}/${TARGETOS%x}/"
    assert expand("$TARGETARCH", {"TARGETARCH": "arm64"}, unknown=unknown) == "arm64"


def test_words_split_after_substitution() -> None:
    assert expand_words('a "b c" $X d', {"X": "x  y"}) == ["a", "b c", "x", "y", "d"]
    assert expand_words('"" a', {}) == ["a"]


def test_raw_words_keep_what_they_are_asked_to() -> None:
    line = 'RUN <<"EOF" cat $X \\"q'
    assert raw_words(line, keep_quotes=True, keep_escapes=True) == [
        "RUN",
        '<<"EOF"',
        "cat",
        "$X",
        '\\"q',
    ]
    assert raw_words(line, keep_quotes=False, keep_escapes=False)[1] == "<<EOF"


def test_patterns_reverse_with_their_escapes() -> None:
    assert parse_patterns.trim_suffix("\\*c", "ab*c", greedy=False) == "ab"
    assert parse_patterns.trim_suffix(".*", "a.b.c", greedy=True) == "a"
    assert parse_patterns.trim_suffix(".*", "a.b.c", greedy=False) == "a.b"


def test_replace_all_skips_the_empty_match_go_skips() -> None:
    # Go's ReplaceAllString("abc", ".*", "x") is "x"; Python's re.sub would give "xx"
    assert parse_patterns.replace("*", "x", "abc", everywhere=True) == "x"
    assert parse_patterns.replace("b", "[$0$$]", "abcb", everywhere=True) == "a[b$]c[b$]"
    assert parse_patterns.replace("b", "[$0]", "abcb", everywhere=False) == "a[$0]cb"


_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_VALUE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(st.text(st.characters(blacklist_characters="$'\"\\", blacklist_categories=("Cs",))))
def test_text_without_dollar_quote_or_escape_is_unchanged(text: str) -> None:
    assert expand(text, {"A": "1"}) == text


@settings(max_examples=300)
@given(
    st.text(alphabet=st.sampled_from(list("${}:-+?#%/'\"\\`AB_1 x*")), max_size=40),
    st.dictionaries(st.sampled_from(["A", "B", "_1", "1"]), _VALUE, max_size=3),
    st.sampled_from(["\\", "`"]),
)
def test_any_text_expands_or_is_refused_quickly(text: str, env: dict[str, str], esc: str) -> None:
    started = time.monotonic()
    try:
        result = expand(text, env, escape=esc)
    except SubstitutionError:
        pass
    else:
        assert isinstance(result, str)
    assert time.monotonic() - started < 1


@given(_NAME, _VALUE)
def test_a_set_name_gives_its_value(name: str, value: str) -> None:
    env = {name: value}
    assert expand(f"${{{name}}}", env) == value
    assert expand(f"${{{name}-fallback}}", env) == value
    assert expand(f"${{{name}+alt}}", env) == "alt"
    assert expand(f"${{{name}:+alt}}", env) == ("alt" if value else "")


@given(_NAME)
def test_an_unset_name_takes_the_default(name: str) -> None:
    assert expand(f"${{{name}:-fallback}}", {}) == "fallback"
    assert expand(f"${{{name}-fallback}}", {}) == "fallback"
    assert expand(f"${{{name}}}", {}) == ""
