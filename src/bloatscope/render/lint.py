"""``bloatscope lint``'s text, JSON and Markdown: each finding at its Dockerfile line, with the
bytes the image shows it cost when an image was given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bloatscope import __version__
from bloatscope.model.lint import LintFinding
from bloatscope.render.escape import one_line
from bloatscope.render.units import human_bytes

LINT_SCHEMA_VERSION = "1.0"


def _cost(finding: LintFinding) -> str:
    if not finding.bytes:
        return ""
    where = f" in layer {finding.layer}" if finding.layer is not None else ""
    return f", {human_bytes(finding.bytes)}{where}"


def lint_text(findings: Sequence[LintFinding]) -> str:
    """One line per finding, ``path:line:column`` first as compilers write them (editors
    jump to it), then the fix indented below."""
    if not findings:
        return "No size problems found.\n"
    lines = []
    for finding in findings:
        hadolint = f" [{finding.hadolint}]" if finding.hadolint else ""
        lines.append(
            f"{finding.path}:{finding.line}:{finding.column}: {finding.rule}{hadolint} "
            f"{finding.severity.value}: {one_line(finding.message, None)}{_cost(finding)}"
        )
        lines.append(f"    fix: {one_line(finding.fix, None)}")
    measured = sum(finding.bytes or 0 for finding in findings)
    summary = f"{len(findings)} finding(s)"
    if measured:
        summary += f", {human_bytes(measured)} measured in the image"
    return "\n".join([*lines, summary]) + "\n"


def lint_json(findings: Sequence[LintFinding], dockerfile: str, image: str | None) -> str:
    import json  # noqa: PLC0415 - lint's text output does without it

    document: dict[str, Any] = {
        "schema_version": LINT_SCHEMA_VERSION,
        "tool": {"name": "bloatscope", "version": __version__},
        "dockerfile": dockerfile,
        "image": image,
        "findings": [
            {
                "rule": f.rule,
                "name": f.name,
                "hadolint": f.hadolint,
                "severity": f.severity.value,
                "message": f.message,
                "fix": f.fix,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "stage": f.stage,
                "bytes": f.bytes,
                "layer": f.layer,
            }
            for f in findings
        ],
        "measured_bytes": sum(f.bytes or 0 for f in findings),
    }
    return json.dumps(document, indent=2) + "\n"


def _cell(text: str) -> str:
    """Markdown table cells: a pipe would end the cell, a newline the row."""
    return one_line(text, None).replace("|", "\\|")


def lint_markdown(findings: Sequence[LintFinding], dockerfile: str, image: str | None) -> str:
    """GitHub-flavoured Markdown for a pull-request comment: a summary line, then a table,
    biggest measured cost first."""
    title = f"### bloatscope: `{_cell(dockerfile)}`"
    if image:
        title += f" against `{_cell(image)}`"
    if not findings:
        return f"{title}\n\nNo size problems found.\n"
    measured = sum(f.bytes or 0 for f in findings)
    summary = f"{len(findings)} size finding(s)"
    if measured:
        summary += f"; **{human_bytes(measured)}** measured in the image"
    rows = [
        "| Line | Rule | Problem | Cost | Fix |",
        "|---:|---|---|---:|---|",
    ]
    ordered = sorted(findings, key=lambda f: (-(f.bytes or 0), f.line, f.rule))
    for f in ordered:
        rule = f"`{f.rule}`" + (f" ({f.hadolint})" if f.hadolint else "")
        cost = human_bytes(f.bytes) if f.bytes else ""
        rows.append(f"| {f.line} | {rule} | {_cell(f.message)} | {cost} | {_cell(f.fix)} |")
    return "\n".join([title, "", summary, "", *rows]) + "\n"
