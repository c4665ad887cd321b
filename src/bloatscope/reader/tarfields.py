"""Tar header fields: numbers (octal or base-256), the header checksum, PAX records."""

from __future__ import annotations

from bloatscope.errors import BloatscopeError


class TarFormatError(BloatscopeError):
    """The bytes are not a tar, or the tar ends early."""


class NotTarError(TarFormatError):
    """The very first header is not a tar header."""


def parse_number(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256, used for sizes over 8 GiB and large ids
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:
            value -= 1 << (8 * len(field) - 1)
        return value
    try:  # the common shape: octal digits, then NUL or space padding
        return int(field.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        pass
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarFormatError(f"bad numeric field {bytes(field)!r} in tar header") from None


def checksum_ok(block: bytes) -> bool:
    stored = block[148:156].split(b"\0", 1)[0].strip(b" ")
    try:
        expected = int(stored, 8)
    except ValueError:
        return False
    # the checksum is computed with its own field read as eight spaces
    return expected == sum(block) - sum(block[148:156]) + 8 * 0x20


def parse_pax(data: bytes) -> dict[bytes, bytes]:
    records: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError("malformed PAX header record") from None
        if length <= 0 or pos + length > len(data):
            raise TarFormatError("malformed PAX header record length")
        record = data[space + 1 : pos + length - 1]  # drop the trailing newline
        key, _, value = record.partition(b"=")
        records[key] = value
        pos += length
    return records


def pax_int(pax: dict[bytes, bytes], key: bytes, default: int) -> int:
    value = pax.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise TarFormatError(f"bad PAX {key.decode()} value {value!r}") from None
