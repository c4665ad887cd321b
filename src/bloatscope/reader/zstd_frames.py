"""Where a zstd stream's frames end, tracked from their headers (RFC 8878), so a stream cut
short is told from one that ended: a plain decoder simply stops at a frame boundary."""

from __future__ import annotations

from typing import Protocol

ZSTD_SKIPPABLE_LOW, ZSTD_SKIPPABLE_HIGH = 0x184D2A50, 0x184D2A5F


class _Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


# What ZstdFrames expects next, and how many header bytes that takes.
_MAGIC, _SKIPPABLE_SIZE, _DESCRIPTOR, _BLOCK = range(4)
_HEADER_SIZES = (4, 4, 1, 3)


class ZstdFrames:
    """Passes raw bytes to the decoder while following zstd frame and block headers: the
    decoder just stops when its input ends, even mid-frame, so only this tells a stream cut
    short from a whole one."""

    def __init__(self, window: _Readable) -> None:
        self._window = window
        self._state = _MAGIC
        self._head = b""  # header bytes of the current state, as far as they have arrived
        self._skip = 0  # frame bytes to pass over before the next header
        self._checksum = False

    @property
    def complete(self) -> bool:
        return self._state == _MAGIC and not self._head and not self._skip

    def read(self, size: int = -1) -> bytes:
        data = self._window.read(size)
        pos, end = 0, len(data)
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                continue
            want = _HEADER_SIZES[self._state] - len(self._head)
            self._head += data[pos : pos + want]
            pos += want
            if len(self._head) == _HEADER_SIZES[self._state]:
                head, self._head = self._head, b""
                self._advance(int.from_bytes(head, "little"))
        return data

    def _advance(self, value: int) -> None:
        if self._state == _MAGIC:
            skippable = ZSTD_SKIPPABLE_LOW <= value <= ZSTD_SKIPPABLE_HIGH
            self._state = _SKIPPABLE_SIZE if skippable else _DESCRIPTOR
        elif self._state == _SKIPPABLE_SIZE:
            self._skip, self._state = value, _MAGIC
        elif self._state == _DESCRIPTOR:  # RFC 8878 3.1.1.1: which optional fields follow
            single_segment = value >> 5 & 1
            self._checksum = bool(value >> 2 & 1)
            content_size = (single_segment, 2, 4, 8)[value >> 6]
            self._skip = (1 - single_segment) + (0, 1, 2, 4)[value & 3] + content_size
            self._state = _BLOCK
        else:  # a block header: last-block bit, 2-bit type (1 = RLE, one byte), 21-bit size
            self._skip = 1 if value >> 1 & 3 == 1 else value >> 3
            if value & 1:
                self._skip += 4 if self._checksum else 0
                self._state = _MAGIC
