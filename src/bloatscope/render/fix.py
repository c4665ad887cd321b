"""``bloatscope fix``'s summary: each change at its original line with its estimated saving;
suggestions say whether they were applied."""

from __future__ import annotations

from bloatscope.dockerfile.fix.run import FixResult
from bloatscope.render.escape import one_line
from bloatscope.render.units import human_bytes

_DETAIL_LINES = 8  # per change; the diff itself has them all


def fix_summary(result: FixResult, *, written: bool) -> str:
    if not result.changes:
        return "Nothing to change: no size fix applies to this Dockerfile."
    lines = []
    for change in sorted(result.changes, key=lambda c: (c.suggestion, c.line)):
        saving = f"~{human_bytes(change.estimate_bytes)}" if change.estimate_bytes else "-"
        rule = f" [{change.rule}]" if change.rule else ""
        status = ""
        if change.suggestion:
            status = (
                " (suggestion, applied)" if change.applied else " (suggestion: --apply-suggestions)"
            )
        lines.append(
            f"  line {change.line:>3}  {saving:>9}  {one_line(change.title, None)}{rule}{status}"
        )
        shown = change.detail[:_DETAIL_LINES]
        lines += [f"                       {one_line(item, None)}" for item in shown]
        if len(change.detail) > len(shown):
            lines.append(f"                       ... and {len(change.detail) - len(shown)} more")
    total = result.estimate_bytes
    verb = "Wrote" if written else "Would change"
    head = f"{verb} {len(result.changes)} thing(s)"
    if total:
        head += f", estimated saving {human_bytes(total)}"
    return "\n".join([head + ":", *lines])
