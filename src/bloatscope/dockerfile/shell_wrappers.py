"""The programs that run another command: wrappers, shells, ``su`` and ``eval``.

A wrapper (``sudo``, ``env``, ``xargs`` ...) has its options skipped to reach the command it
runs; a shell's ``-c`` string, ``su -c``'s and ``eval``'s words are a script split in turn."""

from __future__ import annotations

from collections.abc import Sequence

from bloatscope.dockerfile.shell_word import Token

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})

# Wrappers that run the command after them: (options taking a value, positional words to skip)
WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
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


def skip_options(tokens: Sequence[Token], i: int, with_value: frozenset[str]) -> int:
    """Where the wrapped command starts: past the options from ``i`` and their values."""
    while i < len(tokens):
        text = tokens[i].text
        if text == "--":
            return i + 1
        if not text.startswith("-") or text == "-":
            return i
        i += 2 if text in with_value else 1
    return i


def inner_script(program: str, tokens: Sequence[Token], start: int) -> list[Token] | None:
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
