"""Size rules for what a RUN does to what earlier layers hold (a chmod or chown that ships
copied files again, an rm that cannot take bytes out of the image), and for compilers and
headers installed into the image.

Earlier means earlier in the stages the image is made of (the final stage and those it is
built FROM). With an image, a violation's bytes are the shadowed files the analysis found
hidden by this RUN's layer and touched by this command; each file counted for the first
command of the RUN that touches it."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bloatscope.dockerfile.base import LintContext, Rule, Violation
from bloatscope.dockerfile.rules.package_managers import (
    Call,
    RunStep,
    Step,
    absolute,
    apt_action,
    caches_filled,
    calls,
    covers,
    literal_part,
    mount_targets,
    operands,
    option_value,
    overlaps,
    removed,
    run_step,
    run_steps,
    steps,
    violation,
    words_of,
)
from bloatscope.model.finding import Severity

# the analysis' shadowed causes (model.report.ShadowCause), spelled out: linting without an
# image never loads the analysis model
_METADATA_ONLY = "metadata-only"
_DELETED = "deleted"

_GLOB = re.compile(r"[*?\[]")
_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz|zst))$")


@dataclass(frozen=True, slots=True)
class _Added:
    """A path an earlier instruction put into the image."""

    path: str
    line: int
    how: str  # "COPY", "ADD", "RUN", or "cache" (a package manager's cache a RUN filled)
    directory: bool = True  # a directory's content, not one file


def added_by_copy(step: Step) -> list[_Added]:
    """Where a COPY or ADD puts files: the destination for one source, ``dest/name`` for a
    file among several or copied into ``dest/``. A source that looks like a directory (``.``,
    ``src/``, no extension, a local archive ADD unpacks) fills the destination."""
    instruction = step.instruction
    words = words_of(instruction)
    if len(words) < 2:
        return []
    *sources, written = words
    destination = absolute(written, step.workdir)
    if destination == "/":
        return []  # COPY rootfs/ / says nothing about which paths it wrote
    found: dict[str, bool] = {}
    for source in sources:
        name = posixpath.basename(source.split("://", 1)[-1].rstrip("/"))
        is_file = not source.endswith("/") and not _GLOB.search(name)
        is_file &= (
            "://" in source
            or source.startswith("<<")
            or ("." in name.strip(".") and not _ARCHIVE.search(name))
        )
        if len(sources) == 1 and not written.endswith("/"):
            found[destination] = not is_file
        elif is_file:
            found.setdefault(posixpath.join(destination, name), False)
        else:
            found[destination] = True
    return [_Added(path, instruction.line, instruction.keyword, d) for path, d in found.items()]


class _Additions:
    """What instructions added, found from a path in time that grows with its depth, not
    with how much was added: a Dockerfile of many COPYs and many rm's stays linear."""

    def __init__(self) -> None:
        self._items: list[_Added] = []
        self._gone: set[int] = set()
        self._at: dict[str, list[int]] = {}
        self._within: dict[str, list[int]] = {}  # a directory: the items at or below it

    def add(self, item: _Added) -> None:
        index = len(self._items)
        self._items.append(item)
        self._at.setdefault(item.path, []).append(index)
        for directory in _lineage(item.path):
            self._within.setdefault(directory, []).append(index)

    def near(self, target: str) -> Iterator[_Added]:
        """What a change to ``target`` (maybe a glob) may reach: the items it lies inside,
        then those at or below where it starts (lazily: a caller may want only one)."""
        start = literal_part(target)
        seen: set[int] = set()
        for directory in _lineage(start):
            for index in self._at.get(directory, ()):
                if index not in self._gone:
                    seen.add(index)
                    yield self._items[index]
        for index in self._within.get(start, ()):
            if index not in self._gone and index not in seen:
                yield self._items[index]

    def remove(self, target: str) -> None:
        """Forget the items a deletion of ``target`` takes away whole."""
        start = literal_part(target)
        kept = []
        for index in self._within.get(start, ()):
            if index not in self._gone and covers(target, self._items[index].path):
                self._gone.add(index)
            elif index not in self._gone:
                kept.append(index)
        if start in self._within:
            self._within[start] = kept  # each gone item is passed over once a list

    def alive(self) -> list[_Added]:
        return [item for index, item in enumerate(self._items) if index not in self._gone]


def _lineage(path: str) -> list[str]:
    """The path and each directory above it, up to /."""
    found = [path]
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        found.append(path)
    return found


@dataclass(frozen=True, slots=True)
class _MetadataChange:
    verb: str  # chmod, chown, chgrp
    setting: str  # the mode or owner it sets
    targets: tuple[str, ...]
    recursive: bool

    def touches(self, path: str) -> bool:
        """Whether this change rewrites the file at ``path``."""
        return any(
            target == path
            or (_GLOB.search(target) is not None and fnmatch.fnmatchcase(path, target))
            or (self.recursive and covers(target, path))
            for target in self.targets
        )

    def reaches(self, added: _Added) -> bool:
        """Whether it rewrites some of the files a COPY added (a directory's own mode is no
        bytes: ``chmod 755 /app`` after ``COPY . /app`` ships nothing again)."""
        for target in self.targets:
            if _GLOB.search(target) and fnmatch.fnmatchcase(added.path, target):
                return True
            if covers(added.path, literal_part(target)) and (
                target != added.path or not added.directory or self.recursive
            ):
                return True
            if self.recursive and covers(target, added.path):
                return True
        return False


