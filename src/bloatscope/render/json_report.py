"""``--format json``: the versioned wire document. Keys are only ever added within a major
schema version; sizes are integers named ``*_bytes``. Built field by field, never from the
domain model's own layout, so refactoring the model cannot change the contract."""

from __future__ import annotations

import json
import math
from typing import Any

from bloatscope import __version__
from bloatscope.dockerfile.history_formats import reconstruct
from bloatscope.model.finding import Finding
from bloatscope.model.image import Image
from bloatscope.model.layer import HistoryEntry, Layer
from bloatscope.model.report import Report, SizedPath
from bloatscope.model.tree import LayerChanges
from bloatscope.render.base import Renderer
from bloatscope.render.packages import inventory_document, package_document

SCHEMA_VERSION = "1.2"  # 1.1: packages, package_summary; 1.2: layers' instruction, dockerfile
_SHADOWED_FILES_LISTED = 100


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _text(value: str) -> str:
    """Paths keep their raw bytes via surrogateescape; JSON needs valid Unicode."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def image_document(report: Report) -> dict[str, Any]:
    image = report.image
    return {
        "reference": image.reference,
        "source_format": image.source_format,
        "image_id": image.image_id,
        "repo_tags": list(image.repo_tags),
        "platform": str(image.platform),
        "created": image.created,
        "size_bytes": image.size_bytes,
        "compressed_size_bytes": image.compressed_size_bytes,
        "final_size_bytes": report.final_size_bytes,
        "layer_count": len(image.layers),
        "efficiency": report.dive.efficiency,
        "wasted_bytes": report.dive.wasted_bytes,
        "user_wasted_percent": _number(report.dive.user_wasted_percent),
        "reclaimable_bytes": report.reclaimable_bytes,
    }


def layer_document(layer: Layer, changes: LayerChanges, reclaimable_bytes: int) -> dict[str, Any]:
    history = layer.history
    return {
        "index": layer.index,
        "diff_id": layer.diff_id,
        "blob_digest": layer.blob_digest,
        "media_type": layer.media_type,
        "compression": str(layer.compression),
        "size_bytes": layer.size_bytes,
        "tar_bytes": layer.tar_bytes,
        "compressed_size_bytes": layer.compressed_size_bytes,
        "created": history.created if history else None,
        "created_by": history.created_by if history else None,
        "instruction": reconstruct(history).text if history else None,
        "comment": history.comment if history else None,
        "file_count": layer.file_count,
        "added": changes.added,
        "modified": changes.modified,
        "removed": changes.removed,
        "reclaimable_bytes": reclaimable_bytes,
    }


def history_document(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "created": entry.created,
        "created_by": entry.created_by,
        "author": entry.author,
        "comment": entry.comment,
        "empty_layer": entry.empty_layer,
        "layer_index": entry.layer_index,
    }


def finding_document(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "cause": finding.cause,
        "kind": finding.group or None,
        "title": finding.title,
        "severity": str(finding.severity),
        "bytes": finding.bytes,
        "layer": finding.layer,
        "created_by": finding.created_by,
        "paths": [_text(path) for path in finding.paths],
        "path_count": finding.path_count,
        "fix": finding.fix,
    }


def _sized(items: tuple[SizedPath, ...]) -> list[dict[str, Any]]:
    return [{"path": _text(i.path), "size_bytes": i.size_bytes, "layer": i.layer} for i in items]


def report_document(report: Report) -> dict[str, Any]:
    image: Image = report.image
    waste = report.reclaimable
    packages = report.packages
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "bloatscope", "version": __version__},
        "image": image_document(report),
        "layers": [
            layer_document(layer, changes, report.reclaimable_in_layer(layer.index))
            for layer, changes in zip(image.layers, report.changes, strict=True)
        ],
        "history": [history_document(entry) for entry in image.history],
        "dockerfile": _dockerfile_document(report),
        "reclaimable": {
            "total_bytes": waste.total_bytes,
            "by_cause": {str(cause): size for cause, size in waste.by_cause},
            "file_count": len(waste.files),
            "files": [
                {
                    "path": "/" + _text(item.path),
                    "layer": item.layer,
                    "size_bytes": item.size_bytes,
                    "cause": str(item.cause),
                    "hidden_by_layer": item.hidden_by_layer,
                }
                for item in waste.files[:_SHADOWED_FILES_LISTED]
            ],
        },
        "dive": {
            "efficiency": report.dive.efficiency,
            "wasted_bytes": report.dive.wasted_bytes,
            "user_size_bytes": report.dive.user_size_bytes,
            "user_wasted_percent": _number(report.dive.user_wasted_percent),
            "inefficient_files": [
                {"path": _text(f.path), "count": f.count, "size_bytes": f.cumulative_bytes}
                for f in report.dive.inefficient_files
            ],
        },
        "largest_files": _sized(report.largest_files),
        "largest_directories": _sized(report.largest_directories),
        "findings": [finding_document(finding) for finding in report.findings],
        "packages": [package_document(p) for p in packages.packages] if packages else [],
        "package_summary": inventory_document(packages) if packages else None,
        "warnings": list(image.warnings),
    }


def _dockerfile_document(report: Report) -> dict[str, Any] | None:
    """The Dockerfile given with ``--dockerfile``: the line that made each matched layer."""
    source = report.dockerfile
    if source is None:
        return None
    return {
        "path": source.path,
        "layers": [
            {"layer": layer, "line": line, "instruction": text}
            for layer, (line, text) in sorted(source.layers.items())
        ],
    }


class JsonRenderer(Renderer):
    def render(self, report: Report) -> str:
        return json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n"
