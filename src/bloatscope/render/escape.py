"""Showing untrusted text from images (paths, commands, package names) on a terminal."""

from __future__ import annotations


def safe(text: str) -> str:
    """Image paths are untrusted: control characters and escape sequences are shown escaped,
    never sent to the terminal."""
    raw = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if raw.isprintable():
        return raw
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw)


def one_line(command: str, width: int | None) -> str:
    flat = " ".join(safe(command).split())
    if width is not None and len(flat) > width:
        return flat[: width - 1] + "…"
    return flat
