"""From a store's JSON to a plan: which config, which layer blobs in which order.

docker-archive reads ``manifest.json``; OCI layouts walk ``index.json`` through nested indexes,
skip attestation manifests and choose one platform.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Platform
from bloatscope.reader.platforms import normalize_platform, parse_platform
from bloatscope.sources.base import BlobStore

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
FOREIGN_LAYER_MARKERS = ("nondistributable", "foreign")
ESTARGZ_TOC_ANNOTATION = "containerd.io/snapshot/stargz/toc.digest"
_MAX_INDEX_DEPTH = 8


class ManifestError(BloatscopeError):
    """The image's JSON is missing, malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class LayerPlan:
    blob_name: str
    media_type: str
    digest: str | None  # descriptor digest, verified while streaming
    size: int | None  # descriptor size, checked before streaming
    foreign: bool = False
    estargz: bool = False  # its TOC and landmark entries are not part of the filesystem


@dataclass(frozen=True, slots=True)
class ImagePlan:
    source_format: str
    config_name: str
    config_bytes: bytes
    repo_tags: tuple[str, ...]
    layers: tuple[LayerPlan, ...]
    verify_blobs: bool  # OCI blobs are named by digest and checked

    @property
    def image_id(self) -> str:
        """The config's digest, which is what Docker calls the image id."""
        return "sha256:" + hashlib.sha256(self.config_bytes).hexdigest()


def load_json(store: BlobStore, name: str) -> Any:
    data = store.read(name)
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{name} is not valid JSON ({exc})", path=store.label) from None


def blob_name(digest: str) -> str:
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not algorithm or not encoded or "/" in encoded or ".." in encoded:
        raise ManifestError(f"malformed digest {digest!r}")
    return f"blobs/{algorithm}/{encoded}"


def verify_digest(data: bytes, digest: str, what: str, label: str) -> None:
    algorithm, _, encoded = digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        return  # registered elsewhere but not checkable here; the grammar was already checked
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != encoded:
        raise ManifestError(
            f"{what} does not match its digest {digest} (got {algorithm}:{actual})", path=label
        )


def plan_docker_archive(store: BlobStore, selector: str) -> ImagePlan:
    items = load_json(store, "manifest.json")
    if not isinstance(items, list) or not items:
        raise ManifestError("manifest.json is not a non-empty list", path=store.label)
    item = _choose_docker_item(items, selector, store.label)
    config_name = item.get("Config")
    layers = item.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layers, list):
        raise ManifestError("manifest.json item lacks Config or Layers", path=store.label)
    config_bytes = store.read(config_name)
    _check_named_digest(config_name, config_bytes, store.label)
    plans = tuple(LayerPlan(str(name), "", None, None) for name in layers)
    return ImagePlan(
        "docker-archive",
        config_name,
        config_bytes,
        tuple(item.get("RepoTags") or ()),
        plans,
        verify_blobs=False,
    )


def _choose_docker_item(items: list[Any], selector: str, label: str) -> dict[str, Any]:
    if not selector:
        if len(items) > 1:
            tags = ", ".join(", ".join(i.get("RepoTags") or ["(untagged)"]) for i in items)
            raise ManifestError(
                f"holds {len(items)} images ({tags}); name one as PATH:TAG", path=label
            )
        return dict(items[0])
    for item in items:
        for tag in item.get("RepoTags") or ():
            if _tag_matches(tag, selector):
                return dict(item)
    raise ManifestError(f"has no image tagged {selector!r}", path=label)


def _tag_matches(tag: str, selector: str) -> bool:
    forms = {
        tag,
        tag.removeprefix("docker.io/"),
        tag.removeprefix("docker.io/library/"),
        tag.removeprefix("localhost/"),
    }
    return selector in forms or f"{selector}:latest" in forms


def _check_named_digest(name: str, data: bytes, label: str) -> None:
    """Config files named by their digest (``<hex>.json``, ``blobs/sha256/<hex>``) are checked."""
    base = name.rsplit("/", 1)[-1].removesuffix(".json").removeprefix("sha256:")
    if len(base) == 64 and all(c in "0123456789abcdef" for c in base):
        verify_digest(data, f"sha256:{base}", name, label)


def plan_oci_layout(
    store: BlobStore, selector: str, platform: str | None, source_format: str
) -> ImagePlan:
    index = load_json(store, "index.json")
    wanted = parse_platform(platform) if platform else None
    manifests = _top_descriptors(index, selector, store.label)
    candidates: list[tuple[dict[str, Any], Platform | None]] = []
    for descriptor in manifests:
        _collect(store, descriptor, candidates, depth=0, seen=set())
    candidates = [c for c in candidates if not _is_attestation(c[0], c[1])]
    if not candidates:
        raise ManifestError("has no image manifest", path=store.label)
    chosen = _choose_platform(store, candidates, wanted)
    return _plan_from_manifest(store, chosen, source_format)


