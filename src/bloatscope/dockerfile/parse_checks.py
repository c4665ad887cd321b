"""The instruction-level mistakes BuildKit refuses before building anything (the Go parser lets
them through): an unknown instruction, a FROM with the wrong words, a COPY without destination,
and the like. Messages are BuildKit's."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bloatscope.dockerfile.parse_go import GoCommand

KEYWORDS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_STAGE_NAME = re.compile(r"[a-z][a-z0-9\-_.]*")
_AT_LEAST_ONE = frozenset({"ARG", "ENV", "LABEL", "EXPOSE", "VOLUME", "ONBUILD"})
_EXACTLY_ONE = frozenset({"WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"})
_HEREDOC_WORD = re.compile(r"[0-9]*<<-?[^<]+")


def problem(command: GoCommand, keyword: str, arguments: Sequence[str]) -> str | None:
    """What BuildKit would say is wrong with this instruction, or None."""
    if keyword not in KEYWORDS:
        return f"unknown instruction: {command.keyword}"
    if keyword in _AT_LEAST_ONE and not arguments:
        return f"{keyword} requires at least one argument"
    if keyword in _EXACTLY_ONE and len(arguments) != 1:
        return f"{keyword} requires exactly one argument"
    if keyword == "FROM":
        return _from_problem(arguments)
    if keyword in ("COPY", "ADD"):
        return _copy_problem(keyword, arguments)
    if keyword == "ARG" and any(word.startswith("=") for word in arguments):
        return "ARG names can not be blank"
    if keyword in ("ENV", "LABEL") and any(name == "" for name in arguments[::2]):
        return f"{keyword} names can not be blank"
    if keyword == "ONBUILD":
        return _trigger_problem(arguments[0])
    if keyword == "SHELL" and not command.exec_form:
        return "SHELL requires the arguments to be in JSON form"
    return None


def _from_problem(arguments: Sequence[str]) -> str | None:
    if len(arguments) == 3 and arguments[1].lower() == "as":
        if not _STAGE_NAME.fullmatch(arguments[2].lower()):
            return (
                f'invalid name for build stage: "{arguments[2]}", '
                "name can't start with a number or contain symbols"
            )
        return None
    if len(arguments) != 1:
        return "FROM requires either one or three arguments"
    return None


def _copy_problem(keyword: str, arguments: Sequence[str]) -> str | None:
    if len(arguments) < 2:
        return (
            f"{keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    if _HEREDOC_WORD.fullmatch(arguments[-1]):
        return f"{keyword} cannot accept a heredoc as a destination"
    return None


def _trigger_problem(trigger: str) -> str | None:
    if trigger == "ONBUILD":
        return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    if trigger in ("FROM", "MAINTAINER"):
        return f"{trigger} isn't allowed as an ONBUILD trigger"
    return None
