"""The glob patterns of ``${var#pattern}``, ``${var%pattern}`` and ``${var/pattern/new}``, matched
the way BuildKit's shell lexer matches them (Go's RE2 semantics reproduced with ``re``)."""

from __future__ import annotations

import re

# characters that are literal in a shell pattern but special in a regular expression
_REGEX_SPECIAL = frozenset("[]{}.+()|^$")
_GO_EOF = "\ufffd"  # how Go prints the end of input as a character


class PatternError(ValueError):
    """A pattern BuildKit refuses (an escape of anything but ``*``, ``?`` or ``\\``)."""


class PatternTooLong(PatternError):
    """A replacement that would make an unreasonably long word."""


def _to_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """``?`` one character, ``*`` any run (shortest unless greedy); no bracket expressions."""
    out = ["^"] if anchored else []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            out.append(".*" if greedy else ".*?")
        elif char == "?":
            out.append(".")
        elif char == "\\":
            following = pattern[index] if index < len(pattern) else ""
            if following in ("}", "/"):
                continue  # escaped only so the ${...} around it holds; not part of the pattern
            if following not in ("*", "?", "\\"):
                shown = following or _GO_EOF
                raise PatternError(f"invalid escape '\\{shown}'")
            out.append(re.escape(following))
            index += 1
        else:
            out.append("\\" + char if char in _REGEX_SPECIAL else re.escape(char))
    return re.compile("".join(out))


def _reversed_pattern(pattern: str) -> str:
    """The pattern read backwards, each ``\\x`` escape kept in its order."""
    pieces: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern[index] == "\\" and index + 1 < len(pattern):
            pieces.append(pattern[index : index + 2])
            index += 2
        else:
            pieces.append(pattern[index])
            index += 1
    return "".join(reversed(pieces))


def trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    """``${value#pattern}`` (``##`` when greedy)."""
    found = _to_regex(pattern, greedy, anchored=True).search(value)
    return value[found.end() :] if found else value


def trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    """``${value%pattern}`` (``%%`` when greedy): the shortest (or longest) matching suffix goes.
    A regex finds the leftmost match, so pattern and value are both read backwards."""
    return trim_prefix(_reversed_pattern(pattern), value[::-1], greedy)[::-1]


def replace(
    pattern: str, replacement: str, value: str, everywhere: bool, limit: int = 1 << 20
) -> str:
    """``${value/pattern/replacement}``; ``//`` replaces every match, and then, as Go's
    ReplaceAllString does, ``$0`` in the replacement is the match and ``$name`` is empty.
    A result growing past ``limit`` characters is refused (PatternTooLong)."""
    regex = _to_regex(pattern, greedy=True, anchored=False)
    if not everywhere:
        found = regex.search(value)
        if found is None:
            return value
        return value[: found.start()] + replacement + value[found.end() :]
    pieces: list[str] = []
    position = size = 0
    previous_end = -1
    for found in regex.finditer(value):
        if found.start() == found.end() == previous_end:
            continue  # Go ignores an empty match right after the previous match
        pieces.append(value[position : found.start()])
        pieces.append(_go_template(replacement, found.group(0)))
        position = previous_end = found.end()
        size += len(pieces[-2]) + len(pieces[-1])
        if size > limit:
            raise PatternTooLong(f"the replacement makes a word of over {limit} characters")
    pieces.append(value[position:])
    return "".join(pieces)


_TEMPLATE_NAME = re.compile(r"\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+)")


def _go_template(template: str, matched: str) -> str:
    """Go's Regexp.Expand for a pattern without groups: ``$$`` is ``$``, ``$0``/``${0}`` the
    whole match, any other ``$name`` empty, a ``$`` without a name literal."""
    out: list[str] = []
    index = 0
    while (dollar := template.find("$", index)) >= 0:
        out.append(template[index:dollar])
        index = dollar + 1
        if template.startswith("$", index):
            out.append("$")
            index += 1
            continue
        name = _TEMPLATE_NAME.match(template, index)
        if name is None:
            out.append("$")
            continue
        index = name.end()
        if (name.group(1) or name.group(2)) == "0":  # Go refuses leading zeros: "00" is a name
            out.append(matched)
    out.append(template[index:])
    return "".join(out)
