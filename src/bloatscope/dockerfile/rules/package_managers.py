"""Size rules for package managers run by RUN: caches and indexes left in the layer (apt lists,
pip, npm, yarn, apk, yum, dnf, zypper) and apt's recommended packages; and what every RUN rule
walks with: the RUNs of the stages the image is made of, each command's directory and
environment, cache mounts, and the paths an ``rm`` deletes.

Only the stages the image is made of are checked: the final stage and the stages it is built
FROM. A cache in a builder stage never reaches the image (hadolint flags it anyway, except for
DL3009). A RUN whose cache directory is a ``--mount=type=cache`` (or ``tmpfs``) keeps nothing
in its layer and is never flagged; where a cache is the problem, the fix offers that mount
first. A clean-up counts only after the command that filled the cache, in the same RUN."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.shell import Command, RunScript, run_script
from bloatscope.model.dockerfile import Dockerfile, Instruction, Stage

MAX_COMMANDS = 2000
_GLOB = re.compile(r"[*?\[]")
_HOME = re.compile(r"^(?:~|\$HOME|\$\{HOME\}|/root|/home/[^/]+)(?=/|$)")


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction of a stage the image is made of, and the state it starts from."""

    stage: Stage
    instruction: Instruction
    workdir: str
    env: Mapping[str, str]  # ENV, and ARG values, in effect


@dataclass(frozen=True, slots=True)
class RunStep:
    """One RUN of a stage the image is made of, and what its shell starts from."""

    stage: Stage
    instruction: Instruction
    script: RunScript
    workdir: str
    env: Mapping[str, str]  # ENV, and ARG values, in effect


@dataclass(frozen=True, slots=True)
class Call:
    """One command of a RUN, with its place among them, directory and environment."""

    command: Command
    index: int
    cwd: str
    env: Mapping[str, str]  # the RUN's, what the script exported before, its own NAME=value


def shipped_stages(dockerfile: Dockerfile) -> tuple[Stage, ...]:
    """The final stage and the stages it is built FROM, the earliest first."""
    chain: list[Stage] = []
    stage: Stage | None = dockerfile.stages[-1] if dockerfile.stages else None
    while stage is not None and stage not in chain:
        chain.append(stage)
        base = stage.base_stage
        stage = dockerfile.stages[base] if base is not None and base < stage.index else None
    return tuple(reversed(chain))


def steps(dockerfile: Dockerfile) -> Iterator[Step]:
    """Every instruction of the shipped stages after their FROM, in file order, with the
    state before it. ENV and WORKDIR carry into a stage built FROM another; ARG values don't."""
    defaults = dict(_arg_pairs(dockerfile.global_args))
    env: dict[str, str] = {}
    workdir = "/"
    for stage in shipped_stages(dockerfile):
        args: dict[str, str] = {}
        for instruction in stage.instructions[1:]:
            yield Step(stage, instruction, workdir, {**args, **env})
            keyword = instruction.keyword
            if keyword == "ENV":
                env.update(env_pairs(instruction))
            elif keyword == "ARG":
                for name, value in _arg_pairs((instruction,)):
                    given = dockerfile.build_args.get(name, value or defaults.get(name))
                    if given is not None:
                        args[name] = given
            elif keyword == "WORKDIR" and words_of(instruction):
                workdir = absolute(words_of(instruction)[-1], workdir)


def run_steps(dockerfile: Dockerfile) -> Iterator[RunStep]:
    """The RUNs among ``steps``, each with its commands."""
    for step in steps(dockerfile):
        if step.instruction.keyword == "RUN":
            yield run_step(dockerfile, step)


def run_step(dockerfile: Dockerfile, step: Step) -> RunStep:
    script = run_script(dockerfile, step.instruction)
    return RunStep(step.stage, step.instruction, script, step.workdir, step.env)


