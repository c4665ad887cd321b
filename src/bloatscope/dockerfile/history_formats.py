"""Reading an image history entry's ``created_by`` back into the Dockerfile line that wrote it,
for each builder's way of recording it: BuildKit, the classic builder and buildah, kaniko."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass

from bloatscope.model.layer import HistoryEntry

KEYWORDS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    }
)  # fmt: skip
BUILDKIT_COMMENT = "buildkit.dockerfile.v0"
_BUILDKIT_SUFFIX = " # buildkit"
_NOP = "#(nop)"
# what the classic builder and buildah write for COPY/ADD sources: one digest for them all
CONTENT_DIGEST = re.compile(r"(?:file|dir|multi):[0-9a-f]{6,}")
_ARG_PREFIX = re.compile(r"\|(\d+) ")
_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
_SHORT_OPTIONS = re.compile(r"-[A-Za-z]+")
_HEREDOC_MARKER = re.compile(r"<<-?\s*[\"']?(\w+)[\"']?")
_GO_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


class HistoryFormat(enum.StrEnum):
    """Who wrote a created_by, told by its shape."""

    BUILDKIT = "buildkit"  # "RUN /bin/sh -c ... # buildkit", "ENV A=b", "COPY . /app # buildkit"
    CLASSIC = "classic"  # docker's classic builder, buildah, podman: "/bin/sh -c #(nop) ..."
    PLAIN = "plain"  # the instruction as written (kaniko)
    UNKNOWN = "unknown"  # a base image's own convention, docker commit, ...: kept as is


@dataclass(frozen=True, slots=True)
class ReconstructedStep:
    """A history entry read as a Dockerfile instruction. ``keyword`` is "" when the entry
    names none; ``text`` is then the created_by as is."""

    keyword: str
    text: str  # a Dockerfile line (a heredoc RUN spans several)
    format: HistoryFormat
    body: str  # after keyword and flags: RUN's command without its shell, COPY's "srcs dest"
    flags: tuple[str, ...] = ()
    shell: tuple[str, ...] = ()  # the shell a RUN's command was recorded with
    build_args: tuple[tuple[str, str], ...] = ()  # the "|N K=V ..." a RUN was recorded with
    sources: tuple[str, ...] = ()  # COPY/ADD, as recorded (content digests for classic)
    destination: str | None = None  # COPY/ADD

    @property
    def sources_are_digests(self) -> bool:
        """The builder replaced the COPY/ADD sources by a digest of their content."""
        return any(CONTENT_DIGEST.fullmatch(source) for source in self.sources)


def reconstruct(entry: HistoryEntry) -> ReconstructedStep:
    """The instruction that wrote ``entry``, as far as its created_by tells."""
    created_by = entry.created_by
    if created_by.endswith(_BUILDKIT_SUFFIX):
        step = _keyword_form(created_by.removesuffix(_BUILDKIT_SUFFIX), HistoryFormat.BUILDKIT)
        if step is not None:
            return step
    build_args, rest = split_build_args(created_by)
    shell, command = split_shell(rest)
    if shell:
        if command.startswith(_NOP):
            step = _keyword_form(command.removeprefix(_NOP).strip(), HistoryFormat.CLASSIC)
            if step is not None:
                return step
        else:
            return _run(command, HistoryFormat.CLASSIC, shell=shell, build_args=build_args)
    if build_args:  # an exec-form RUN under the classic builder: no shell recorded
        return _run(rest, HistoryFormat.CLASSIC, build_args=build_args)
    first = created_by.split(None, 1)[0] if created_by.strip() else ""
    if first.upper() in KEYWORDS and first in (first.upper(), first.lower()):
        fmt = HistoryFormat.BUILDKIT if entry.comment == BUILDKIT_COMMENT else HistoryFormat.PLAIN
        step = _keyword_form(created_by, fmt)
        if step is not None:
            return step
    return ReconstructedStep("", created_by, HistoryFormat.UNKNOWN, created_by)


def split_build_args(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """``|2 A=1 B=2 rest`` -> ((A, 1), (B, 2)), rest. Values are recorded unquoted, so one
    with spaces is found by where the next ``NAME=`` (or, for the last, the shell) starts."""
    prefix = _ARG_PREFIX.match(text)
    if prefix is None:
        return (), text
    count, position, pairs = int(prefix.group(1)), prefix.end(), []
    for index in range(count):
        name = _ARG_NAME.match(text, position)
        if name is None:
            return (), text
        end = _value_end(text, name.end(), last=index == count - 1)
        pairs.append((name.group()[:-1], text[name.end() : end]))
        position = end + 1
    return tuple(pairs), text[position:]


def _value_end(text: str, start: int, *, last: bool) -> int:
    space = text.find(" ", start)
    first_space = space if space != -1 else len(text)
    # a value with spaces in it is rare: look a few words ahead, not through the whole command
    for _ in range(16):
        if space == -1:
            break
        if last and split_shell(text[space + 1 : space + 200])[0]:
            return space
        if not last and _ARG_NAME.match(text, space + 1):
            return space
        space = text.find(" ", space + 1)
    return first_space


def split_shell(text: str) -> tuple[tuple[str, ...], str]:
    """``/bin/sh -c cmd`` -> ("/bin/sh", "-c"), "cmd": a POSIX shell with its options up to
    the one ending in ``c`` (``-c``, ``-ec``, ``-o pipefail -c``), or Windows' ``cmd /S /C``.
    Anything else: (), text."""
    words = text.split(" ", 12)
    program = words[0].rsplit("/", 1)[-1].lower()
    if program in ("cmd", "cmd.exe") and [w.upper() for w in words[1:3]] == ["/S", "/C"]:
        return tuple(words[:3]), " ".join(words[3:])
    if program not in _SHELLS:
        return (), text
    index = 1
    while index < len(words) - 1:
        word = words[index]
        if not _SHORT_OPTIONS.fullmatch(word):
            break
        if word.endswith("c"):
            return tuple(words[: index + 1]), " ".join(words[index + 1 :])
        index += 2 if word.endswith("o") else 1  # -o and -euo take the option name next
    if index < len(words) and words[index] == "-c":  # "/bin/sh -c" with nothing after
        return tuple(words[: index + 1]), ""
    return (), text


def _keyword_form(text: str, fmt: HistoryFormat) -> ReconstructedStep | None:
    """``KEYWORD rest``, as BuildKit, kaniko and the #(nop) part of classic entries write."""
    keyword, _, rest = text.partition(" ")
    keyword = keyword.upper()
    if keyword not in KEYWORDS:
        return None
    if keyword == "RUN":
        if fmt is HistoryFormat.BUILDKIT:
            build_args, rest = split_build_args(rest)
            shell, command = split_shell(rest)
            return _run(command, fmt, shell=shell, build_args=build_args)
        return _run(rest, fmt)
    if keyword in ("COPY", "ADD"):
        return _copy(keyword, rest, fmt)
    body = rest.strip()
    if keyword in ("CMD", "ENTRYPOINT"):
        listed = exec_list(body)
        if listed is not None:
            body = json.dumps(listed)
    elif keyword == "EXPOSE":  # BuildKit: "[80/tcp 443/tcp]"; classic: "map[80/tcp:{}]"
        body = " ".join(re.sub(r"map\[|:\{\}|[\[\]]", " ", body).split())
    elif keyword in ("VOLUME", "SHELL") and body.startswith("[") and exec_list(body) is None:
        body = json.dumps(body.strip("[]").split())  # Go's %v of a list: no quotes
    return ReconstructedStep(keyword, f"{keyword} {body}".rstrip(), fmt, body)


