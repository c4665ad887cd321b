"""Synthetic layers and images for unit tests: layer tars built in memory, images in every shape.

``Layer`` builds one layer tar (files, dirs, links, whiteouts, devices, odd names).
``Image`` holds uncompressed layers plus config metadata and computes a config with correct
diff_ids and history. The ``write_*`` functions lay an Image out on disk the way each tool does.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

from bloatscope.model.entry import FileEntry
from bloatscope.reader.layer import LayerScan, scan_layer
from bloatscope.sources.base import BlobRef

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "gzip-multi": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
EPOCH = "1970-01-01T00:00:00Z"
EMPTY_TAR = bytes(1024)
EMPTY_TAR_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

Name = str | bytes


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(data: bytes) -> str:
    return "sha256:" + sha256_hex(data)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fails the test with TimeoutError instead of hanging on a reader that loops."""

    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _text(name: Name) -> str:
    """tarfile takes str names; raw bytes survive as surrogate escapes."""
    return name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name


class Layer:
    """One layer tar, members in call order; methods chain: ``Layer().dir("a").file("a/x")``."""

    def __init__(self, tar_format: int = tarfile.PAX_FORMAT) -> None:
        self.tar_format = tar_format
        self.members: list[tuple[tarfile.TarInfo, bytes | None]] = []

    def _add(
        self, name: Name, kind: bytes, mode: int, data: bytes | None = None, **attrs: Any
    ) -> Layer:
        info = tarfile.TarInfo(_text(name))
        info.type = kind
        info.mode = mode
        info.mtime = 0
        info.size = len(data) if data is not None else 0
        for key, value in attrs.items():
            setattr(info, key, value)
        self.members.append((info, data))
        return self

    def file(
        self, name: Name, data: bytes = b"", *, mode: int = 0o644, uid: int = 0, gid: int = 0
    ) -> Layer:
        return self._add(name, tarfile.REGTYPE, mode, data, uid=uid, gid=gid)

    def dir(self, name: Name, *, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Layer:
        return self._add(name, tarfile.DIRTYPE, mode, uid=uid, gid=gid)

    def symlink(self, name: Name, target: Name) -> Layer:
        return self._add(name, tarfile.SYMTYPE, 0o777, linkname=_text(target))

    def hardlink(self, name: Name, target: Name, *, mode: int = 0o644) -> Layer:
        return self._add(name, tarfile.LNKTYPE, mode, linkname=_text(target))

    def whiteout(self, path: str) -> Layer:
        """``parent/.wh.name``: deletes ``path`` from lower layers (mode 0000, as vfs writes)."""
        parent, _, base = path.rpartition("/")
        return self.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}", mode=0)

    def opaque(self, directory: str) -> Layer:
        """``dir/.wh..wh..opq``: hides every lower child of ``directory`` (as overlay writes)."""
        return self.file(f"{directory}/.wh..wh..opq", mode=0o755)

    def device(self, name: Name, *, char: bool = True, major: int = 1, minor: int = 3) -> Layer:
        kind = tarfile.CHRTYPE if char else tarfile.BLKTYPE
        return self._add(name, kind, 0o666, devmajor=major, devminor=minor)

    def fifo(self, name: Name) -> Layer:
        return self._add(name, tarfile.FIFOTYPE, 0o644)

    def build(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(
            fileobj=buf,
            mode="w",
            format=self.tar_format,
            encoding="utf-8",
            errors="surrogateescape",
        ) as tar:
            for info, data in self.members:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return buf.getvalue()


def compress(data: bytes, kind: str) -> bytes:
    """``none``, ``gzip``, ``gzip-multi`` (two members) or ``zstd`` (three frames, checksummed)."""
    if kind == "none":
        return data
    if kind == "gzip":
        return gzip.compress(data, mtime=0)
    if kind == "gzip-multi":
        half = len(data) // 2
        return gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0)
    if kind == "zstd":
        compressor = zstandard.ZstdCompressor(write_checksum=True)
        third = max(1, len(data) // 3)
        parts = [data[:third], data[third : 2 * third], data[2 * third :]]
        return b"".join(compressor.compress(part) for part in parts)
    raise ValueError(kind)


@dataclass
class Image:
    """An image as uncompressed layer tars (base first) plus the metadata its config carries."""

    layers: list[bytes]
    architecture: str = "amd64"
    os: str = "linux"
    variant: str = ""
    tag: str = "synth:latest"
    history: list[dict[str, Any]] | None = None  # None: one RUN per layer, ENV and CMD empty steps
    extra_config: dict[str, Any] = field(default_factory=dict)

    @property
    def diff_ids(self) -> list[str]:
        return [digest(layer) for layer in self.layers]

    def history_entries(self) -> list[dict[str, Any]]:
        if self.history is not None:
            return self.history
        steps: list[dict[str, Any]] = []
        for index in range(len(self.layers)):
            steps.append({"created": EPOCH, "created_by": f"/bin/sh -c step-{index}"})
            if index == 0:
                steps.append(
                    {
                        "created": EPOCH,
                        "created_by": "/bin/sh -c #(nop) ENV A=1",
                        "empty_layer": True,
                    }
                )
        steps.append(
            {"created": EPOCH, "created_by": '/bin/sh -c #(nop) CMD ["sh"]', "empty_layer": True}
        )
        return steps

    def config(self) -> bytes:
        raw: dict[str, Any] = {
            "created": EPOCH,
            "architecture": self.architecture,
            "os": self.os,
            "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": self.history_entries(),
        }
        if self.variant:
            raw["variant"] = self.variant
        raw.update(self.extra_config)
        return json.dumps(raw, sort_keys=True).encode()

    def platform(self) -> dict[str, str]:
        platform = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            platform["variant"] = self.variant
        return platform


class _Outer:
    """The outer tar of an archive, members in the order they are added."""

    def __init__(self, path: Path) -> None:
        self._tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - closed by close()

    def file(self, name: str, data: bytes, mode: int = 0o444) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode
        self._tar.addfile(info, io.BytesIO(data))

    def symlink(self, name: str, target: str) -> None:
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        self._tar.addfile(info)

    def dir(self, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        self._tar.addfile(info)

    def close(self) -> None:
        self._tar.close()


def _v1_ids(image: Image) -> list[str]:
    """Legacy v1 layer ids: deterministic, and (as DIS says) neither diff_ids nor chain ids."""
    ids, parent = [], ""
    for index, diff_id in enumerate(image.diff_ids):
        parent = sha256_hex(f"v1 {index} {parent} {diff_id}".encode())
        ids.append(parent)
    return ids


def _v1_json(v1_id: str, parent: str | None) -> bytes:
    raw = {"id": v1_id, "created": EPOCH, "container_config": {}}
    if parent:
        raw["parent"] = parent
    return json.dumps(raw).encode()


def _repositories(image: Image, top: str) -> bytes:
    repo, _, tag = image.tag.rpartition(":")
    return json.dumps({repo: {tag: top}}).encode()


def write_skopeo_archive(path: Path, image: Image, *, layers_via_symlinks: bool = False) -> Path:
    """containers/image docker-archive: ``<diffid>.tar`` at the root, ``<v1id>/layer.tar``
    symlinks to it, ``<config>.json``, and ``manifest.json`` + ``repositories`` last."""
    out = _Outer(path)
    config = image.config()
    v1_ids = _v1_ids(image)
    written: set[str] = set()
    for index, (layer, diff_id) in enumerate(zip(image.layers, image.diff_ids, strict=True)):
        physical = diff_id.removeprefix("sha256:") + ".tar"
        if physical not in written:
            out.file(physical, layer)
            written.add(physical)
        out.file(f"{v1_ids[index]}/VERSION", b"1.0")
        parent = v1_ids[index - 1] if index else None
        out.file(f"{v1_ids[index]}/json", _v1_json(v1_ids[index], parent))
        out.symlink(f"{v1_ids[index]}/layer.tar", f"../{physical}")
    config_name = sha256_hex(config) + ".json"
    out.file(config_name, config)
    if layers_via_symlinks:
        names = [f"{v1}/layer.tar" for v1 in v1_ids]
    else:
        names = [d.removeprefix("sha256:") + ".tar" for d in image.diff_ids]
    manifest = [
        {
            "Config": config_name,
            "RepoTags": [f"docker.io/library/{image.tag}", f"localhost/{image.tag}"],
            "Layers": names,
        }
    ]
    out.file("manifest.json", json.dumps(manifest).encode())
    out.file("repositories", _repositories(image, v1_ids[-1] if v1_ids else ""))
    out.close()
    return path


def write_legacy_docker_archive(path: Path, image: Image) -> Path:
    """Docker <= 24 ``docker save``: ``<v1id>/{VERSION,json,layer.tar}``, ``<imageid>.json``;
    a layer used twice is a ``layer.tar`` symlink to the first copy."""
    out = _Outer(path)
    config = image.config()
    v1_ids = _v1_ids(image)
    first_copy: dict[str, str] = {}
    for index, (layer, diff_id) in enumerate(zip(image.layers, image.diff_ids, strict=True)):
        v1 = v1_ids[index]
        out.dir(f"{v1}/")
        out.file(f"{v1}/VERSION", b"1.0")
        out.file(f"{v1}/json", _v1_json(v1, v1_ids[index - 1] if index else None))
        if diff_id in first_copy:
            out.symlink(f"{v1}/layer.tar", f"../{first_copy[diff_id]}/layer.tar")
        else:
            out.file(f"{v1}/layer.tar", layer)
            first_copy[diff_id] = v1
    config_name = sha256_hex(config) + ".json"
    out.file(config_name, config)
    manifest = [
        {
            "Config": config_name,
            "RepoTags": [image.tag],
            "Layers": [f"{v1}/layer.tar" for v1 in v1_ids],
        }
    ]
    out.file("manifest.json", json.dumps(manifest).encode())
    out.file("repositories", _repositories(image, v1_ids[-1] if v1_ids else ""))
    out.close()
    return path


@dataclass
class _Blobs:
    """Blobs of an OCI layout, by digest, in insertion order."""

    blobs: dict[str, bytes] = field(default_factory=dict)

    def add(self, data: bytes) -> str:
        name = digest(data)
        self.blobs.setdefault(name, data)
        return name

    def descriptor(self, media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
        return {"mediaType": media_type, "digest": self.add(data), "size": len(data), **extra}


def _image_manifest(
    blobs: _Blobs,
    image: Image,
    compression: str | Sequence[str],
    media_types: Sequence[str] | None,
    layer_annotations: Sequence[dict[str, str]] | None = None,
) -> tuple[bytes, list[str]]:
    """The OCI manifest of ``image`` (its blobs added); also the layer blob digests.
    ``compression`` may be given per layer; ``media_types`` overrides the honest labels."""
    config = image.config()
    kinds = [compression] * len(image.layers) if isinstance(compression, str) else compression
    labels = media_types or [LAYER_MEDIA_TYPES[kind] for kind in kinds]
    notes = layer_annotations or [{}] * len(image.layers)
    layers = [
        blobs.descriptor(label, compress(layer, kind), **({"annotations": note} if note else {}))
        for layer, kind, label, note in zip(image.layers, kinds, labels, notes, strict=True)
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": blobs.descriptor(OCI_CONFIG, config),
        "layers": layers,
    }
    return json.dumps(manifest).encode(), [str(layer["digest"]) for layer in layers]


def _attestation(blobs: _Blobs, subject: str) -> dict[str, Any]:
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1"}).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": blobs.descriptor(OCI_CONFIG, b"{}"),
            "layers": [blobs.descriptor("application/vnd.in-toto+json", statement)],
        }
    ).encode()
    return blobs.descriptor(
        OCI_MANIFEST,
        manifest,
        platform={"architecture": "unknown", "os": "unknown"},
        annotations={
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": subject,
        },
    )


@dataclass
class Layout:
    """An OCI layout's files (name → bytes), and for docker-archive writers the layer blob names."""

    files: dict[str, bytes]
    layer_blobs: list[str]  # of the first image: blob digests, base first


def oci_layout(
    images: Sequence[Image],
    *,
    compression: str | Sequence[str] = "gzip",
    nested: bool = False,
    attestation: bool = False,
    ref_name: str | None = None,
    media_types: Sequence[str] | None = None,
    layer_annotations: Sequence[dict[str, str]] | None = None,
) -> Layout:
    """An OCI image layout holding ``images`` (one per platform). ``nested`` puts them behind an
    image index that index.json points to, as BuildKit and containerd do."""
    blobs = _Blobs()
    descriptors = []
    first_layers: list[str] = []
    for image in images:
        manifest, layer_digests = _image_manifest(
            blobs, image, compression, media_types, layer_annotations
        )
        first_layers = first_layers or layer_digests
        descriptor = blobs.descriptor(OCI_MANIFEST, manifest, platform=image.platform())
        descriptors.append(descriptor)
        if attestation:
            descriptors.append(_attestation(blobs, descriptor["digest"]))
    name = ref_name if ref_name is not None else images[0].tag
    annotations = {"org.opencontainers.image.ref.name": name} if name else {}
    if nested:
        inner = json.dumps(
            {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
        ).encode()
        top = [blobs.descriptor(OCI_INDEX, inner, annotations=annotations)]
    else:
        top = [
            {**d, "annotations": {**d.get("annotations", {}), **annotations}} for d in descriptors
        ]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": top}
    files = {
        "oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
        "index.json": json.dumps(index).encode(),
    }
    for blob_digest, data in blobs.blobs.items():
        files["blobs/sha256/" + blob_digest.removeprefix("sha256:")] = data
    return Layout(files, first_layers)


def write_dir(dest: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def write_tar(path: Path, files: Iterable[tuple[str, bytes]]) -> Path:
    """A tar of ``files`` in the given order, parent directories emitted once, as tools do."""
    out = _Outer(path)
    made: set[str] = set()
    for name, data in files:
        parent = os.path.dirname(name)
        parts = parent.split("/") if parent else []
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in made:
                out.dir(sub + "/")
                made.add(sub)
        out.file(name, data)
    out.close()
    return path


def write_oci_dir(dest: Path, images: Sequence[Image], **options: Any) -> Path:
    return write_dir(dest, oci_layout(images, **options).files)


def write_oci_archive(path: Path, images: Sequence[Image], **options: Any) -> Path:
    """buildah ``oci-archive:``: the layout tree inside a tar, oci-layout first."""
    files = oci_layout(images, **options).files
    order = ["oci-layout", "index.json", *sorted(n for n in files if n.startswith("blobs/"))]
    return write_tar(path, [(name, files[name]) for name in order])


def write_docker25_archive(path: Path, image: Image) -> Path:
    """Docker 25+ with the graphdriver store: an OCI layout of uncompressed blobs (layer digest =
    diff_id) plus ``manifest.json`` pointing at ``blobs/sha256/<diffid>`` and ``repositories``."""
    layout = oci_layout([image], compression="none", ref_name=image.tag.rpartition(":")[2])
    index = json.loads(layout.files["index.json"])
    annotations = index["manifests"][0]["annotations"]
    annotations["io.containerd.image.name"] = f"docker.io/library/{image.tag}"
    layout.files["index.json"] = json.dumps(index).encode()
    config = image.config()
    manifest = [
        {
            "Config": "blobs/sha256/" + sha256_hex(config),
            "RepoTags": [image.tag],
            "Layers": ["blobs/sha256/" + d.removeprefix("sha256:") for d in image.diff_ids],
        }
    ]
    order = sorted(n for n in layout.files if n.startswith("blobs/"))
    files = [(n, layout.files[n]) for n in order]
    files += [
        ("index.json", layout.files["index.json"]),
        ("manifest.json", json.dumps(manifest).encode()),
        ("oci-layout", layout.files["oci-layout"]),
        ("repositories", _repositories(image, sha256_hex(config))),
    ]
    return write_tar(path, files)


def write_containerd_archive(path: Path, image: Image, *, compression: str = "gzip") -> Path:
    """Docker with the containerd store: registry blobs (compressed), a nested index with an
    attestation, ``manifest.json`` Layers pointing at the *compressed* blobs, names sorted."""
    layout = oci_layout(
        [image],
        compression=compression,
        nested=True,
        attestation=True,
        ref_name=image.tag.rpartition(":")[2],
    )
    config = image.config()
    manifest = [
        {
            "Config": "blobs/sha256/" + sha256_hex(config),
            "RepoTags": [f"docker.io/library/{image.tag}"],
            "Layers": ["blobs/sha256/" + d.removeprefix("sha256:") for d in layout.layer_blobs],
        }
    ]
    layout.files["manifest.json"] = json.dumps(manifest).encode()
    return write_tar(path, sorted(layout.files.items()))


def write_crane_tarball(path: Path, image: Image) -> Path:
    """ggcr ``tarball`` (crane pull): config named ``sha256:<hex>``, layers ``<digest>.tar.gz``."""
    config = image.config()
    config_name = digest(config)
    files = [(config_name, config)]
    names = []
    for layer in image.layers:
        blob = compress(layer, "gzip")
        name = sha256_hex(blob) + ".tar.gz"
        if name not in names:
            files.append((name, blob))
        names.append(name)
    manifest = [{"Config": config_name, "RepoTags": [image.tag], "Layers": names}]
    files.append(("manifest.json", json.dumps(manifest).encode()))
    return write_tar(path, files)


def gzip_file(source: Path, dest: Path) -> Path:
    """``docker save | gzip``."""
    dest.write_bytes(gzip.compress(source.read_bytes(), mtime=0))
    return dest


def plain_tar(path: Path, files: dict[str, bytes]) -> Path:
    return write_tar(path, files.items())


def scan(data: bytes, *, verify: bool = False) -> LayerScan:
    """Scans layer bytes (any compression) with the reader, from a temporary file."""
    with tempfile.NamedTemporaryFile(suffix=".layer") as handle:
        handle.write(data)
        handle.flush()
        ref = BlobRef(handle.name, 0, len(data), f"test: {len(data)}-byte layer")
        return scan_layer(ref, verify_blob=verify, verify_diff_id=verify)


def entries(layer: Layer | bytes, compression: str = "gzip") -> tuple[FileEntry, ...]:
    """A layer's entries as the reader sees them. Compressed by default, so every regular
    file carries its content digest (the merger needs them to tell Unmodified from Modified)."""
    data = layer.build() if isinstance(layer, Layer) else layer
    return scan(compress(data, compression)).entries


LONG_NAME = "data/" + "long-directory-name/" * 6 + "file.txt"  # 130 bytes: PAX or GNU L
LONG_TARGET = "../" + "t" * 120  # 123 bytes: PAX linkpath or GNU K
RAW_NAME = b"data/caf\xe9"  # Latin-1, not UTF-8


def feature_image() -> Image:
    """A small image that touches most layer semantics; every archive shape must read it alike."""
    base = (
        Layer()
        .dir("etc")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        .dir("bin")
        .file("bin/sh", b"\x7fELF" + bytes(3000), mode=0o755)
        .hardlink("bin/sh-hard", "bin/sh", mode=0o755)
        .dir("real")
        .symlink("lnk", "real")
        .dir("data")
        .file("data/big", b"B" * 10_000)
        .dir("data/gone")
        .file("data/gone/a", b"a")
        .file("data/gone/b", b"b")
        .file(LONG_NAME, b"long")
        .file(RAW_NAME, b"latin-1")
        .dir("dev")
        .device("dev/null")
        .fifo("dev/fifo")
    )
    upper = (
        Layer()
        .dir("data")
        .whiteout("data/big")
        .dir("data/gone")
        .opaque("data/gone")
        .file("data/gone/new", b"new")
        .file("lnk/inside", b"through the symlink")
        .file("bin/sh", b"\x7fELF" + bytes(3000), mode=0o700)
        .file("etc/new.conf", b"x=1\n")
    )
    gnu = (
        Layer(tarfile.GNU_FORMAT)
        .hardlink("etc/passwd-link", "etc/passwd")
        .symlink("data/" + "g" * 110, LONG_TARGET)
    )
    last = Layer().whiteout("etc/passwd")
    return Image([base.build(), upper.build(), EMPTY_TAR, EMPTY_TAR, gnu.build(), last.build()])
