"""Splitting a RUN's shell script into simple commands: each word unquoted and at its offset in
the script, each RUN's commands placed back at their lines and columns in the Dockerfile.

What counts as a command: the simple commands between ``&&``, ``||``, ``;``, ``|``, ``&``,
newlines and parentheses, including those inside ``if``/``while``/``for``/``case`` bodies and
``{ ...; }`` groups. Leading ``NAME=value`` words become the command's ``assignments``; the
wrappers ``sudo``, ``env``, ``command``, ``exec``, ``xargs``, ``nohup``, ``time``, ``nice``,
``timeout``, ``stdbuf``, ``gosu`` and ``su-exec`` are looked through; ``sh -c "..."`` (any shell
with ``-c``), ``su -c "..."`` and ``eval`` are split in turn, their commands placed inside the
string. Comments, heredoc bodies and redirection targets are not words (output redirection
targets are kept as ``writes``).

Why not ``shlex``: with ``punctuation_chars`` it splits ``&&``, ``;`` and ``|``, but it keeps no
offsets (a rule must point at a column), treats a newline as a blank rather than the end of a
command, splits inside ``$(...)`` and backticks, takes ``#`` inside a word (``${A#b}``,
``http://x/#y``) for a comment, leaves ``\\``-newline in the word, and raises on an unbalanced
quote. This scanner reads each character once, so hostile input (unbalanced quotes, a megabyte
of text) ends with whatever could be split.

Not handled, by design: alias and function expansion, the commands inside ``$(...)`` and
backticks (kept verbatim in the word), ``for ((...))`` headers (their parts may come out as odd
commands that match nothing), and variable values (``$PKGS`` stays ``$PKGS``).
"""

from __future__ import annotations

import bisect
import functools
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from bloatscope.model.dockerfile import Dockerfile, Instruction

MAX_DEPTH = 8  # sh -c "sh -c '...'" nesting followed before a string is left as a word

_BLANKS = " \t\r"
_BREAKS = frozenset(" \t\r\n;&|()<>")
_PLAIN = re.compile(r"[^ \t\r\n;&|()<>\\'\"$`]+")
_IN_DOUBLE = re.compile(r'[^"\\$`]+')
# Each three-character operator starts with a two-character one; any other of ;&|()<> stands
# alone.
_OPERATORS_2 = frozenset({"&&", "||", ";;", ";&", "|&", "&>", ">>", ">&", "<&", "<>", ">|", "<<"})
_OPERATORS_3 = frozenset({";;&", "&>>", "<<<", "<<-"})
_REDIRECTS = frozenset({"<", ">", ">>", ">|", "&>", "&>>", "<>", "<&", ">&", "<<", "<<-", "<<<"})
_WRITES = frozenset({">", ">>", ">|", "&>", "&>>"})
_FD_PREFIX = re.compile(r"\d+(?=[<>])")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # the value after quote removal; $VAR, $(...) and `...` kept as written
    offset: int  # where the word begins in the script that was split


@dataclass(frozen=True, slots=True)
class Command:
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


@dataclass(slots=True)
class _Token:
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


