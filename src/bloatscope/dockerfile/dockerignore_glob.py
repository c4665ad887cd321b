"""One .dockerignore pattern compiled the way moby's patternmatcher compiles it.

Its syntax is checked as Go's filepath.Match checks it; it gets moby's match kind and its Go
regular expression spelled in Python's syntax.

A pattern is Go's filepath.Match syntax (``*`` and ``?`` stop at ``/``, ``[...]`` classes
negated with ``^``, ``\\`` escapes) plus ``**``, which spans directories. Moby turns each
pattern into a Go regular expression (or, when it can, a plain string comparison) and this
module does the same, so its quirks carry over: ``**x`` matches any path ending in ``x``, and an
escaped letter keeps its regular-expression meaning (``\\d`` is a digit)."""

from __future__ import annotations

import re
from typing import NamedTuple

from bloatscope.dockerfile.base import DockerfileError

_REGEX_SPECIAL = frozenset(".+()|{}$")  # meaningless to filepath.Match, escaped by moby
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class IgnorePattern(NamedTuple):
    """One compiled pattern. ``kind`` is moby's shortcut: "exact" compares the whole path,
    "prefix" (``foo/**``) and "suffix" (``**/foo``) its start or end, "regex" the rest."""

    text: str  # cleaned, without the "!"
    exception: bool
    kind: str
    regex: re.Pattern[str] | None = None

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return self.regex is not None and self.regex.match(path) is not None


def valid_glob(pattern: str) -> bool:
    """Whether Go's filepath.Match accepts the pattern's syntax: escapes are complete and each
    ``[`` class is closed, non-empty, and has no bare ``-`` or ``]`` where a character goes."""
    i, end = 0, len(pattern)
    while i < end:
        char = pattern[i]
        if char == "\\":
            if i + 1 == end:
                return False
            i += 2
        elif char == "[":
            i = _class_end(pattern, i + 1)
            if i < 0:
                return False
        else:
            i += 1
    return True


def _class_end(pattern: str, i: int) -> int:
    """The index after a class whose body starts at ``i``, or -1 when it is malformed."""
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    ranges = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges > 0:
            return i + 1
        i = _class_char_end(pattern, i)
        if i < 0:
            return -1
        if pattern[i] == "-":
            i = _class_char_end(pattern, i + 1)
            if i < 0:
                return -1
        ranges += 1


def _class_char_end(pattern: str, i: int) -> int:
    """Go's getEsc: one (possibly escaped) class character at ``i``; something must follow."""
    if i >= len(pattern) or pattern[i] in "-]":
        return -1
    if pattern[i] == "\\":
        i += 1
    i += 1
    return i if i < len(pattern) else -1


def compiled_pattern(text: str, exception: bool, path: str) -> IgnorePattern:
    kind, expression = _translate(text)
    if kind != "regex":
        return IgnorePattern(text, exception, kind)
    try:
        regex = re.compile(_python_regex(expression), re.ASCII)
    except re.error:
        raise DockerfileError(f"pattern cannot be matched: {text!r}", path=path) from None
    return IgnorePattern(text, exception, kind, regex)


def _translate(pattern: str) -> tuple[str, str]:
    """Moby's Pattern.compile: the match kind, and for "regex" the Go regular expression."""
    out = ["^"]
    kind = "exact"
    i, end = 0, len(pattern)
    first = True
    while i < end:
        char = pattern[i]
        i += 1
        if char == "*" and i < end and pattern[i] == "*":
            i += 1
            if i < end and pattern[i] == "/":
                i += 1
            if i == end:  # a trailing ** takes everything below
                if kind == "exact":
                    kind = "prefix"
                else:
                    out.append(".*")
                    kind = "regex"
            else:
                out.append("(.*/)?")
                kind = "regex"
            if first:
                kind = "suffix"
        elif char == "*":
            out.append("[^/]*")
            kind = "regex"
        elif char == "?":
            out.append("[^/]")
            kind = "regex"
        elif char in _REGEX_SPECIAL:
            out.append("\\" + char)
        elif char == "\\":
            if i < end:
                out.append("\\" + pattern[i])
                i += 1
                kind = "regex"
            else:
                out.append("\\\\")
        elif char in "[]":
            out.append(char)
            kind = "regex"
        else:
            out.append(char)
        first = False
    return kind, "".join(out) + "$"


def _python_regex(expression: str) -> str:
    """A Go regular expression of the kind ``_translate`` makes, in Python's syntax: POSIX
    classes spelled out, ``[``, ``&``, ``~`` and ``|`` escaped inside classes (Python reads
    them as nested sets), ``\\z`` and the final ``$`` as ``\\Z`` (Python's ``$`` also matches
    before a final newline)."""
    out: list[str] = []
    i, end = 0, len(expression) - 1  # the final "$"
    in_class = False
    while i < end:
        char = expression[i]
        if char == "\\":
            escaped = expression[i : i + 2]
            out.append("\\Z" if escaped == "\\z" and not in_class else escaped)
            i += 2
            continue
        if not in_class:
            if char == "[":
                in_class = True
                out.append("[")
                i += 1
                if expression.startswith("^", i):
                    out.append("^")
                    i += 1
                if expression.startswith("]", i):  # first: a member, not the end
                    out.append("\\]")
                    i += 1
                continue
            out.append(char)
        elif char == "]":
            in_class = False
            out.append("]")
        elif char == "[" and expression.startswith(":", i + 1):
            name_end = expression.find(":]", i + 2)
            name = expression[i + 2 : name_end] if name_end > 0 else ""
            negated = name.startswith("^")
            members = _POSIX_CLASSES.get(name.removeprefix("^"))
            if members is None or negated:
                raise re.error(f"unsupported class [:{name}:]")
            out.append(members)
            i = name_end + 2
            continue
        else:
            out.append("\\" + char if char in "[&~|" else char)
        i += 1
    return "".join(out) + "\\Z"
