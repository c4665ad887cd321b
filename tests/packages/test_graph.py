"""The dependency graph: resolution by name, provides, location and extras; top-level packages;
what removal takes with it; which dev tools can go."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.graph import PackageGraph

PY = Ecosystem.PYTHON
DPKG = Ecosystem.DPKG


def py(
    name: str,
    *requires: Requirement,
    requested: bool | None = None,
    site: str = "site",
    extras: tuple[str, ...] = (),
) -> PackageRecord:
    return PackageRecord(
        PY,
        name,
        "1.0",
        f"{site}/{name}-1.0.dist-info",
        requires=requires,
        requested=requested,
        extras=extras,
    )


def req(
    name: str, *, extras: tuple[str, ...] = (), for_extra: str = "", weak: bool = False
) -> Requirement:
    return Requirement((name,), extras=extras, for_extra=for_extra, weak=weak)


def names(graph: PackageGraph, indexes: set[int] | frozenset[int]) -> set[str]:
    return {graph.records[i].name for i in indexes}


def test_removal_takes_exclusive_dependencies_only() -> None:
    records = [
        py("app", req("requests"), req("numpy"), requested=True),
        py("jupyter", req("ipython"), req("numpy"), requested=True),
        py("ipython", req("traitlets")),
        py("traitlets"),
        py("requests", req("urllib3")),
        py("urllib3"),
        py("numpy"),
    ]
    graph = PackageGraph(records)
    assert names(graph, graph.roots) == {"app", "jupyter"}
    assert graph.top_level == (True, True, False, False, False, False, False)
    assert names(graph, graph.removal([1])) == {"jupyter", "ipython", "traitlets"}
    # numpy stays: app needs it; removing both frees everything
    assert names(graph, graph.removal([0, 1])) == {r.name for r in records}


def test_requested_package_needed_by_another_still_frees_itself() -> None:
    records = [py("pandas", req("numpy"), requested=True), py("numpy", requested=True)]
    graph = PackageGraph(records)
    assert graph.top_level == (True, True)
    assert names(graph, graph.removal([1])) == {"numpy"}
    assert names(graph, graph.removable([1])) == set()  # pandas needs it


def test_extras_bring_in_their_requirements_only_when_asked_for() -> None:
    records = [
        py("app", req("transformers", extras=("torch",)), requested=True),
        py(
            "transformers",
            req("torch", for_extra="torch"),
            req("tf", for_extra="tf"),
            extras=("torch", "tf"),
        ),
        py("torch"),
        py("tf"),  # installed, but no one asks for transformers[tf]
    ]
    graph = PackageGraph(records)
    assert names(graph, graph.edges[1]) == {"torch"}
    assert graph.top_level == (True, False, False, True)
    assert names(graph, graph.removal([0])) == {"app", "transformers", "torch"}


def test_nearest_copy_resolves_a_name_installed_twice() -> None:
    records = [
        py("tool", req("lib"), requested=True, site="opt/venv/lib/python3.11/site-packages"),
        py("lib", site="opt/venv/lib/python3.11/site-packages"),
        py("lib", site="usr/lib/python3/dist-packages"),
    ]
    graph = PackageGraph(records)
    assert graph.edges[0] == frozenset({1})
    assert graph.top_level == (True, False, True)


def test_alternatives_provides_and_weak_requirements() -> None:
    records = [
        PackageRecord(
            DPKG,
            "pip",
            "1",
            "s",
            requires=(
                Requirement(("build-essential",), weak=True),
                Requirement(("mail-transport-agent",)),
            ),
            requested=True,
        ),
        PackageRecord(
            DPKG,
            "build-essential",
            "1",
            "s",
            requires=(Requirement(("gcc", "clang")),),
            requested=True,
        ),
        PackageRecord(DPKG, "gcc", "1", "s", requested=False),
        PackageRecord(DPKG, "exim", "1", "s", provides=("mail-transport-agent",)),
        PackageRecord(DPKG, "base", "1", "s", essential=True, requested=False),
    ]
    graph = PackageGraph(records)
    assert graph.edges[0] == frozenset({1, 3})
    assert graph.hard_edges[0] == frozenset({3})
    assert graph.edges[1] == frozenset({2})  # clang is not installed: no edge
    assert 4 in graph.roots  # essential, though needed by nothing and auto-installed
    # pip only recommends build-essential: it may go, with gcc
    assert names(graph, graph.removable([1])) == {"build-essential"}
    assert names(graph, graph.removal([1])) == {"build-essential", "gcc"}
    # a hard requirement keeps a candidate
    assert graph.removable([3]) == frozenset()


def test_exact_location_beats_names() -> None:
    records = [
        PackageRecord(
            Ecosystem.NPM,
            "app",
            "1",
            "app/node_modules/a",
            requires=(Requirement(("ms",), location="app/node_modules/a/node_modules/ms"),),
            requested=True,
        ),
        PackageRecord(Ecosystem.NPM, "ms", "2", "app/node_modules/ms", requested=True),
        PackageRecord(Ecosystem.NPM, "ms", "1", "app/node_modules/a/node_modules/ms"),
        PackageRecord(
            Ecosystem.NPM,
            "gone",
            "1",
            "x",
            requires=(Requirement(("missing",), location="nowhere"),),
        ),
    ]
    graph = PackageGraph(records)
    assert graph.edges[0] == frozenset({2})
    assert graph.edges[3] == frozenset()


def test_unreached_cycles_are_roots() -> None:
    records = [py("a", req("b"), requested=False), py("b", req("a"), requested=False)]
    graph = PackageGraph(records)
    assert graph.roots == frozenset({0, 1})
    assert graph.top_level == (False, False)
    assert names(graph, graph.removal([0])) == {"a"}  # b keeps itself installed


def test_an_npm_requirement_the_cataloger_could_not_resolve_is_nothing() -> None:
    npm = Ecosystem.NPM
    records = [
        PackageRecord(
            npm,
            "app",
            "1",
            "a/node_modules/app",
            requires=(Requirement(("ms",), weak=True),),
            requested=True,
        ),
        PackageRecord(npm, "ms", "1", "usr/lib/node_modules/ms", requested=True),
    ]
    assert PackageGraph(records).edges[0] == frozenset()


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 12),
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=40),
    requested=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_exclusive_closures_equal_removal_of_each_package(
    size: int, edges: list[tuple[int, int]], requested: list[bool]
) -> None:
    """The dominator-tree shortcut against the definition, on random graphs with cycles,
    self-loops and packages nothing reaches."""
    needs: dict[int, set[int]] = {i: set() for i in range(size)}
    for source, target in edges:
        if source < size and target < size:
            needs[source].add(target)
    records = [
        py(f"p{i}", *(req(f"p{t}") for t in sorted(needs[i])), requested=requested[i] or None)
        for i in range(size)
    ]
    graph = PackageGraph(records)
    closures = graph.exclusive_closures()
    for index in graph.roots:
        assert closures[index] == graph.removal([index]), index
