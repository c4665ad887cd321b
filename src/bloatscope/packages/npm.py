"""npm packages: every ``node_modules/<name>`` and ``node_modules/@scope/<name>`` directory that
holds a package.json, its dependencies resolved the way Node finds them (the nearest enclosing
``node_modules`` first), its dev mark from the project's lockfile (or, without one, from what the
project's package.json reaches only through devDependencies), and whether the project or
``npm -g`` asked for it.

An install is grouped under its *project root*: the directory before the first ``node_modules``
of a package's path. The root's package.json (when there is one) says what was requested; its
lockfile says what is dev. ``<prefix>/lib/node_modules`` with no ``<prefix>/lib/package.json`` is
a global prefix (``npm -g``): its top-level packages were each requested.

npm lists no files: a package owns its directory's subtree (``trees``), minus the deeper
``node_modules`` packages, which the measuring code leaves to their own records."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import PackageRecord, Requirement
from bloatscope.packages.base import Cataloger, CatalogError, ImageFiles

Warn = Callable[[str], None]

# A package directory's name below node_modules. Real names never start with "." or "_", so
# node_modules/.bin, .cache and .pnpm are not packages; "@scope" alone is not one either.
_NAME_IN_DIRECTORY = r"(?:@[^/]+/)?[^/@.][^/]*"
_PACKAGE_MANIFEST = re.compile(rf"(?:^|/)node_modules/{_NAME_IN_DIRECTORY}/package\.json$")
_DEPENDENCY_NAME = re.compile(_NAME_IN_DIRECTORY)
_TOP_LEVEL = re.compile(rf"node_modules/{_NAME_IN_DIRECTORY}")

# What the reader keeps. Inside node_modules: a package directory's own package.json (the
# package.json files of a package's sub-directories, node_modules/x/lib/package.json, are many
# and are not packages) and the hidden lockfile. Outside node_modules: every package.json and
# lockfile, because a path cannot say whether a node_modules directory sits beside it; that
# also keeps the few stray package.json files of an image (docs, fixtures), small and never
# parsed unless a node_modules directory makes them a project root. The suffix prefilter lets
# only names ending in these reach the regex. Written as one branch on "start or /" because
# the reader's combined pattern tries every top-level alternative at every position: a separate
# "^..." alternative measured about 1 us more per name searched.
_SUFFIXES = ("package.json", "package-lock.json", "npm-shrinkwrap.json")
_IN_NODE_MODULES = rf"node_modules/(?:{_NAME_IN_DIRECTORY}/package|\.package-lock)\.json$"
_OUTSIDE_NODE_MODULES = (
    r"(?!(?:.*/)?node_modules/)(?:.*/)?(?:package|package-lock|npm-shrinkwrap)\.json$"
)
_CAPTURE = rf"(?:^(?:{_OUTSIDE_NODE_MODULES}|{_IN_NODE_MODULES})|/{_IN_NODE_MODULES})"

# Which lockfile tells the dev marks, most faithful to node_modules first: npm 7+ rewrites the
# hidden one on every install; a shrinkwrap wins over package-lock.json when both exist.
_LOCKFILES = ("node_modules/.package-lock.json", "npm-shrinkwrap.json", "package-lock.json")

# npm's own tree (145 packages, 351 dependencies) takes 352 lookups; this bounds the worst case
# to about a second.
_RESOLUTION_TRIES = 2_000_000


class NpmCataloger(Cataloger):
    ecosystem = Ecosystem.NPM
    capture = _CAPTURE
    capture_suffixes = _SUFFIXES

    def catalog(self, files: ImageFiles, warn: Warn) -> list[PackageRecord]:
        manifests = {
            posixpath.dirname(path): _read_manifest(files, path, warn)
            for path in files.find(_PACKAGE_MANIFEST)
        }
        parsed = {
            directory: manifest for directory, manifest in manifests.items() if manifest is not None
        }
        resolver = _Resolver(manifests, warn)
        # shallowest first: should the lookup budget run out, the top-level packages keep theirs
        requires = {
            directory: _requirements(directory, parsed[directory], resolver)
            for directory in sorted(parsed, key=lambda directory: directory.count("/"))
        }
        records: list[PackageRecord] = []
        for root, directories in _by_project_root(requires).items():
            project = _read_project(files, root, warn)
            edges = {
                directory: tuple(requirement.location for requirement in requires[directory])
                for directory in directories
            }
            marks = _Marks.of(project, resolver, edges)
            records += (
                _record(directory, parsed[directory], requires[directory], marks)
                for directory in directories
            )
        return sorted(records, key=lambda record: record.location)


@dataclass(frozen=True, slots=True)
class _Manifest:
    """What cataloging needs of one package.json."""

    name: str
    version: str
    dependencies: tuple[str, ...]
    optional: tuple[str, ...]
    peer: tuple[str, ...]
    optional_peer: frozenset[str]
    dev: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Project:
    """One project root: its package.json, its lockfile's dev marks (by path relative to the
    root), and whether it is a global prefix."""

    root: str
    manifest: _Manifest | None
    lock_dev: Mapping[str, bool] | None
    is_global: bool


@dataclass(frozen=True, slots=True)
class _Marks:
    """The requested and dev marks of one project's packages."""

    project: _Project
    requested: frozenset[str]
    dev_by_reach: frozenset[str]

    @classmethod
    def of(
        cls, project: _Project, resolver: _Resolver, edges: Mapping[str, tuple[str, ...]]
    ) -> _Marks:
        """``edges``: where each of the project's own packages' requirements resolved."""
        manifest = project.manifest
        if manifest is None:
            return cls(project, frozenset(), frozenset())

        def resolved(names: Iterable[str]) -> set[str]:
            found = (resolver.resolve(project.root, name) for name in names)
            return {location for location in found if location}

        production = resolved((*manifest.dependencies, *manifest.optional, *manifest.peer))
        development = resolved(manifest.dev)
        requested = resolved((*manifest.dependencies, *manifest.dev, *manifest.optional))
        # npm's own definition of dev: reachable from devDependencies, not from the rest;
        # walked within the project, whose dev marks are its own
        dev_only = _reachable(development, edges) - _reachable(production, edges)
        return cls(project, frozenset(requested), frozenset(dev_only))

    def is_requested(self, directory: str) -> bool | None:
        if self.project.is_global:
            return bool(_TOP_LEVEL.fullmatch(_relative(directory, self.project.root)))
        if self.project.manifest is None:
            return None
        return directory in self.requested

    def is_dev(self, directory: str) -> bool:
        by_reach = directory in self.dev_by_reach
        lock_dev = self.project.lock_dev
        if lock_dev is None:
            return by_reach
        return lock_dev.get(_relative(directory, self.project.root), by_reach)


