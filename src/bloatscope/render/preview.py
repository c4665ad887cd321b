"""A file's first bytes as lines to show: text when they read as UTF-8 text, else a hex dump.

The bytes come from an image, so they are untrusted: in text, control characters and terminal
escape sequences are shown escaped (``\\x1b[2J``), never sent to a terminal (render.escape).
Free of any terminal library, so the TUI and scripts share it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bloatscope.render.escape import safe

DEFAULT_LIMIT = 256 << 10
HEX_WIDTH = 16
# Text may hold a few control characters (a form feed, colours in a log); past one in this
# many characters it is some binary format that happens to decode.
_CONTROL_RATIO = 20
_TEXT_CONTROLS = frozenset("\n\r\t\f")
_UTF8_LONGEST = 4


class PreviewKind(enum.StrEnum):
    TEXT = "text"
    HEX = "hex"


@dataclass(frozen=True, slots=True)
class Preview:
    """Lines ready to draw; ``shown_bytes`` of the data made them, and ``truncated`` says the
    file goes on past them."""

    kind: PreviewKind
    lines: tuple[str, ...]
    shown_bytes: int
    truncated: bool


def preview(
    data: bytes, *, limit: int = DEFAULT_LIMIT, truncated: bool = False, tab_size: int = 4
) -> Preview:
    """At most ``limit`` bytes of ``data`` as text lines or a hex dump. ``truncated``: the
    data is itself the start of a longer file (a cut multi-byte character at its end is then
    not taken for binary)."""
    shown = data[:limit]
    cut = truncated or len(data) > limit
    text = decode_text(shown, cut=cut)
    if text is None:
        return Preview(PreviewKind.HEX, tuple(hex_dump(shown)), len(shown), cut)
    return Preview(PreviewKind.TEXT, tuple(text_lines(text, tab_size)), len(shown), cut)


def preview_lines(data: bytes, *, limit: int = DEFAULT_LIMIT, truncated: bool = False) -> list[str]:
    """Only the lines of ``preview``."""
    return list(preview(data, limit=limit, truncated=truncated).lines)


def decode_text(data: bytes, *, cut: bool = False) -> str | None:
    """``data`` as text, or None if it is binary: not UTF-8, a NUL byte, or control characters
    more often than now and then. ``cut``: the data may end inside a character."""
    if b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        ends_early = (
            exc.reason == "unexpected end of data" and exc.start > len(data) - _UTF8_LONGEST
        )
        if not (cut and ends_early):
            return None
        text = data[: exc.start].decode("utf-8")
    controls = sum(1 for c in text if _is_control(c))
    if controls * _CONTROL_RATIO > len(text):
        return None
    return text


def text_lines(text: str, tab_size: int = 4) -> list[str]:
    """One string per line, tabs expanded, a CRLF's CR dropped, everything else that is not
    printable shown escaped."""
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the newline that ends the last line starts no new one
    return [safe(line.removesuffix("\r").expandtabs(tab_size)) for line in lines]


def hex_dump(data: bytes, start: int = 0) -> list[str]:
    """``hexdump -C``'s layout: offset, 16 bytes in two groups of 8, printable ASCII."""
    lines = []
    for offset in range(0, len(data), HEX_WIDTH):
        row = data[offset : offset + HEX_WIDTH]
        left = " ".join(f"{b:02x}" for b in row[:8])
        right = " ".join(f"{b:02x}" for b in row[8:])
        ascii_column = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        lines.append(f"{start + offset:08x}  {left:<23}  {right:<23}  |{ascii_column}|")
    return lines


def _is_control(char: str) -> bool:
    code = ord(char)
    is_c0_or_c1 = code < 0x20 or 0x7F <= code < 0xA0
    return is_c0_or_c1 and char not in _TEXT_CONTROLS
