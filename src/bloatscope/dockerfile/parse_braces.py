"""The ``${name...}`` forms of BuildKit's shell lexer: ``${name}``, the ``-``, ``+``, ``?``
modifiers (with or without ``:``), the ``#``, ``%`` pattern trims and the ``/`` replacements;
and the error BuildKit gives for a word it cannot substitute."""

from __future__ import annotations

from collections.abc import Container
from typing import Protocol

from bloatscope.dockerfile import parse_patterns
from bloatscope.dockerfile.base import DockerfileError

MODIFIERS = frozenset("+-?#%")
# substituted text one word may take in; ENV A=$A$A doubles a value each line, and without a
# bound thirty such lines would ask for gigabytes
MAX_SUBSTITUTED = 1 << 20


class SubstitutionError(DockerfileError):
    """A word BuildKit refuses to expand: ``${`` without ``}``, an unknown modifier, an
    unterminated quote. BuildKit fails the build with it, so this is an error too."""


class Lexer(Protocol):
    text: str
    position: int
    unknown: Container[str]

    def peek(self) -> str: ...

    def next(self) -> str: ...

    def lookup(self, name: str) -> str | None: ...

    def run(self, stop: str, keep_escapes: bool) -> str: ...


def braced(lexer: Lexer, start: int, name: str) -> str:
    """The rest of ``${name...}`` after the name; ``start`` is where its ``$`` was."""
    modifier = lexer.next()
    if modifier == "}":
        return _value(lexer, start, name, lexer.lookup(name))
    if modifier == "/":
        return _replacement(lexer, start, name)
    if not modifier:  # BuildKit calls it an unsupported modifier and prints its EOF rune
        raise SubstitutionError("syntax error: missing '}'")
    written = modifier
    null_is_unset = modifier == ":"
    if null_is_unset:
        modifier = lexer.next()
        written += modifier
    elif modifier not in MODIFIERS:
        raise SubstitutionError(f"unsupported modifier ({written}) in substitution")
    word = _up_to(lexer, "}", keep_escapes=modifier in ("#", "%"))
    value = lexer.lookup(name)
    if value is None and name in lexer.unknown:
        return lexer.text[start : lexer.position]
    if modifier not in MODIFIERS or not modifier:
        raise SubstitutionError(f"unsupported modifier ({written}) in substitution")
    return _modified(name, value, modifier, word, null_is_unset)


def _value(lexer: Lexer, start: int, name: str, value: str | None) -> str:
    if value is None and name in lexer.unknown:
        return lexer.text[start : lexer.position]  # only the build knows it: as written
    return value or ""


def _up_to(lexer: Lexer, stop: str, keep_escapes: bool) -> str:
    try:
        return lexer.run(stop, keep_escapes)
    except SubstitutionError:
        if lexer.peek() == "":
            where = " in ${}" if stop == "/" else ""
            raise SubstitutionError(f"syntax error: missing '{stop}'{where}") from None
        raise


def _modified(name: str, value: str | None, modifier: str, word: str, null_is_unset: bool) -> str:
    unset = value is None or (null_is_unset and value == "")
    if modifier == "-":
        return word if unset else value or ""
    if modifier == "+":
        return "" if unset else word
    if modifier == "?":
        if unset:
            default = "unset" if value is None else "empty"
            raise SubstitutionError(f"{name}: {word or 'is not allowed to be ' + default}")
        return value or ""
    greedy = word.startswith(modifier)  # ## and %% match the longest
    pattern = word[1:] if greedy else word
    try:
        if modifier == "%":
            return parse_patterns.trim_suffix(pattern, value or "", greedy)
        return parse_patterns.trim_prefix(pattern, value or "", greedy)
    except parse_patterns.PatternError as error:
        raise SubstitutionError(f"invalid pattern ({pattern}) in substitution: {error}") from None


def _replacement(lexer: Lexer, start: int, name: str) -> str:
    """``${name/pattern/replacement}`` and ``${name//pattern/replacement}``."""
    everywhere = lexer.peek() == "/"
    if everywhere:
        lexer.position += 1
    pattern = _up_to(lexer, "/", keep_escapes=True)
    replacement = _up_to(lexer, "}", keep_escapes=True)
    value = lexer.lookup(name)
    if value is None and name in lexer.unknown:
        return lexer.text[start : lexer.position]
    try:
        return parse_patterns.replace(
            pattern, replacement, value or "", everywhere, limit=MAX_SUBSTITUTED
        )
    except parse_patterns.PatternTooLong as error:
        raise SubstitutionError(str(error)) from None
    except parse_patterns.PatternError as error:
        raise SubstitutionError(f"invalid pattern ({pattern}) in substitution: {error}") from None