class _Lexer:
    """Words and operators, left to right; heredoc bodies and comments skipped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = len(text)
        self.pending: list[tuple[str, bool]] = []  # heredocs whose body starts at the newline

    def tokens(self) -> list[_Token]:
        text, end = self.text, self.end
        found: list[_Token] = []
        i = 0
        while i < end:
            char = text[i]
            if char in _BLANKS:
                i += 1
            elif char == "\n":
                found.append(_Token("\n", i))
                i = self._skip_heredocs(i + 1)
            elif char in "<>" and text.startswith("(", i + 1):  # <(cmd) is a word
                i = self._word(i, found)
            elif char in ";&|()<>":
                operator = self._operator(i)
                found.append(_Token(operator, i))
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
            elif (plain := _PLAIN.match(text, i)) and (
                plain.end() == end or text[plain.end()] in _BREAKS
            ):
                found.append(_Token(plain.group(), i, plain.group(), [(0, i)]))
                i = plain.end()
            else:
                i = self._word(i, found)
        return found

    def _operator(self, i: int) -> str:
        two = self.text[i : i + 2]
        if two not in _OPERATORS_2:
            return two[0]
        three = self.text[i : i + 3]
        return three if three in _OPERATORS_3 else two

    def _heredoc_delimiter(self, i: int, strip_tabs: bool, found: list[_Token]) -> int:
        while i < self.end and self.text[i] in " \t":
            i += 1
        if i >= self.end or self.text[i] in _BREAKS:
            return i
        i = self._word(i, found)
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

    def _word(self, start: int, found: list[_Token]) -> int:
        text, end = self.text, self.end
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
            if char in _BREAKS:
                break
            if (plain := _PLAIN.match(text, i)) is not None:
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
                i, length = self._double_quoted(i + 1, pieces, length, segments)
            elif char == "`" or text.startswith(("$(", "${"), i):
                stop = _expansion_end(text, i)
                pieces.append(text[i:stop])
                length, i = length + stop - i, stop
            else:  # a lone $
                pieces.append(char)
                length, i = length + 1, i + 1
        found.append(_Token("".join(pieces), start, text[start:i], segments))
        return i

    def _double_quoted(
        self, i: int, pieces: list[str], length: int, segments: list[tuple[int, int]]
    ) -> tuple[int, int]:
        """The inside of "...", from just past the opening quote; (just past the closing
        quote, the value's new length)."""
        text, end = self.text, self.end
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


_OPENERS = frozenset({"if", "then", "elif", "else", "do", "while", "until", "{", "!"})
_CLOSERS = frozenset({"fi", "done", "}"})
_RESERVED = _OPENERS | _CLOSERS
_HEADERS = frozenset({"for", "select", "function"})  # for NAME in WORDS: no command
_CASE_ENDS = frozenset({";;", ";&", ";;&"})
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})

# Wrappers that run the command after them: (options taking a value, positional words to skip)
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (
        frozenset(("-u", "-g", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "--user", "--group"))
        | frozenset(("--prompt", "--close-from", "--chdir", "--role", "--type", "--other-user")),
        0,
    ),
    "doas": (frozenset(("-u", "-C")), 0),
    "env": (frozenset(("-u", "-C", "-S", "--unset", "--chdir", "--split-string")), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "exec": (frozenset(("-a",)), 0),
    "nohup": (frozenset(), 0),
    "time": (frozenset(("-f", "-o", "--format", "--output")), 0),
    "nice": (frozenset(("-n", "--adjustment")), 0),
    "ionice": (frozenset(("-c", "-n", "-p", "-P", "-u", "--class", "--classdata")), 0),
    "timeout": (frozenset(("-s", "-k", "--signal", "--kill-after")), 1),
    "stdbuf": (frozenset(("-i", "-o", "-e", "--input", "--output", "--error")), 0),
    "xargs": (
        frozenset(("-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter"))
        | frozenset(("--max-args", "--max-procs", "--max-chars", "--max-lines")),
        0,
    ),
    "gosu": (frozenset(), 1),
    "su-exec": (frozenset(), 1),
    "tini": (frozenset(), 0),
    "dumb-init": (frozenset(), 0),
}


def split_commands(script: str) -> tuple[Command, ...]:
    """The simple commands of a shell script, in order, each word at its offset in it."""
    return tuple(command for command in _split(script, 0) if command.words)


def _split(script: str, depth: int) -> list[Command]:
    """Every command, those with only assignments or a heredoc (``<<EOF`` alone) too."""
    return _Parser(depth).commands(_Lexer(script).tokens())


