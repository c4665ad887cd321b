"""Which ARG and ENV values an instruction sees, and its words after substitution, following
BuildKit: global ARGs (build args override their defaults) reach only FROM lines; in a stage an
ARG must be declared again (without a value it takes the global one); ARG and ENV values reach
the later instructions of their stage, the later of the two winning; a stage built FROM another
starts with that stage's values, its ENVs applied last. A stage built FROM an image also sees
the image's ENV, which only the image knows: there a name the Dockerfile never set is left as
written (``$PATH``), where BuildKit would put the image's value."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field

from bloatscope.dockerfile.substitution import expand

# set by BuildKit from the build's platforms, which a Dockerfile alone does not tell: where
# they are used they stay as written ("$TARGETARCH") rather than becoming empty
AUTOMATIC_ARGS = frozenset(
    {
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
    }
)
# instructions whose words BuildKit substitutes (ONBUILD's trigger is substituted later, in
# the build that runs it; RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK leave it to the shell)
SUBSTITUTING = frozenset(
    {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)
_HEREDOC_SOURCE = re.compile(r"[0-9]*<<-?[^<]+")
# BuildKit gives every stage a PATH when its image has none (scratch has none)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class _AnyName:
    def __contains__(self, item: object) -> bool:
        return True


@dataclass(slots=True)
class Scope:
    """Names with values, and names declared whose value only the build knows."""

    escape: str
    values: dict[str, str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    image_env: dict[str, str] = field(default_factory=dict)  # the ENVs, which stages inherit
    image_unknown: bool = False  # built FROM an image whose ENV only the image knows

    def expand(self, word: str) -> str:
        unknown: Container[str] = _AnyName() if self.image_unknown else self.unknown
        return expand(word, self.values, escape=self.escape, unknown=unknown)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value
        self.unknown.discard(name)

    def set_unknown(self, name: str) -> None:
        self.values.pop(name, None)
        self.unknown.add(name)

    def child(self) -> Scope:
        """The scope a stage built FROM this one starts with."""
        values = {**self.values, **self.image_env}
        unknown = self.unknown - self.image_env.keys()
        return Scope(self.escape, values, unknown, dict(self.image_env), self.image_unknown)


def stage_scope(escape: str, base: str, parent: Scope | None) -> Scope:
    """The scope a stage starts with: its parent stage's, or scratch's (a PATH only), or an
    image's (nothing known)."""
    if parent is not None:
        return parent.child()
    if base.lower() == "scratch":
        return Scope(escape, {"PATH": DEFAULT_PATH}, image_env={"PATH": DEFAULT_PATH})
    return Scope(escape, image_unknown=True)


def global_scope(escape: str, build_args: Mapping[str, str]) -> Scope:
    scope = Scope(escape, unknown=set(AUTOMATIC_ARGS))
    for name in AUTOMATIC_ARGS & build_args.keys():
        scope.set(name, build_args[name])
    return scope


def declare_args(
    words: Sequence[str],
    scope: Scope,
    build_args: Mapping[str, str],
    outer: Scope | None,
) -> tuple[str, ...]:
    """Apply ``ARG a=1 b`` to the scope, each name in turn (``ARG A=1 B=$A`` sees A); the words
    as BuildKit records them, ``NAME=value`` with the value in effect or ``NAME`` without one.
    ``outer`` is the global scope for an ARG inside a stage, None for a global ARG."""
    recorded: list[str] = []
    for word in words:
        name, equals, default = word.partition("=")
        value: str | None = None
        if name in build_args:
            value = build_args[name]
        elif equals:
            value = scope.expand(default)
        elif outer is not None and name in outer.values:
            value = outer.values[name]
        elif outer is not None and name in outer.unknown:
            scope.set_unknown(name)
        if value is not None:
            scope.set(name, value)
        recorded.append(name if value is None else f"{name}={value}")
    return tuple(recorded)


def set_env(pairs: Sequence[str], scope: Scope) -> tuple[str, ...]:
    """Apply ``ENV`` (the Go parser's name, value, name, value ...): every value is expanded
    with the values from before the instruction, as BuildKit does."""
    expanded = tuple(scope.expand(word) for word in pairs)
    for name, value in zip(expanded[::2], expanded[1::2], strict=False):
        scope.set(name, value)
        scope.image_env[name] = value
    return expanded


def substituted(keyword: str, arguments: Sequence[str], scope: Scope) -> tuple[str, ...]:
    """The words of an instruction that neither declares nor sets anything, after substitution
    where BuildKit substitutes them (a COPY's ``<<EOF`` source is kept: it names a heredoc)."""
    if keyword not in SUBSTITUTING:
        return tuple(arguments)
    if keyword in ("COPY", "ADD"):
        return tuple(
            word if _HEREDOC_SOURCE.fullmatch(word) else scope.expand(word) for word in arguments
        )
    return tuple(scope.expand(word) for word in arguments)
