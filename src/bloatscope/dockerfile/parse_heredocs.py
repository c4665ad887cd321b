"""Heredocs: which words of an instruction open one and how (``<<-`` strips tabs, a quoted
delimiter stops expansion), found as BuildKit finds them, since the Go binding reports only the
name and the body; and a quick scan that keeps huge heredocs away from the Go parser, whose time
grows with the square of a heredoc's length."""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.substitution import SubstitutionError, go_lstrip, raw_words
from bloatscope.model.dockerfile import Heredoc

MAX_HEREDOC_LINES = 5000  # about a second in the Go parser; real heredocs are a few dozen lines
_HEREDOC_WORD = re.compile(r"([0-9]*)<<(-?)([^<]*)")
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)
_OPENER = re.compile(r"(?:run|copy|add|onbuild)[ \t]", re.IGNORECASE)


class Marker(NamedTuple):
    """``<<EOF``, ``<<-EOF``, ``<<"EOF"``, ``3<<EOF`` as written in an instruction."""

    name: str
    expands: bool
    strip_tabs: bool


def marker(word: str) -> Marker | None:
    """The heredoc a word opens, if it opens one. A delimiter with any quote in it (``"EOF"``,
    ``'EOF'``, ``E"OF"``) does not expand; ``\\EOF`` still does, as in BuildKit."""
    found = _HEREDOC_WORD.fullmatch(word)
    if found is None or not found.group(3):
        return None
    try:
        plain = raw_words(found.group(3), keep_quotes=False, keep_escapes=False)
        quoted = raw_words(found.group(3), keep_quotes=True, keep_escapes=False)
    except SubstitutionError:
        return None
    if len(plain) != 1 or len(quoted) != 1:
        return None
    expands = _quotes(plain[0]) == _quotes(quoted[0])
    return Marker(plain[0], expands, found.group(2) == "-")


def markers(line: str) -> list[Marker]:
    """Every heredoc the (logical) line opens, in order."""
    if "<<" not in line:
        return []
    try:
        words = raw_words(line, keep_quotes=True, keep_escapes=True)
    except SubstitutionError:
        return []
    return [found for word in words if (found := marker(word)) is not None]


def heredocs(logical_line: str, bodies: Sequence[tuple[str, str]]) -> tuple[Heredoc, ...]:
    """The model's heredocs from the Go parser's (name, body) pairs and the words that opened
    them. For ``<<-`` the body is what the build sees: leading tabs gone from every line."""
    pending = markers(logical_line)
    made: list[Heredoc] = []
    for name, body in bodies:
        index = next((i for i, found in enumerate(pending) if found.name == name), None)
        opened = pending.pop(index) if index is not None else Marker(name, True, False)
        content = _LEADING_TABS.sub("", body) if opened.strip_tabs else body
        made.append(Heredoc(name, content, opened.expands, opened.strip_tabs))
    return tuple(made)


def guard(lines: Sequence[str], path: str) -> None:
    """Refuse, before the Go parser sees it, a heredoc over 5000 lines, or one that never ends
    with more than that after it (the parser would only say "unterminated heredoc", slowly)."""
    for opener, found, start, end in _spans(lines):
        length = (len(lines) if end is None else end) - start
        if length <= MAX_HEREDOC_LINES:
            continue
        if end is None:
            raise DockerfileError(
                f"line {opener}: unterminated heredoc: no line after it reads {found.name}",
                path=path,
            )
        raise DockerfileError(
            f"line {opener}: a heredoc of {length} lines; bloatscope reads heredocs of up "
            f"to {MAX_HEREDOC_LINES} lines",
            path=path,
        )


def unterminated(lines: Sequence[str]) -> tuple[int, str] | None:
    """The line and name of the first heredoc that never ends, if the scan finds one."""
    return next(((line, found.name) for line, found, _, end in _spans(lines) if end is None), None)


def _spans(lines: Sequence[str]) -> Iterator[tuple[int, Marker, int, int | None]]:
    """(opening line, marker, first body index, closing line index or None), roughly as
    BuildKit finds them: bodies skipped, only lines that start a RUN, COPY, ADD or ONBUILD
    looked at (a ``<<EOF`` elsewhere is not a heredoc, and a false one must not be reported)."""
    ends = _ends(lines)
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if not _OPENER.match(go_lstrip(line)):
            continue
        opener = number
        for found in markers(line):
            end = ends.find(found, number)
            yield opener, found, number, end
            if end is None:
                return
            number = end + 1


class _Ends:
    """Where each possible closing line is: the line as written, and with leading tabs gone."""

    def __init__(self) -> None:
        self.exact: dict[str, list[int]] = defaultdict(list)
        self.untabbed: dict[str, list[int]] = defaultdict(list)

    def find(self, found: Marker, after: int) -> int | None:
        """The 0-based index of the first closing line at or after ``after``."""
        places = (self.untabbed if found.strip_tabs else self.exact).get(found.name, [])
        index = bisect.bisect_left(places, after)
        return places[index] if index < len(places) else None


def _ends(lines: Sequence[str]) -> _Ends:
    ends = _Ends()
    for index, line in enumerate(lines):
        text = line.rstrip("\r\n")
        ends.exact[text].append(index)
        ends.untabbed[text.lstrip("\t")].append(index)
    return ends


def _quotes(word: str) -> int:
    return word.count("'") + word.count('"')
