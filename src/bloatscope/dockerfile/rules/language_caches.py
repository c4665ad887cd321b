"""The cache rules of language package managers: pip (BS103), npm (BS104), yarn (BS105)."""

from __future__ import annotations

import re

from bloatscope.dockerfile.rules.arguments import action, option_value, subcommand
from bloatscope.dockerfile.rules.cache_rule import CacheRule
from bloatscope.dockerfile.rules.runs import Call, absolute
from bloatscope.dockerfile.shell_commands import Command

_PIP = re.compile(r"pip(?:\d+(?:\.\d+)*)?")
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)*)?")
_PIP_VALUE_OPTIONS = frozenset(
    ("--cache-dir", "--log", "--log-file", "--proxy", "--retries", "--timeout", "--cert")
) | frozenset(("--exists-action", "--trusted-host", "--client-cert", "--python", "--src"))
# pip reads PIP_NO_CACHE_DIR with strtobool and turns the cache off for false values too
_PIP_BOOLEANS = frozenset(("y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0"))


def pip_arguments(command: Command) -> tuple[str, ...] | None:
    """pip's arguments, for ``pip``, ``pip3.11``, ``/opt/venv/bin/pip`` and ``python -m pip``;
    None for anything else (``pipx``, ``pipenv``, ``uv pip`` have caches of their own)."""
    if _PIP.fullmatch(command.program):
        return command.args
    if not _PYTHON.fullmatch(command.program):
        return None
    args = command.args
    index = 0
    while index < len(args) and args[index].startswith("-"):
        if args[index] == "-m":
            return args[index + 2 :] if args[index + 1 : index + 2] == ("pip",) else None
        if args[index] == "-mpip":
            return args[index + 1 :]
        index += 2 if args[index] in ("-X", "-W") else 1
    return None


def _pip_action(command: Command) -> tuple[str, tuple[str, ...]] | None:
    args = pip_arguments(command)
    found = action(args, _PIP_VALUE_OPTIONS) if args is not None else None
    return (found[1], args) if found and args is not None else None


class PipCache(CacheRule):
    id = "BS103"
    name = "pip-cache"
    hadolint = "DL3042"
    title = "pip's download and wheel cache left in the layer"
    group = "pip"
    fix = (
        "Mount pip's cache: `RUN --mount=type=cache,target=/root/.cache/pip pip install ...`; "
        "or use `pip install --no-cache-dir ...` (or `ENV PIP_NO_CACHE_DIR=1`)."
    )

    def fills(self, call: Call) -> bool:
        found = _pip_action(call.command)
        return (
            found is not None
            and found[0] == "install"
            and "--no-cache-dir" not in found[1]
            and call.env.get("PIP_NO_CACHE_DIR", "").lower() not in _PIP_BOOLEANS
        )

    def caches(self, call: Call) -> tuple[str, ...]:
        args = pip_arguments(call.command) or ()
        cache = option_value(args, "--cache-dir") or call.env.get("PIP_CACHE_DIR")
        cache = cache or call.env.get("XDG_CACHE_HOME", "~/.cache") + "/pip"
        return (absolute(cache, call.cwd),)

    def cleans(self, command: Command) -> bool:
        found = _pip_action(command)
        return found is not None and found[0] == "cache" and "purge" in found[1]

    def describe(self, command: Command) -> str:
        pip = command.name if _PIP.fullmatch(command.program) else f"{command.name} -m pip"
        return f"`{pip} install` keeps its download and wheel cache (~/.cache/pip) in this layer"


_NPM_INSTALLS = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal"}
    | {"isntall", "add", "ci", "clean-install", "ic", "install-clean", "isntall-clean"}
    | {"install-test", "it", "install-ci-test", "cit", "update", "up", "upgrade", "udpate"}
)
_NPM_VALUE_OPTIONS = frozenset(("--prefix", "--cache", "-w", "--workspace", "--loglevel", "-C"))


class NpmCache(CacheRule):
    id = "BS104"
    name = "npm-cache"
    title = "npm's cache (~/.npm) left in the layer"
    group = "npm"
    fix = (
        "Mount npm's cache: `RUN --mount=type=cache,target=/root/.npm npm ci`; or end this "
        "RUN with `&& npm cache clean --force`."
    )

    def fills(self, call: Call) -> bool:
        found = subcommand(call.command, ("npm",), _NPM_VALUE_OPTIONS)
        return found is not None and found[0] in _NPM_INSTALLS

    def caches(self, call: Call) -> tuple[str, ...]:
        env = call.env
        cache = option_value(call.command.args, "--cache")
        cache = cache or env.get("npm_config_cache") or env.get("NPM_CONFIG_CACHE") or "~/.npm"
        return (absolute(cache, call.cwd) + "/_cacache",)

    def cleans(self, command: Command) -> bool:
        found = subcommand(command, ("npm",), _NPM_VALUE_OPTIONS)
        return found is not None and found[0] == "cache" and found[1][:1] in _NPM_CLEANS

    def describe(self, command: Command) -> str:
        found = subcommand(command, ("npm",), _NPM_VALUE_OPTIONS)
        return f"`npm {found[0] if found else 'install'}` leaves npm's cache (~/.npm) in this layer"


_NPM_CLEANS = frozenset((("clean",), ("clear",), ("rm",)))
_YARN_VALUE_OPTIONS = frozenset(
    ("--cache-folder", "--modules-folder", "--cwd", "--network-timeout", "--mutex")
) | frozenset(("--global-folder", "--link-folder", "--use-yarnrc", "--registry"))
# yarn 1 caches in /usr/local/share/.cache/yarn as root and in ~/.cache/yarn as anyone else;
# yarn 2 and later in ~/.yarn/berry/cache
_YARN_CACHES = ("/usr/local/share/.cache/yarn", "~/.cache/yarn", "~/.yarn/berry/cache")


class YarnCache(CacheRule):
    id = "BS105"
    name = "yarn-cache"
    hadolint = "DL3060"
    title = "yarn's cache left in the layer"
    group = "yarn"
    fix = (
        "Mount yarn's cache: `RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn "
        "install --frozen-lockfile`; or end this RUN with `&& yarn cache clean`."
    )

    def fills(self, call: Call) -> bool:
        command = call.command
        if command.program != "yarn":
            return False
        found = subcommand(command, ("yarn",), _YARN_VALUE_OPTIONS)
        if found is None:  # a bare `yarn` installs, unless it is only asked something
            return not {"-v", "--version", "-h", "--help"} & set(command.args)
        return found[0] in ("install", "add") or (found[0] == "global" and found[1][:1] == ("add",))

    def caches(self, call: Call) -> tuple[str, ...]:
        folder = option_value(call.command.args, "--cache-folder")
        folder = folder or call.env.get("YARN_CACHE_FOLDER")
        return (absolute(folder, call.cwd),) if folder else _YARN_CACHES

    def cleans(self, command: Command) -> bool:
        found = subcommand(command, ("yarn",), _YARN_VALUE_OPTIONS)
        return found is not None and found[0] == "cache" and found[1][:1] == ("clean",)

    def describe(self, command: Command) -> str:
        found = subcommand(command, ("yarn",), _YARN_VALUE_OPTIONS)
        return f"`yarn {found[0] if found else 'install'}` leaves yarn's cache in this layer"
