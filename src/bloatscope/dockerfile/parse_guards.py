"""Inputs that would keep the Go parser busy for minutes, refused before it sees them. It builds
each word a character at a time, so its time grows with the square of a word's length (a 1 MiB
word, continued over many lines, takes minutes), and likewise with a heredoc's length."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bloatscope.dockerfile import parse_heredocs
from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.substitution import SubstitutionError, raw_words

# about two seconds in the Go parser for a whole file of such words; BuildKit refuses a
# line over 64 KiB, and real words (a path, a quoted label) are far shorter
MAX_WORD = 16 * 1024


def guard(lines: Sequence[str], escape: str, path: str) -> None:
    parse_heredocs.guard(lines, path)
    for line, text in _logical_lines(lines, escape):
        if len(text) <= MAX_WORD:
            continue
        try:
            words = raw_words(text, keep_quotes=True, keep_escapes=True)
            longest = max(map(len, words), default=0)
        except SubstitutionError:  # an open quote runs to the end
            longest = len(text)
        if longest > MAX_WORD:
            raise DockerfileError(
                f"line {line}: a word of {longest} characters; bloatscope reads words of up "
                f"to {MAX_WORD}",
                path=path,
            )


def _logical_lines(lines: Sequence[str], escape: str) -> Iterator[tuple[int, str]]:
    """(first line, text) of each run of lines joined by a trailing escape character: at
    least as long as the logical line the Go parser builds there."""
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    start, pieces = 1, []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        more = continued.search(text)
        pieces.append(text[: more.start()] if more else text)
        if not more:
            yield start, "".join(pieces)
            start, pieces = number + 1, []
    if pieces:
        yield start, "".join(pieces)
