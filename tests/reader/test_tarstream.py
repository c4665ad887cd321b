"""TarWalker: ustar, PAX and GNU headers, offsets, end of archive, and hostile headers."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from bloatscope.errors import BloatscopeError
from bloatscope.reader.tarfields import TarFormatError, parse_number
from bloatscope.reader.tarstream import (
    BLOCK,
    FileWindow,
    PayloadSink,
    RawMember,
    StreamSource,
    TarWalker,
)
from synth import LONG_NAME, LONG_TARGET, RAW_NAME, Layer, deadline


def walk_stream(data: bytes, label: str = "t.tar") -> tuple[list[RawMember], TarWalker]:
    walker = TarWalker(StreamSource(io.BytesIO(data)), label)
    with deadline(10):
        return list(walker.members()), walker


def walk_file(data: bytes, tmp_path: Path) -> tuple[list[RawMember], TarWalker]:
    path = tmp_path / "layer.tar"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        walker = TarWalker(FileWindow(fd, 0, len(data)), "t.tar")
        with deadline(10):
            return list(walker.members()), walker
    finally:
        os.close(fd)


def names(members: list[RawMember]) -> list[bytes]:
    return [m[0] for m in members]


def header(name: bytes, *, size: int = 0, typeflag: bytes = b"0") -> bytes:
    """A hand-made ustar header block, for fields tarfile will not write."""
    info = tarfile.TarInfo("placeholder")
    info.size = size
    info.type = typeflag
    block = bytearray(info.tobuf(tarfile.USTAR_FORMAT))
    block[0:100] = name.ljust(100, b"\0")
    return fix_checksum(bytes(block))


def fix_checksum(block: bytes) -> bytes:
    raw = bytearray(block)
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(raw)
    return bytes(raw)


def test_regular_file_fields_and_payload_offset() -> None:
    data = Layer().file("etc/motd", b"hello", mode=0o640, uid=7, gid=9).build()
    members, _ = walk_stream(data)
    name, typeflag, size, mode, uid, gid, link, offset, payload = members[0]
    assert (name, typeflag, size, mode, uid, gid, link) == (b"etc/motd", 0x30, 5, 0o640, 7, 9, b"")
    assert payload == 5
    assert data[offset : offset + size] == b"hello"


def test_seekable_and_stream_sources_agree(tmp_path: Path) -> None:
    data = (
        Layer()
        .dir("d")
        .file("d/a", b"x" * 1000)
        .symlink("d/s", "a")
        .hardlink("d/h", "d/a")
        .file(LONG_NAME, b"long")
        .build()
    )
    streamed, stream_walker = walk_stream(data)
    seeked, file_walker = walk_file(data, tmp_path)
    assert streamed == seeked
    assert stream_walker.total_bytes == file_walker.total_bytes == len(data)


def test_typeflags_of_each_kind() -> None:
    data = (
        Layer()
        .dir("d")
        .file("d/f")
        .symlink("d/s", "f")
        .hardlink("d/h", "d/f")
        .device("d/c")
        .device("d/b", char=False)
        .fifo("d/p")
        .build()
    )
    members, _ = walk_stream(data)
    assert [(m[0], m[1]) for m in members] == [
        (b"d/", 0x35),
        (b"d/f", 0x30),
        (b"d/s", 0x32),
        (b"d/h", 0x31),
        (b"d/c", 0x33),
        (b"d/b", 0x34),
        (b"d/p", 0x36),
    ]
    assert [m[6] for m in members if m[6]] == [b"f", b"d/f"]


def test_device_files_have_no_payload() -> None:
    data = Layer().device("dev/null", major=1, minor=3).file("after", b"x").build()
    members, _ = walk_stream(data)
    assert members[0][1:3] == (0x33, 0)
    assert members[1][0] == b"after"


def test_ustar_prefix_field_is_joined_to_the_name() -> None:
    name = "p" * 80 + "/" + "n" * 90  # 171 bytes: only fits as prefix + name
    data = Layer(tarfile.USTAR_FORMAT).file(name, b"1").build()
    assert name.encode() not in data  # really split across the two fields
    members, _ = walk_stream(data)
    assert names(members) == [name.encode()]


def test_pax_long_name_and_long_link_target() -> None:
    data = Layer().file(LONG_NAME, b"z").symlink("link", LONG_TARGET).build()
    members, _ = walk_stream(data)
    assert names(members) == [LONG_NAME.encode(), b"link"]
    assert members[1][6] == LONG_TARGET.encode()


def test_gnu_long_name_and_long_link_target() -> None:
    data = (
        Layer(tarfile.GNU_FORMAT)
        .file(LONG_NAME, b"z")
        .symlink("link", LONG_TARGET)
        .hardlink("hard", LONG_NAME)
        .build()
    )
    assert b"././@LongLink" in data
    members, _ = walk_stream(data)
    assert names(members) == [LONG_NAME.encode(), b"link", b"hard"]
    assert [m[6] for m in members] == [b"", LONG_TARGET.encode(), LONG_NAME.encode()]
    assert members[0][2] == 1  # the long-name record's size does not leak into the entry


def test_non_utf8_pax_name_keeps_raw_bytes_not_the_ustar_name() -> None:
    data = Layer().file(RAW_NAME, b"x").build()
    assert b"hdrcharset=BINARY" in data
    members, _ = walk_stream(data)
    assert names(members) == [RAW_NAME]


def test_pax_uid_and_gid_override_the_header() -> None:
    data = Layer().file("big-ids", b"abc", uid=3_000_000, gid=4_000_000).build()
    members, _ = walk_stream(data)
    assert members[0][4:6] == (3_000_000, 4_000_000)


def test_base256_numeric_fields() -> None:
    data = Layer(tarfile.GNU_FORMAT).file("ids", b"", uid=8**8 + 5).build()
    members, _ = walk_stream(data)
    assert members[0][4] == 8**8 + 5
    nine_gib = 9 << 30
    assert parse_number(b"\x80" + nine_gib.to_bytes(11, "big")) == nine_gib


def test_old_nul_typeflag_is_a_file_and_a_trailing_slash_a_dir() -> None:
    data = header(b"plain", typeflag=b"\0") + header(b"somedir/", typeflag=b"\0") + bytes(2 * BLOCK)
    members, _ = walk_stream(data)
    assert [(m[0], m[1]) for m in members] == [(b"plain", 0x30), (b"somedir/", 0x35)]


def test_global_pax_header_is_skipped() -> None:
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "global"}
    ) as tar:
        tar.addfile(tarfile.TarInfo("only"), io.BytesIO(b""))
    members, _ = walk_stream(buf.getvalue())
    assert names(members) == [b"only"]


def test_empty_tar_has_no_members_and_counts_its_bytes() -> None:
    members, walker = walk_stream(bytes(1024))
    assert members == []
    assert walker.total_bytes == 1024


def test_padding_after_the_end_marker_is_drained() -> None:
    data = Layer().file("a", b"1").build()
    padded = data + bytes(BLOCK * 30)
    members, walker = walk_stream(padded)
    assert names(members) == [b"a"]
    assert walker.total_bytes == len(padded)


def test_missing_end_marker_is_accepted_like_go() -> None:
    data = Layer().file("a", b"1").file("b", b"2").build()
    members, _ = walk_stream(data[: 4 * BLOCK])  # two headers, two payload blocks, no zeros
    assert names(members) == [b"a", b"b"]


def test_payload_sink_receives_exact_bytes() -> None:
    payload = os.urandom(70_000)
    data = Layer().file("a", payload).file("b", b"tail").build()
    got: dict[bytes, bytearray] = {}

    def sink_for(member: RawMember) -> PayloadSink:
        return got.setdefault(member[0], bytearray()).extend

    list(TarWalker(StreamSource(io.BytesIO(data)), "t").members(sink_for))
    assert got == {b"a": bytearray(payload), b"b": bytearray(b"tail")}


def test_truncated_inside_a_payload_names_file_and_byte() -> None:
    data = Layer().file("big.bin", b"x" * 5000).build()
    with pytest.raises(TarFormatError) as caught:
        walk_stream(data[:3000], "layer 3 of x.tar")
    message = str(caught.value)
    assert "layer 3 of x.tar is truncated at byte" in message
    assert "big.bin" in message


def test_truncated_inside_a_header() -> None:
    data = Layer().file("a", b"1").file("b", b"2").build()
    with pytest.raises(TarFormatError, match=r"t\.tar is truncated at byte 1124 \(inside a header"):
        walk_stream(data[: 2 * BLOCK + 100])


def test_truncated_inside_a_pax_header() -> None:
    data = Layer().file(LONG_NAME, b"1").build()
    with pytest.raises(TarFormatError, match="inside an extended header"):
        walk_stream(data[: BLOCK + 10])


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "too short"),
        (b"hello world\n" * 100, "bad header checksum"),
        (os.urandom(4096), "bad header checksum"),
    ],
    ids=["empty", "text", "random"],
)
def test_not_a_tar(data: bytes, problem: str) -> None:
    with pytest.raises(TarFormatError, match=f"t.tar is not a tar archive \\({problem}\\)"):
        walk_stream(data)


def test_corrupt_later_header_names_its_offset() -> None:
    data = bytearray(Layer().file("a", b"1").file("b", b"2").build())
    data[2 * BLOCK : 3 * BLOCK] = b"\x5a" * BLOCK  # the second header is garbage, magic too
    with pytest.raises(TarFormatError, match="corrupt tar header at byte 1024"):
        walk_stream(bytes(data))


def test_bad_numeric_field() -> None:
    block = bytearray(header(b"x"))
    block[124:136] = b"99999999999\0"  # not octal
    with pytest.raises(TarFormatError, match="bad numeric field"):
        walk_stream(fix_checksum(bytes(block)) + bytes(2 * BLOCK))


def pax_member(
    records: bytes, name: bytes = b"file", payload: bytes = b"", header_size: int | None = None
) -> bytes:
    pax = header(b"PaxHeaders/file", size=len(records), typeflag=b"x")
    body = records + bytes(-len(records) % BLOCK)
    member = header(name, size=len(payload) if header_size is None else header_size)
    return pax + body + member + payload + bytes(-len(payload) % BLOCK)


def pax_record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length += 1
    return str(length).encode() + body


def test_hand_made_pax_records_are_read() -> None:
    data = pax_member(pax_record(b"path", b"from/pax") + pax_record(b"uid", b"12345678"))
    members, _ = walk_stream(data + bytes(2 * BLOCK))
    assert members[0][0] == b"from/pax"
    assert members[0][4] == 12345678


def test_pax_size_overrides_the_header_size() -> None:
    payload = b"p" * 700
    data = pax_member(pax_record(b"size", b"700"), payload=payload, header_size=0)
    members, _ = walk_stream(data + header(b"next") + bytes(2 * BLOCK))
    assert [(m[0], m[2]) for m in members] == [(b"file", 700), (b"next", 0)]
    assert data[members[0][7] : members[0][7] + 700] == payload


def test_malformed_pax_record_is_an_error() -> None:
    with pytest.raises(TarFormatError, match="malformed PAX header record"):
        walk_stream(pax_member(b"xx path=a\n") + bytes(2 * BLOCK))


def test_pax_record_length_past_the_end_is_an_error() -> None:
    with pytest.raises(TarFormatError, match="malformed PAX header record length"):
        walk_stream(pax_member(b"999 path=a\n") + bytes(2 * BLOCK))


def test_huge_extended_header_is_refused_before_reading() -> None:
    data = header(b"PaxHeaders/x", size=64 << 20, typeflag=b"x") + bytes(BLOCK)
    with pytest.raises(TarFormatError, match="too large"):
        walk_stream(data)


@pytest.mark.parametrize("size", [b"-1", b"-512", b"-1536", b"-4096"])
def test_negative_pax_size_is_an_error_not_a_loop(size: bytes) -> None:
    data = pax_member(pax_record(b"size", size)) + bytes(2 * BLOCK)
    with pytest.raises(TarFormatError, match="negative size"):
        walk_stream(data)


def test_negative_base256_size_is_an_error() -> None:
    block = bytearray(header(b"neg"))
    block[124:136] = b"\xff" * 12  # base-256 for -1
    with pytest.raises(TarFormatError, match="negative size"):
        walk_stream(fix_checksum(bytes(block)) + bytes(2 * BLOCK))


def test_huge_declared_size_in_a_short_stream_is_truncation() -> None:
    block = bytearray(header(b"huge"))
    block[124:136] = b"\x80" + (9 << 30).to_bytes(11, "big")
    with pytest.raises(TarFormatError, match="truncated"):
        walk_stream(fix_checksum(bytes(block)) + bytes(4 * BLOCK))


def test_errors_are_bloatscope_errors() -> None:
    assert issubclass(TarFormatError, BloatscopeError)
