"""What each change of ``bloatscope fix`` saved on naive-bert, measured on the layers of the
original image and of the one rebuilt from the fixed Dockerfile, each tied to the instruction
that made it: independent of the estimates, which come from findings and package closures."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bloatscope.model.dockerfile import Dockerfile, Instruction
from bloatscope.model.report import Report

Picker = Callable[[Instruction], bool]


def layer_bytes(
    report: Report, dockerfile: Dockerfile, layers: Mapping[int, int], pick: Picker
) -> int:
    """The bytes of the layers made by the final-stage instructions ``pick`` accepts."""
    chosen = {
        layers[i.line] for i in dockerfile.final_stage.instructions if i.line in layers and pick(i)
    }
    return sum(report.image.layers[index].size_bytes for index in chosen)


def base_bytes(report: Report, layers: Mapping[int, int]) -> int:
    """The base image's layers: those no final-stage instruction made."""
    made = set(layers.values())
    return sum(layer.size_bytes for layer in report.image.layers if layer.index not in made)


def is_apt(i: Instruction) -> bool:
    return i.keyword == "RUN" and "apt-get" in i.script


def is_wheel_copy(i: Instruction) -> bool:
    return i.keyword == "COPY" and any(s.endswith(".whl") for s in i.expanded[:-1])


def is_python_install(i: Instruction) -> bool:
    """pip installs in the original; the copy of what the builder installed in the fix."""
    return (i.keyword == "RUN" and "pip install" in i.script) or (
        i.keyword == "COPY" and i.flag("from") is not None
    )


def is_context_copy(i: Instruction) -> bool:
    return i.keyword == "COPY" and "." in i.expanded[:-1]


def measured_savings(
    original: tuple[Report, Dockerfile, Mapping[int, int]],
    fixed: tuple[Report, Dockerfile, Mapping[int, int]],
) -> dict[str, int]:
    """Per fixer id, the bytes its change took out of naive-bert's image."""

    def before(pick: Picker) -> int:
        return layer_bytes(*original, pick)

    def after(pick: Picker) -> int:
        return layer_bytes(*fixed, pick)

    return {
        # the slim base, plus the wheel that now stays in the builder
        "builder-stage": base_bytes(original[0], original[2])
        - base_bytes(fixed[0], fixed[2])
        + before(is_wheel_copy),
        "cache-mounts": before(is_apt) - after(is_apt),
        "unused-requirements": before(is_python_install) - after(is_python_install),
        "unused-context-copy": before(is_context_copy),
    }
