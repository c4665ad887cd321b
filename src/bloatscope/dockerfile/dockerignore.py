"""A build context's .dockerignore: reading its patterns, and which context paths it keeps out.

The semantics are Docker's matcher's (moby/patternmatcher and its ignorefile reader); each
pattern is compiled in ``dockerignore_glob``.

Those semantics, as moby implements them: a line starting with ``#`` is a comment (a space
before the ``#`` makes it a pattern); lines are trimmed; ``!`` starts an exception; patterns are
cleaned like Go's filepath.Clean and lose one leading ``/``, so ``/foo``, ``./foo`` and ``foo/``
all mean ``foo``. A path is excluded when the last pattern that matches it or one of its parent
directories is not an exception."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from bloatscope.dockerfile.base import DockerfileError
from bloatscope.dockerfile.dockerignore_glob import IgnorePattern, compiled_pattern, valid_glob

MAX_BYTES = 4 << 20  # a .dockerignore is a few hundred bytes; this bounds memory, not use
MAX_LINE_BYTES = 64 << 10  # Go's bufio.Scanner fails on longer lines, and so does Docker
# Go's unicode.IsSpace, which strings.TrimSpace uses; str.strip() also takes \x1c-\x1f
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def dockerignore_path(dockerfile: str, context_dir: str) -> str:
    """The ignore file a build of ``dockerfile`` reads: BuildKit's Dockerfile-specific
    ``<Dockerfile>.dockerignore`` beside it when there is one, else the context's
    ``.dockerignore`` (which need not exist)."""
    specific = dockerfile + ".dockerignore"
    if os.path.isfile(specific):
        return specific
    return os.path.join(context_dir, ".dockerignore")


def read_dockerignore(path: str) -> tuple[str, ...] | None:
    """The patterns of a .dockerignore as written (trimmed; comments and blank lines left
    out), checked the way Docker checks them; None when there is no such file."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DockerfileError(f"cannot read: {error.strerror or error}", path=path) from None
    if len(data) > MAX_BYTES:
        raise DockerfileError(f"larger than {MAX_BYTES >> 20} MiB", path=path)
    patterns = dockerignore_patterns(data.decode("utf-8", "surrogateescape"), path)
    DockerIgnore.of(patterns, path)  # a pattern Docker would refuse fails here, not later
    return patterns


def dockerignore_patterns(text: str, path: str = ".dockerignore") -> tuple[str, ...]:
    """The pattern lines of a .dockerignore's text, trimmed, without comments and blanks."""
    patterns = []
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        if len(line.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
            raise DockerfileError(f"line {number} is longer than 64 KiB", path=path)
        if line.startswith("#"):
            continue
        pattern = line.strip(_GO_SPACE)
        if pattern:
            patterns.append(pattern)
    return tuple(patterns)


def go_clean(path: str) -> str:
    """Go's filepath.Clean on a slash path (normpath keeps a leading ``//``; Go does not)."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


@dataclass(frozen=True, slots=True)
class DockerIgnore:
    """The matcher for a .dockerignore's patterns."""

    patterns: tuple[IgnorePattern, ...]

    @classmethod
    def of(cls, lines: Iterable[str], path: str = ".dockerignore") -> DockerIgnore:
        """Compiles pattern lines (as ``read_dockerignore`` returns them: a ``#`` here is part
        of a pattern). A bare ``!`` or a malformed pattern is a DockerfileError."""
        compiled = []
        for line in lines:
            text = _normalized(line)
            if not text:
                continue
            exception = text.startswith("!")
            if exception:
                if len(text) == 1:
                    raise DockerfileError('illegal exclusion pattern: "!"', path=path)
                text = text[1:]
            if not valid_glob(text):
                raise DockerfileError(f"syntax error in pattern: {line!r}", path=path)
            compiled.append(compiled_pattern(text, exception, path))
        return cls(tuple(compiled))

    def excludes(self, path: str) -> bool:
        """Whether the context path (relative to the context root, ``/``-separated; a leading
        ``/`` or ``./`` is ignored) stays out of the build context."""
        file = go_clean(path).lstrip("/") or "."
        if file == ".":
            return False
        parent = posixpath.dirname(file)
        parts = parent.split("/") if parent else []
        parents = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        matched = False
        for pattern in self.patterns:
            if pattern.exception != matched:
                continue  # only an exception can change an exclusion, and vice versa
            if pattern.matches(file) or any(pattern.matches(p) for p in parents):
                matched = not pattern.exception
        return matched


def _normalized(line: str) -> str:
    """What ignorefile.ReadAll and patternmatcher.New make of a line: trimmed, ``!`` kept in
    front, the rest cleaned and relative."""
    pattern = line.strip(_GO_SPACE)
    if not pattern:
        return ""
    invert = pattern.startswith("!")
    if invert:
        pattern = pattern[1:].strip(_GO_SPACE)
    if pattern:
        pattern = go_clean(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
    # New() cleans the whole line again: "!/" becomes "!", which it refuses
    return go_clean("!" + pattern) if invert else pattern
