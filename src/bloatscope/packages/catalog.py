"""Running the catalogers: what the reader must capture for them, and the final-tree view of
the captured database files they read."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence

from bloatscope.model.image import Image
from bloatscope.model.package import PackageRecord
from bloatscope.model.tree import FileSystem
from bloatscope.packages.apk import ApkCataloger
from bloatscope.packages.attribution import PathResolver
from bloatscope.packages.base import MAX_CAPTURED_BYTES, Cataloger, ImageFiles
from bloatscope.packages.conda import CondaCataloger
from bloatscope.packages.dpkg import DpkgCataloger
from bloatscope.packages.npm import NpmCataloger
from bloatscope.packages.python import PythonCataloger
from bloatscope.packages.rpm import RpmCataloger
from bloatscope.reader.layer import Capture


def catalogers() -> tuple[Cataloger, ...]:
    """Every cataloger, system package managers first (the order records are listed in)."""
    return (
        DpkgCataloger(),
        ApkCataloger(),
        RpmCataloger(),
        PythonCataloger(),
        CondaCataloger(),
        NpmCataloger(),
    )


def capture_for(chosen: Sequence[Cataloger]) -> Capture:
    """One pattern for the reader: any cataloger's files. The prefilter applies only when every
    cataloger declares one."""
    combined = "|".join(f"(?:{cataloger.capture})" for cataloger in chosen)
    filtered = all(c.capture_suffixes or c.capture_directories for c in chosen)
    suffixes = tuple(s.encode() for c in chosen for s in c.capture_suffixes) if filtered else ()
    directories = (
        tuple(d.encode() for c in chosen for d in c.capture_directories) if filtered else ()
    )
    preparing = tuple(c for c in chosen if type(c).prepare is not Cataloger.prepare)
    return Capture(
        re.compile(combined.encode()),
        MAX_CAPTURED_BYTES,
        suffixes,
        directories,
        functools.partial(prepare_captured, preparing) if preparing else None,
    )


def prepare_captured(chosen: Sequence[Cataloger], captured: dict[str, bytes]) -> dict[str, object]:
    """Every prepared value of one layer's captured files (in a reader worker process)."""
    prepared: dict[str, object] = {}
    for path, data in captured.items():
        for cataloger in chosen:
            value = cataloger.prepare(path, data)
            if value is not None:
                prepared[path] = value
                break
    return prepared


def image_files(
    image: Image,
    filesystem: FileSystem,
    captured: Sequence[dict[str, bytes]],
    prepared: Sequence[Mapping[str, object]] = (),
) -> ImageFiles:
    """The captured files the final tree still shows, by their final path (a file written
    under a symlinked parent directory is found where the symlink leads), with what was
    prepared of those the final tree shows where their layer wrote them."""
    resolver = PathResolver(filesystem)
    contents: dict[str, bytes] = {}
    ready: dict[str, object] = {}
    for layer, files in enumerate(captured):
        values = prepared[layer] if layer < len(prepared) else {}
        for path, data in files.items():
            node = filesystem.get(path)
            final = path
            if node is None:
                final = resolver.resolve(path)
                node = filesystem.get(final)
            # only the layer whose entry the final tree shows holds the final bytes
            entry = node.entry if node is not None else None
            if (
                node is not None
                and node.layer == layer
                and entry is not None
                and entry.path == path
            ):
                contents[final] = data
                value = values.get(path) if final == path else None
                if value is not None:
                    ready[path] = value

    def exists(path: str) -> bool:
        return filesystem.get(path) is not None

    def listdir(path: str) -> list[str]:
        node = filesystem.get(path)
        return sorted(node.children) if node is not None and node.children is not None else []

    return ImageFiles(contents, exists, listdir, image.platform, ready)


def catalog(
    files: ImageFiles, chosen: Sequence[Cataloger], warnings: list[str]
) -> list[PackageRecord]:
    """Every cataloger's records, in cataloger order; their complaints go to ``warnings``."""
    records: list[PackageRecord] = []
    for cataloger in chosen:
        records += cataloger.catalog(files, warnings.append)
    return records
