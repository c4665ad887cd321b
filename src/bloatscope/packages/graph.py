"""Who needs whom: the dependency graph of an image's packages, its top-level packages, and what
removing a set of packages would take with it.

Nodes are indexes into one list of PackageRecords. Requirements resolve within one ecosystem:
to the exact copy a cataloger resolved (npm), else by name and provided names, preferring the
copies nearest the requiring package (the same venv or node_modules tree). Python extras are
followed: ``a[b]`` brings in what ``a`` requires for extra ``b``. A requirement that nothing
installed satisfies is dropped (optional npm dependencies, packages removed by hand).
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Iterator, Sequence

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement

# Ecosystems whose catalogers resolve every requirement to one copy themselves (npm's nested
# node_modules lookup); an unresolved one there means nothing installed satisfies it.
_RESOLVED_BY_CATALOGER = frozenset({Ecosystem.NPM})


class PackageGraph:
    """Edges between packages, with the roots that keep everything else installed."""

    def __init__(self, records: Sequence[PackageRecord]) -> None:
        self.records = records
        self._providers = _providers(records)
        self.edges, self.hard_edges = _edges(records, self._providers)
        incoming: list[int] = [0] * len(records)
        for index, targets in enumerate(self.edges):
            for target in targets:
                if target != index:
                    incoming[target] += 1
        self.needed_by_others = tuple(count > 0 for count in incoming)
        # Top level: installed on request, or needed by nothing. A record its database marks as
        # auto-installed yet needed by nothing is an orphan: still top level, since it stays.
        self.top_level = tuple(
            bool(record.requested) or not needed
            for record, needed in zip(records, self.needed_by_others, strict=True)
        )
        roots = {i for i, top in enumerate(self.top_level) if top}
        roots |= {i for i, record in enumerate(records) if record.essential}
        # Cycles that no root reaches (a <-> b, both auto-installed) keep themselves installed.
        unreached = set(range(len(records))) - self.reach(roots)
        self.roots = frozenset(roots | unreached)

    def reach(self, start: Iterable[int], without: Collection[int] = ()) -> set[int]:
        """Every package reachable from ``start``, not passing through ``without``."""
        seen = {node for node in start if node not in without}
        pending = list(seen)
        while pending:
            node = pending.pop()
            for target in self.edges[node]:
                if target not in seen and target not in without:
                    seen.add(target)
                    pending.append(target)
        return seen

    def removal(self, targets: Collection[int]) -> frozenset[int]:
        """What uninstalling ``targets`` frees: the targets, and every package they reach that
        the remaining roots do not need once the targets are gone."""
        kept = self.reach(self.roots - set(targets), without=targets)
        return frozenset(self.reach(targets) - kept)

    def exclusive_closures(self) -> list[frozenset[int]]:
        """Per package, what removing it alone frees (``removal([index])``), for every package
        at once: a package's removal is what it dominates in the graph with a virtual root
        above every root (each path from the roots to those packages runs through it). One
        dominator tree (Cooper, Harvey and Kennedy's iteration) instead of a search per
        package."""
        count = len(self.records)
        root = count  # the virtual root
        successors = [*self.edges, frozenset(self.roots)]
        order: list[int] = []  # postorder from the virtual root
        seen = [False] * (count + 1)
        seen[root] = True
        stack: list[tuple[int, Iterator[int]]] = [(root, iter(successors[root]))]
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                order.append(node)
            elif not seen[child]:
                seen[child] = True
                stack.append((child, iter(successors[child])))
        position = {node: index for index, node in enumerate(order)}
        predecessors: list[list[int]] = [[] for _ in range(count + 1)]
        for node in order:
            for child in successors[node]:
                if child != node:
                    predecessors[child].append(node)
        dominator: dict[int, int] = {root: root}
        changed = True
        while changed:
            changed = False
            for node in reversed(order):  # reverse postorder
                if node == root:
                    continue
                new = -1
                for parent in predecessors[node]:
                    if parent not in dominator:
                        continue
                    new = parent if new < 0 else _intersect(parent, new, dominator, position)
                if new >= 0 and dominator.get(node) != new:
                    dominator[node] = new
                    changed = True
        dominated: list[list[int]] = [[] for _ in range(count + 1)]
        for node, parent in dominator.items():
            if node != root:
                dominated[parent].append(node)
        closures: list[frozenset[int]] = []
        for index in range(count):
            subtree = [index]
            for member in subtree:  # grows while it is walked: a breadth-first listing
                subtree.extend(dominated[member])
            closures.append(frozenset(subtree))
        return closures

    def removable(
        self, candidates: Collection[int], *, replaced: Collection[int] = ()
    ) -> frozenset[int]:
        """The candidates nothing else still needs: a candidate that a kept package depends on
        (black needed by a runtime library, say) stays, and so does what it needs in turn. Weak
        requirements do not count here: removing what pip merely recommends breaks nothing.
        Neither do the requirements of ``replaced`` packages, which stay but will need less (a
        GPU torch swapped for the CPU build no longer needs the CUDA wheels)."""
        removable = set(candidates)
        while True:
            kept = self.reach(self.roots - removable, without=removable)
            needed = {
                target
                for node in kept
                if node not in replaced
                for target in self.hard_edges[node]
                if target in removable
            }
            if not needed:
                return frozenset(removable)
            removable -= needed


def _intersect(a: int, b: int, dominator: dict[int, int], position: dict[int, int]) -> int:
    """The nearest common dominator of two nodes, walking up by postorder number."""
    while a != b:
        while position[a] < position[b]:
            a = dominator[a]
        while position[b] < position[a]:
            b = dominator[b]
    return a


def _providers(records: Sequence[PackageRecord]) -> dict[tuple[Ecosystem, str], list[int]]:
    providers: dict[tuple[Ecosystem, str], list[int]] = {}
    for index, record in enumerate(records):
        for name in (record.name, *record.provides):
            providers.setdefault((record.ecosystem, name), []).append(index)
    return providers


def _edges(
    records: Sequence[PackageRecord], providers: dict[tuple[Ecosystem, str], list[int]]
) -> tuple[list[frozenset[int]], list[frozenset[int]]]:
    """All edges, and the hard ones only (no weak requirements)."""
    by_location = {(record.ecosystem, record.location): i for i, record in enumerate(records)}
    # (target, extra) pairs each requirement resolves to, per record, keyed by the extra of the
    # requiring record that enables it
    resolved: list[list[tuple[str, list[int], tuple[str, ...], bool]]] = []
    for record in records:
        rows = []
        for requirement in record.requires:
            targets = _resolve(record, requirement, providers, by_location, records)
            if targets:
                rows.append((requirement.for_extra, targets, requirement.extras, requirement.weak))
        resolved.append(rows)
    # Extras switch on requirements of their package; fold until no new extra is asked for.
    active: list[set[str]] = [{""} for _ in records]
    changed = True
    while changed:
        changed = False
        for index, rows in enumerate(resolved):
            for for_extra, targets, extras, _weak in rows:
                if for_extra not in active[index] or not extras:
                    continue
                for target in targets:
                    new = set(extras) - active[target]
                    if new:
                        active[target] |= new
                        changed = True
    every = []
    hard = []
    for index, rows in enumerate(resolved):
        live = [row for row in rows if row[0] in active[index]]
        every.append(frozenset(target for row in live for target in row[1]))
        hard.append(frozenset(target for row in live if not row[3] for target in row[1]))
    return every, hard


def _resolve(
    record: PackageRecord,
    requirement: Requirement,
    providers: dict[tuple[Ecosystem, str], list[int]],
    by_location: dict[tuple[Ecosystem, str], int],
    records: Sequence[PackageRecord],
) -> list[int]:
    if requirement.location:
        found = by_location.get((record.ecosystem, requirement.location))
        return [found] if found is not None else []
    if record.ecosystem in _RESOLVED_BY_CATALOGER:
        return []  # the cataloger looked and found no installed copy
    targets: list[int] = []
    for name in requirement.names:
        candidates = providers.get((record.ecosystem, name), [])
        targets += _nearest(record.location, candidates, records)
    return targets


def _nearest(location: str, candidates: list[int], records: Sequence[PackageRecord]) -> list[int]:
    """The candidates installed closest to ``location`` (a venv's own copy before the system's);
    every candidate at the same distance."""
    if len(candidates) < 2:
        return candidates
    here = posixpath.dirname(location)

    def shared(index: int) -> int:
        there = posixpath.dirname(records[index].location)
        return len(posixpath.commonpath([here, there])) if here and there else 0

    best = max(shared(index) for index in candidates)
    return [index for index in candidates if shared(index) == best]