def _record(
    directory: str,
    manifest: _Manifest,
    requires: tuple[Requirement, ...],
    marks: _Marks,
) -> PackageRecord:
    return PackageRecord(
        ecosystem=Ecosystem.NPM,
        name=manifest.name or _directory_name(directory),
        version=manifest.version,
        location=directory,
        files=(),
        files_known=True,
        trees=(directory,),
        requires=requires,
        requested=marks.is_requested(directory),
        dev=marks.is_dev(directory),
    )


def _directory_name(directory: str) -> str:
    return _split_package_directory(directory)[1]


def _requirements(
    directory: str, manifest: _Manifest, resolver: _Resolver
) -> tuple[Requirement, ...]:
    """One requirement per dependency name. Optional ones are weak (an entry in
    optionalDependencies overrides the same name in dependencies, as in npm). Peers count only
    when installed: npm before 7 left them to the app, and an optional peer stays out until
    something else brings it."""
    optional = set(manifest.optional)
    requirements: dict[str, Requirement] = {}
    for name in (*manifest.dependencies, *manifest.optional):
        if name not in requirements:
            location = resolver.resolve(directory, name)
            requirements[name] = Requirement((name,), location=location, weak=name in optional)
    for name in manifest.peer:
        location = "" if name in requirements else resolver.resolve(directory, name)
        if location:
            weak = name in manifest.optional_peer
            requirements[name] = Requirement((name,), location=location, weak=weak)
    return tuple(requirements.values())