def calls(step: RunStep) -> list[Call]:
    """The RUN's commands with the directory ``cd`` left them in and the variables exported
    before them (a subshell's ``cd`` is taken to last: the script is not run). Only the first
    ``MAX_COMMANDS``: no real RUN has that many, and the rules stay fast on a hostile one."""
    found: list[Call] = []
    cwd, env = step.workdir, dict(step.env)
    for index, command in enumerate(step.script.commands[:MAX_COMMANDS]):
        own = {**env, **dict(command.assignments)} if command.assignments else env
        found.append(Call(command, index, cwd, own))
        if command.program == "cd":
            targets = [arg for arg in command.args if not arg.startswith("-")]
            cwd = absolute(targets[0] if targets else "~", cwd)
        elif command.program == "export":
            exported = dict(_assignment(arg) for arg in command.args if "=" in arg)
            env = {**env, **exported}
    return found


def words_of(instruction: Instruction) -> tuple[str, ...]:
    """The instruction's words with ARG and ENV substituted when the parser did so."""
    return instruction.expanded or instruction.arguments


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """``ENV A=1 B="x y"`` and the legacy ``ENV A 1``, whichever way the parser split them."""
    words = words_of(instruction)
    if not words:
        return []
    if "=" in words[0]:
        return [_assignment(word) for word in words]
    pairs = zip(words[::2], words[1::2], strict=False)
    return [(name, _unquoted(value)) for name, value in pairs]


def _arg_pairs(instructions: Iterable[Instruction]) -> Iterator[tuple[str, str | None]]:
    for instruction in instructions:
        for word in words_of(instruction):
            name, equals, value = word.partition("=")
            yield name, _unquoted(value) if equals else None


def _assignment(word: str) -> tuple[str, str]:
    name, _, value = word.partition("=")
    return name, _unquoted(value)


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def absolute(path: str, cwd: str) -> str:
    """``path`` made absolute against ``cwd`` and normalized; ``~`` and ``$HOME`` are /root."""
    home = _HOME.match(path)
    if home is not None and home.group()[0] in "~$":
        path = "/root" + path[home.end() :]
    if not path.startswith("/"):
        path = posixpath.join(cwd, path)
    return "/" + posixpath.normpath(path).lstrip("/")


def home_form(path: str) -> str:
    """A path under any home written from ``~``: whose home a cache is in is unknown (USER)."""
    home = _HOME.match(path)
    return "~" + path[home.end() :] if home is not None else path


def covers(pattern: str, path: str) -> bool:
    """Whether deleting ``pattern`` (absolute, maybe a glob) deletes ``path`` or everything
    in it: ``/var/lib/apt/lists/*`` covers /var/lib/apt/lists."""
    if not _GLOB.search(pattern):
        return pattern in (path, "/") or path.startswith(pattern + "/")
    if fnmatch.fnmatchcase(path + "/\0", pattern):
        return True
    probe = path
    while probe != "/":
        if fnmatch.fnmatchcase(probe, pattern):
            return True
        probe = posixpath.dirname(probe)
    return False


def literal_part(pattern: str) -> str:
    """The directory a glob starts in: /app for /app/*.pyc."""
    glob = _GLOB.search(pattern)
    return pattern if glob is None else posixpath.dirname(pattern[: glob.start()]) or "/"


def overlaps(pattern: str, path: str) -> bool:
    """Whether deleting ``pattern`` deletes ``path``, all of it or some of what is in it."""
    return covers(pattern, path) or covers(path, literal_part(pattern))


def operands(args: Iterable[str]) -> list[str]:
    """The arguments that are not options (all of them after ``--``)."""
    found: list[str] = []
    options = True
    for arg in args:
        if options and arg == "--":
            options = False
        elif not (options and arg.startswith("-") and arg != "-"):
            found.append(arg)
    return found


def removed(call: Call) -> tuple[str, ...]:
    """The absolute paths (maybe globs) an ``rm``, or a ``find ... -delete``, deletes."""
    command = call.command
    if command.program == "rm":
        targets = operands(command.args)
    elif command.program == "find" and ("-delete" in command.args or _finds_rm(command.args)):
        targets = []
        for arg in command.args:
            if arg.startswith(("-", "(", "!")):
                break
            targets.append(arg)
    else:
        return ()
    return tuple(absolute(target, call.cwd) for target in targets if target)


