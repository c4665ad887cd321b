"""Variable substitution and quote removal in Dockerfile words, as BuildKit's shell lexer does
them: ``$VAR``, ``${VAR}``, ``${VAR:-w}``, ``${VAR-w}``, ``${VAR:+w}``, ``${VAR+w}``,
``${VAR:?w}``, ``${VAR#p}``, ``${VAR##p}``, ``${VAR%p}``, ``${VAR%%p}``, ``${VAR/p/r}`` and
``${VAR//p/r}`` (see parse_braces); quotes, and the escape character (``\\`` or the one
``# escape=`` sets)."""

from __future__ import annotations

import functools
import re
from collections.abc import Container, Mapping

from bloatscope.dockerfile.parse_braces import MAX_SUBSTITUTED, SubstitutionError, braced

__all__ = ["SubstitutionError", "expand", "expand_words", "go_isspace", "go_lstrip", "raw_words"]

# what Go's unicode.IsSpace calls whitespace: str.isspace without \x1c-\x1f
_GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_GO_SPACES += "\u2028\u2029\u202f\u205f\u3000"
_GO_SPACE = re.compile(f"[{re.escape(_GO_SPACES)}]")
_SPECIAL_PARAMETERS = frozenset("@*#?-$!0")


def go_isspace(char: str) -> bool:
    return char != "" and char in _GO_SPACES


def go_lstrip(text: str) -> str:
    """The text without the leading whitespace Go's unicode.IsSpace sees."""
    return text.lstrip(_GO_SPACES)


def expand(
    word: str, env: Mapping[str, str], *, escape: str = "\\", unknown: Container[str] = ()
) -> str:
    """The word after substitution and quote removal, spaces kept (BuildKit's ProcessWord).
    A name in ``unknown`` that ``env`` lacks is left as written (``$TARGETARCH`` when the
    platform is not known); any other unset name is empty, as BuildKit makes it."""
    return _Lexer(word, env, escape, unknown).word()


def expand_words(
    word: str, env: Mapping[str, str], *, escape: str = "\\", unknown: Container[str] = ()
) -> list[str]:
    """The word after substitution, split at unquoted whitespace (BuildKit's ProcessWords)."""
    return _Lexer(word, env, escape, unknown, split=True).words()


def raw_words(line: str, *, keep_quotes: bool, keep_escapes: bool) -> list[str]:
    """The line split as BuildKit splits it when looking for heredoc words: nothing expanded
    (every ``$`` reference stays as written), quotes and escapes kept or removed as asked."""
    lexer = _Lexer(line, {}, "\\", _Everything(), split=True)
    lexer.keep_quotes, lexer.keep_escapes = keep_quotes, keep_escapes
    return lexer.words()


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