class _Resolver:
    """Node's lookup of a dependency from a package directory: its own node_modules, then each
    ancestor's, nearest first. Only ancestors whose node_modules hold a package are tried, and
    the whole catalog gets a budget of tries, so a hostile tree (thousands of nesting levels,
    each package naming thousands of dependencies) cannot stall cataloging; past the budget,
    dependencies stay unresolved and one warning says so."""

    def __init__(self, installed: Mapping[str, _Manifest | None], warn: Warn) -> None:
        # directory holding a node_modules -> package name -> whether its package.json parsed
        self._installed_at: dict[str, dict[str, bool]] = {}
        for directory, manifest in installed.items():
            home, name = _split_package_directory(directory)
            self._installed_at.setdefault(home, {})[name] = manifest is not None
        # the chain holds each directory with its names: a lookup by a long, equal but not
        # identical directory string would compare it in full every time
        self._chains: dict[str, tuple[tuple[str, dict[str, bool]], ...]] = {}
        self._tries_left = _RESOLUTION_TRIES
        self._warn = warn

    def resolve(self, directory: str, name: str) -> str:
        """The package directory found, or "" (none, or one whose package.json is broken)."""
        if self._tries_left <= 0 or not _DEPENDENCY_NAME.fullmatch(name):
            return ""
        chain = self._chain(directory)
        for tries, (home, names) in enumerate(chain, 1):
            parsed = names.get(name)
            if parsed is not None:
                self._spend(tries, directory)
                return posixpath.join(home, "node_modules", name) if parsed else ""
        self._spend(len(chain), directory)
        return ""

    def _chain(self, directory: str) -> tuple[tuple[str, dict[str, bool]], ...]:
        """The directories whose node_modules a lookup from ``directory`` tries, nearest first;
        built from the parent's chain, so each directory's is computed once."""
        unknown: list[str] = []
        here = directory
        while here not in self._chains:
            unknown.append(here)
            if not here:
                break
            here = posixpath.dirname(here)
        chain = self._chains.get(here, ())
        for step in reversed(unknown):
            names = self._installed_at.get(step)
            # Node never looks in node_modules/node_modules
            if names is not None and posixpath.basename(step) != "node_modules":
                chain = ((step, names), *chain)
            self._chains[step] = chain
        return chain

    def _spend(self, tries: int, directory: str) -> None:
        before = self._tries_left
        self._tries_left -= tries
        if before > 0 >= self._tries_left:
            self._warn(f"{directory}: too many dependency lookups; the rest left unresolved")


def _split_package_directory(directory: str) -> tuple[str, str]:
    """A package directory (``<home>/node_modules/<name>`` or ``.../@scope/<name>``) as (home,
    name). String splits, not a regex search: paths of hostile images may be very deep."""
    head, _, name = directory.rpartition("/")
    if head.rpartition("/")[2].startswith("@"):
        head, _, scope = head.rpartition("/")
        name = f"{scope}/{name}"
    return head.removesuffix("node_modules").removesuffix("/"), name