def _top_descriptors(index: Any, selector: str, label: str) -> list[dict[str, Any]]:
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not manifests:
        raise ManifestError("index.json lists no manifests", path=label)
    if not selector:
        return [m for m in manifests if isinstance(m, dict)]
    matched = []
    for descriptor in manifests:
        annotations = descriptor.get("annotations") or {}
        names = {
            annotations.get("org.opencontainers.image.ref.name", ""),
            annotations.get("io.containerd.image.name", ""),
        }
        if any(
            n and (n == selector or n.endswith(("/" + selector, ":" + selector))) for n in names
        ):
            matched.append(descriptor)
    if not matched:
        raise ManifestError(f"has no image named {selector!r}", path=label)
    return matched


def _collect(
    store: BlobStore,
    descriptor: dict[str, Any],
    out: list[tuple[dict[str, Any], Platform | None]],
    depth: int,
    seen: set[str],
) -> None:
    media_type = descriptor.get("mediaType", "")
    digest = descriptor.get("digest", "")
    if depth > _MAX_INDEX_DEPTH or digest in seen:
        raise ManifestError("image index nests too deeply or loops", path=store.label)
    raw_platform = descriptor.get("platform")
    platform = normalize_platform(raw_platform) if isinstance(raw_platform, dict) else None
    if media_type in MANIFEST_TYPES:
        out.append((descriptor, platform))
    elif media_type in INDEX_TYPES:
        child = _read_descriptor(store, descriptor)
        for sub in child.get("manifests") or ():
            if isinstance(sub, dict):
                _collect(store, sub, out, depth + 1, seen | {digest})
    # any other media type (artifacts, signatures) is skipped, as the spec requires


def _read_descriptor(store: BlobStore, descriptor: dict[str, Any]) -> dict[str, Any]:
    digest = str(descriptor.get("digest", ""))
    name = blob_name(digest)
    data = store.read(name)
    size = descriptor.get("size")
    if isinstance(size, int) and size != len(data):
        raise ManifestError(
            f"{name} is {len(data)} bytes, its descriptor says {size}", path=store.label
        )
    verify_digest(data, digest, name, store.label)
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{name} is not valid JSON ({exc})", path=store.label) from None
    if not isinstance(parsed, dict):
        raise ManifestError(f"{name} is not a JSON object", path=store.label)
    return parsed


def _is_attestation(descriptor: dict[str, Any], platform: Platform | None) -> bool:
    annotations = descriptor.get("annotations") or {}
    if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
        return True
    return platform is not None and platform.os == "unknown" and platform.architecture == "unknown"


def _choose_platform(
    store: BlobStore,
    candidates: list[tuple[dict[str, Any], Platform | None]],
    wanted: Platform | None,
) -> dict[str, Any]:
    if wanted is None:
        if len(candidates) == 1:
            return candidates[0][0]
        listed = ", ".join(str(p) if p else "(no platform)" for _d, p in candidates)
        raise ManifestError(
            f"holds several platforms ({listed}); choose one with --platform", path=store.label
        )
    for descriptor, platform in candidates:
        if platform is not None and _platform_matches(platform, wanted):
            return descriptor
    if len(candidates) == 1 and candidates[0][1] is None:
        return candidates[0][0]  # no platform on the descriptor: the config is checked later
    listed = ", ".join(str(p) if p else "(no platform)" for _d, p in candidates)
    raise ManifestError(f"has no {wanted} image (it has {listed})", path=store.label)


def _platform_matches(have: Platform, wanted: Platform) -> bool:
    if (have.os, have.architecture) != (wanted.os, wanted.architecture):
        return False
    return not wanted.variant or have.variant == wanted.variant


def _plan_from_manifest(
    store: BlobStore, descriptor: dict[str, Any], source_format: str
) -> ImagePlan:
    manifest = _read_descriptor(store, descriptor)
    config = manifest.get("config")
    if not isinstance(config, dict):
        raise ManifestError("image manifest has no config", path=store.label)
    config_type = config.get("mediaType", "")
    if manifest.get("artifactType") or config_type == "application/vnd.oci.empty.v1+json":
        raise ManifestError("is an OCI artifact, not a container image", path=store.label)
    config_bytes = _read_blob_bytes(store, config)
    layers = []
    for layer in manifest.get("layers") or ():
        digest = str(layer.get("digest", ""))
        media_type = str(layer.get("mediaType", ""))
        layers.append(
            LayerPlan(
                blob_name(digest),
                media_type,
                digest,
                layer.get("size") if isinstance(layer.get("size"), int) else None,
                foreign=any(marker in media_type for marker in FOREIGN_LAYER_MARKERS),
                estargz=ESTARGZ_TOC_ANNOTATION in (layer.get("annotations") or {}),
            )
        )
    annotations = descriptor.get("annotations") or {}
    tags = tuple(
        t
        for t in (
            annotations.get("io.containerd.image.name"),
            annotations.get("org.opencontainers.image.ref.name"),
        )
        if t
    )
    return ImagePlan(
        source_format,
        blob_name(str(config.get("digest", ""))),
        config_bytes,
        tags,
        tuple(layers),
        verify_blobs=True,
    )


def _read_blob_bytes(store: BlobStore, descriptor: dict[str, Any]) -> bytes:
    digest = str(descriptor.get("digest", ""))
    name = blob_name(digest)
    data = store.read(name)
    verify_digest(data, digest, name, store.label)
    return data
