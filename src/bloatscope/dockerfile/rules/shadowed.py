"""The bytes a RUN rule's violation costs, from the image's shadowed files.

The shadowed files of one cause that the analysis found hidden by the RUN's layer and touched
first by the violation's command."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bloatscope.dockerfile.base import LintContext, Violation
from bloatscope.dockerfile.rules.runs import Call, calls, run_steps

# the analysis' shadowed causes (model.report.ShadowCause), spelled out: linting without an
# image never loads the analysis model
METADATA_ONLY = "metadata-only"
DELETED = "deleted"


def shadowed_bytes(
    violation: Violation,
    context: LintContext,
    cause: str,
    touches: Callable[[Call], Callable[[str], bool] | None],
) -> tuple[int | None, int | None]:
    """The bytes of ``cause`` the analysis found hidden by the violation's RUN and touched
    first by its command, and the layer that holds most of them."""
    report, layers = context.report, context.layers
    layer = layers.get(violation.instruction.line) if layers is not None else None
    if report is None or layer is None:
        return None, None
    run = next(
        (r for r in run_steps(context.dockerfile) if r.instruction == violation.instruction), None
    )
    if run is None:
        return None, None
    testers = [(call, test) for call in calls(run) if (test := touches(call)) is not None]
    place = (violation.line, violation.column)
    mine = next((c.index for c, _ in testers if run.script.where(c.command) == place), None)
    if mine is None:
        return None, None
    by_layer: Counter[int] = Counter()
    for shadowed in report.reclaimable.files:
        if str(shadowed.cause) != cause or shadowed.hidden_by_layer != layer:
            continue
        path = "/" + shadowed.path.removeprefix("./").lstrip("/")
        first = next((call.index for call, test in testers if test(path)), None)
        if first == mine:
            by_layer[shadowed.layer] += shadowed.size_bytes
    return sum(by_layer.values()), by_layer.most_common(1)[0][0] if by_layer else None
