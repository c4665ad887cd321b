"""Reading a Dockerfile's text safely: a regular file of at most 1 MiB, UTF-8, no NUL bytes, no
lone surrogates (the Go parser crashes the process on those), each refusal one clear line."""

from __future__ import annotations

import os
import stat

from bloatscope.dockerfile.base import DockerfileError

MAX_BYTES = 1 << 20  # a Dockerfile this big is generated junk, not a build recipe


def read_text(path: str) -> str:
    """The file's text, refused before more than 1 MiB of it is read."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DockerfileError("no such file", path=path) from None
    except NotADirectoryError:
        raise DockerfileError("no such file (a parent is not a directory)", path=path) from None
    except OSError as error:
        raise DockerfileError(f"cannot read it: {_reason(error)}", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise DockerfileError("is a directory, not a Dockerfile", path=path)
    if not stat.S_ISREG(info.st_mode):
        raise DockerfileError("is not a regular file", path=path)
    if info.st_size > MAX_BYTES:
        raise DockerfileError(_too_big(info.st_size), path=path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)  # it may have grown since the stat
    except OSError as error:
        raise DockerfileError(f"cannot read it: {_reason(error)}", path=path) from None
    if len(data) > MAX_BYTES:
        raise DockerfileError(_too_big(len(data), at_least=True), path=path)
    return decode(data, path)


def decode(data: bytes, path: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DockerfileError(
            f"not UTF-8 text: invalid byte 0x{data[error.start]:02x} at byte {error.start} "
            f"(line {line})",
            path=path,
        ) from None
    check_text(text, path)
    return text


def check_text(text: str, path: str) -> None:
    """Refuse text the parser must not see: over 1 MiB, with NUL bytes or lone surrogates."""
    if len(text) > MAX_BYTES:  # each character is at least a byte: no need to encode it
        raise DockerfileError(_too_big(len(text), at_least=True), path=path)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        raise DockerfileError(
            f"not valid Unicode text: character {error.start} (line {line}) is a lone "
            f"surrogate U+{ord(text[error.start]):04X}",
            path=path,
        ) from None
    if size > MAX_BYTES:
        raise DockerfileError(_too_big(size), path=path)
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise DockerfileError(f"line {line}: a NUL byte; this is not a text file", path=path)


def _too_big(size: int, *, at_least: bool = False) -> str:
    amount = f"over {MAX_BYTES} bytes" if at_least else f"{size} bytes"
    return f"is {amount}; a Dockerfile is at most 1 MiB (this is not one)"


def _reason(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()
