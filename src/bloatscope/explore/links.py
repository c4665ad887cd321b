"""What selecting something outside the file tree points at inside it: a finding's paths, a
package's files, the layer that wrote a path. Paths come back root-relative, as tree rows
carry them."""

from __future__ import annotations

from bloatscope.explore.base import CompareMode
from bloatscope.explore.compare import ABSENT, FileTree, build_tree
from bloatscope.explore.index import ROOT
from bloatscope.model.entry import FileEntry
from bloatscope.model.finding import Finding
from bloatscope.model.package import Package, PackageRecord
from bloatscope.model.report import Report
from bloatscope.model.tree import DiffState, FsNode
from bloatscope.packages.attribution import PathResolver


def finding_paths(report: Report, finding: Finding) -> tuple[str, ...]:
    """The finding's paths (its biggest ones), root-relative, in its order, once each. A
    deleted or overwritten file is not in the final tree: its paths are found in the tree of
    the finding's layer."""
    del report  # the finding carries its paths; kept in the signature for symmetry
    return tuple(dict.fromkeys(path.strip("/") for path in finding.paths if path.strip("/")))


def package_paths(report: Report, package: Package | PackageRecord) -> frozenset[str]:
    """The package's files that exist in the final tree, with symlinked directories in the
    listed names resolved (dpkg lists /bin/ls where a merged-/usr image holds usr/bin/ls);
    for an npm-style package, its ``trees``: each directory and everything below it, except
    the deeper trees of other packages (its nested node_modules dependencies)."""
    record = package.record if isinstance(package, Package) else package
    filesystem = report.filesystem
    resolver = PathResolver(filesystem)
    found = {path for path in map(resolver.resolve, record.files) if filesystem.get(path)}
    if record.trees:
        others = _other_trees(report, record, resolver)
        for tree in record.trees:
            top = resolver.resolve(tree)
            node = filesystem.get(top) if top else None
            if node is not None and top not in others:
                found.add(top)
                _collect(top, node, others, found)
    found.discard("")
    return frozenset(found)


def _other_trees(report: Report, record: PackageRecord, resolver: PathResolver) -> set[str]:
    if report.packages is None:
        return set()
    return {
        resolver.resolve(tree)
        for package in report.packages.packages
        if package.record.key != record.key
        for tree in package.record.trees
    }


def _collect(top: str, node: FsNode, others: set[str], found: set[str]) -> None:
    pending = [(top, node)]
    while pending:
        path, directory = pending.pop()
        for name, child in (directory.children or {}).items():
            child_path = f"{path}/{name}"
            if child_path in others:
                continue  # another package's tree
            found.add(child_path)
            if child.children:
                pending.append((child_path, child))


def layer_of(report: Report, path: str, *, upto: int | None = None) -> int | None:
    """The layer that wrote the version of ``path`` the final tree holds (for a directory no
    layer has an entry for, the layer that first needed it), following symlinked directories
    on the way as the final tree was built; None when it does not hold the path.

    With ``upto``: the layer that wrote the version the tree of layer ``upto`` shows, by the
    literal path, as that tree holds it; for a path that layer (or an earlier one, in the
    aggregated tree) deleted, the layer that wrote what was deleted."""
    if upto is not None:
        shown = build_tree(report, upto, CompareMode.AGGREGATED).get(path)
        return shown.layer if shown is not None else None
    relative = PathResolver(report.filesystem).resolve(path.strip("/"))
    node = report.filesystem.get(relative) if relative else None
    if node is None or node.layer < 0:
        return None
    return node.layer


def shown_under(tree: FileTree, path: str) -> list[tuple[int, FileEntry]]:
    """What the tree shows beneath directory ``path``, as (layer, entry) pairs for
    ``reader.extract.extract_listing``: each path's entry from the layer that wrote it, removed
    paths left out, parents before children. Empty for a path not in the tree."""
    node = tree.index.ids.get(path.strip("/"))
    if node is None or (node != ROOT and tree.states[node] == ABSENT):
        return []
    found: list[tuple[int, FileEntry]] = []
    removed = int(DiffState.REMOVED)
    pending = list(reversed(tree.index.children(node)))
    while pending:
        child = pending.pop()
        state = tree.states[child]
        if state in (ABSENT, removed):
            continue
        entry = tree.entries[child]
        if entry is not None:
            found.append((tree.origins[child], entry))
        pending.extend(reversed(tree.index.children(child)))
    return found