def _finds_rm(args: tuple[str, ...]) -> bool:
    return any(
        arg in ("-exec", "-execdir") and args[index + 1 : index + 2] == ("rm",)
        for index, arg in enumerate(args)
    )


class Removals:
    """The paths a run of commands deletes, asked about one directory at a time in time that
    grows with the directory's depth (home directories compared as ``~``). Globs are matched
    one by one; past the first hundred they are not kept."""

    def __init__(self) -> None:
        self._paths: set[str] = set()
        self._globs: list[str] = []

    def add(self, call: Call) -> None:
        for target in map(home_form, removed(call)):
            if not _GLOB.search(target):
                self._paths.add(target)
            elif len(self._globs) < 100 and target not in self._globs:
                self._globs.append(target)

    def clear(self, directories: Iterable[str]) -> bool:
        """Whether one of the directories (or all its content) is deleted."""
        for directory in map(home_form, directories):
            probe = directory
            while probe:
                if probe in self._paths:
                    return True
                parent = posixpath.dirname(probe)
                probe = "" if parent == probe else parent
            if "/" in self._paths or any(covers(glob, directory) for glob in self._globs):
                return True
        return False


def mounted(step: RunStep, directories: Iterable[str]) -> bool:
    """Whether a ``cache`` or ``tmpfs`` mount of the RUN holds one of the directories (the
    mount is the directory or one of its parents); homes compared as ``~``."""
    targets = [home_form(target) for target in mount_targets(step, ("cache", "tmpfs"))]
    return any(
        covers(target, home_form(directory)) for target in targets for directory in directories
    )


def mount_targets(step: RunStep, kinds: Iterable[str] | None = None) -> list[str]:
    """Where the RUN's mounts of these types (any type: None) are, absolute. What the RUN
    writes under them stays out of its layer."""
    found = []
    for value in step.instruction.flag_values("mount"):
        fields: dict[str, str] = {}
        for part in value.split(","):
            key, equals, setting = part.partition("=")
            fields[key.strip().strip("\"'").lower()] = (
                setting.strip().strip("\"'") if equals else ""
            )
        if kinds is not None and fields.get("type", "bind") not in kinds:
            continue
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if target:
            found.append(absolute(target, step.workdir))
    return found


def action(args: tuple[str, ...], value_options: frozenset[str]) -> tuple[int, str] | None:
    """The subcommand: the first argument that is not an option or an option's value, and
    its index in ``args``."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            return index, arg
        index += 2 if arg in value_options else 1
    return (index, args[index]) if index < len(args) else None


def option_value(args: tuple[str, ...], *names: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` (the last one wins)."""
    found: str | None = None
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                found = args[index + 1]
            elif arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
    return found


def violation(
    step: RunStep,
    command: Command,
    message: str,
    fix: str,
    *,
    cause: str | None = None,
    group: str | None = None,
) -> Violation:
    """A violation at the command's first word in the Dockerfile."""
    line, column = step.script.where(command)
    return Violation(step.instruction, message, line, column, fix, cause, group)


class RunRule(Rule):
    """A rule that looks at one RUN of the shipped stages at a time."""

    def check(self, context: LintContext) -> Iterator[Violation]:
        for step in run_steps(context.dockerfile):
            yield from self.check_run(step)

    @abstractmethod
    def check_run(self, step: RunStep) -> Iterator[Violation]:
        """Every place this RUN breaks the rule."""


