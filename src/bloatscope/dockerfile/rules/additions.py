"""What earlier instructions put into the image, as the RUN rules follow it.

The paths a COPY or ADD fills, the files a RUN's commands create (caches, downloads, clones,
copies), and an index of them that answers for a path in time that grows with its depth."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import NamedTuple

from bloatscope.dockerfile.rules.arguments import (
    operands,
    option_value,
    short_values,
    without_values,
)
from bloatscope.dockerfile.rules.package_managers import caches_filled
from bloatscope.dockerfile.rules.run_paths import GLOB, covers, literal_part
from bloatscope.dockerfile.rules.runs import Call, RunStep, Step, absolute, words_of

_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz|zst))$")


class Added(NamedTuple):
    """A path an earlier instruction put into the image."""

    path: str
    line: int
    how: str  # "COPY", "ADD", "RUN", or "cache" (a package manager's cache a RUN filled)
    directory: bool = True  # a directory's content, not one file


def added_by_copy(step: Step) -> list[Added]:
    """Where a COPY or ADD puts files: the destination for one source, ``dest/name`` for a
    file among several or copied into ``dest/``. A source that looks like a directory (``.``,
    ``src/``, no extension, a local archive ADD unpacks) fills the destination."""
    instruction = step.instruction
    words = words_of(instruction)
    if len(words) < 2:
        return []
    *sources, written = words
    destination = absolute(written, step.workdir)
    if destination == "/":
        return []  # COPY rootfs/ / says nothing about which paths it wrote
    found: dict[str, bool] = {}
    for source in sources:
        name = posixpath.basename(source.split("://", 1)[-1].rstrip("/"))
        is_file = not source.endswith("/") and not GLOB.search(name)
        is_file &= (
            "://" in source
            or source.startswith("<<")
            or ("." in name.strip(".") and not _ARCHIVE.search(name))
        )
        if len(sources) == 1 and not written.endswith("/"):
            found[destination] = not is_file
        elif is_file:
            found.setdefault(posixpath.join(destination, name), False)
        else:
            found[destination] = True
    return [Added(path, instruction.line, instruction.keyword, d) for path, d in found.items()]


class Additions:
    """What instructions added, found from a path in time that grows with its depth, not
    with how much was added: a Dockerfile of many COPYs and many rm's stays linear."""

    def __init__(self) -> None:
        self._items: list[Added] = []
        self._gone: set[int] = set()
        self._at: dict[str, list[int]] = {}
        self._within: dict[str, list[int]] = {}  # a directory: the items at or below it

    def add(self, item: Added) -> None:
        index = len(self._items)
        self._items.append(item)
        self._at.setdefault(item.path, []).append(index)
        for directory in _lineage(item.path):
            self._within.setdefault(directory, []).append(index)

    def near(self, target: str) -> Iterator[Added]:
        """What a change to ``target`` (maybe a glob) may reach: the items it lies inside,
        then those at or below where it starts (lazily: a caller may want only one)."""
        start = literal_part(target)
        seen: set[int] = set()
        for directory in _lineage(start):
            for index in self._at.get(directory, ()):
                if index not in self._gone:
                    seen.add(index)
                    yield self._items[index]
        for index in self._within.get(start, ()):
            if index not in self._gone and index not in seen:
                yield self._items[index]

    def remove(self, target: str) -> None:
        """Forget the items a deletion of ``target`` takes away whole."""
        start = literal_part(target)
        kept = []
        for index in self._within.get(start, ()):
            if index not in self._gone and covers(target, self._items[index].path):
                self._gone.add(index)
            elif index not in self._gone:
                kept.append(index)
        if start in self._within:
            self._within[start] = kept  # each gone item is passed over once a list

    def alive(self) -> list[Added]:
        return [item for index, item in enumerate(self._items) if index not in self._gone]


def _lineage(path: str) -> list[str]:
    """The path and each directory above it, up to /."""
    found = [path]
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        found.append(path)
    return found


_CLONE_VALUE_OPTIONS = frozenset(
    ("-b", "--branch", "-o", "--origin", "--depth", "--filter", "-c", "--config", "-j")
) | frozenset(("--reference", "--separate-git-dir", "--shallow-since", "-u", "--upload-pack"))


def created(run: RunStep, call: Call) -> list[tuple[str, str]]:
    """What a command writes that a later RUN might delete, with how ("cache" or "RUN"):
    caches, redirections, downloads, clones and copies (not mkdir or touch: no bytes)."""
    command, cwd = call.command, call.cwd
    made = [(path, "cache") for path in caches_filled(run, call)]
    paths = [word.text for word in command.writes if not word.text.startswith(("/dev/", "&"))]
    args = command.args
    if command.program in ("curl", "wget"):
        paths += _downloads(command.program, args, cwd)
    elif command.program == "git" and "clone" in args:
        rest = operands(without_values(args[args.index("clone") + 1 :], _CLONE_VALUE_OPTIONS))
        if rest:
            paths.append(rest[1] if len(rest) > 1 else _url_name(rest[0]).removesuffix(".git"))
    elif command.program in ("cp", "mv"):
        given = operands(without_values(args, frozenset(("-t", "--target-directory", "-S"))))
        if len(given) >= 2:
            *sources, target = given
            if len(sources) == 1 and not target.endswith("/"):
                paths.append(target)
            else:
                paths += [
                    posixpath.join(target, posixpath.basename(s.rstrip("/"))) for s in sources
                ]
    return made + [(absolute(path, cwd), "RUN") for path in paths if path and path != "-"]


def _downloads(program: str, args: tuple[str, ...], cwd: str) -> list[str]:
    """Files curl (-o, -O) or wget (-O, or the URL's name in -P or the directory) saves."""
    urls = [arg for arg in args if "://" in arg]
    if program == "curl":
        outputs = short_values(args, "o") + [v for v in [option_value(args, "--output")] if v]
        if any(a == "--remote-name" or (a[:1] == "-" and a[1:2] != "-" and "O" in a) for a in args):
            folder = option_value(args, "--output-dir") or cwd
            outputs += [posixpath.join(folder, _url_name(url)) for url in urls]
        return outputs
    document = option_value(args, "--output-document") or next(iter(short_values(args, "O")), None)
    if document:
        return [document]
    folder = option_value(args, "--directory-prefix") or next(iter(short_values(args, "P")), cwd)
    return [posixpath.join(folder, _url_name(url)) for url in urls]


def _url_name(url: str) -> str:
    return posixpath.basename(url.split("?", 1)[0].split("#", 1)[0].rstrip("/"))
