"""Splitting a shell script into simple commands, each word unquoted and at its offset.

What counts as a command: the simple commands between ``&&``, ``||``, ``;``, ``|``, ``&``,
newlines and parentheses, including those inside ``if``/``while``/``for``/``case`` bodies and
``{ ...; }`` groups. Leading ``NAME=value`` words become the command's ``assignments``; the
wrappers ``sudo``, ``env``, ``command``, ``exec``, ``xargs``, ``nohup``, ``time``, ``nice``,
``timeout``, ``stdbuf``, ``gosu`` and ``su-exec`` are looked through; ``sh -c "..."`` (any shell
with ``-c``), ``su -c "..."`` and ``eval`` are split in turn, their commands placed inside the
string. Comments, heredoc bodies and redirection targets are not words (output redirection
targets are kept as ``writes``).

Not handled, by design: alias and function expansion, the commands inside ``$(...)`` and
backticks (kept verbatim in the word), ``for ((...))`` headers (their parts may come out as odd
commands that match nothing), and variable values (``$PKGS`` stays ``$PKGS``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from bloatscope.dockerfile.shell_lexer import Lexer
from bloatscope.dockerfile.shell_word import Token
from bloatscope.dockerfile.shell_wrappers import WRAPPERS, inner_script, skip_options

MAX_DEPTH = 8  # sh -c "sh -c '...'" nesting followed before a string is left as a word

_REDIRECTS = frozenset({"<", ">", ">>", ">|", "&>", "&>>", "<>", "<&", ">&", "<<", "<<-", "<<<"})
_WRITES = frozenset({">", ">>", ">|", "&>", "&>>"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")

_OPENERS = frozenset({"if", "then", "elif", "else", "do", "while", "until", "{", "!"})
_CLOSERS = frozenset({"fi", "done", "}"})
_RESERVED = _OPENERS | _CLOSERS
_HEADERS = frozenset({"for", "select", "function"})  # for NAME in WORDS: no command
_CASE_ENDS = frozenset({";;", ";&", ";;&"})


class Word(NamedTuple):
    text: str  # the value after quote removal; $VAR, $(...) and `...` kept as written
    offset: int  # where the word begins in the script that was split


class Command(NamedTuple):
    """One simple command, wrappers and ``NAME=value`` prefixes taken off."""

    words: tuple[Word, ...]  # the program first
    assignments: tuple[tuple[str, str], ...] = ()
    writes: tuple[Word, ...] = ()  # targets of >, >>, &> ...
    heredocs: tuple[str, ...] = ()  # delimiters of its << redirections, in order

    @property
    def name(self) -> str:
        return self.words[0].text if self.words else ""

    @property
    def program(self) -> str:
        """The name without its directory: ``pip`` for ``/opt/venv/bin/pip``."""
        return self.name.rsplit("/", 1)[-1]

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(word.text for word in self.words[1:])

    @property
    def offset(self) -> int:
        return self.words[0].offset if self.words else 0


def split_commands(script: str) -> tuple[Command, ...]:
    """The simple commands of a shell script, in order, each word at its offset in it."""
    return tuple(command for command in split_script(script, 0) if command.words)


def split_script(script: str, depth: int) -> list[Command]:
    """Every command, those with only assignments or a heredoc (``<<EOF`` alone) too."""
    return _Parser(depth).commands(Lexer(script).tokens())


class _Parser:
    """Groups tokens into simple commands; drops reserved words, ``case`` patterns and loop
    headers; hands each command to the resolver."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.case_depth = 0
        self.pattern_next = False  # the next words up to ")" are a case pattern
        self.found: list[Command] = []

    def commands(self, tokens: list[Token]) -> list[Command]:
        words: list[Token] = []
        writes: list[Token] = []
        heredocs: list[str] = []
        redirect: str | None = None
        for index, token in enumerate(tokens):
            if token.is_word:
                if redirect is None:
                    words.append(token)
                elif redirect in _WRITES:
                    writes.append(token)
                elif redirect in ("<<", "<<-"):
                    heredocs.append(token.text)
                redirect = None
            elif token.text in _REDIRECTS:
                redirect = token.text
            else:
                redirect = None
                following = tokens[index + 1].text if index + 1 < len(tokens) else ""
                if not (token.text == "(" and len(words) == 1 and following == ")"):
                    self._finish(words, writes, heredocs, token.text)  # name() is a function
                words, writes, heredocs = [], [], []
        self._finish(words, writes, heredocs, "")
        return self.found

    def _finish(
        self, words: list[Token], writes: list[Token], heredocs: list[str], separator: str
    ) -> None:
        start = 0
        while start < len(words) and _keyword(words[start]) in _RESERVED:
            start += 1
        first = _keyword(words[start]) if start < len(words) else ""
        if first == "case":
            self.case_depth += 1
            self.pattern_next = separator != ")"  # "case $x in a)" ends with its pattern
        elif first == "esac":
            self.case_depth = max(0, self.case_depth - 1)
            self.pattern_next = False
        elif self.pattern_next and separator in (")", "|"):
            self.pattern_next = separator == "|"  # a|b) is one pattern
        elif first not in _HEADERS and (start < len(words) or writes or heredocs):
            self.found.extend(resolve_command(words[start:], writes, heredocs, self.depth))
        if separator in _CASE_ENDS:
            self.pattern_next = self.case_depth > 0


def _keyword(token: Token) -> str:
    """The word, when it is written plainly (a quoted "if" is no reserved word)."""
    return token.text if token.raw == token.text else ""


def resolve_command(
    tokens: Sequence[Token], writes: list[Token], heredocs: list[str], depth: int
) -> list[Command]:
    """Assignments and wrappers taken off the front; a shell's ``-c`` string split in turn."""
    env: list[tuple[str, str]] = []
    start = 0
    while True:
        while start < len(tokens) and _ASSIGNMENT.match(tokens[start].raw):
            name, _, value = tokens[start].text.partition("=")
            env.append((name.rstrip("+"), value))
            start += 1
        if start >= len(tokens):
            break
        program = tokens[start].text.rsplit("/", 1)[-1]
        script = inner_script(program, tokens, start)
        if script is not None:
            if depth >= MAX_DEPTH:
                break
            return _descend(script, env, depth)
        if program == "command" and {"-v", "-V"} & {t.text for t in tokens[start + 1 :]}:
            return []  # a lookup, not a run
        wrapper = WRAPPERS.get(program)
        if wrapper is None:
            break
        start = skip_options(tokens, start + 1, wrapper[0]) + wrapper[1]
        if start >= len(tokens):
            return []
    return [
        Command(
            tuple(Word(token.text, token.offset) for token in tokens[start:]),
            tuple(env),
            tuple(Word(token.text, token.offset) for token in writes),
            tuple(heredocs),
        )
    ]


def _descend(parts: list[Token], env: list[tuple[str, str]], depth: int) -> list[Command]:
    """The commands of a script given as words, placed back at their offsets in ours."""
    script = " ".join(part.text for part in parts)
    segments: list[tuple[int, int]] = []
    base = 0
    for part in parts:
        segments.extend((index + base, source) for index, source in part.segments)
        base += len(part.text) + 1
    where = Token(script, parts[0].offset, script, segments)

    def placed(words: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(Word(word.text, where.source_offset(word.offset)) for word in words)

    return [
        Command(
            placed(command.words),
            (*env, *command.assignments),
            placed(command.writes),
            command.heredocs,
        )
        for command in split_script(script, depth + 1)
    ]
