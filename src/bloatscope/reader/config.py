"""The image config: diff_ids, platform, runtime settings, and history mapped onto layers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bloatscope.model.image import ImageConfig, Platform
from bloatscope.model.layer import HistoryEntry
from bloatscope.reader.manifest import ManifestError
from bloatscope.reader.platforms import normalize


@dataclass(frozen=True, slots=True)
class ParsedConfig:
    diff_ids: tuple[str, ...]
    platform: Platform
    created: str | None
    config: ImageConfig
    history: tuple[HistoryEntry, ...]  # every step, each with the layer it made (or None)
    warnings: tuple[str, ...]

    def history_by_layer(self) -> dict[int, HistoryEntry]:
        """The step that made each layer, by layer index (layers without one are absent)."""
        return {h.layer_index: h for h in self.history if h.layer_index is not None}


def parse_config(data: bytes, label: str) -> ParsedConfig:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"image config is not valid JSON ({exc})", path=label) from None
    if not isinstance(raw, dict):
        raise ManifestError("image config is not a JSON object", path=label)
    rootfs = raw.get("rootfs") or {}
    if rootfs.get("type") != "layers":
        raise ManifestError(
            f"image config rootfs type is {rootfs.get('type')!r}, not 'layers'", path=label
        )
    diff_ids = tuple(str(d) for d in rootfs.get("diff_ids") or ())
    history, warnings = map_history(raw.get("history") or [], len(diff_ids))
    return ParsedConfig(
        diff_ids=diff_ids,
        platform=normalize(
            str(raw.get("os") or ""),
            str(raw.get("architecture") or ""),
            str(raw.get("variant") or ""),
        ),
        created=_text_or_none(raw.get("created")),
        config=_runtime_config(raw.get("config") or {}),
        history=history,
        warnings=warnings,
    )


def map_history(
    raw_history: list[Any], layer_count: int
) -> tuple[tuple[HistoryEntry, ...], tuple[str, ...]]:
    """Attaches each non-empty step to the next layer, as the Docker engine does. A count that
    does not match is reported, never silently re-aligned."""
    entries = []
    warnings = []
    layer = 0
    for step in raw_history:
        if not isinstance(step, dict):
            continue
        empty = bool(step.get("empty_layer"))
        index: int | None = None
        if not empty:
            if layer < layer_count:
                index = layer
            layer += 1
        entries.append(
            HistoryEntry(
                created=_text_or_none(step.get("created")),
                created_by=str(step.get("created_by") or ""),
                author=str(step.get("author") or ""),
                comment=str(step.get("comment") or ""),
                empty_layer=empty,
                layer_index=index,
            )
        )
    if layer != layer_count:
        warnings.append(
            f"history has {layer} layer-producing steps for {layer_count} layers; "
            "the step-to-layer mapping is unreliable"
        )
    return tuple(entries), tuple(warnings)


def _text_or_none(value: Any) -> str | None:
    return str(value) if value else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return (value,)
    return ()


def _runtime_config(raw: dict[str, Any]) -> ImageConfig:
    labels = raw.get("Labels") or {}
    return ImageConfig(
        env=_strings(raw.get("Env")),
        entrypoint=_strings(raw.get("Entrypoint")),
        cmd=_strings(raw.get("Cmd")),
        working_dir=str(raw.get("WorkingDir") or ""),
        user=str(raw.get("User") or ""),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, dict)
        else (),
    )
