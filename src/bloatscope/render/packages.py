"""Packages in reports: the per-ecosystem tables of ``bloatscope packages``, the largest
packages in ``analyze``, what-if removal, and the ``packages`` part of the JSON document."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bloatscope.model.ecosystem import Ecosystem
from bloatscope.model.package import Package, PackageInventory, Removal
from bloatscope.render.escape import safe
from bloatscope.render.units import human_bytes

ECOSYSTEM_LABELS = {
    Ecosystem.DPKG: "Debian packages (dpkg)",
    Ecosystem.APK: "Alpine packages (apk)",
    Ecosystem.RPM: "RPM packages",
    Ecosystem.PYTHON: "Python packages",
    Ecosystem.NPM: "npm packages",
    Ecosystem.CONDA: "conda packages",
}


def package_document(package: Package) -> dict[str, Any]:
    record = package.record
    return {
        "ecosystem": str(record.ecosystem),
        "name": record.name,
        "display_name": record.label,
        "version": record.version,
        "location": "/" + record.location,
        "size_bytes": package.size_bytes,
        "shipped_bytes": package.shipped_bytes,
        "file_count": package.file_count,
        "files_known": record.files_known,
        "layer": package.layer,
        "layers": list(package.layers),
        "top_level": package.top_level,
        "requested": record.requested,
        "exclusive_bytes": package.exclusive_bytes if package.top_level else None,
        "exclusive_packages": list(package.exclusive_packages),
        "dev_only": package.dev_only or None,
        "requires": sorted({name for req in record.requires for name in req.names}),
    }


def inventory_document(inventory: PackageInventory) -> dict[str, Any]:
    return {
        "owned_bytes": inventory.owned_bytes,
        "unowned_bytes": inventory.unowned_bytes,
        "unowned": [
            {
                "directory": safe_json(group.directory),
                "layer": group.layer,
                "size_bytes": group.size_bytes,
                "file_count": group.file_count,
            }
            for group in inventory.unowned
        ],
        "warnings": list(inventory.warnings),
    }


def removal_document(removal: Removal) -> dict[str, Any]:
    return {
        "asked": [f"{p.ecosystem}:{p.name}" for p in removal.asked],
        "unknown": list(removal.unknown),
        "freed_bytes": removal.freed_bytes,
        "removed": [
            {"ecosystem": str(p.ecosystem), "name": p.name, "version": p.version}
            for p in removal.removed
        ],
    }


def packages_json(reference: str, inventory: PackageInventory, removal: Removal | None) -> str:
    document: dict[str, Any] = {
        "reference": reference,
        "packages": [package_document(p) for p in inventory.packages],
        "package_summary": inventory_document(inventory),
    }
    if removal is not None:
        document["what_if_remove"] = removal_document(removal)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def safe_json(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def ecosystem_table(ecosystem: Ecosystem, packages: list[Package], top: int | None = None) -> Table:
    """All of an ecosystem's packages (largest first), or its ``top`` largest; the title
    counts them all either way."""
    total = sum(p.size_bytes for p in packages)
    shown = packages[:top] if top else packages
    title = f"{ECOSYSTEM_LABELS[ecosystem]}: {len(packages)}, {human_bytes(total)}"
    if len(shown) < len(packages):
        title += f" (the {len(shown)} largest shown)"
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("Name", overflow="fold")
    table.add_column("Version", overflow="fold")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Layer", justify="right", no_wrap=True)
    table.add_column("Exclusive", justify="right", no_wrap=True)
    table.add_column("Dev", no_wrap=True)
    for package in shown:
        exclusive = human_bytes(package.exclusive_bytes) if package.top_level else ""
        size = human_bytes(package.size_bytes) if package.record.files_known else "?"
        table.add_row(
            escape(safe(package.record.label)),
            escape(safe(package.version)),
            size,
            str(package.layer) if package.layer is not None else "",
            exclusive,
            Text(package.dev_only, style="yellow") if package.dev_only else "",
        )
    return table


def packages_view(inventory: PackageInventory, top: int | None) -> RenderableType:
    """One table per ecosystem, largest first (``top`` rows each, or all), then the bytes no
    package owns."""
    parts: list[RenderableType] = []
    by_ecosystem: dict[Ecosystem, list[Package]] = {}
    for package in inventory.packages:
        by_ecosystem.setdefault(package.ecosystem, []).append(package)
    for ecosystem, packages in by_ecosystem.items():
        ranked = sorted(packages, key=lambda p: (-p.size_bytes, p.name))
        parts += [ecosystem_table(ecosystem, ranked, top), Text("")]
    if not by_ecosystem:
        parts.append(Text("No package databases found.", style="dim"))
    parts.append(
        Text(
            f"Owned by packages: {human_bytes(inventory.owned_bytes)}; "
            f"owned by none: {human_bytes(inventory.unowned_bytes)}",
            style="bold",
        )
    )
    if inventory.unowned:
        table = Table(title="Bytes no package owns", title_justify="left", show_edge=False)
        table.add_column("Size", justify="right", no_wrap=True)
        table.add_column("Files", justify="right", no_wrap=True)
        table.add_column("Layer", justify="right", no_wrap=True)
        table.add_column("Directory", overflow="fold")
        for group in inventory.unowned[:10]:
            table.add_row(
                human_bytes(group.size_bytes),
                str(group.file_count),
                str(group.layer),
                escape(safe(group.directory)),
            )
        parts.append(table)
    parts += [Text(f"warning: {safe(w)}", style="yellow") for w in inventory.warnings]
    return Group(*parts)


def largest_packages_table(inventory: PackageInventory, top: int) -> Table:
    """For ``analyze``: the biggest packages of any ecosystem."""
    table = Table(title="Largest packages", title_justify="left", show_edge=False)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Layer", justify="right", no_wrap=True)
    table.add_column("Package", overflow="fold")
    table.add_column("Dev", no_wrap=True)
    for package in inventory.largest(top):
        table.add_row(
            human_bytes(package.size_bytes),
            str(package.layer) if package.layer is not None else "",
            escape(safe(f"{package.ecosystem}:{package.record.label} {package.version}")),
            Text(package.dev_only, style="yellow") if package.dev_only else "",
        )
    return table


def removal_view(removal: Removal) -> RenderableType:
    parts: list[RenderableType] = []
    if removal.unknown:
        parts.append(
            Text(f"not installed: {', '.join(safe(n) for n in removal.unknown)}", style="yellow")
        )
    asked = ", ".join(safe(p.record.label) for p in removal.asked) or "nothing"
    parts.append(
        Text(
            f"Removing {asked} takes {len(removal.removed)} packages and frees "
            f"{human_bytes(removal.freed_bytes)} ({removal.freed_bytes} bytes).",
            style="bold",
        )
    )
    if removal.removed:
        table = Table(show_edge=False)
        table.add_column("Package", overflow="fold")
        table.add_column("Version", overflow="fold")
        table.add_column("Size", justify="right", no_wrap=True)
        for package in sorted(removal.removed, key=lambda p: (-p.size_bytes, p.name)):
            table.add_row(
                escape(safe(f"{package.ecosystem}:{package.record.label}")),
                escape(safe(package.version)),
                human_bytes(package.size_bytes),
            )
        parts.append(table)
    return Group(*parts)
