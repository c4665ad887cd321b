"""``bloatscope history``: the image's build steps, newest first, like ``docker history``."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from bloatscope.model.image import Image
from bloatscope.render.json_report import SCHEMA_VERSION, history_document
from bloatscope.render.text import one_line, safe
from bloatscope.render.units import human_bytes

_TRUNCATE = 40


def _created(value: str | None) -> str:
    if not value:
        return "-"
    return value.replace("T", " ")[:16]


def history_table(image: Image, *, no_trunc: bool) -> Table:
    # The short columns keep their width; the command and comment take what is left and are
    # cut with an ellipsis (or folded with --no-trunc), as docker history does.
    table = Table(show_edge=False, box=None, padding=(0, 1), header_style="bold")
    table.add_column("LAYER", justify="right", no_wrap=True, min_width=5)
    table.add_column("CREATED", no_wrap=True, min_width=16)
    table.add_column(
        "CREATED BY", overflow="fold" if no_trunc else "ellipsis", no_wrap=not no_trunc, ratio=3
    )
    table.add_column("SIZE", justify="right", no_wrap=True, min_width=7)
    table.add_column(
        "COMMENT", overflow="fold" if no_trunc else "ellipsis", no_wrap=not no_trunc, ratio=1
    )
    for entry in reversed(image.history):
        layer = image.layers[entry.layer_index] if entry.layer_index is not None else None
        table.add_row(
            str(entry.layer_index) if entry.layer_index is not None else "-",
            _created(entry.created),
            escape(one_line(entry.created_by, None if no_trunc else _TRUNCATE)),
            human_bytes(layer.size_bytes) if layer else "0 B",
            escape(one_line(entry.comment, None if no_trunc else _TRUNCATE)),
        )
    mapped = {e.layer_index for e in image.history if e.layer_index is not None}
    for layer in image.layers:
        if layer.index not in mapped:
            table.add_row(str(layer.index), "-", "(no history)", human_bytes(layer.size_bytes), "")
    return table


def history_json(image: Image) -> str:
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "image": {"reference": safe(image.reference), "image_id": image.image_id},
        "history": [
            dict(
                history_document(entry),
                size_bytes=image.layers[entry.layer_index].size_bytes
                if entry.layer_index is not None
                else 0,
            )
            for entry in reversed(image.history)
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
