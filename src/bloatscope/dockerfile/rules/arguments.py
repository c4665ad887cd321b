"""Reading a command's arguments: operands, subcommand, option values."""

from __future__ import annotations

from collections.abc import Iterable

from bloatscope.dockerfile.shell_commands import Command


def operands(args: Iterable[str]) -> list[str]:
    """The arguments that are not options (all of them after ``--``)."""
    found: list[str] = []
    options = True
    for arg in args:
        if options and arg == "--":
            options = False
        elif not (options and arg.startswith("-") and arg != "-"):
            found.append(arg)
    return found


def action(args: tuple[str, ...], value_options: frozenset[str]) -> tuple[int, str] | None:
    """The subcommand: the first argument that is not an option or an option's value, and
    its index in ``args``."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            return index, arg
        index += 2 if arg in value_options else 1
    return (index, args[index]) if index < len(args) else None


def option_value(args: tuple[str, ...], *names: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` (the last one wins)."""
    found: str | None = None
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                found = args[index + 1]
            elif arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
    return found


def subcommand(
    command: Command, programs: Iterable[str], value_options: frozenset[str]
) -> tuple[str, tuple[str, ...]] | None:
    """(subcommand, the arguments after it) of one of the programs; None for others."""
    if command.program not in programs:
        return None
    found = action(command.args, value_options)
    return (found[1], command.args[found[0] + 1 :]) if found else None


def short_values(args: tuple[str, ...], letter: str) -> list[str]:
    """Values of a one-letter option, also inside a cluster: ``-fsSLo FILE``, ``-qO-``."""
    found = []
    for index, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and letter in arg[1:]:
            rest = arg[arg.index(letter, 1) + 1 :]
            if rest:
                found.append(rest)
            elif index + 1 < len(args):
                found.append(args[index + 1])
    return found


def without_values(args: tuple[str, ...], value_options: frozenset[str]) -> list[str]:
    """The arguments with each valued option's value taken out."""
    kept = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in value_options:
            skip = True
        else:
            kept.append(arg)
    return kept
