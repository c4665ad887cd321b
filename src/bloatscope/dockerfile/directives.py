"""Parser directives (``# syntax=``, ``# escape=``, ``# check=``) at the top of a Dockerfile, read
by BuildKit's current rules, and the text the Go parser is given so that it honours the same
escape character as BuildKit does today."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.substitution import go_lstrip

KNOWN = ("syntax", "escape", "check")
ESCAPES = ("\\", "`")
# Go's \s is [\t\n\f\r ]; the key must start with a letter
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")


@dataclass(frozen=True, slots=True)
class Directives:
    values: dict[str, str] = field(default_factory=dict)  # lower-case keys
    lines: dict[str, int] = field(default_factory=dict)  # where each was written, 1-based

    @property
    def escape(self) -> str:
        return self.values.get("escape", "\\")

    def text_for_go(self, lines: Sequence[str]) -> str:
        """The Dockerfile as the Go parser should read it. The bundled parser predates the
        ``check`` directive and stops looking for directives at one, so an ``escape`` after
        a ``check`` would be lost: the escape line goes first. Every directive line is a
        comment, so no instruction moves to another line."""
        where = self.lines.get("escape")
        if where is None or where == 1:
            return "\n".join(lines)
        header = [lines[where - 1], *(lines[: where - 1]), *lines[where : len(self.lines)]]
        return "\n".join([*header, *lines[len(self.lines) :]])


def read_directives(lines: Sequence[str], path: str) -> Directives:
    """The directives at the top: each a comment line ``# key=value`` with a known key, before
    any instruction, blank line or other comment. Keys are case-insensitive; a directive given
    twice or an escape other than ``\\`` and `````` is an error, as in BuildKit."""
    values: dict[str, str] = {}
    where: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        found = _directive(line)
        if found is None:
            break
        key, value = found
        if key in values:
            raise DockerfileError(
                f"line {number}: only one {key} parser directive can be used", path=path
            )
        if key == "escape" and value not in ESCAPES:
            raise DockerfileError(
                f"line {number}: invalid escape token '{value}' does not match ` or \\",
                path=path,
            )
        values[key], where[key] = value, number
    return Directives(values, where)


def _directive(line: str) -> tuple[str, str] | None:
    text = go_lstrip(line.rstrip("\r\n"))
    if not text.startswith("#"):
        return None
    found = _DIRECTIVE.fullmatch(go_lstrip(text[1:]))
    if found is None or found.group(1).lower() not in KNOWN:
        return None
    return found.group(1).lower(), found.group(2)
