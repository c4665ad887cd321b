"""Image references (``docker-archive:PATH``, ``oci-archive:PATH``, ``oci-dir:PATH``, a bare
path) and opening them as a BlobStore. A bare path is sniffed; compressed tars are spooled."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

from bloatscope.model.layer import Compression
from bloatscope.reader.compression import DecodedBlob, sniff
from bloatscope.sources.base import BlobStore, SourceError
from bloatscope.sources.directory import DirectoryStore
from bloatscope.sources.tar_archive import TarArchiveStore

FILE_TRANSPORTS = ("docker-archive", "oci-archive", "oci-dir")
ALIASES = {"oci": "oci-dir", "docker-tar": "docker-archive"}
LATER_TRANSPORTS = ("registry", "docker", "podman", "containers-storage")


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed reference. ``transport`` is empty for a bare path (sniffed when opened);
    ``selector`` names one image inside an archive that holds several (a tag)."""

    transport: str
    location: str
    selector: str = ""

    def __str__(self) -> str:
        text = f"{self.transport}:{self.location}" if self.transport else self.location
        return f"{text}:{self.selector}" if self.selector else text


def parse_reference(text: str) -> Reference:
    if not text:
        raise SourceError("empty image reference")
    transport, sep, rest = text.partition(":")
    if sep and transport in ALIASES:
        transport = ALIASES[transport]
    if sep and transport in LATER_TRANSPORTS:
        raise SourceError(f"the {transport}: transport is not supported yet", path=text)
    if sep and transport in FILE_TRANSPORTS:
        return _with_selector(transport, rest)
    return _with_selector("", text)


def _with_selector(transport: str, rest: str) -> Reference:
    """``path:tag`` as skopeo writes it, unless the whole string is an existing path. The tag
    may hold colons itself (``app:1.0``), so the path is the longest prefix that exists."""
    if os.path.exists(rest) or ":" not in rest:
        return Reference(transport, rest)
    cut = len(rest)
    while (cut := rest.rfind(":", 0, cut)) > 0:
        if os.path.exists(rest[:cut]):
            return Reference(transport, rest[:cut], rest[cut + 1 :])
    return Reference(transport, rest)


def open_store(ref: Reference) -> tuple[BlobStore, str]:
    """Opens the reference; returns the store and its format: docker-archive, oci-archive or
    oci-dir."""
    path = ref.location
    if not os.path.exists(path):
        raise SourceError("no such file or directory", path=path)
    if os.path.isdir(path):
        if ref.transport not in ("", "oci-dir"):
            raise SourceError(f"is a directory, not a {ref.transport} file", path=path)
        store: BlobStore = DirectoryStore(path)
        if not store.has("index.json"):
            raise SourceError("is not an OCI image layout (no index.json)", path=path)
        return store, "oci-dir"
    if ref.transport == "oci-dir":
        raise SourceError("oci-dir: needs a directory", path=path)
    store = _open_tar(path)
    names = store.names()
    is_oci = "index.json" in names and "oci-layout" in names
    if ref.transport == "oci-archive":
        if not is_oci:
            store.close()
            raise SourceError("is not an OCI archive (no index.json and oci-layout)", path=path)
        return store, "oci-archive"
    if "manifest.json" in names:
        return store, "docker-archive"
    if ref.transport == "docker-archive":
        store.close()
        raise SourceError("is not a docker-archive (no manifest.json)", path=path)
    if is_oci:
        return store, "oci-archive"
    store.close()
    raise SourceError("is a tar but not an image (no manifest.json or index.json)", path=path)


def _open_tar(path: str) -> TarArchiveStore:
    with open(path, "rb") as handle:
        head = handle.read(8)
    compression = sniff(head)
    if compression is Compression.NONE:
        return TarArchiveStore(path)
    return TarArchiveStore(_spool(path, compression), label=path, cleanup=True)


def _spool(path: str, compression: Compression) -> str:
    """Decompresses a whole ``docker save | gzip`` file to a temporary tar: member order is
    unknown, so the index needs random access."""
    fd, spooled = tempfile.mkstemp(prefix="bloatscope-", suffix=".tar")
    try:
        with open(path, "rb") as raw, os.fdopen(fd, "wb") as out:
            size = os.fstat(raw.fileno()).st_size
            blob = DecodedBlob(
                raw, size, f"{path} ({compression})", hash_blob=False, hash_content=False
            )
            shutil.copyfileobj(blob, out, 1 << 22)
    except BaseException:
        os.unlink(spooled)
        raise
    return spooled
