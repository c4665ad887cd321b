"""``--format dive-json``: the document ``dive --json`` writes, so pipelines built on dive keep
working. Same keys, same order, same numbers; layer file lists walk dive's per-layer trees."""

from __future__ import annotations

import json
from typing import Any

from bloatscope.analysis.dive import layer_nodes, postorder, sorted_paths
from bloatscope.model.entry import GO_MODE_DIR, FileEntry, go_file_mode
from bloatscope.model.layer import Layer
from bloatscope.model.report import Report
from bloatscope.render.base import Renderer

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _file_info(entry: FileEntry | None) -> dict[str, Any]:
    if entry is None:  # a parent directory with no tar entry of its own: Go's zero FileInfo
        return {
            "path": "",
            "typeFlag": 0,
            "linkName": "",
            "size": 0,
            "fileMode": 0,
            "uid": 0,
            "gid": 0,
            "isDir": False,
        }
    mode = go_file_mode(entry.mode, entry.typeflag)
    return {
        "path": entry.path,
        "typeFlag": entry.typeflag,
        "linkName": entry.linkname,
        "size": entry.size,
        "fileMode": mode,
        "uid": entry.uid,
        "gid": entry.gid,
        "isDir": bool(mode & GO_MODE_DIR),
    }


def _layer_id(layer: Layer) -> str:
    """dive names a layer by the first component of its archive member name."""
    return layer.location.split("/", 1)[0]


def _command(layer: Layer) -> str:
    return layer.created_by.removeprefix("/bin/sh -c ") if layer.history else "(missing)"


def _layer_document(layer: Layer) -> dict[str, Any]:
    nodes = layer_nodes(layer.entries)
    return {
        "index": layer.index,
        "id": _layer_id(layer),
        "digestId": layer.diff_id,
        "sizeBytes": layer.size_bytes,
        "command": _command(layer),
        "fileList": [_file_info(nodes[path]) for path in postorder(sorted_paths(nodes))],
    }


def dive_document(report: Report) -> dict[str, Any]:
    stats = report.dive
    efficiency: float | int = stats.efficiency
    if efficiency == int(efficiency):
        efficiency = int(efficiency)  # Go prints 1, not 1.0
    return {
        "layer": [_layer_document(layer) for layer in report.image.layers],
        "image": {
            "sizeBytes": stats.size_bytes,
            "inefficientBytes": stats.wasted_bytes,
            "efficiencyScore": efficiency,
            "fileReference": [
                {"count": f.count, "sizeBytes": f.cumulative_bytes, "file": f.path}
                for f in stats.inefficient_files
            ],
        },
    }


def go_json(document: Any) -> str:
    """json.MarshalIndent's bytes: HTML-safe escapes, invalid UTF-8 replaced with U+FFFD."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


class DiveJsonRenderer(Renderer):
    def render(self, report: Report) -> str:
        return go_json(dive_document(report))
