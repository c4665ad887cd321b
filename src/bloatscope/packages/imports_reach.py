"""Why an application needs each installed Python distribution: it provides an imported module
or a command the image runs, a needed package requires it, or a needed package lists it as an
optional dependency that may be imported when installed. Each reason keeps the shortest chain
of packages that leads to it."""

from __future__ import annotations

import enum
import posixpath
import re
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.packages.dev_tools import dev_reason
from bloatscope.packages.imports_provided import provided_commands, provided_names
from bloatscope.packages.inventory import Inventory

# Extras for developing a library, not for running it: transformers[testing] lists pytest and
# thirty more. ``all`` too: a run-time backend also has an extra of its own (transformers[torch]).
_DEVELOPMENT_EXTRA = re.compile(
    r"(?:^|[-_.])(?:test\w*|dev|devel|develop|development|docs?|documentation|lint\w*|quality"
    r"|style|typing|types|bench\w*|examples?|all)(?:$|[-_.])"
)


class Need(enum.StrEnum):
    """Why a requirement stays, strongest first."""

    IMPORTED = "imported"  # it provides a module the application imports
    COMMAND = "command"  # it installs a command the image runs
    REQUIRED = "required"  # a needed package requires it
    OPTIONAL = "optional"  # a needed package lists it as an optional dependency
    KEPT = "kept"  # a package that stays installed requires it
    UNLISTED = "unlisted"  # installed without a file list: what it provides is unknown


@dataclass(frozen=True, slots=True)
class Reason:
    how: Need
    chain: tuple[int, ...]  # record indexes from the package the application uses to this one
    trigger: str  # the import or command at the start of the chain
    via_extra: str = ""  # for Need.OPTIONAL: "transformers[torch]", the extra that lists it


def python_provided(inventory: Inventory) -> dict[int, frozenset[str]]:
    """Record index -> the dotted names it provides, for every Python record."""
    return {
        index: provided_names(record)
        for index, record in enumerate(inventory.records)
        if record.ecosystem is Ecosystem.PYTHON
    }


def reasons(
    inventory: Inventory,
    imports: Collection[str],
    commands: Collection[str],
    provided: Mapping[int, frozenset[str]],
) -> dict[int, Reason]:
    """Record index -> why the application needs it, for every record it needs."""
    found: dict[int, Reason] = {}
    for name, index in _providers(imports, provided):
        found.setdefault(index, Reason(Need.IMPORTED, (index,), name))
    for command in sorted(commands):
        for index in sorted(provided):
            if command in provided_commands(inventory.records[index]):
                found.setdefault(index, Reason(Need.COMMAND, (index,), command))
    _follow_requirements(inventory, found, sorted(found), Need.REQUIRED)
    optional: list[int] = []
    by_name = _python_by_name(inventory)
    # nearest first, so that transformers[torch] explains torch before a deeper package does
    for index in sorted(found, key=lambda i: (len(found[i].chain), i)):
        for target, extra in _optional_dependencies(inventory, index, by_name):
            if target not in found:
                via = f"{inventory.records[index].label}[{extra}]"
                reason = found[index]
                found[target] = Reason(Need.OPTIONAL, (*reason.chain, target), reason.trigger, via)
                optional.append(target)
    _follow_requirements(inventory, found, optional, Need.OPTIONAL)
    return found


def matches(imported: str, provided: str) -> bool:
    """Whether importing ``imported`` runs code of a provider of ``provided``: the same module,
    a module inside it, or (``import google``) a namespace package it is a portion of."""
    return (
        imported == provided
        or imported.startswith(f"{provided}.")
        or provided.startswith(f"{imported}.")
    )


def _providers(
    imports: Collection[str], provided: Mapping[int, frozenset[str]]
) -> Iterator[tuple[str, int]]:
    """(import, record index) for each record providing a module the import runs."""
    by_top: dict[str, list[tuple[str, int]]] = {}
    for index in sorted(provided):
        for name in sorted(provided[index]):
            by_top.setdefault(name.partition(".")[0], []).append((name, index))
    for name in sorted(imports):
        for provided_name, index in by_top.get(name.partition(".")[0], []):
            if matches(name, provided_name):
                yield name, index


def _follow_requirements(
    inventory: Inventory, found: dict[int, Reason], start: list[int], how: Need
) -> None:
    """Adds what ``start`` hard-requires, transitively, breadth first (shortest chains)."""
    pending = deque(start)
    while pending:
        node = pending.popleft()
        reason = found[node]
        for target in sorted(inventory.graph.hard_edges[node]):
            if target not in found:
                chain = (*reason.chain, target)
                found[target] = Reason(how, chain, reason.trigger, reason.via_extra)
                pending.append(target)


def _python_by_name(inventory: Inventory) -> dict[str, list[int]]:
    by_name: dict[str, list[int]] = {}
    for index, record in enumerate(inventory.records):
        if record.ecosystem is Ecosystem.PYTHON:
            by_name.setdefault(record.name, []).append(index)
    return by_name


def _optional_dependencies(
    inventory: Inventory, index: int, by_name: Mapping[str, list[int]]
) -> Iterator[tuple[int, str]]:
    """(installed target, extra) of the record's requirements behind extras nobody switched
    on, except development extras and development tools; the copy in the record's own site
    directory when there are several."""
    record = inventory.records[index]
    site = posixpath.dirname(record.location)
    for requirement in record.requires:
        extra = requirement.for_extra
        if not extra or _DEVELOPMENT_EXTRA.search(extra):
            continue
        for name in requirement.names:
            copies = by_name.get(name, [])
            nearest = [
                i for i in copies if posixpath.dirname(inventory.records[i].location) == site
            ]
            for target in nearest or copies:
                if not dev_reason(inventory.records[target]):
                    yield target, extra
