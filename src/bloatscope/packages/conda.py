"""conda packages: the ``<prefix>/conda-meta/*.json`` records that conda, mamba, micromamba and
pixi write for every package they link into an environment prefix, and the prefix's
``conda-meta/history`` for which packages the user asked for.

A record's files are relative to its prefix (the parent of conda-meta); the record's own json is
counted as the package's too, since linking the package wrote it. Dependencies are match specs
("python >=3.11,<3.12.0a0"); only their names matter here, and virtual packages (``__glibc``)
are no packages of the image."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import Cataloger, ImageFiles
from bloatscope.packages.database_files import root_relative

CAPTURE = r"(?:^|/)conda-meta/(?:[^/]+\.json|history)$"
# The reader's prefilter: every name CAPTURE matches contains it.
CAPTURE_DIRECTORIES = ("conda-meta",)
_RECORD_FILE = re.compile(r"(?:^|/)conda-meta/[^/]+\.json$")

# A match spec's name: after an optional "channel[/subdir]::", up to the first character that
# starts a version, build or bracket ("numpy>=1.26", "python 3.11.*", "numpy[version='>=1']").
_SPEC_NAME = re.compile(r"^\s*(?:[^\s:]+::)?([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
_HISTORY_SPECS = re.compile(r"^#\s*(\w+)\s+specs:\s*(.*)$")
_QUOTED = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"")
_ADDING_ACTIONS = frozenset({"update", "install", "create", "neutered"})
_REMOVING_ACTIONS = frozenset({"remove", "uninstall"})

Warn = Callable[[str], None]
_T = TypeVar("_T")


class CondaCataloger(Cataloger):
    ecosystem = Ecosystem.CONDA
    capture = CAPTURE
    capture_directories = CAPTURE_DIRECTORIES

    def catalog(self, files: ImageFiles, warn: Warn) -> list[PackageRecord]:
        requested_by_prefix: dict[str, frozenset[str] | None] = {}
        records: list[PackageRecord] = []
        for path in files.find(_RECORD_FILE):
            prefix = posixpath.dirname(posixpath.dirname(path))
            if prefix not in requested_by_prefix:
                requested_by_prefix[prefix] = _requested_names(files, prefix, warn)
            record = _read_record(files, path, prefix, requested_by_prefix[prefix], warn)
            if record is not None:
                records.append(record)
        return records


def _read_record(
    files: ImageFiles,
    path: str,
    prefix: str,
    requested_names: frozenset[str] | None,
    warn: Warn,
) -> PackageRecord | None:
    data = files.read(path)
    if data is None:
        warn(f"{path}: not readable (too large, or not a file)")
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        warn(f"{path}: not JSON ({_first_line(error)})")
        return None
    if not isinstance(document, dict):
        warn(f"{path}: not a package record (a JSON {type(document).__name__})")
        return None
    name, version = document.get("name"), document.get("version")
    if not (isinstance(name, str) and name and isinstance(version, str)):
        warn(f"{path}: no name and version")
        return None
    try:
        listed = _listed_files(document)
    except ValueError:
        warn(f"{path}: files is not a list of paths")
        return None
    return PackageRecord(
        ecosystem=Ecosystem.CONDA,
        name=name.lower(),
        version=version,
        location=path,
        files=_files(prefix, listed or (), path),
        files_known=listed is not None,
        requires=_requires(document.get("depends")),
        requested=_requested(document, name.lower(), requested_names),
        display_name=name,
    )


def _listed_files(document: Mapping[str, Any]) -> list[str] | None:
    """``files``, or the paths of ``paths_data`` when a writer left ``files`` out; None when the
    record has neither. ValueError when what is there is not a list of strings."""
    listed = document.get("files")
    if listed is None:
        paths_data = document.get("paths_data")
        entries = paths_data.get("paths") if isinstance(paths_data, dict) else None
        if not isinstance(entries, list):
            return None
        listed = [entry.get("_path") for entry in entries if isinstance(entry, dict)]
    if not isinstance(listed, list) or not all(isinstance(entry, str) for entry in listed):
        raise ValueError("files is not a list of paths")
    return [entry for entry in listed if entry]


def _files(prefix: str, listed: Iterable[str], record_path: str) -> tuple[str, ...]:
    paths = (root_relative(prefix, entry) for entry in listed)
    return _unique((*(path for path in paths if path), record_path))


def _requires(depends: object) -> tuple[Requirement, ...]:
    if not isinstance(depends, list):
        return ()
    names = (spec_name(spec) for spec in depends if isinstance(spec, str))
    return tuple(
        Requirement(names=(name,))
        for name in _unique(name for name in names if name and not name.startswith("__"))
    )


def spec_name(spec: str) -> str:
    """The package name a conda match spec selects, lower case; "" if there is none."""
    match = _SPEC_NAME.match(spec)
    return match.group(1).lower() if match else ""


# --- requested or pulled in ---


def _requested(
    document: Mapping[str, Any], name: str, requested_names: frozenset[str] | None
) -> bool | None:
    """The history's verdict when it recorded any request; else the record's own
    ``requested_spec``, which only the transaction that last linked the package set."""
    if requested_names is not None:
        return name in requested_names
    if "requested_spec" not in document:
        return None
    spec = document["requested_spec"]
    # conda writes the string "None" for packages nobody asked for
    return isinstance(spec, str) and bool(spec) and spec != "None"


def _requested_names(files: ImageFiles, prefix: str, warn: Warn) -> frozenset[str] | None:
    """Package names the prefix's history says were asked for and not removed since, replayed
    as conda does; None when there is no history or it records no request (pixi leaves it
    empty, the installer's base environment may predate spec lines)."""
    path = posixpath.join(prefix, "conda-meta", "history")
    data = files.read(path)
    if data is None:
        if files.exists(path):
            warn(f"{path}: not readable (too large, or not a file)")
        return None
    requested: set[str] = set()
    any_request = False
    for line in data.decode("utf-8", "replace").splitlines():
        match = _HISTORY_SPECS.match(line.strip())
        if not match:
            continue
        action, specs = match.group(1), _history_specs(match.group(2))
        names = {name for name in map(spec_name, specs) if name}
        if action in _ADDING_ACTIONS:
            requested |= names
            any_request = any_request or bool(names)
        elif action in _REMOVING_ACTIONS:
            requested -= names
    return frozenset(requested) if any_request else None


def _history_specs(text: str) -> list[str]:
    """A spec list as conda writes it: a Python or JSON list of strings, or (conda < 4.5) a comma
    separated string where a part starting with a version operator belongs to the one before."""
    text = text.strip()
    if text.startswith("["):
        # A regex, not literal_eval: a hostile history line would make an AST of millions of
        # nodes; spec strings hold no quotes of their own kind nor backslashes.
        return [a or b for a, b in _QUOTED.findall(text) if a or b]
    specs: list[str] = []
    for part in text.split(","):
        if specs and part.lstrip()[:1] in ("<", ">", "=", "!", "~"):
            specs[-1] += f",{part}"
        else:
            specs.append(part)
    return [spec for spec in specs if spec.strip()]


# --- helpers ---


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _unique(items: Iterable[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))