_MODE_NOT_OPTION = re.compile(r"-[rwxXst]+")  # chmod -x FILE: a mode, not an option


def metadata_change(call: Call) -> _MetadataChange | None:
    command = call.command
    if command.program not in ("chmod", "chown", "chgrp"):
        return None
    recursive = reference = False
    positional: list[str] = []
    options = True
    for arg in command.args:
        if options and arg == "--":
            options = False
        elif options and arg.startswith("--"):
            recursive |= arg == "--recursive"
            reference |= arg.startswith("--reference")
        elif options and arg.startswith("-") and len(arg) > 1:
            if command.program == "chmod" and _MODE_NOT_OPTION.fullmatch(arg):
                positional.append(arg)
            else:
                recursive |= "R" in arg
        else:
            positional.append(arg)
    setting = "" if reference or not positional else positional[0]
    targets = positional if reference else positional[1:]
    paths = tuple(absolute(target, call.cwd) for target in targets)
    return _MetadataChange(command.program, setting, paths, recursive) if paths else None


class ChmodAfterCopy(Rule):
    id = "BS121"
    name = "chmod-after-copy"
    title = "chmod or chown ships copied files a second time"

    def check(self, context: LintContext) -> Iterator[Violation]:
        copies = _Additions()
        for step in steps(context.dockerfile):
            instruction = step.instruction
            if instruction.keyword in ("COPY", "ADD"):
                for item in added_by_copy(step):
                    copies.add(item)
            elif instruction.keyword == "RUN":
                run = run_step(context.dockerfile, step)
                for call in calls(run):
                    change = metadata_change(call)
                    if change is None:
                        continue
                    near = (item for target in change.targets for item in copies.near(target))
                    hit = next((item for item in near if change.reaches(item)), None)
                    if hit is not None:
                        yield _chmod_violation(run, call, change, hit)

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        def touches(call: Call) -> Callable[[str], bool] | None:
            change = metadata_change(call)
            return change.touches if change else None

        return _shadowed(violation, context, _METADATA_ONLY, touches)


def _chmod_violation(run: RunStep, call: Call, change: _MetadataChange, copy: _Added) -> Violation:
    flag = "chmod" if change.verb == "chmod" else "chown"
    value = change.setting
    if flag == "chmod" and not re.fullmatch(r"[0-7]{3,4}", value):
        value = "755"
    elif change.verb == "chgrp":
        value = f"<user>:{value}"
    return violation(
        run,
        call.command,
        f"`{change.verb}` rewrites {copy.path}, which the {copy.how} at line {copy.line} "
        "added: this layer ships those files a second time",
        f"Set it when the files are added: `{copy.how} --{flag}={value or '...'} ...` at line "
        f"{copy.line}, and drop this `{change.verb}`.",
        cause=_METADATA_ONLY,
    )


