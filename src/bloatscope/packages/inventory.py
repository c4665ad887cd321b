"""From package records to measured packages: sizes from the tree, the dependency graph, the
exclusive closure of every top-level package, and what-if removal by name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.image import Image
from bloatscope.model.package import Package, PackageInventory, PackageRecord, Removal
from bloatscope.model.report import ShadowedFile
from bloatscope.model.tree import ContentId, FileSystem, FsNode
from bloatscope.packages.attribution import Attribution, unowned
from bloatscope.packages.dev_tools import dev_reason
from bloatscope.packages.graph import PackageGraph

UNOWNED_GROUPS = 20


class Inventory:
    """The measured packages of one image and the graph behind them."""

    def __init__(
        self,
        records: Sequence[PackageRecord],
        image: Image,
        filesystem: FileSystem,
        nodes: Sequence[tuple[str, FsNode]],
        shadowed: Iterable[ShadowedFile] = (),
    ) -> None:
        """``shadowed``: the image's hidden layer entries (Reclaimable.files), which give the
        bytes packages shipped beyond what the final tree shows."""
        self.records = tuple(records)
        self.graph = PackageGraph(self.records)
        self.attribution = Attribution(self.records, image, filesystem, nodes, shadowed)
        attribution = self.attribution
        closures = self.graph.exclusive_closures()
        packages = []
        for index, record in enumerate(self.records):
            top = self.graph.top_level[index]
            closure = closures[index] if top else frozenset()
            packages.append(
                Package(
                    record=record,
                    size_bytes=attribution.size(index),
                    shipped_bytes=attribution.shipped[index],
                    file_count=attribution.file_counts[index],
                    layers=attribution.layers[index],
                    layer=self.attribution.main_layer(index),
                    top_level=top,
                    exclusive_bytes=self.attribution.freed_bytes(closure) if top else 0,
                    exclusive_packages=self._names(index, closure),
                    dev_only=dev_reason(record),
                )
            )
        self.packages = tuple(packages)

    def _names(self, first: int, closure: frozenset[int]) -> tuple[str, ...]:
        if not closure:
            return ()
        rest = sorted(self.records[i].name for i in closure if i != first)
        return (self.records[first].name, *rest)

    def find(self, name: str) -> list[int]:
        """Records a user's name means: ``torch``, ``python:torch`` or ``dpkg:gcc-12``; Python
        names compare the way pip does (``Foo_Bar`` is ``foo-bar``)."""
        ecosystem: Ecosystem | None = None
        prefix, _, rest = name.partition(":")
        if rest and prefix in Ecosystem.__members__.values():
            ecosystem, name = Ecosystem(prefix), rest
        wanted = name.strip().lower()
        python_name = canonicalize_name(wanted)
        return [
            i
            for i, record in enumerate(self.records)
            if (ecosystem is None or record.ecosystem is ecosystem)
            and (
                record.name.lower() == wanted
                or (record.ecosystem is Ecosystem.PYTHON and record.name == python_name)
            )
        ]

    def removal(self, indexes: Sequence[int]) -> Removal:
        removed = self.graph.removal(indexes)
        return Removal(
            asked=tuple(self.packages[i] for i in indexes),
            removed=tuple(self.packages[i] for i in sorted(removed)),
            freed_bytes=self.attribution.freed_bytes(removed),
            unknown=(),
        )

    def what_if_remove(self, names: Sequence[str]) -> Removal:
        indexes: list[int] = []
        unknown: list[str] = []
        for name in names:
            found = self.find(name)
            if found:
                indexes += [i for i in found if i not in indexes]
            else:
                unknown.append(name)
        result = self.removal(indexes)
        return Removal(result.asked, result.removed, result.freed_bytes, tuple(unknown))

    def model(
        self, files: Sequence[tuple[str, int, ContentId]], warnings: Sequence[str]
    ) -> PackageInventory:
        owned = self.attribution.take_owned_contents()
        owned_bytes = self.attribution.owned_bytes
        total = sum(item[1] for item in files)
        return PackageInventory(
            packages=self.packages,
            unowned=unowned(files, owned, UNOWNED_GROUPS),
            owned_bytes=owned_bytes,
            unowned_bytes=total - owned_bytes,
            warnings=tuple(warnings),
            what_if_remove=self.what_if_remove,
        )