class _Parser:
    """Groups tokens into simple commands; drops reserved words, ``case`` patterns and loop
    headers; hands each command to the resolver."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.case_depth = 0
        self.pattern_next = False  # the next words up to ")" are a case pattern
        self.found: list[Command] = []

    def commands(self, tokens: list[_Token]) -> list[Command]:
        words: list[_Token] = []
        writes: list[_Token] = []
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
        self, words: list[_Token], writes: list[_Token], heredocs: list[str], separator: str
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
            self.found.extend(_resolve(words[start:], writes, heredocs, self.depth))
        if separator in _CASE_ENDS:
            self.pattern_next = self.case_depth > 0


def _keyword(token: _Token) -> str:
    """The word, when it is written plainly (a quoted "if" is no reserved word)."""
    return token.text if token.raw == token.text else ""


def _resolve(
    tokens: Sequence[_Token], writes: list[_Token], heredocs: list[str], depth: int
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
        script = _inner_script(program, tokens, start)
        if script is not None:
            if depth >= MAX_DEPTH:
                break
            return _descend(script, env, depth)
        if program == "command" and {"-v", "-V"} & {t.text for t in tokens[start + 1 :]}:
            return []  # a lookup, not a run
        wrapper = _WRAPPERS.get(program)
        if wrapper is None:
            break
        start = _skip_options(tokens, start + 1, wrapper[0]) + wrapper[1]
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


def _skip_options(tokens: Sequence[_Token], i: int, with_value: frozenset[str]) -> int:
    while i < len(tokens):
        text = tokens[i].text
        if text == "--":
            return i + 1
        if not text.startswith("-") or text == "-":
            return i
        i += 2 if text in with_value else 1
    return i


def _inner_script(program: str, tokens: Sequence[_Token], start: int) -> list[_Token] | None:
    """The words that are a script run in turn: ``sh -c STRING``, ``su -c STRING``, ``eval``."""
    rest = tokens[start + 1 :]
    if program == "eval":
        return list(rest) or None
    if program in ("su", "runuser"):
        for index, token in enumerate(rest[:-1]):
            if token.text in ("-c", "--command"):
                return [rest[index + 1]]
        return None
    if program not in SHELLS:
        return None
    wants_string = False
    i = 0
    while i < len(rest):
        text = rest[i].text
        if text == "--":
            i += 1
            break
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
        elif len(text) > 1 and text[0] in "-+":
            wants_string |= text[0] == "-" and text[1] != "-" and "c" in text
            i += 1
        else:
            break
    return [rest[i]] if wants_string and i < len(rest) else None


def _descend(parts: list[_Token], env: list[tuple[str, str]], depth: int) -> list[Command]:
    """The commands of a script given as words, placed back at their offsets in ours."""
    script = " ".join(part.text for part in parts)
    segments: list[tuple[int, int]] = []
    base = 0
    for part in parts:
        segments.extend((index + base, source) for index, source in part.segments)
        base += len(part.text) + 1
    where = _Token(script, parts[0].offset, script, segments)

    def placed(words: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(Word(word.text, where.source_offset(word.offset)) for word in words)

    return [
        Command(
            placed(command.words),
            (*env, *command.assignments),
            placed(command.writes),
            command.heredocs,
        )
        for command in _split(script, depth + 1)
    ]


@dataclass(frozen=True, slots=True)
class RunScript:
    """A RUN's commands, and the way from a word's offset back to the Dockerfile: the RUN's
    logical line (continuations joined, comment lines dropped, as BuildKit hands it to the
    shell) and its heredoc scripts, laid end to end."""

    commands: tuple[Command, ...]
    starts: tuple[int, ...]  # offset where each source line's text begins, ascending
    places: tuple[tuple[int, int], ...]  # (line, column) of that text's first character

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), 1-based, of the character at ``offset``."""
        at = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        line, column = self.places[at]
        return line, column + max(offset - self.starts[at], 0)

    def where(self, command: Command) -> tuple[int, int]:
        return self.position(command.offset)


def run_script(dockerfile: Dockerfile, instruction: Instruction) -> RunScript:
    """The commands a RUN runs, placed in ``dockerfile.text``. Heredoc bodies count when the
    shell runs them (``RUN <<EOF``, ``RUN bash <<EOF``), not when they are a command's input
    (``RUN cat <<EOF > file``) or name another interpreter (``#!/usr/bin/env python3``)."""
    escape = dockerfile.directives.get("escape", "\\")
    known = _scripts(dockerfile.text, escape)  # every rule asks for the same RUNs
    script = known.get(instruction)
    if script is None:
        script = known[instruction] = _run_script(dockerfile.text, escape, instruction)
    return script


@functools.lru_cache(maxsize=2)
def _scripts(text: str, escape: str) -> dict[Instruction, RunScript]:
    """The RUNs of one Dockerfile split so far; only the latest Dockerfiles are kept."""
    del text, escape  # the cache's key
    return {}