def _run(
    command: str,
    fmt: HistoryFormat,
    *,
    shell: tuple[str, ...] = (),
    build_args: tuple[tuple[str, str], ...] = (),
) -> ReconstructedStep:
    flags = []
    # buildah records "RUN --mount=... cmd" as "/bin/sh -c --mount=... cmd"; kaniko as written
    while command.startswith("--"):
        flag, _, command = command.partition(" ")
        flags.append(flag)
    listed = exec_list(command) if command.startswith("[") else None
    if listed is not None:  # exec form as written (buildah, kaniko)
        command = " ".join(listed)
        line = json.dumps(listed)
    else:
        line = _heredoc_line(command)
    text = " ".join(["RUN", *flags, line])
    return ReconstructedStep("RUN", text, fmt, command, tuple(flags), shell, build_args)


def _heredoc_line(command: str) -> str:
    """A multi-line command back in heredoc form: BuildKit records a lone ``<<EOF`` script as
    its content only; buildah keeps ``<<EOF`` and the content but not the closing word."""
    if "\n" not in command:
        return command
    first_line = command.split("\n", 1)[0]
    marker = _HEREDOC_MARKER.search(first_line)
    if marker is not None:
        word = marker.group(1)
        closed = command.rstrip("\n").rsplit("\n", 1)[-1].strip() == word
        return command if closed else f"{command.rstrip()}\n{word}"
    # a closing word the script does not contain: longer than any EOF___ in it
    longest = max((len(m) for m in re.findall(r"EOF_*", command)), default=0)
    word = "EOF" + "_" * max(0, longest - 2)
    return f"<<{word}\n{command.rstrip(chr(10))}\n{word}"


def _copy(keyword: str, rest: str, fmt: HistoryFormat) -> ReconstructedStep:
    rest = rest.strip()
    if fmt is HistoryFormat.CLASSIC:  # "COPY [--chown=u:g]file:<hex> in /dest "
        head, found, destination = rest.rpartition(" in ")
        if found:
            return _classic_copy(keyword, head, destination.strip(), fmt)
    words = rest.split()
    flags = tuple(w for w in words if w.startswith("--"))
    operands = [w for w in words if not w.startswith("--")]
    listed = exec_list(" ".join(operands)) if operands and operands[0].startswith("[") else None
    if listed is not None:
        operands = listed
    if not operands:
        return ReconstructedStep(keyword, f"{keyword} {rest}".rstrip(), fmt, rest, flags)
    sources, destination = tuple(operands[:-1]), operands[-1]
    body = " ".join([*sources, destination])
    text = " ".join([keyword, *flags, body])
    return ReconstructedStep(
        keyword, text, fmt, body, flags, sources=sources, destination=destination
    )


def _classic_copy(
    keyword: str, head: str, destination: str, fmt: HistoryFormat
) -> ReconstructedStep:
    digest = CONTENT_DIGEST.search(head)
    before = head[: digest.start()] if digest else head
    flags = tuple(re.findall(r"--[\w-]+(?:=\S*)?", before))
    if digest is not None:
        sources: tuple[str, ...] = (digest.group(),)
    else:
        sources = tuple(w for w in head.split() if not w.startswith("--"))
    body = " ".join([*sources, destination])
    text = " ".join([keyword, *flags, body])
    return ReconstructedStep(
        keyword, text, fmt, body, flags, sources=sources, destination=destination
    )


def exec_list(text: str) -> list[str] | None:
    """A recorded argument list: JSON (``["a", "b"]``, as written) or Go's ``%q`` of a slice
    (``["a" "b"]``, what BuildKit and the classic builder write); None for anything else."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    inner = text[1:-1].strip()
    items = _GO_QUOTED.findall(inner)
    if not items or _GO_QUOTED.sub("", inner).strip():
        return None
    try:
        return [json.loads(f'"{item}"') for item in items]
    except ValueError:
        return None
