"""Which Python requirements an application never uses: its sources' imports matched against the
modules each installed distribution provides, followed through the dependency graph, and the
bytes that uninstalling the unused ones would free.

A requirement is needed when it provides a module the sources import (``google.protobuf``
matches protobuf, not google-auth: namespace packages are told apart by their portions), when
it installs a command the image runs, or when a needed package requires it (hard edges of the
graph, transitively). It is kept, and counted as needed, when a needed package lists it as an
optional dependency (transformers' ``torch`` extra: libraries import their optional backends
when installed) unless it is a development tool or only a development extra (``test``,
``dev``, ``docs``, ``all``...) names it; when a package that stays installed requires it; and
when it lists no files, so what it provides is unknown.

Detected as unused, rightly: tools run by hand or in CI (pytest, black, mypy, jupyter), which
nothing imports; metapackages (``jupyter``) providing no module of their own, unless a needed
package requires them. Wrongly reported unused (the caller must know): plugins found through
entry points or configuration rather than imports (pytest plugins, Jupyter server extensions,
SQLAlchemy dialects named in a URL, fsspec backends) when no needed package lists them as an
optional dependency; modules imported by names built at run time; servers started by a command
the caller did not pass (``gunicorn app:app``). Never reported unused: distributions listing no
files. The freed bytes are what a rebuild without the unused requirements would not install:
their dependencies go too unless a package that stays needs them, optional ones included
(listed in ``optional_removed``).
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement

from bloatscope.model.package import Removal
from bloatscope.packages.imports_reach import Need, Reason, python_provided, reasons
from bloatscope.packages.imports_scan import SourceImports
from bloatscope.packages.inventory import Inventory
from bloatscope.packages.python import canonical

__all__ = [
    "Need",
    "NeededRequirement",
    "UnusedRequirements",
    "requirement_name",
    "unused_requirements",
]


@dataclass(frozen=True, slots=True)
class NeededRequirement:
    """A requirement the application needs, and why."""

    name: str  # as the requirement list wrote it
    how: Need
    # package labels from the one the application uses (or one that stays installed) down to
    # this requirement's own; just this one when the application uses it directly
    chain: tuple[str, ...]
    trigger: str = ""  # the import ("transformers") or command ("gunicorn") that starts it
    via_extra: str = ""  # for Need.OPTIONAL: "transformers[torch]", the extra that lists it

    @property
    def reason(self) -> str:
        path = " -> ".join(self.chain)
        if self.how is Need.IMPORTED:
            return f"the application imports {self.trigger}"
        if self.how is Need.COMMAND:
            return f"the image runs its command {self.trigger}"
        if self.how is Need.REQUIRED:
            return f"required through {path}; the application uses {self.chain[0]}"
        if self.how is Need.OPTIONAL:
            return (
                f"{self.via_extra} lists it as optional, so it may be imported when installed "
                f"({path}); the application uses {self.chain[0]}"
            )
        if self.how is Need.KEPT:
            return f"{self.chain[0]} requires it and stays installed"
        return "installed without a file list: which modules it provides is unknown"


@dataclass(frozen=True, slots=True)
class UnusedRequirements:
    """The requirements an application does not need, and what uninstalling them frees."""

    unused: tuple[str, ...]  # requirement names as given, in the order given
    needed: tuple[NeededRequirement, ...]
    unknown: tuple[str, ...]  # names no installed Python distribution has (or not names)
    # uninstalling every unused requirement together, with the dependencies nothing else needs
    removal: Removal
    # top-level imports that no installed distribution provides and that are not the standard
    # library's: a missing dependency, or one installed without a file list
    unresolved_imports: tuple[str, ...]
    # packages the removal takes that a needed package lists as optional: a rebuild without
    # the unused requirements no longer installs them (psutil, brought in by jupyter alone)
    optional_removed: tuple[str, ...] = ()

    @property
    def freed_bytes(self) -> int:
        return self.removal.freed_bytes

    @property
    def only_optional(self) -> tuple[NeededRequirement, ...]:
        """Needed requirements that only an optional extra keeps, other than a machine
        learning backend: ``transformers[vision]`` keeps pillow, yet a text classifier never
        loads an image. Libraries do import their backend (torch for transformers) without
        requiring it, so those stay needed; the rest is a guess the user has to confirm, and
        a fix offers them as a suggestion only."""
        return tuple(
            item
            for item in self.needed
            if item.how is Need.OPTIONAL
            and canonical(requirement_name(item.name) or item.name) not in ML_BACKENDS
        )


# Deep learning frameworks libraries run on without requiring them (transformers, diffusers,
# sentence-transformers import whichever is installed).
ML_BACKENDS = frozenset(
    {"torch", "tensorflow", "tensorflow-cpu", "tf-keras", "keras", "jax", "jaxlib", "flax"}
)
_WHEEL_SUFFIX = ".whl"
_NAME_AT_START = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def requirement_name(text: str) -> str:
    """The project name a requirement line or pip argument names, or "" for none:
    ``requests[socks]>=2`` -> requests; ``/tmp/torch-2.1.0+cpu-cp311-...whl`` and the glob
    ``torch-*.whl`` -> torch (a wheel's name part is escaped: it holds no ``-``)."""
    text = text.strip()
    if text.endswith(_WHEEL_SUFFIX):
        name = posixpath.basename(text).partition("-")[0]
        return name if _NAME_AT_START.fullmatch(name) else ""
    try:
        return PepRequirement(text).name
    except InvalidRequirement:
        return ""


def unused_requirements(
    inventory: Inventory,
    requirement_names: Sequence[str],
    imported: SourceImports | Collection[str],
    *,
    commands: Collection[str] = (),
) -> UnusedRequirements:
    """Which of ``requirement_names`` (requirement lines, names or wheel files; compared the
    way pip compares names) the application does not need, given its imports
    (``imported_modules(sources)``, or dotted module names) and the commands the image runs
    (its CMD and ENTRYPOINT executables, ``gunicorn``)."""
    names = (imported,) if isinstance(imported, str) else imported
    imports = sorted(names.names if isinstance(names, SourceImports) else set(names))
    provided = python_provided(inventory)
    why = reasons(inventory, imports, {posixpath.basename(c) for c in commands}, provided)
    wanted, unknown = _installed(inventory, requirement_names)
    needed: dict[str, NeededRequirement] = {}
    for name, indexes in wanted.items():
        found = [why[i] for i in indexes if i in why]
        if found:
            needed[name] = _needed(name, min(found, key=_rank), inventory)
        elif not all(inventory.records[i].files_known for i in indexes):
            needed[name] = NeededRequirement(name, Need.UNLISTED, (_label(inventory, indexes[0]),))
    candidates = {name: indexes for name, indexes in wanted.items() if name not in needed}
    needed |= _kept_by_others(inventory, candidates)
    unused = [name for name in candidates if name not in needed]
    removal = inventory.removal(sorted({i for name in unused for i in wanted[name]}))
    optional = {
        inventory.records[i].key for i, reason in why.items() if reason.how is Need.OPTIONAL
    }
    return UnusedRequirements(
        unused=tuple(unused),
        needed=tuple(needed[name] for name in wanted if name in needed),
        unknown=tuple(unknown),
        removal=removal,
        unresolved_imports=_unresolved(imports, provided),
        optional_removed=tuple(p.record.label for p in removal.removed if p.record.key in optional),
    )


def _installed(
    inventory: Inventory, requirement_names: Sequence[str]
) -> tuple[dict[str, list[int]], list[str]]:
    """Requirement (as written) -> its installed Python records; and the names not installed.
    A name given twice (``Foo_Bar`` and ``foo-bar``) counts once, as first written."""
    wanted: dict[str, list[int]] = {}
    unknown: list[str] = []
    seen: set[str] = set()
    for text in requirement_names:
        if not text.strip():
            continue
        name = requirement_name(text)
        if name and canonical(name) in seen:
            continue
        found = inventory.find(f"python:{name}") if name else []
        if found:
            seen.add(canonical(name))
            wanted[text.strip()] = found
        elif text.strip() not in unknown:
            unknown.append(text.strip())
    return wanted, unknown


def _rank(reason: Reason) -> tuple[int, int]:
    return list(Need).index(reason.how), len(reason.chain)


def _label(inventory: Inventory, index: int) -> str:
    return inventory.records[index].label


def _needed(name: str, reason: Reason, inventory: Inventory) -> NeededRequirement:
    chain = tuple(_label(inventory, i) for i in reason.chain)
    return NeededRequirement(name, reason.how, chain, reason.trigger, reason.via_extra)


def _kept_by_others(
    inventory: Inventory, candidates: dict[str, list[int]]
) -> dict[str, NeededRequirement]:
    """The candidates a package that stays installed requires (removing a requirement the
    base image's tools need breaks them), until the rest can all go together."""
    graph = inventory.graph
    kept: dict[str, NeededRequirement] = {}
    while True:
        going = {name: indexes for name, indexes in candidates.items() if name not in kept}
        removable = graph.removable([i for indexes in going.values() for i in indexes])
        stuck = {name: ix for name, ix in going.items() if not set(ix) <= removable}
        if not stuck:
            return kept
        staying = graph.reach(graph.roots - removable, without=removable)
        for name, indexes in stuck.items():
            requirers = [k for k in staying if graph.hard_edges[k] & set(indexes)]
            requirer = min(requirers, key=lambda k: inventory.records[k].name)
            chain = (_label(inventory, requirer), _label(inventory, indexes[0]))
            kept[name] = NeededRequirement(name, Need.KEPT, chain)


def _unresolved(imports: Sequence[str], provided: Mapping[int, frozenset[str]]) -> tuple[str, ...]:
    modules = {name.partition(".")[0] for name in imports} - set(sys.stdlib_module_names)
    for names in provided.values():
        modules -= {name.partition(".")[0] for name in names}
    return tuple(sorted(modules))