def _run_script(text: str, escape: str, instruction: Instruction) -> RunScript:
    here = ((instruction.line, instruction.column),)
    if instruction.exec_form:
        tokens = [_Token(arg, 0, arg or "''", [(0, 0)]) for arg in instruction.arguments]
        found = _resolve(tokens, [], [], 0) if tokens else []
        # JSON words have no offsets of their own: every command is at the instruction
        at_keyword = [
            Command(tuple(Word(w.text, 0) for w in c.words), c.assignments, (), c.heredocs)
            for c in found
            if c.words
        ]
        return RunScript(tuple(at_keyword), (0,), here)
    lines = _lines(text)[instruction.line - 1 : instruction.end_line]
    if not lines:
        return RunScript(split_commands(instruction.script), (0,), here)
    logical, starts, places, body_line = _logical_line(lines, instruction.line, escape)
    begin = _after_flags(logical, len(instruction.flags))
    found = _shifted(_split(logical[begin:], 0), begin)
    owners = [command for command in found for _ in command.heredocs]
    commands = [command for command in found if command.words]
    offset = len(logical) + 1
    for index, heredoc in enumerate(instruction.heredocs):
        body: list[str] = []
        first = body_line
        while body_line < len(lines):
            text = lines[body_line].rstrip("\r")
            body_line += 1
            if (text.lstrip("\t") if heredoc.strip_tabs else text) == heredoc.name:
                break
            body.append(text)
        if _runs_as_script(owners[index] if index < len(owners) else None, body):
            for number, text in enumerate(body):
                starts.append(offset)
                places.append((instruction.line + first + number, 1))
                offset += len(text) + 1
            script = "\n".join(body)
            commands.extend(
                c for c in _shifted(_split(script, 0), offset - len(script) - 1) if c.words
            )
    return RunScript(tuple(commands), tuple(starts), tuple(places))


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> tuple[str, ...]:
    return tuple(text.split("\n"))


def _logical_line(
    lines: Sequence[str], first_line: int, escape: str
) -> tuple[str, list[int], list[tuple[int, int]], int]:
    """The instruction's text as BuildKit joins it: each line's escape-newline removed, blank
    and comment lines inside the continuation skipped. Returns the text, where each line's
    piece starts in it and at which (line, column), and the index of the next line."""
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    pieces: list[str] = []
    starts: list[int] = []
    places: list[tuple[int, int]] = []
    offset = 0
    index = 0
    while index < len(lines):
        text = lines[index].rstrip("\r")
        index += 1
        if index > 1 and (not text.strip() or text.lstrip().startswith("#")):
            continue
        more = continued.search(text)
        piece = text[: more.start()] if more else text
        starts.append(offset)
        places.append((first_line + index - 1, 1))
        pieces.append(piece)
        offset += len(piece)
        if more is None:
            break
    return "".join(pieces), starts, places, index


def _after_flags(logical: str, flags: int) -> int:
    """Where the command begins: past the keyword and the ``--flag`` words."""
    lexer = _Lexer(logical)
    found: list[_Token] = []
    i = 0
    for count in range(flags + 1):
        while i < len(logical) and logical[i] in _BLANKS:
            i += 1
        if i >= len(logical) or (count and not logical.startswith("--", i)):
            break
        i = lexer._word(i, found)  # the same word rules as the script's
    while i < len(logical) and logical[i] in _BLANKS:
        i += 1
    return i


def _shifted(commands: list[Command], by: int) -> list[Command]:
    def moved(words: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(Word(word.text, word.offset + by) for word in words)

    return [Command(moved(c.words), c.assignments, moved(c.writes), c.heredocs) for c in commands]


def _runs_as_script(owner: Command | None, body: list[str]) -> bool:
    """A heredoc is the script when it is all the RUN says, or the input of a shell that
    reads its script from stdin; a shebang naming something else (python) is not ours."""
    if owner is None:
        return False
    if owner.words:
        if owner.program not in SHELLS:
            return False
        if any(not arg.startswith(("-", "+")) for arg in owner.args):
            return False  # bash script.sh: the heredoc is that script's input
    if body and body[0].startswith("#!"):
        interpreter = [word.rsplit("/", 1)[-1] for word in body[0][2:].split()]
        if interpreter[:1] == ["env"]:
            interpreter = [word for word in interpreter[1:] if not word.startswith("-")]
        return bool(interpreter) and interpreter[0] in SHELLS
    return True
