"""Cause 4: build-context junk. Owns files that a layer copying a whole build-context
directory (`COPY . /src/`, `ADD dir:...`) brought in although no runtime needs them: VCS
metadata, virtualenvs, bytecode caches, notebooks, tool caches, host node_modules, OS and
editor droppings, logs, local data and checkpoints, wheels. The fix is the .dockerignore lines
that keep them out, generated from the paths found and relative to the COPY destination."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bloatscope.analysis.base import AnalysisInput, Analyzer, Claim, Description
from bloatscope.model.finding import Severity

# A COPY/ADD whose source is the context itself or a directory of it: BuildKit records the
# source as written (`COPY . /src/ # buildkit`); the classic builder and buildah as a content
# hash (`/bin/sh -c #(nop) COPY dir:<hash> in /src/`). `--from` copies from a stage, not the
# context, so it is excluded. Group 1 is the destination.
_CONTEXT_COPY = re.compile(
    r"(?:^|\s)(?:COPY|ADD)\s+(?:--(?!from)\S+\s+)*(?:\.|\./|dir:\S+)\s+(?:in\s+)?(\S+)"
)

_DATA_MIN_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class _Kind:
    """One kind of junk: ``pattern`` finds it in a root-relative path, its group ``a`` spans
    the directory or file name the .dockerignore line is made from. ``style`` says how:
    "path" names that exact directory (".git"), "dir" the same with a slash ("venv/"), "name"
    the name anywhere ("**/__pycache__"), "suffix" the extension ("*.ipynb" at the context
    root, "**/*.ipynb" deeper)."""

    name: str
    label: str
    pattern: re.Pattern[str]
    style: str = "path"


def _dir(names: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|/)(?P<a>{names})/")


def _suffix(extension: str) -> re.Pattern[str]:
    return re.compile(rf"(?P<a>[^/]*\.{extension})$")


# Order matters: the first kind that matches a path gets it (a venv's __pycache__ is venv).
_KINDS = (
    _Kind("git", ".git", _dir(r"\.git")),
    _Kind("venv", "venv", _dir(r"\.?venv"), "dir"),
    _Kind("node_modules", "node_modules", _dir("node_modules")),
    _Kind("tool-caches", "tool caches", _dir(r"\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox")),
    _Kind("editor", "editor folders", _dir(r"\.idea|\.vscode")),
    _Kind("notebooks", "notebooks", _dir(r"\.ipynb_checkpoints"), "name"),
    _Kind("pycache", "__pycache__", _dir("__pycache__"), "name"),
    _Kind("notebooks", "notebooks", _suffix("ipynb"), "suffix"),
    _Kind("editor", "editor folders", _suffix("swp"), "suffix"),
    _Kind("os-junk", "OS junk", re.compile(r"(?:^|/)(?P<a>\.DS_Store|Thumbs\.db)$"), "name"),
    _Kind("logs", "logs", _suffix("log"), "suffix"),
    _Kind("wheels", "wheels", _suffix("whl"), "suffix"),
    _Kind(
        "data",
        "local data and checkpoints",
        re.compile(
            r"(?:^|/)(?P<a>models|checkpoints|data|datasets|outputs)/(?:[^/]+/)*"
            r"[^/]+\.(?:ckpt|pt|pth|bin|safetensors|h5|onnx|npz|parquet|csv)$"
        ),
        "dir",
    ),
)
_VENV = _Kind("venv", "venv", _dir(r"\.?venv"), "dir")
_LABELS = {kind.name: kind.label for kind in _KINDS}
_SITE_DIRS = ("site-packages/", "dist-packages/")


def context_layers(data: AnalysisInput) -> dict[int, str]:
    """Layers that copied a build-context directory, each with its destination as a
    root-relative directory prefix ("src/"; "" for the root)."""
    found: dict[int, str] = {}
    workdir = data.image.config.working_dir or "/"
    for layer in data.image.layers:
        match = _CONTEXT_COPY.search(layer.created_by)
        if match is None:
            continue
        # A relative destination is relative to the WORKDIR of that step; the config only
        # holds the last one, so it is a guess that ignore_line checks against each path.
        full = posixpath.normpath(posixpath.join(workdir, match.group(1))).strip("/")
        found[layer.index] = full + "/" if full and full != "." else ""
    return found


def ignore_line(kind: _Kind, path: str, start: int, end: int, dest: str) -> str:
    """The .dockerignore line that would have kept ``path`` out, where ``path[start:end]`` is
    what the kind matched and ``dest`` the COPY destination prefix. Paths outside ``dest``
    (a wrong WORKDIR guess) are written relative to the root: the top directory names."""
    inside = bool(dest) and path.startswith(dest)
    if kind.style == "name":
        return "**/" + path[start:end]
    if kind.style == "suffix":
        extension = path[path.rfind(".", start, end) : end]
        at_root = start == (len(dest) if inside else 0)
        return f"*{extension}" if at_root else f"**/*{extension}"
    anchor = path[len(dest) : end] if inside else path[:end]
    return anchor + "/" if kind.style == "dir" else anchor


def _venv_roots(data: AnalysisInput, layers: dict[int, str]) -> tuple[str, ...]:
    """Directories holding a pyvenv.cfg in a context layer: virtualenvs by any name."""
    roots = [
        path[: -len("pyvenv.cfg")]
        for path, _size, content in data.files
        if content[0] in layers and (path == "pyvenv.cfg" or path.endswith("/pyvenv.cfg"))
    ]
    return tuple(root for root in roots if root)


def _match(path: str, size: int, venvs: tuple[str, ...]) -> tuple[_Kind, int, int] | None:
    """The kind of junk at ``path`` and the span the ignore line is made from, or None."""
    if venvs and path.startswith(venvs):
        root = next(root for root in venvs if path.startswith(root))
        return _VENV, root.rfind("/", 0, len(root) - 1) + 1, len(root) - 1
    for kind in _KINDS:
        match = kind.pattern.search(path)
        if match is None:
            continue
        if kind.name == "pycache" and any(site in path for site in _SITE_DIRS):
            continue  # installed packages' bytecode is the runtime's, not the context's
        if kind.name == "data" and size < _DATA_MIN_BYTES:
            continue
        return kind, match.start("a"), match.end("a")
    return None


class BuildContextAnalyzer(Analyzer):
    """Claims junk shipped by layers that copied a build-context directory, grouped by kind
    (git, venv, pycache, notebooks, tool-caches, node_modules, os-junk, editor, logs, data,
    wheels). Remembers, per kind and layer, the .dockerignore lines for describe()."""

    cause = "build-context"

    def __init__(self) -> None:
        self._lines: dict[tuple[str, int], set[str]] = {}
        self._layer_of: dict[str, int] = {}

    def claims(self, data: AnalysisInput) -> Iterator[Claim]:
        self._lines = {}
        self._layer_of = {}
        layers = context_layers(data)
        if not layers:
            return
        venvs = _venv_roots(data, layers)
        for path, size, content in data.files:
            if content[0] not in layers:
                continue
            found = _match(path, size, venvs)
            if found is None:
                continue
            kind, start, end = found
            line = ignore_line(kind, path, start, end, layers[content[0]])
            self._lines.setdefault((kind.name, content[0]), set()).add(line)
            self._layer_of["/" + path] = content[0]
            yield Claim(kind.name, content, "/" + path, size)

    def describe(self, group: str, paths: tuple[str, ...]) -> Description:
        layer = self._layer_of.get(paths[0]) if paths else None
        lines = self._lines.get((group, layer)) if layer is not None else None
        if not lines:
            lines = _lines_for(paths)  # describe() without claims(): relative to the root
        ordered = sorted(lines)
        title = f"build context copied without a .dockerignore: {_LABELS.get(group, group)}"
        shown = ", ".join(f"`{line}`" for line in ordered[:8])
        more = f" (and {len(ordered) - 8} more)" if len(ordered) > 8 else ""
        fix = (
            f"Add to .dockerignore, next to the Dockerfile: {shown}{more}. "
            "COPY . then leaves them out of the build context and the image."
        )
        return Description(title, fix, Severity.HIGH)

    def ignore_lines(self, group: str, layer: int) -> tuple[str, ...]:
        """The .dockerignore lines of one finding, sorted (for reports and tests)."""
        return tuple(sorted(self._lines.get((group, layer), ())))


def _lines_for(paths: tuple[str, ...]) -> set[str]:
    lines: set[str] = set()
    for absolute in paths:
        path = absolute.lstrip("/")
        found = _match(path, _DATA_MIN_BYTES, ())
        if found is not None:
            kind, start, end = found
            lines.add(ignore_line(kind, path, start, end, ""))
    return lines
