"""Installed packages as an image's package databases list them, measured against its tree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bloatscope.model.ecosystem import Ecosystem


@dataclass(frozen=True, slots=True)
class Requirement:
    """One dependency as a database states it. ``names`` holds alternatives (dpkg's ``a | b``):
    any one installed satisfies it. ``extras`` are the Python extras it asks of its target;
    ``for_extra`` is the extra of the *requiring* package that brings it in ("" always)."""

    names: tuple[str, ...]
    extras: tuple[str, ...] = ()
    for_extra: str = ""
    # Set when the cataloger resolved the dependency to one installed copy itself (npm's nested
    # node_modules lookup): that copy's PackageRecord.location. Otherwise names are looked up
    # among the ecosystem's packages, nearest location first.
    location: str = ""
    # A weak requirement (dpkg Recommends, npm optionalDependencies) keeps its target installed
    # the way ``apt autoremove`` does, but removing the target breaks nothing.
    weak: bool = False


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """A package as its database describes it, before any measuring.

    ``name`` is normalized the way its ecosystem compares names (PEP 503 for Python, lower case
    for dpkg); ``display_name`` is as written. ``files`` are root-relative paths without a
    leading slash, normalized (no ``.`` or ``..`` parts), directories included when the database
    lists them. ``files_known`` is False when the database lists no files (Debian-built Python
    dist-info without RECORD, distroless status.d without md5sums). ``requested`` says whether
    it was installed on purpose (pip's REQUESTED, apt's manual mark, a root package.json's
    dependencies); None when the database cannot say. ``dev`` is the database's own dev mark
    (npm's ``"dev": true``). ``essential`` packages cannot be removed (dpkg Essential: yes).
    ``provides`` are other names it answers to (dpkg and apk virtual packages, rpm provides).
    ``location`` is the database file (or dist-info directory) the record came from."""

    ecosystem: Ecosystem
    name: str
    version: str
    location: str
    files: tuple[str, ...] = ()
    files_known: bool = True
    # Directories whose whole subtree is the package's (npm lists no files): every file below,
    # except those under a deeper directory that is another package's tree.
    trees: tuple[str, ...] = ()
    requires: tuple[Requirement, ...] = ()
    requested: bool | None = None
    dev: bool = False
    essential: bool = False
    provides: tuple[str, ...] = ()
    display_name: str = ""
    extras: tuple[str, ...] = ()  # Python: the extras it offers (Provides-Extra)

    @property
    def label(self) -> str:
        return self.display_name or self.name

    @property
    def key(self) -> tuple[Ecosystem, str, str]:
        """Identity within an image: the same name may be installed in two places (two venvs,
        nested node_modules), so the location is part of it."""
        return (self.ecosystem, self.name, self.location)


@dataclass(frozen=True, slots=True)
class Package:
    """A package measured against the image.

    ``size_bytes``: bytes of its files in the final tree (regular files; hardlinks once).
    ``shipped_bytes``: bytes its paths took in every layer that wrote them, hidden copies too.
    ``file_count``: its files in the final tree that hold content (hardlinks included).
    ``layers``: the layers that wrote any of its files, in stack order.
    ``top_level``: nothing else installed needs it (or it was installed on request).
    ``exclusive_bytes``: for top-level packages, what uninstalling it with every dependency
    nothing else needs would free (its exclusive closure); 0 otherwise.
    ``dev_only``: why it is a build or development tool, or "" when it is not."""

    record: PackageRecord
    size_bytes: int
    shipped_bytes: int
    file_count: int
    layers: tuple[int, ...]
    layer: int | None  # the layer that wrote the most of its final bytes
    top_level: bool
    exclusive_bytes: int
    exclusive_packages: tuple[str, ...]  # names in its exclusive closure, itself first
    dev_only: str = ""

    @property
    def ecosystem(self) -> Ecosystem:
        return self.record.ecosystem

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> str:
        return self.record.version


@dataclass(frozen=True, slots=True)
class UnownedBytes:
    """Final-tree bytes no package claims, grouped by directory and the layer that wrote them."""

    directory: str
    layer: int
    size_bytes: int
    file_count: int


@dataclass(frozen=True, slots=True)
class Removal:
    """What uninstalling some packages would take with it, and the bytes that frees."""

    asked: tuple[Package, ...]  # the packages named
    removed: tuple[Package, ...]  # the asked ones and every dependency nothing else needs
    freed_bytes: int
    unknown: tuple[str, ...]  # names given that no package has


@dataclass(frozen=True, slots=True)
class PackageInventory:
    """Every package of the image, measured; the bytes nobody owns; and what-if removal."""

    packages: tuple[Package, ...]  # system ecosystems first, each in database order
    unowned: tuple[UnownedBytes, ...]  # the largest groups, largest first
    owned_bytes: int  # final bytes at least one package owns
    unowned_bytes: int  # final bytes no package owns
    warnings: tuple[str, ...]
    # names (optionally "ecosystem:name") -> the removal; kept as a callable so the report
    # model need not know the dependency graph behind it
    what_if_remove: Callable[[Sequence[str]], Removal] = field(compare=False, repr=False)

    def largest(self, count: int) -> tuple[Package, ...]:
        return tuple(sorted(self.packages, key=lambda p: (-p.size_bytes, p.name))[:count])