def _reachable(start: Iterable[str], edges: Mapping[str, tuple[str, ...]]) -> set[str]:
    seen = set(start)
    pending = list(seen)
    while pending:
        for target in edges.get(pending.pop(), ()):
            if target and target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def _by_project_root(directories: Iterable[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for directory in sorted(directories):
        groups.setdefault(_project_root(directory), []).append(directory)
    return groups


def _project_root(directory: str) -> str:
    parts = directory.split("/")
    return "/".join(parts[: parts.index("node_modules")])


def _relative(directory: str, root: str) -> str:
    return directory[len(root) + 1 :] if root else directory


def _read_project(files: ImageFiles, root: str, warn: Warn) -> _Project:
    manifest_path = posixpath.join(root, "package.json")
    manifest = _read_manifest(files, manifest_path, warn)
    lock_dev = _read_lock_dev(files, root, warn)
    is_global = (
        posixpath.basename(root) == "lib" and manifest is None and not files.exists(manifest_path)
    )
    return _Project(root, manifest, lock_dev, is_global)


def _read_manifest(files: ImageFiles, path: str, warn: Warn) -> _Manifest | None:
    try:
        document = _read_object(files, path)
    except CatalogError as error:
        warn(f"{error.path}: {error}")
        return None
    if document is None:
        return None
    return _Manifest(
        name=_text(document.get("name")),
        version=_text(document.get("version")),
        dependencies=_keys(document.get("dependencies")),
        optional=_keys(document.get("optionalDependencies")),
        # npm treats an optional peer named only in peerDependenciesMeta as a peer too
        peer=_keys(document.get("peerDependencies")) + _keys(document.get("peerDependenciesMeta")),
        optional_peer=_optional_peers(document.get("peerDependenciesMeta")),
        dev=_keys(document.get("devDependencies")),
    )


def _read_lock_dev(files: ImageFiles, root: str, warn: Warn) -> Mapping[str, bool] | None:
    """The first readable lockfile's dev marks, by package path relative to the root."""
    for name in _LOCKFILES:
        path = posixpath.join(root, name)
        try:
            document = _read_object(files, path)
            if document is not None:
                return _lock_dev_marks(document, path)
        except CatalogError as error:
            warn(f"{error.path}: {error}")
    return None


def _lock_dev_marks(document: Mapping[str, object], path: str) -> dict[str, bool]:
    packages = document.get("packages")
    if isinstance(packages, dict):  # lockfileVersion 2 and 3
        return {
            key: entry.get("dev") is True or entry.get("devOptional") is True
            for key, entry in packages.items()
            if key and isinstance(entry, dict)
        }
    dependencies = document.get("dependencies")
    if isinstance(dependencies, dict):  # lockfileVersion 1 (npm 5 and 6): a nested tree
        return _nested_lock_dev_marks(dependencies)
    raise CatalogError("lockfile lists no packages", path)


def _nested_lock_dev_marks(dependencies: Mapping[str, object]) -> dict[str, bool]:
    marks: dict[str, bool] = {}
    pending: list[tuple[str, Mapping[str, object]]] = [("", dependencies)]
    while pending:
        prefix, entries = pending.pop()
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            key = f"{prefix}node_modules/{name}"
            marks[key] = entry.get("dev") is True
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                pending.append((key + "/", nested))
    return marks


def _read_object(files: ImageFiles, path: str) -> dict[str, object] | None:
    """The JSON object in a captured file; None when the file is not there."""
    data = files.read(path)
    if data is None:
        if files.exists(path) and not files.listdir(path):
            raise CatalogError("present but not kept (too large, or not a regular file)", path)
        return None
    try:
        # npm strips a byte-order mark; json refuses one
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CatalogError("not UTF-8", path) from None
    except json.JSONDecodeError as error:
        raise CatalogError(f"not JSON: {error.msg} at line {error.lineno}", path) from None
    except RecursionError:
        raise CatalogError("JSON nested too deeply", path) from None
    except ValueError as error:  # an integer literal too long to convert
        raise CatalogError(f"not JSON: {error}", path) from None
    if not isinstance(document, dict):
        raise CatalogError("not a JSON object", path)
    return document


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _keys(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, dict) else ()


def _optional_peers(meta: object) -> frozenset[str]:
    if not isinstance(meta, dict):
        return frozenset()
    return frozenset(
        name for name, entry in meta.items() if isinstance(entry, dict) and entry.get("optional")
    )