def _shadowed(
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


class DeletesEarlierLayer(Rule):
    id = "BS122"
    name = "deletes-earlier-layer"
    severity = Severity.HIGH
    title = "rm of what an earlier layer added: the bytes stay in the image"

    def check(self, context: LintContext) -> Iterator[Violation]:
        added = _Additions()
        for step in steps(context.dockerfile):
            instruction = step.instruction
            if instruction.keyword in ("COPY", "ADD"):
                for item in added_by_copy(step):
                    added.add(item)
            elif instruction.keyword == "RUN":
                yield from _deletions(run_step(context.dockerfile, step), added)

    def measure(
        self, violation: Violation, context: LintContext
    ) -> tuple[int | None, int | None] | None:
        def touches(call: Call) -> Callable[[str], bool] | None:
            targets = removed(call)
            return (lambda path: any(covers(t, path) for t in targets)) if targets else None

        return _shadowed(violation, context, _DELETED, touches)


def _deletions(run: RunStep, added: _Additions) -> list[Violation]:
    """The RUN's deletions of what earlier instructions added; what the RUN leaves added
    joins them."""
    mounts = mount_targets(run)  # what a RUN writes under any mount stays out of its layer
    found: list[Violation] = []
    fresh = _Additions()
    for call in calls(run):
        targets = removed(call)
        hits = [item for t in targets for item in added.near(t) if overlaps(t, item.path)]
        if hits:
            found.append(_rm_violation(run, call, targets, list(dict.fromkeys(hits))))
        for target in targets:
            added.remove(target)
            fresh.remove(target)
        for path, how in created(run, call):
            if not any(covers(mount, path) for mount in mounts):
                fresh.add(_Added(path, run.instruction.line, how))
    for item in fresh.alive():
        added.add(item)
    return found


def _rm_violation(
    run: RunStep, call: Call, targets: tuple[str, ...], hits: list[_Added]
) -> Violation:
    first = hits[0]
    target = next(t for t in targets if overlaps(t, first.path))
    inside = target != first.path and covers(first.path, literal_part(target))
    what = f"part of what the {first.how}" if inside else f"which the {first.how}"
    more = f" ({len(hits) - 1} more earlier additions too)" if len(hits) > 1 else ""
    if first.how in ("COPY", "ADD"):
        fix = (
            f"Keep it out where it is added (line {first.line}): exclude it in .dockerignore or "
            "copy only what the image needs; deleting it later leaves its bytes in that layer."
        )
    elif first.how == "cache":
        fix = (
            f"Clean the cache in the RUN that fills it (line {first.line}), or mount it there: "
            f"`RUN --mount=type=cache,target={first.path} ...`."
        )
    else:
        fix = (
            f"Delete it in the RUN that creates it (line {first.line}: `... && rm -rf "
            f"{first.path}`), or make it in a build stage and COPY --from only the result."
        )
    return violation(
        run,
        call.command,
        f"`{call.command.program}` deletes {target}, {what} at line {first.line} added{more}: "
        "its bytes stay in that layer",
        fix,
        cause=_DELETED,
    )


_CLONE_VALUE_OPTIONS = frozenset(
    ("-b", "--branch", "-o", "--origin", "--depth", "--filter", "-c", "--config", "-j")
) | frozenset(("--reference", "--separate-git-dir", "--shallow-since", "-u", "--upload-pack"))


def created(run: RunStep, call: Call) -> list[tuple[str, str]]:
    """What a command writes that a later RUN might delete, with how ("cache" or "RUN"):
    caches, redirections, downloads, clones and copies (not mkdir or touch: no bytes)."""
    command, cwd = call.command, call.cwd
    made = [(path, "cache") for path in caches_filled(run, call)]
    paths = [word.text for word in command.writes if not word.text.startswith(("/dev/", "&"))]
    args = command.args
    if command.program in ("curl", "wget"):
        paths += _downloads(command.program, args, cwd)
    elif command.program == "git" and "clone" in args:
        rest = operands(_without_values(args[args.index("clone") + 1 :]))
        if rest:
            paths.append(rest[1] if len(rest) > 1 else _url_name(rest[0]).removesuffix(".git"))
    elif command.program in ("cp", "mv"):
        given = operands(_without_values(args, frozenset(("-t", "--target-directory", "-S"))))
        if len(given) >= 2:
            *sources, target = given
            if len(sources) == 1 and not target.endswith("/"):
                paths.append(target)
            else:
                paths += [
                    posixpath.join(target, posixpath.basename(s.rstrip("/"))) for s in sources
                ]
    return made + [(absolute(path, cwd), "RUN") for path in paths if path and path != "-"]


def _downloads(program: str, args: tuple[str, ...], cwd: str) -> list[str]:
    """Files curl (-o, -O) or wget (-O, or the URL's name in -P or the directory) saves."""
    urls = [arg for arg in args if "://" in arg]
    if program == "curl":
        outputs = _short_values(args, "o") + [v for v in [option_value(args, "--output")] if v]
        if any(a == "--remote-name" or (a[:1] == "-" and a[1:2] != "-" and "O" in a) for a in args):
            folder = option_value(args, "--output-dir") or cwd
            outputs += [posixpath.join(folder, _url_name(url)) for url in urls]
        return outputs
    document = option_value(args, "--output-document") or next(iter(_short_values(args, "O")), None)
    if document:
        return [document]
    folder = option_value(args, "--directory-prefix") or next(iter(_short_values(args, "P")), cwd)
    return [posixpath.join(folder, _url_name(url)) for url in urls]


def _short_values(args: tuple[str, ...], letter: str) -> list[str]:
    """Values of a one-letter option, also inside a cluster: ``-fsSLo FILE``, ``-qO-``."""
    found = []
    for index, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and letter in arg[1:]:
            rest = arg[arg.index(letter, 1) + 1 :]
            if rest:
                found.append(rest)
            elif index + 1 < len(args):
                found.append(args[index + 1])
    return found


def _url_name(url: str) -> str:
    return posixpath.basename(url.split("?", 1)[0].split("#", 1)[0].rstrip("/"))


def _without_values(
    args: tuple[str, ...], value_options: frozenset[str] = _CLONE_VALUE_OPTIONS
) -> list[str]:
    """The arguments with each valued option's value taken out."""
    kept = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in value_options:
            skip = True
        else:
            kept.append(arg)
    return kept


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
    words = operands(_without_values(command.args, _INSTALL_VALUE_OPTIONS))
    verb = apt_action(command) if command.program in ("apt-get", "apt") else next(iter(words), None)
    installs, removes, _ecosystem = known
    if verb is None or verb not in (removes if uninstall else installs) or verb not in words:
        return None
    names = [name for name in words[words.index(verb) + 1 :] if "$" not in name]
    virtual = None
    if command.program == "apk":
        virtual = option_value(command.args, "--virtual") or next(
            iter(_short_values(command.args, "t")), None
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