class _CacheRule(RunRule):
    """A command that fills a cache directory, with no option turning the cache off, no mount
    holding it and no later command of its RUN cleaning it. One violation per RUN, at the
    first such command: its layer's cache is measured once."""

    cause: str | None = "package-cache"
    group: str | None = None
    fix: str

    @abstractmethod
    def fills(self, call: Call) -> bool:
        """Whether the command writes to the cache (the cache not turned off)."""

    @abstractmethod
    def caches(self, call: Call) -> tuple[str, ...]:
        """Where that cache is: any one of them mounted or deleted is enough."""

    @abstractmethod
    def cleans(self, command: Command) -> bool:
        """Whether the command is the manager's own clean-up."""

    @abstractmethod
    def describe(self, command: Command) -> str:
        """What the first offending command leaves behind."""

    def check_run(self, step: RunStep) -> Iterator[Violation]:
        offending = []
        cleaned = False  # by a command after the one looked at: the walk goes backwards
        removals = Removals()
        for call in reversed(calls(step)):
            if self.fills(call):
                caches = self.caches(call)
                if not (cleaned or mounted(step, caches) or removals.clear(caches)):
                    offending.append(call)
            cleaned |= self.cleans(call.command)
            removals.add(call)
        if offending:
            more = len(offending) - 1
            command = offending[-1].command
            yield violation(
                step,
                command,
                self.describe(command) + (f" ({more} more in this RUN do too)" if more else ""),
                self.fix,
                cause=self.cause,
                group=self.group,
            )


def _subcommand(
    command: Command, programs: Iterable[str], value_options: frozenset[str]
) -> tuple[str, tuple[str, ...]] | None:
    """(subcommand, the arguments after it) of one of the programs; None for others."""
    if command.program not in programs:
        return None
    found = action(command.args, value_options)
    return (found[1], command.args[found[0] + 1 :]) if found else None


_APT_LISTS = "/var/lib/apt/lists"
_APT_VALUE_OPTIONS = frozenset(("-o", "-c", "-t", "-a", "--option", "--config-file")) | frozenset(
    ("--target-release", "--default-release", "--host-architecture")
)
_NO_RECOMMENDS = re.compile(r"APT::Install-Recommends[\s=]*\"?(?:false|0|no|off)\b", re.IGNORECASE)


def apt_action(command: Command) -> str | None:
    """``update`` for ``apt-get -q update``; None when the command is not apt's."""
    found = _subcommand(command, ("apt-get", "apt"), _APT_VALUE_OPTIONS)
    return found[0] if found else None


