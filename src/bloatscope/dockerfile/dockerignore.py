"""A build context's .dockerignore: reading it, and deciding which context paths it keeps out,
with the semantics of Docker's matcher (moby/patternmatcher and its ignorefile reader).

Those semantics, as moby implements them: a line starting with ``#`` is a comment (a space
before the ``#`` makes it a pattern); lines are trimmed; ``!`` starts an exception; patterns are
cleaned like Go's filepath.Clean and lose one leading ``/``, so ``/foo``, ``./foo`` and ``foo/``
all mean ``foo``. A pattern is Go's filepath.Match syntax (``*`` and ``?`` stop at ``/``,
``[...]`` classes negated with ``^``, ``\\`` escapes) plus ``**``, which spans directories. A
path is excluded when the last pattern that matches it or one of its parent directories is not
an exception. Moby turns each pattern into a Go regular expression (or, when it can, a plain
string comparison) and this module does the same, so its quirks carry over: ``**x`` matches any
path ending in ``x``, and an escaped letter keeps its regular-expression meaning (``\\d`` is a
digit)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bloatscope.dockerfile.base import DockerfileError

MAX_BYTES = 4 << 20  # a .dockerignore is a few hundred bytes; this bounds memory, not use
MAX_LINE_BYTES = 64 << 10  # Go's bufio.Scanner fails on longer lines, and so does Docker
# Go's unicode.IsSpace, which strings.TrimSpace uses; str.strip() also takes \x1c-\x1f
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
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


def read_dockerignore(path: str) -> tuple[str, ...] | None:
    """The patterns of a .dockerignore as written (trimmed; comments and blank lines left
    out), checked the way Docker checks them; None when there is no such file."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DockerfileError(f"cannot read: {error.strerror or error}", path=path) from None
    if len(data) > MAX_BYTES:
        raise DockerfileError(f"larger than {MAX_BYTES >> 20} MiB", path=path)
    patterns = dockerignore_patterns(data.decode("utf-8", "surrogateescape"), path)
    DockerIgnore.of(patterns, path)  # a pattern Docker would refuse fails here, not later
    return patterns


def dockerignore_patterns(text: str, path: str = ".dockerignore") -> tuple[str, ...]:
    """The pattern lines of a .dockerignore's text, trimmed, without comments and blanks."""
    patterns = []
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        if len(line.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
            raise DockerfileError(f"line {number} is longer than 64 KiB", path=path)
        if line.startswith("#"):
            continue
        pattern = line.strip(_GO_SPACE)
        if pattern:
            patterns.append(pattern)
    return tuple(patterns)


def go_clean(path: str) -> str:
    """Go's filepath.Clean on a slash path (normpath keeps a leading ``//``; Go does not)."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@dataclass(frozen=True, slots=True)
class IgnorePattern:
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


@dataclass(frozen=True, slots=True)
class DockerIgnore:
    """The matcher for a .dockerignore's patterns."""

    patterns: tuple[IgnorePattern, ...]

    @classmethod
    def of(cls, lines: Iterable[str], path: str = ".dockerignore") -> DockerIgnore:
        """Compiles pattern lines (as ``read_dockerignore`` returns them: a ``#`` here is part
        of a pattern). A bare ``!`` or a malformed pattern is a DockerfileError."""
        compiled = []
        for line in lines:
            text = _normalized(line)
            if not text:
                continue
            exception = text.startswith("!")
            if exception:
                if len(text) == 1:
                    raise DockerfileError('illegal exclusion pattern: "!"', path=path)
                text = text[1:]
            if not _valid_glob(text):
                raise DockerfileError(f"syntax error in pattern: {line!r}", path=path)
            compiled.append(_compiled(text, exception, path))
        return cls(tuple(compiled))

    def excludes(self, path: str) -> bool:
        """Whether the context path (relative to the context root, ``/``-separated; a leading
        ``/`` or ``./`` is ignored) stays out of the build context."""
        file = go_clean(path).lstrip("/") or "."
        if file == ".":
            return False
        parent = posixpath.dirname(file)
        parts = parent.split("/") if parent else []
        parents = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        matched = False
        for pattern in self.patterns:
            if pattern.exception != matched:
                continue  # only an exception can change an exclusion, and vice versa
            if pattern.matches(file) or any(pattern.matches(p) for p in parents):
                matched = not pattern.exception
        return matched


def _normalized(line: str) -> str:
    """What ignorefile.ReadAll and patternmatcher.New make of a line: trimmed, ``!`` kept in
    front, the rest cleaned and relative."""
    pattern = line.strip(_GO_SPACE)
    if not pattern:
        return ""
    invert = pattern.startswith("!")
    if invert:
        pattern = pattern[1:].strip(_GO_SPACE)
    if pattern:
        pattern = go_clean(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
    # New() cleans the whole line again: "!/" becomes "!", which it refuses
    return go_clean("!" + pattern) if invert else pattern


def _valid_glob(pattern: str) -> bool:
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


def _compiled(text: str, exception: bool, path: str) -> IgnorePattern:
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
