"""Which modules and commands a Python distribution provides, read from the paths its RECORD
(or installed-files.txt) lists relative to its site-packages directory.

A top-level ``name.py``, ``name.cpython-311-x86_64-linux-gnu.so`` or sourceless ``name.pyc``
is module ``name``; a top-level directory holding ``__init__`` is package ``name``. A directory
without ``__init__`` is a namespace package that several distributions share (``google``,
``azure``, ``zope``), so the distribution provides only its own portions below it
(``google.protobuf``), found the same way one level down. Not modules: ``*.dist-info``,
``*.data``, ``__pycache__``, ``.pth`` files, directories holding no Python file, paths outside
the site directory (``../../../bin/black``: those are commands). A distribution listing no
files (``files_known`` False) provides nothing this can see.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from bloatscope.model.package import PackageRecord

# Namespace packages nest two or three deep (google.cloud.storage); a RECORD nesting deeper
# directories without __init__ is not one, and its portions are named at this depth.
_MAX_NAMESPACE_DEPTH = 6
_EXTENSION_SUFFIXES = (".so", ".pyd", ".pyc")
_NOT_PACKAGES = frozenset({"__pycache__"})
_NOT_TOP_LEVEL_PACKAGES = frozenset({"bin"})  # scripts of a --target install


def site_directory(record: PackageRecord) -> str:
    """The directory the record's metadata directory sits in: its site-packages."""
    return posixpath.dirname(record.location)


def provided_names(record: PackageRecord) -> frozenset[str]:
    """The importable names a distribution provides, through namespace packages: protobuf
    gives ``google.protobuf``, six gives ``six``, torch gives ``torch``, ``functorch``..."""
    if not record.files_known:
        return frozenset()
    return frozenset(_modules_in(_site_relative(record), "", 0))


def provided_modules(record: PackageRecord) -> frozenset[str]:
    """The top-level import names a distribution provides (``google`` for protobuf)."""
    return frozenset(name.partition(".")[0] for name in provided_names(record))


def provided_commands(record: PackageRecord) -> frozenset[str]:
    """The commands a distribution installs: files in a ``bin`` directory outside its site
    directory (console scripts), or in ``bin`` right under it (``pip install --target``)."""
    site = site_directory(record)
    commands: set[str] = set()
    for path in record.files:
        directory, name = posixpath.split(path)
        if posixpath.basename(directory) != "bin" or not name:
            continue
        if directory == posixpath.join(site, "bin") or not _is_inside(path, site):
            commands.add(name)
    return frozenset(commands)


def _is_inside(path: str, directory: str) -> bool:
    return not directory or path.startswith(f"{directory}/")


def _site_relative(record: PackageRecord) -> list[tuple[str, ...]]:
    site = site_directory(record)
    prefix = f"{site}/" if site else ""
    return [
        tuple(path[len(prefix) :].split("/"))
        for path in record.files
        if path.startswith(prefix) and len(path) > len(prefix)
    ]


def _module_name(filename: str) -> str:
    """``six.py`` -> six; ``_C.cpython-311-x86_64-linux-gnu.so`` -> _C; else ""."""
    if filename.endswith(".py"):
        stem = filename[:-3]
    elif filename.endswith(_EXTENSION_SUFFIXES):
        stem = filename.partition(".")[0]  # the ABI tag sits between name and suffix
    else:
        return ""
    return stem if stem.isidentifier() else ""


def _modules_in(paths: Sequence[tuple[str, ...]], prefix: str, depth: int) -> set[str]:
    """The modules and packages among these paths (relative to one directory), with
    ``prefix`` their dotted parent."""
    names: set[str] = set()
    below: dict[str, list[tuple[str, ...]]] = {}
    for parts in paths:
        if len(parts) == 1:
            module = _module_name(parts[0])
            if module and module != "__init__":
                names.add(prefix + module)
            continue
        directory = parts[0]
        skipped = directory in _NOT_PACKAGES or (
            depth == 0 and directory in _NOT_TOP_LEVEL_PACKAGES
        )
        if directory.isidentifier() and not skipped:
            below.setdefault(directory, []).append(parts[1:])
    for directory, inside in below.items():
        if not any(_module_name(parts[-1]) for parts in inside):
            continue  # data only (share/, include/ under a --target install)
        is_package = any(
            len(parts) == 1 and _module_name(parts[0]) == "__init__" for parts in inside
        )
        if is_package or depth >= _MAX_NAMESPACE_DEPTH:
            names.add(prefix + directory)
        else:
            names |= _modules_in(inside, f"{prefix}{directory}.", depth + 1)
    return names


def _has_init(paths: Sequence[tuple[str, ...]]) -> bool:
    return any(len(parts) == 1 and _module_name(parts[0]) == "__init__" for parts in paths)
