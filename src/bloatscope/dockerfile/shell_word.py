"""Reading one shell word, and mapping each character of its value back to the source.

Quotes are removed and escapes resolved; ``$(...)``, ``${...}`` and backquotes are kept
verbatim."""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass, field

BREAKS = frozenset(" \t\r\n;&|()<>")
PLAIN = re.compile(r"[^ \t\r\n;&|()<>\\'\"$`]+")
_IN_DOUBLE = re.compile(r'[^"\\$`]+')


@dataclass(slots=True)
class Token:
    text: str  # a word's value, or the operator
    offset: int
    raw: str = ""  # a word's source text; "" for an operator
    # (value index, source offset) wherever the value stops following the source one-to-one
    segments: list[tuple[int, int]] = field(default_factory=list)

    @property
    def is_word(self) -> bool:
        return bool(self.raw)

    def source_offset(self, index: int) -> int:
        at = bisect.bisect_right(self.segments, (index, sys.maxsize)) - 1
        value_index, source = self.segments[max(at, 0)]
        return source + index - value_index


def read_word(text: str, start: int, found: list[Token]) -> int:
    """Appends the word starting at ``start`` to ``found``; returns where the word ends."""
    end = len(text)
    pieces: list[str] = []
    length = 0
    segments = [(0, start)]
    i = start
    if text[i] in "<>":  # process substitution: the whole <(...) verbatim
        stop = _expansion_end(text, i + 1)
        pieces.append(text[i:stop])
        length, i = stop - i, stop
    while i < end:
        char = text[i]
        if char in BREAKS:
            break
        if (plain := PLAIN.match(text, i)) is not None:
            pieces.append(plain.group())
            length += plain.end() - i
            i = plain.end()
        elif char == "\\":
            if text.startswith("\n", i + 1):
                i += 2
            elif i + 1 < end:
                segments.append((length, i + 1))
                pieces.append(text[i + 1])
                length, i = length + 1, i + 2
            else:
                i += 1
            segments.append((length, i))
        elif char == "'" or text.startswith("$'", i):
            opening = i + (2 if char == "$" else 1)
            close = _quote_end(text, opening, escapes=char == "$")
            pieces.append(text[opening:close])
            segments.append((length, opening))
            length += close - opening
            i = min(close + 1, end)
            segments.append((length, i))
        elif char == '"':
            i, length = _double_quoted(text, i + 1, pieces, length, segments)
        elif char == "`" or text.startswith(("$(", "${"), i):
            stop = _expansion_end(text, i)
            pieces.append(text[i:stop])
            length, i = length + stop - i, stop
        else:  # a lone $
            pieces.append(char)
            length, i = length + 1, i + 1
    found.append(Token("".join(pieces), start, text[start:i], segments))
    return i


def _double_quoted(
    text: str, i: int, pieces: list[str], length: int, segments: list[tuple[int, int]]
) -> tuple[int, int]:
    """The inside of "...", from just past the opening quote; (just past the closing
    quote, the value's new length)."""
    end = len(text)
    segments.append((length, i))
    while i < end:
        char = text[i]
        if char == '"':
            segments.append((length, i + 1))
            return i + 1, length
        if (plain := _IN_DOUBLE.match(text, i)) is not None:
            pieces.append(plain.group())
            length, i = length + plain.end() - i, plain.end()
        elif char == "\\" and i + 1 < end and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                segments.append((length, i + 1))
                pieces.append(text[i + 1])
                length += 1
            i += 2
            segments.append((length, i))
        elif char == "`" or text.startswith(("$(", "${"), i):
            stop = _expansion_end(text, i)
            pieces.append(text[i:stop])
            length, i = length + stop - i, stop
        else:
            pieces.append(char)
            length, i = length + 1, i + 1
    return i, length


def _quote_end(text: str, i: int, *, escapes: bool) -> int:
    """The closing quote of '...' (or of $'...', where \\' does not close); the end if none."""
    while True:
        close = text.find("'", i)
        if close < 0:
            return len(text)
        if not escapes:
            return close
        inside = text[i:close]
        if (len(inside) - len(inside.rstrip("\\"))) % 2 == 0:
            return close
        i = close + 1


def _expansion_end(text: str, i: int) -> int:
    """Just past the ``$(...)``, ``${...}``, ``(...)`` or backquoted text starting at ``i``.
    Nesting and quotes are followed with an explicit stack, each character read once."""
    end = len(text)
    if text[i] == "$":
        i += 1
    stack = [text[i]]
    i += 1
    while i < end and stack:
        top, char = stack[-1], text[i]
        if char == "\\":
            i += 2
            continue
        if top == "`":
            if char == "`":
                stack.pop()
        elif top == '"':
            if char == '"':
                stack.pop()
            elif char == "`" or (char == "$" and text.startswith(("(", "{"), i + 1)):
                stack.append(text[i] if char == "`" else text[i + 1])
                i += char == "$"
        elif char == "'":
            i = _quote_end(text, i + 1, escapes=False)
        elif char in '"`(' or (char == "{" and text[i - 1] == "$"):
            stack.append(char)
        elif (char == ")" and top == "(") or (char == "}" and top == "{"):
            stack.pop()
        i += 1
    return min(i, end)
