"""A shell script's tokens, left to right: words and operators.

Comments, line continuations and heredoc bodies are skipped.

Why not ``shlex``: with ``punctuation_chars`` it splits ``&&``, ``;`` and ``|``, but it keeps no
offsets (a rule must point at a column), treats a newline as a blank rather than the end of a
command, splits inside ``$(...)`` and backticks, takes ``#`` inside a word (``${A#b}``,
``http://x/#y``) for a comment, leaves ``\\``-newline in the word, and raises on an unbalanced
quote. This scanner reads each character once, so hostile input (unbalanced quotes, a megabyte
of text) ends with whatever could be split."""

from __future__ import annotations

import re

from bloatscope.dockerfile.shell_word import BREAKS, PLAIN, Token, read_word

BLANKS = " \t\r"
# Each three-character operator starts with a two-character one; any other of ;&|()<> stands
# alone.
_OPERATORS_2 = frozenset({"&&", "||", ";;", ";&", "|&", "&>", ">>", ">&", "<&", "<>", ">|", "<<"})
_OPERATORS_3 = frozenset({";;&", "&>>", "<<<", "<<-"})
_FD_PREFIX = re.compile(r"\d+(?=[<>])")


class Lexer:
    """Words and operators, left to right; heredoc bodies and comments skipped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = len(text)
        self.pending: list[tuple[str, bool]] = []  # heredocs whose body starts at the newline

    def tokens(self) -> list[Token]:
        text, end = self.text, self.end
        found: list[Token] = []
        i = 0
        while i < end:
            char = text[i]
            if char in BLANKS:
                i += 1
            elif char == "\n":
                found.append(Token("\n", i))
                i = self._skip_heredocs(i + 1)
            elif char in "<>" and text.startswith("(", i + 1):  # <(cmd) is a word
                i = read_word(text, i, found)
            elif char in ";&|()<>":
                operator = self._operator(i)
                found.append(Token(operator, i))
                i += len(operator)
                if operator in ("<<", "<<-"):
                    i = self._heredoc_delimiter(i, operator == "<<-", found)
            elif char == "#":
                newline = text.find("\n", i)
                i = end if newline < 0 else newline
            elif char == "\\" and text.startswith("\n", i + 1):
                i += 2
            elif char.isdigit() and (fd := _FD_PREFIX.match(text, i)) is not None:
                i = fd.end()  # 2>&1: the descriptor belongs to the redirection
            elif (plain := PLAIN.match(text, i)) and (
                plain.end() == end or text[plain.end()] in BREAKS
            ):
                found.append(Token(plain.group(), i, plain.group(), [(0, i)]))
                i = plain.end()
            else:
                i = read_word(text, i, found)
        return found

    def _operator(self, i: int) -> str:
        two = self.text[i : i + 2]
        if two not in _OPERATORS_2:
            return two[0]
        three = self.text[i : i + 3]
        return three if three in _OPERATORS_3 else two

    def _heredoc_delimiter(self, i: int, strip_tabs: bool, found: list[Token]) -> int:
        while i < self.end and self.text[i] in " \t":
            i += 1
        if i >= self.end or self.text[i] in BREAKS:
            return i
        i = read_word(self.text, i, found)
        self.pending.append((found[-1].text, strip_tabs))
        return i

    def _skip_heredocs(self, i: int) -> int:
        text = self.text
        for delimiter, strip_tabs in self.pending:
            while i < self.end:
                newline = text.find("\n", i)
                stop = self.end if newline < 0 else newline
                line = text[i:stop].rstrip("\r")
                i = stop + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        self.pending.clear()
        return min(i, self.end)
