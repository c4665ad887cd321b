"""Running the size rules over a Dockerfile, and pricing each violation with the bytes the
analysis measured in the image built from it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.model.dockerfile import Dockerfile
from bloatscope.model.lint import LintFinding

if TYPE_CHECKING:
    from bloatscope.model.report import Report


def lint(
    dockerfile: Dockerfile,
    rules: Sequence[Rule],
    *,
    dockerignore: tuple[str, ...] | None = None,
    report: Report | None = None,
    layers: Mapping[int, int] | None = None,
    skip: Collection[str] = (),
) -> tuple[LintFinding, ...]:
    """Every violation of every rule not in ``skip`` (ids or names), in file order. With an
    image (``report``, and ``layers``: the layer each final-stage instruction made, by its
    line), each carries the bytes the analysis blames on its cause in that layer."""
    context = LintContext(dockerfile, dockerignore, report, layers)
    findings = []
    for rule in rules:
        if rule.id in skip or rule.name in skip:
            continue
        for violation in rule.check(context):
            measured, layer = _measured(rule, violation, context)
            findings.append(
                LintFinding(
                    rule=rule.id,
                    name=rule.name,
                    hadolint=rule.hadolint,
                    severity=rule.severity,
                    message=violation.message,
                    fix=violation.fix,
                    path=dockerfile.path,
                    line=violation.line,
                    column=violation.column,
                    end_line=violation.instruction.end_line,
                    stage=violation.instruction.stage,
                    bytes=measured,
                    layer=layer,
                )
            )
    return tuple(sorted(findings, key=lambda f: (f.line, f.column, f.rule)))


def _measured(
    rule: Rule, violation: Violation, context: LintContext
) -> tuple[int | None, int | None]:
    """The bytes of the violation's cause in the layer its instruction made. A FROM made no
    layer of its own: its cause is priced over the base image's layers (those no instruction
    of the final stage made)."""
    own = rule.measure(violation, context)
    if own is not None:
        return own
    report, layers = context.report, context.layers
    if report is None or layers is None or violation.cause is None:
        return None, None
    instruction = violation.instruction
    if instruction.keyword == "FROM":
        made = set(layers.values())
        wanted: set[int | None] = {i for i in range(len(report.image.layers)) if i not in made}
        layer = None
    else:
        layer = layers.get(instruction.line)
        if layer is None:
            return None, None
        wanted = {layer}
    total = sum(
        finding.bytes
        for finding in report.findings
        if finding.cause == violation.cause
        and (violation.group is None or finding.group == violation.group)
        and finding.layer in wanted
    )
    return total, layer


def hadolint_ids(rules: Iterable[Rule]) -> dict[str, str]:
    """Our rule id for each hadolint id we share."""
    return {rule.hadolint: rule.id for rule in rules if rule.hadolint}