class AptListsNotRemoved(_CacheRule):
    id = "BS101"
    name = "apt-lists-not-removed"
    hadolint = "DL3009"
    title = "apt package lists left in the layer"
    group = "apt-lists"
    fix = (
        "Mount the lists as a build cache: `RUN --mount=type=cache,target=/var/lib/apt/lists,"
        "sharing=locked apt-get update && ...`; or end this RUN with "
        "`&& rm -rf /var/lib/apt/lists/*`."
    )

    def fills(self, call: Call) -> bool:
        return apt_action(call.command) == "update"

    def caches(self, call: Call) -> tuple[str, ...]:
        return (_APT_LISTS,)

    def cleans(self, command: Command) -> bool:
        return apt_action(command) in ("distclean", "dist-clean")

    def describe(self, command: Command) -> str:
        return (
            f"`{command.name} update` leaves the package lists (/var/lib/apt/lists) in this "
            "layer: nothing after it in this RUN deletes them"
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


class PipCache(_CacheRule):
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


class NpmCache(_CacheRule):
    id = "BS104"
    name = "npm-cache"
    title = "npm's cache (~/.npm) left in the layer"
    group = "npm"
    fix = (
        "Mount npm's cache: `RUN --mount=type=cache,target=/root/.npm npm ci`; or end this "
        "RUN with `&& npm cache clean --force`."
    )

    def fills(self, call: Call) -> bool:
        found = _subcommand(call.command, ("npm",), _NPM_VALUE_OPTIONS)
        return found is not None and found[0] in _NPM_INSTALLS

    def caches(self, call: Call) -> tuple[str, ...]:
        env = call.env
        cache = option_value(call.command.args, "--cache")
        cache = cache or env.get("npm_config_cache") or env.get("NPM_CONFIG_CACHE") or "~/.npm"
        return (absolute(cache, call.cwd) + "/_cacache",)

    def cleans(self, command: Command) -> bool:
        found = _subcommand(command, ("npm",), _NPM_VALUE_OPTIONS)
        return found is not None and found[0] == "cache" and found[1][:1] in _NPM_CLEANS

    def describe(self, command: Command) -> str:
        found = _subcommand(command, ("npm",), _NPM_VALUE_OPTIONS)
        return f"`npm {found[0] if found else 'install'}` leaves npm's cache (~/.npm) in this layer"


_NPM_CLEANS = frozenset((("clean",), ("clear",), ("rm",)))
_YARN_VALUE_OPTIONS = frozenset(
    ("--cache-folder", "--modules-folder", "--cwd", "--network-timeout", "--mutex")
) | frozenset(("--global-folder", "--link-folder", "--use-yarnrc", "--registry"))
# yarn 1 caches in /usr/local/share/.cache/yarn as root and in ~/.cache/yarn as anyone else;
# yarn 2 and later in ~/.yarn/berry/cache
_YARN_CACHES = ("/usr/local/share/.cache/yarn", "~/.cache/yarn", "~/.yarn/berry/cache")


class YarnCache(_CacheRule):
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
        found = _subcommand(command, ("yarn",), _YARN_VALUE_OPTIONS)
        if found is None:  # a bare `yarn` installs, unless it is only asked something
            return not {"-v", "--version", "-h", "--help"} & set(command.args)
        return found[0] in ("install", "add") or (found[0] == "global" and found[1][:1] == ("add",))

    def caches(self, call: Call) -> tuple[str, ...]:
        folder = option_value(call.command.args, "--cache-folder")
        folder = folder or call.env.get("YARN_CACHE_FOLDER")
        return (absolute(folder, call.cwd),) if folder else _YARN_CACHES

    def cleans(self, command: Command) -> bool:
        found = _subcommand(command, ("yarn",), _YARN_VALUE_OPTIONS)
        return found is not None and found[0] == "cache" and found[1][:1] == ("clean",)

    def describe(self, command: Command) -> str:
        found = _subcommand(command, ("yarn",), _YARN_VALUE_OPTIONS)
        return f"`yarn {found[0] if found else 'install'}` leaves yarn's cache in this layer"


_APK_VALUE_OPTIONS = frozenset(
    ("-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir")
) | frozenset(("--repositories-file",))


class ApkCache(_CacheRule):
    id = "BS106"
    name = "apk-cache"
    hadolint = "DL3019"
    title = "apk's package index left in the layer"
    group = "apk"
    fix = (
        "Use `apk add --no-cache ...`: apk then keeps neither the index nor the packages (or "
        "mount the cache: `RUN --mount=type=cache,target=/var/cache/apk apk add ...`)."
    )

    def fills(self, call: Call) -> bool:
        found = _subcommand(call.command, ("apk",), _APK_VALUE_OPTIONS)
        return (
            found is not None
            and found[0] in ("add", "update")
            and "--no-cache" not in call.command.args
        )

    def caches(self, call: Call) -> tuple[str, ...]:
        folder = option_value(call.command.args, "--cache-dir")
        return (absolute(folder or "/var/cache/apk", call.cwd),)

    def cleans(self, command: Command) -> bool:
        return False  # `apk cache clean` drops stale packages, not the index

    def describe(self, command: Command) -> str:
        found = _subcommand(command, ("apk",), _APK_VALUE_OPTIONS)
        verb = found[0] if found else "add"
        return f"`apk {verb}` without `--no-cache` leaves the package index in this layer"


class _CleanAfterInstall(_CacheRule):
    """yum, dnf and zypper keep repository metadata (and some packages) after installing."""

    cause = None  # the analysis has no kind for these caches yet: nothing to measure
    programs: tuple[str, ...]
    installs: frozenset[str]
    clean_words: tuple[frozenset[str], str]  # the clean-up subcommand, and the word it needs
    value_options: frozenset[str]
    cache_dirs: tuple[str, ...]

    def fills(self, call: Call) -> bool:
        found = _subcommand(call.command, self.programs, self.value_options)
        return found is not None and found[0] in self.installs

    def caches(self, call: Call) -> tuple[str, ...]:
        return self.cache_dirs

    def cleans(self, command: Command) -> bool:
        found = _subcommand(command, self.programs, self.value_options)
        subcommands, needed = self.clean_words
        return found is not None and found[0] in subcommands and (not needed or needed in found[1])

    def describe(self, command: Command) -> str:
        found = _subcommand(command, self.programs, self.value_options)
        return (
            f"`{command.name} {found[0] if found else 'install'}` leaves the repository "
            f"metadata and package cache ({self.cache_dirs[0]}) in this layer: nothing after "
            "it in this RUN cleans them"
        )


_RPM_VALUE_OPTIONS = frozenset(
    ("-c", "--config", "-d", "--debuglevel", "-e", "--errorlevel", "-x", "--exclude")
) | frozenset(("--enablerepo", "--disablerepo", "--installroot", "--releasever", "--setopt"))
_RPM_INSTALLS = frozenset(
    ("install", "groupinstall", "localinstall", "reinstall", "update", "upgrade", "downgrade")
)


class YumCleanup(_CleanAfterInstall):
    id = "BS107"
    name = "yum-cleanup"
    hadolint = "DL3032"
    title = "yum's metadata and cache left in the layer"
    programs = ("yum",)
    installs = _RPM_INSTALLS
    clean_words = (frozenset(("clean",)), "all")
    value_options = _RPM_VALUE_OPTIONS
    cache_dirs = ("/var/cache/yum",)
    fix = (
        "Mount the cache: `RUN --mount=type=cache,target=/var/cache/yum yum install -y ...`; or "
        "end this RUN with `&& yum clean all && rm -rf /var/cache/yum`."
    )


class DnfCleanup(_CleanAfterInstall):
    id = "BS108"
    name = "dnf-cleanup"
    hadolint = "DL3040"
    title = "dnf's metadata and cache left in the layer"
    programs = ("dnf", "dnf5", "microdnf")
    installs = _RPM_INSTALLS | frozenset(("in", "up", "rei", "distro-sync"))
    clean_words = (frozenset(("clean",)), "all")
    value_options = _RPM_VALUE_OPTIONS
    # dnf 4 and microdnf, then dnf 5 (Fedora 41 on)
    cache_dirs = ("/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5")
    fix = (
        "Mount the cache: `RUN --mount=type=cache,target=/var/cache/dnf dnf install -y ...`; or "
        "end this RUN with `&& dnf clean all`."
    )


class ZypperCleanup(_CleanAfterInstall):
    id = "BS109"
    name = "zypper-cleanup"
    hadolint = "DL3036"
    title = "zypper's metadata and cache left in the layer"
    programs = ("zypper",)
    installs = frozenset(("install", "in", "update", "up", "patch", "source-install", "si"))
    clean_words = (frozenset(("clean", "cc")), "")
    value_options = frozenset(("-R", "--root", "-c", "--config", "-D", "--reposd-dir")) | (
        frozenset(("-C", "--cache-dir", "--raw-cache-dir", "--solv-cache-dir", "--pkg-cache-dir"))
    )
    cache_dirs = ("/var/cache/zypp",)
    fix = (
        "Mount the cache: `RUN --mount=type=cache,target=/var/cache/zypp zypper install -y "
        "...`; or end this RUN with `&& zypper clean --all`."
    )


_CACHE_RULES: tuple[_CacheRule, ...] = (
    AptListsNotRemoved(),
    PipCache(),
    NpmCache(),
    YarnCache(),
    ApkCache(),
    YumCleanup(),
    DnfCleanup(),
    ZypperCleanup(),
)


def caches_filled(step: RunStep, call: Call) -> tuple[str, ...]:
    """The cache directories a command fills in its layer (none held by a mount)."""
    return tuple(
        directory
        for rule in _CACHE_RULES
        if rule.fills(call)
        for directory in rule.caches(call)[:1]
        if not mounted(step, (directory,))
    )
