"""``lint --format sarif``: SARIF 2.1.0, the format code-scanning services (GitHub, GitLab,
Azure DevOps) read. One run, one rule entry per rule we have, a result per lint finding at its
Dockerfile line and column; measured bytes go in each result's property bag."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bloatscope import __version__
from bloatscope.dockerfile.base import Rule
from bloatscope.model.finding import Severity
from bloatscope.model.lint import LintFinding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/bloatscope/"
# SARIF's levels: a size problem is never an "error" that breaks a build by itself
_LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}


def sarif_document(
    findings: Sequence[LintFinding], rules: Sequence[Rule], base: str | None = None
) -> dict[str, Any]:
    """``base``: the directory artifact URIs are relative to (a repository checkout), so that
    code scanning can place results on files; absolute otherwise."""
    index = {rule.id: position for position, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bloatscope",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(finding, index, base) for finding in findings],
            }
        ],
    }


def render_sarif(
    findings: Sequence[LintFinding], rules: Sequence[Rule], base: str | None = None
) -> str:
    return json.dumps(sarif_document(findings, rules, base), indent=2) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": ["size"]}
    if rule.hadolint:
        properties["hadolint"] = rule.hadolint
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": properties,
    }


def _uri(path: str, base: str | None) -> str:
    """A URI reference (RFC 3986): a space or ``#`` in a file name is percent-encoded."""
    absolute = os.path.abspath(path)
    if base is not None:
        relative = os.path.relpath(absolute, os.path.abspath(base))
        if not relative.startswith(".."):
            return quote(relative.replace(os.sep, "/"), errors="surrogateescape")
    return "file://" + quote(absolute, errors="surrogateescape")


def _result(finding: LintFinding, index: dict[str, int], base: str | None) -> dict[str, Any]:
    text = finding.message
    if finding.bytes:
        text += f" ({finding.bytes:,} bytes in the image)"
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _LEVELS[finding.severity],
        "message": {"text": f"{text}. Fix: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path, base)},
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": max(finding.end_line, finding.line),
                    },
                }
            }
        ],
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    properties: dict[str, Any] = {"stage": finding.stage}
    if finding.bytes is not None:
        properties["bytes"] = finding.bytes
    if finding.layer is not None:
        properties["layer"] = finding.layer
    result["properties"] = properties
    return result