class _Words:
    """The whitespace-split words, built alongside the lexer's result."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.current: list[str] = []
        self.started = False

    def add(self, text: str, *, split: bool) -> None:
        """Unquoted text is split at whitespace; quoted text, escaped characters are not."""
        pieces = _GO_SPACE.split(text) if split else [text]
        for index, piece in enumerate(pieces):
            if index and self.started and any(self.current):
                self.done.append("".join(self.current))
                self.current, self.started = [], False
            if piece or not split:
                self.current.append(piece)
                self.started = True

    def finish(self) -> list[str]:
        if any(self.current):
            self.done.append("".join(self.current))
            self.current = []
        return self.done


@functools.cache
def _specials(escape: str, stop: str | None) -> re.Pattern[str]:
    return re.compile("[" + re.escape("$'\"" + escape + (stop or "")) + "]")


class _Lexer:
    """One pass over a word, the way BuildKit's shellWord walks it."""

    def __init__(
        self,
        text: str,
        env: Mapping[str, str],
        escape: str,
        unknown: Container[str],
        *,
        split: bool = False,
    ) -> None:
        self.text, self.env, self.escape, self.unknown = text, env, escape, unknown
        self.position = 0
        self.substituted = 0
        self.keep_quotes = False
        self.keep_escapes = False
        self.words_of: list[_Words] = [_Words()] if split else []

    def word(self) -> str:
        return self._scan(None)

    def words(self) -> list[str]:
        self._scan(None)
        return self.words_of[0].finish()

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def next(self) -> str:
        char = self.peek()
        self.position += len(char)
        return char

    def run(self, stop: str, keep_escapes: bool) -> str:
        """Up to ``stop`` (consumed). Quotes met on the way see ``keep_escapes`` too, as
        BuildKit's do; words inside ``${...}`` are not the word's words."""
        outer, self.keep_escapes = self.keep_escapes, keep_escapes
        self.words_of, outer_words = [], self.words_of
        try:
            return self._scan(stop)
        finally:
            self.keep_escapes, self.words_of = outer, outer_words

    def _add(self, text: str, *, split: bool) -> None:
        for words in self.words_of:
            words.add(text, split=split)

    def _scan(self, stop: str | None) -> str:
        result: list[str] = []
        specials = _specials(self.escape, stop)
        while True:
            found = specials.search(self.text, self.position)
            end = found.start() if found else len(self.text)
            if end > self.position:
                result.append(self.text[self.position : end])
                self._add(result[-1], split=True)
                self.position = end
            if found is None:
                break
            char = self.next()
            if char == stop:
                return "".join(result)
            if char in "$'\"":
                self.position -= 1
                piece = {"$": self._dollar, "'": self._single, '"': self._double}[char]()
                result.append(piece)
                self._add(piece, split=char == "$")
                continue
            if self.keep_escapes:  # the escape character
                result.append(char)
                self._add(char, split=False)
            if (char := self.next()) == "":
                break
            result.append(char)
            self._add(char, split=False)
        if stop is not None:
            raise SubstitutionError(
                f"unexpected end of statement while looking for matching {stop}"
            )
        return "".join(result)

    def _single(self) -> str:
        """Everything up to the next ``'`` as written; nothing escapes inside."""
        start = self.position
        end = self.text.find("'", start + 1)
        if end < 0:
            raise SubstitutionError(
                "unexpected end of statement while looking for matching single-quote"
            )
        self.position = end + 1
        return self.text[start : end + 1] if self.keep_quotes else self.text[start + 1 : end]

    def _double(self) -> str:
        """Up to the next unescaped ``"``: ``$`` expands, the escape character escapes only
        ``"``, ``$`` and itself and is kept before anything else."""
        self.position += 1
        out = ['"'] if self.keep_quotes else []
        specials = _specials(self.escape, '"')
        while True:
            found = specials.search(self.text, self.position)
            if found is None:
                raise SubstitutionError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            out.append(self.text[self.position : found.start()])
            self.position = found.start()
            char = self.peek()
            if char == '"':
                self.position += 1
                out.extend('"' if self.keep_quotes else "")
                return "".join(out)
            if char == "$":
                out.append(self._dollar())
                continue
            self.position += 1
            if char == "'":
                out.append(char)
                continue
            if self.keep_escapes:  # the escape character
                out.append(char)
            following = self.peek()
            if following == "":
                continue  # the missing quote is reported on the next turn
            if following in ('"', "$", self.escape):
                char = self.next()
            out.append(char)

    def _name(self) -> str:
        """A variable name: letters, digits and ``_``; or a run of digits; or one special
        parameter character (``$?``, ``$@``, ...)."""
        start = self.position
        first = self.peek()
        if first.isdecimal():
            while self.peek().isdecimal() and self.peek() != "":
                self.position += 1
            return self.text[start : self.position]
        if first in _SPECIAL_PARAMETERS and first != "":
            self.position += 1
            return first
        while (char := self.peek()) != "" and (char.isalpha() or char.isdecimal() or char == "_"):
            self.position += 1
        return self.text[start : self.position]

    def lookup(self, name: str) -> str | None:
        value = self.env.get(name)
        if value:
            self.substituted += len(value)
            if self.substituted > MAX_SUBSTITUTED:
                raise SubstitutionError(
                    f"substitution makes a word of over {MAX_SUBSTITUTED} characters"
                )
        return value

    def _dollar(self) -> str:
        start = self.position
        self.position += 1
        if self.peek() != "{":
            name = self._name()
            if not name:
                return "$"
            value = self.lookup(name)
            if value is None and name in self.unknown:
                return self.text[start : self.position]
            return value or ""
        self.position += 1
        if self.peek() == "":
            raise SubstitutionError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise SubstitutionError("syntax error: bad substitution")
        return braced(self, start, self._name())
