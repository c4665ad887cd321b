"""The size rule for compilers and headers installed into the image (BS141).

Build tools a package manager installs in a RUN of the stages the image is made of, and that
RUN does not remove again."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.rules.apt import apt_action
from bloatscope.dockerfile.rules.arguments import (
    operands,
    option_value,
    short_values,
    without_values,
)
from bloatscope.dockerfile.rules.runs import Call, RunStep, calls, run_steps, violation

# Build tools by package name, for apt, apk and rpm alike; compilers and -dev/-devel headers
# by pattern. In step with the analysis's dev_tools (it measures Debian's).
_BUILD_TOOLS = frozenset(
    {"build-essential", "make", "cmake", "ninja-build", "ninja", "meson", "autoconf"}
    | {"automake", "libtool", "pkg-config", "pkgconf", "pkgconfig", "dpkg-dev", "bison"}
    | {"flex", "git", "build-base", "alpine-sdk", "musl-dev", "linux-headers", "gcc-c++"}
    | {"kernel-headers", "kernel-devel", "binutils", "patch"}
)
_COMPILER = re.compile(r"(?:gcc|g\+\+|cpp|clang|gfortran|llvm)(?:-[\d.]+)?")
_INSTALLERS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    # program: (install subcommands, uninstall subcommands, the analysis's ecosystem)
    "apt-get": (frozenset(("install",)), frozenset(("remove", "purge")), "dpkg"),
    "apt": (frozenset(("install",)), frozenset(("remove", "purge")), "dpkg"),
    "apk": (frozenset(("add",)), frozenset(("del",)), None),
    "yum": (frozenset(("install",)), frozenset(("remove", "erase")), None),
    "dnf": (frozenset(("install", "in")), frozenset(("remove", "erase", "rm")), None),
    "microdnf": (frozenset(("install",)), frozenset(("remove",)), None),
    "zypper": (frozenset(("install", "in")), frozenset(("remove", "rm")), None),
}
_INSTALL_VALUE_OPTIONS = frozenset(
    ("-o", "-c", "-t", "--option", "--target-release", "--virtual", "-X", "--repository")
) | frozenset(("--setopt", "--enablerepo", "--disablerepo", "-x", "--exclude"))


def is_build_tool(package: str) -> bool:
    name = re.split(r"[=<>~:]", package, maxsplit=1)[0].lower()
    return (
        name in _BUILD_TOOLS
        or bool(_COMPILER.fullmatch(name))
        or (name.endswith(("-dev", "-devel")) and not name.startswith("libgcc-s"))
    )


def _packages(call: Call, *, uninstall: bool) -> tuple[list[str], str | None] | None:
    """The package names an install (or uninstall) by a package manager names, and the
    ``apk add --virtual`` name they are grouped under."""
    command = call.command
    known = _INSTALLERS.get(command.program)
    if known is None:
        return None
    words = operands(without_values(command.args, _INSTALL_VALUE_OPTIONS))
    verb = apt_action(command) if command.program in ("apt-get", "apt") else next(iter(words), None)
    installs, removes, _ecosystem = known
    if verb is None or verb not in (removes if uninstall else installs) or verb not in words:
        return None
    names = [name for name in words[words.index(verb) + 1 :] if "$" not in name]
    virtual = None
    if command.program == "apk":
        virtual = option_value(command.args, "--virtual") or next(
            iter(short_values(command.args, "t")), None
        )
    return names, virtual


class BuildToolsInFinalStage(Rule):
    id = "BS141"
    name = "build-tools-in-final-stage"
    title = "compilers and headers installed into the image"

    def check(self, context: LintContext) -> Iterator[Violation]:
        for run in run_steps(context.dockerfile):
            found = calls(run)
            tools: list[str] = []
            first: tuple[Call, str | None] | None = None
            for call in found:
                installed = _packages(call, uninstall=False)
                if installed is None:
                    continue
                names, virtual = installed
                wanted = [name for name in names if is_build_tool(name)]
                gone = _uninstalled(found[call.index + 1 :])
                if virtual is not None and virtual in gone:
                    continue
                kept = [name for name in wanted if name.split("=")[0] not in gone]
                if kept and first is None:
                    first = (call, _INSTALLERS[call.command.program][2])
                tools += kept
            if first is not None:
                yield _tools_violation(run, first[0], first[1], list(dict.fromkeys(tools)))


def _uninstalled(later: list[Call]) -> set[str]:
    """Package (and apk virtual) names the later commands remove."""
    gone: set[str] = set()
    for call in later:
        removed_here = _packages(call, uninstall=True)
        if removed_here is not None:
            gone.update(name.split("=")[0] for name in removed_here[0])
    return gone


def _tools_violation(
    run: RunStep, call: Call, ecosystem: str | None, tools: list[str]
) -> Violation:
    shown = ", ".join(tools[:6]) + (f" and {len(tools) - 6} more" if len(tools) > 6 else "")
    return violation(
        run,
        call.command,
        f"`{call.command.name}` installs build tools into the image: {shown}",
        "Compile in a builder stage: install the compilers and headers there, build, and "
        "`COPY --from=builder` only the result onto a slim base. Needed only during this RUN? "
        "Remove them before it ends (`apt-get purge -y --auto-remove ...`, or "
        "`apk add --virtual .build-deps ... && apk del .build-deps`).",
        cause="dev-packages" if ecosystem else None,
        group=ecosystem,
    )
