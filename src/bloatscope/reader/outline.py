"""The image outline: the layer list from the manifest and config alone, in milliseconds, for a
UI that shows layers before the full read finishes (and for modes that never read the blobs).

It opens the image exactly as ``read_image`` does (reader.opening), so it accepts and refuses
the same inputs with the same errors, and maps history onto layers the same way."""

from __future__ import annotations

from bloatscope.model.outline import ImageOutline, LayerOutline
from bloatscope.reader.opening import locate_layer, open_image


def read_outline(reference: str, platform: str | None = None) -> ImageOutline:
    opened = open_image(reference, platform)
    try:
        plan, config = opened.plan, opened.config
        history = config.history_by_layer()
        layers = []
        missing = []
        for index, layer in enumerate(plan.layers):
            # locating a blob reads no byte of it: it checks that the blob is there and its size
            ref = locate_layer(opened.store, layer)
            if ref is None:
                missing.append(index)
            layers.append(
                LayerOutline(
                    index=index,
                    location=layer.blob_name,
                    diff_id=config.diff_ids[index],
                    blob_digest=layer.digest,
                    media_type=layer.media_type,
                    compressed_size_bytes=ref.size if ref is not None else (layer.size or 0),
                    available=ref is not None,
                    history=history.get(index),
                )
            )
        warnings = list(config.warnings)
        warnings += [f"layer {i} is not available (non-distributable)" for i in missing]
        return ImageOutline(
            reference=opened.reference,
            source_format=plan.source_format,
            image_id=plan.image_id,
            repo_tags=plan.repo_tags,
            platform=config.platform,
            created=config.created,
            config=config.config,
            history=config.history,
            layers=tuple(layers),
            warnings=tuple(warnings),
        )
    finally:
        opened.close()
