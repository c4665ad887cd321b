"""How a tree line writes an entry's permissions: ``ls -l``'s ten characters."""

from __future__ import annotations

from bloatscope.model.entry import EntryType, FileEntry

_TYPE_LETTERS: dict[int, str] = {
    EntryType.DIR: "d",
    EntryType.SYMLINK: "l",
    EntryType.CHAR: "c",
    EntryType.BLOCK: "b",
    EntryType.FIFO: "p",
}
_IMPLICIT_DIRECTORY = "d---------"  # no layer has an entry for it: no permissions to show


def mode_string(entry: FileEntry | None) -> str:
    """``drwxr-xr-x``; setuid and setgid show as s (S without execute), sticky as t (T), as ls
    and dive write them. A hardlink shows as a regular file, as ls shows the file it names."""
    if entry is None:
        return _IMPLICIT_DIRECTORY
    mode = entry.mode
    kind = _TYPE_LETTERS.get(entry.typeflag, "-")
    return (
        kind
        + _triplet(mode >> 6, special=bool(mode & 0o4000), letter="s")
        + _triplet(mode >> 3, special=bool(mode & 0o2000), letter="s")
        + _triplet(mode, special=bool(mode & 0o1000), letter="t")
    )


def _triplet(bits: int, *, special: bool, letter: str) -> str:
    executable = bool(bits & 1)
    last = _EXECUTE[special, executable].replace("s", letter).replace("S", letter.upper())
    return ("r" if bits & 4 else "-") + ("w" if bits & 2 else "-") + last


# (special bit, execute bit) -> the third letter, "s" standing for the special letter
_EXECUTE = {(False, False): "-", (False, True): "x", (True, False): "S", (True, True): "s"}
