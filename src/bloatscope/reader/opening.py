"""Opening an image as far as its plan: the store, the manifest's layer blobs in order and the
parsed config, checked against each other. The full read goes on from here; the outline and
the file reader stop here and read no layer blob unless asked."""

from __future__ import annotations

from dataclasses import dataclass

from bloatscope.errors import BloatscopeError
from bloatscope.reader.config import ParsedConfig, parse_config
from bloatscope.reader.manifest import ImagePlan, LayerPlan, plan_docker_archive, plan_oci_layout
from bloatscope.reader.platforms import parse_platform
from bloatscope.sources.base import BlobRef, BlobStore, SourceError
from bloatscope.sources.reference import open_store, parse_reference


@dataclass(frozen=True, slots=True)
class OpenedImage:
    """An image whose JSON has been read and checked; ``close`` releases the store."""

    reference: str  # the parsed reference, as reports name it
    store: BlobStore
    plan: ImagePlan
    config: ParsedConfig

    def close(self) -> None:
        self.store.close()


def open_image(reference: str, platform: str | None = None) -> OpenedImage:
    """Parses the reference, opens its store and reads the manifest (or index) and the config;
    raises BloatscopeError with one line naming the file when any of it is wrong."""
    ref = parse_reference(reference)
    store, source_format = open_store(ref)
    try:
        if source_format == "docker-archive":
            plan = plan_docker_archive(store, ref.selector)
        else:
            plan = plan_oci_layout(store, ref.selector, platform, source_format)
        config = parse_config(plan.config_bytes, store.label)
        check_consistency(plan, config, platform, store.label)
    except BaseException:
        store.close()
        raise
    return OpenedImage(str(ref), store, plan, config)


def check_consistency(
    plan: ImagePlan, config: ParsedConfig, platform: str | None, label: str
) -> None:
    if len(config.diff_ids) != len(plan.layers):
        raise BloatscopeError(
            f"inconsistent layer count: the manifest lists {len(plan.layers)} layers, "
            f"the config {len(config.diff_ids)} diff_ids",
            path=label,
        )
    if platform:  # the config has the last word, whatever a descriptor claimed
        wanted = parse_platform(platform)
        have = config.platform
        same = (have.os, have.architecture) == (wanted.os, wanted.architecture)
        if not same or (wanted.variant and have.variant != wanted.variant):
            raise BloatscopeError(f"holds a {have} image, not {wanted}", path=label)


def locate_layer(store: BlobStore, layer: LayerPlan) -> BlobRef | None:
    """Where a layer's blob is; None for a non-distributable layer the archive left out."""
    try:
        ref = store.locate(layer.blob_name)
    except SourceError:
        if layer.foreign:
            return None  # non-distributable layers are often left out of archives
        raise BloatscopeError(
            f"manifest names blob {layer.digest or layer.blob_name}, which is missing",
            path=store.label,
        ) from None
    if layer.size is not None and layer.size != ref.size:
        raise BloatscopeError(
            f"blob {layer.blob_name} is {ref.size} bytes, its descriptor says {layer.size}",
            path=store.label,
        )
    return ref
