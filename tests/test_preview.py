"""Previews of file content: text shown with every control character and escape sequence
escaped, anything else as a hex dump, both bounded."""

from __future__ import annotations

from pathlib import Path

from bloatscope.reader.file_content import LayerFiles
from bloatscope.render.escape import safe
from bloatscope.render.preview import (
    PreviewKind,
    decode_text,
    hex_dump,
    preview,
    preview_lines,
)
from synth import Image, Layer, write_oci_dir


def test_text_is_split_into_lines() -> None:
    shown = preview(b"first\r\nsecond\tcol\n\nlast")
    assert shown.kind is PreviewKind.TEXT
    assert shown.lines == ("first", "second  col", "", "last")
    assert (shown.shown_bytes, shown.truncated) == (23, False)
    assert preview(b"one\n").lines == ("one",)
    assert preview(b"").lines == ()
    assert preview("naïve ✓\n".encode()).lines == ("naïve ✓",)


def test_escape_sequences_in_text_are_shown_never_sent() -> None:
    log = b"".join(b"line %d \x1b[31mred\x1b[0m and more words to read\n" % i for i in range(20))
    # OSC title, clear screen, a C1 CSI (U+009B) and a right-to-left override (U+202E)
    hostile = log + b"\x1b]0;owned\x07\x1b[2J\xc2\x9b1m\xe2\x80\xae reversed\n"
    shown = preview(hostile)
    assert shown.kind is PreviewKind.TEXT
    assert shown.lines[0] == "line 0 \\x1b[31mred\\x1b[0m and more words to read"
    assert shown.lines[-1] == "\\x1b]0;owned\\x07\\x1b[2J\\x9b1m\\u202e reversed"
    for line in shown.lines:
        assert line.isprintable()


def test_binary_is_a_hex_dump() -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x03\x00>\x00"
    shown = preview(elf)
    assert shown.kind is PreviewKind.HEX
    assert shown.lines == (
        "00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF............|",
        "00000010  03 00 3e 00                                       |..>.|",
    )
    assert hex_dump(b"A" * 17, start=0x100)[1] == ("00000110  41" + " " * 46 + "  |A|")


def test_what_counts_as_text() -> None:
    assert decode_text(b"plain") == "plain"
    assert decode_text(b"nul \x00 inside") is None
    assert decode_text(b"\xff\xfe not utf-8") is None
    assert decode_text(b"\x01\x02\x03\x04 mostly control") is None  # 4 in 20: too many
    assert decode_text(b"a few \x1b[1m escapes in a long enough line of text") is not None
    cut = "é".encode() * 10
    assert decode_text(cut[:-1]) is None  # ends inside a character: not text...
    assert decode_text(cut[:-1], cut=True) == "é" * 9  # ...unless the file goes on


def test_the_preview_is_bounded_by_its_limit() -> None:
    shown = preview(b"x" * 100 + b"\n" + b"y" * 100, limit=50)
    assert shown.lines == ("x" * 50,)
    assert (shown.shown_bytes, shown.truncated) == (50, True)
    binary = preview(bytes(range(256)) * 4, limit=64)
    assert binary.kind is PreviewKind.HEX
    assert len(binary.lines) == 4
    assert preview("é".encode() * 10, limit=5).lines == ("éé",)
    assert preview_lines(b"a\nb", truncated=True) == ["a", "b"]
    assert preview(b"a", truncated=True).truncated


def test_a_file_named_with_escapes_reads_and_shows_safely(tmp_path: Path) -> None:
    name = "evil\x1b[2J\x1b]8;;x\x07name"
    layer = Layer().file(name, b"\x1b[31mred\x1b[0m text that is long enough to be text\n")
    reference = str(write_oci_dir(tmp_path / "l", [Image([layer.build()])]))
    with LayerFiles.open(reference) as files:
        content = files.read(0, name, 1000)
    assert content.path == name
    assert safe(content.path) == "evil\\x1b[2J\\x1b]8;;x\\x07name"
    assert preview_lines(content.data) == [
        "\\x1b[31mred\\x1b[0m text that is long enough to be text"
    ]
