"""apt's size rules: its package lists (BS101) and recommended packages (BS102).

``apt-get update`` leaves the lists in the layer unless the RUN deletes or mounts them, and
with them the package caches apt builds from the lists (pkgcache.bin, priced with the lists);
``apt-get install`` without ``--no-install-recommends`` adds every recommended package."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.rules.arguments import subcommand
from bloatscope.dockerfile.rules.cache_rule import CacheRule
from bloatscope.dockerfile.rules.runs import Call, calls, run_steps, violation
from bloatscope.dockerfile.shell_commands import Command

_APT_LISTS = "/var/lib/apt/lists"
_APT_VALUE_OPTIONS = frozenset(("-o", "-c", "-t", "-a", "--option", "--config-file")) | frozenset(
    ("--target-release", "--default-release", "--host-architecture")
)
_NO_RECOMMENDS = re.compile(r"APT::Install-Recommends[\s=]*\"?(?:false|0|no|off)\b", re.IGNORECASE)


def apt_action(command: Command) -> str | None:
    """``update`` for ``apt-get -q update``; None when the command is not apt's."""
    found = subcommand(command, ("apt-get", "apt"), _APT_VALUE_OPTIONS)
    return found[0] if found else None


class AptListsNotRemoved(CacheRule):
    id = "BS101"
    name = "apt-lists-not-removed"
    hadolint = "DL3009"
    title = "apt package lists left in the layer"
    group = "apt-lists"
    # apt-get update also builds pkgcache.bin and srcpkgcache.bin from the lists, in
    # /var/cache/apt; the fix takes them out with the lists, and no other rule prices them
    companions = ("apt-cache",)
    fix = (
        "Mount the lists as a build cache, and apt's own cache beside them: `RUN "
        "--mount=type=cache,target=/var/lib/apt/lists,sharing=locked "
        "--mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update && ...`; or "
        "end this RUN with `&& apt-get clean && rm -rf /var/lib/apt/lists/*`."
    )

    def fills(self, call: Call) -> bool:
        return apt_action(call.command) == "update"

    def caches(self, call: Call) -> tuple[str, ...]:
        return (_APT_LISTS,)

    def cleans(self, command: Command) -> bool:
        return apt_action(command) in ("distclean", "dist-clean")

    def describe(self, command: Command) -> str:
        return (
            f"`{command.name} update` leaves the package lists (/var/lib/apt/lists), and any "
            "pkgcache.bin apt builds from them, in this layer: nothing after it in this RUN "
            "deletes them"
        )


class AptNoInstallRecommends(Rule):
    id = "BS102"
    name = "apt-no-install-recommends"
    hadolint = "DL3015"
    title = "apt installs recommended packages too"

    def check(self, context: LintContext) -> Iterator[Violation]:
        configured = False  # an earlier command wrote APT::Install-Recommends "false"
        for step in run_steps(context.dockerfile):
            for call in calls(step):
                command = call.command
                if any(_NO_RECOMMENDS.search(word.text) for word in command.words[1:]):
                    configured = True
                elif (
                    not configured
                    and apt_action(command) == "install"
                    and not _without_recommends(command.args)
                ):
                    yield violation(
                        step,
                        command,
                        f"`{command.name} install` without `--no-install-recommends` installs "
                        "every recommended package as well",
                        "Add `--no-install-recommends`: "
                        "`apt-get install -y --no-install-recommends ...`.",
                    )


def _without_recommends(args: tuple[str, ...]) -> bool:
    """``--no-install-recommends``, or ``-o APT::Install-Recommends=false`` (or 0, no, off)."""
    settings = []
    for index, arg in enumerate(args):
        if arg.partition("=")[0] == "--no-install-recommends":
            return True
        if arg in ("-o", "--option"):
            settings.append(args[index + 1] if index + 1 < len(args) else "")
        elif arg.startswith("--option="):
            settings.append(arg.removeprefix("--option="))
        elif arg.startswith("-o") and not arg.startswith("--"):
            settings.append(arg[2:])
    return any(_NO_RECOMMENDS.fullmatch(setting) for setting in settings)
