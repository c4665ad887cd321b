"""The table of full base images with a slim variant, and reading image references.

``SLIM_PAIRS`` is one table that the lint rule and the rewrite both read; a reference is read
as its name, tag and digest, and the name as Docker Hub shortens it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

_DEBIAN = frozenset({"jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky"})
_DEBIAN_SUITES = frozenset({"stable", "oldstable", "oldoldstable", "testing", "unstable", "sid"})
_UBUNTU = frozenset({"bionic", "focal", "jammy", "noble"})
_VERSION = re.compile(r"\d+(?:\.\d+)*(?:[ab]\d+|rc\d*)?")
_NODE_ALIAS = re.compile(r"[a-z]+")  # lts, current, iron, jod: release lines by name
_NOT_FULL = re.compile(r"slim|alpine|windowsservercore|nanoserver|ltsc|jre|distroless|musl")
_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def _slim_before_distro(tag: str) -> str | None:
    """python, ruby: 3.12 -> 3.12-slim, 3.12-bookworm -> 3.12-slim-bookworm, bookworm ->
    slim-bookworm."""
    if tag in ("", "latest"):
        return "slim"
    first, *rest = tag.split("-")
    if first in _DEBIAN and not rest:
        return "slim-" + first
    if _VERSION.fullmatch(first) and len(rest) <= 1 and all(r in _DEBIAN for r in rest):
        return "-".join([first, "slim", *rest])
    return None


def _slim_last(tag: str) -> str | None:
    """node: 22 -> 22-slim, 22-bookworm -> 22-bookworm-slim, lts -> lts-slim."""
    if tag in ("", "latest"):
        return "slim"
    if _NOT_FULL.search(tag):
        return None
    first, *rest = tag.split("-")
    known = _VERSION.fullmatch(first) or (_NODE_ALIAS.fullmatch(first) and first not in _DEBIAN)
    if known and len(rest) <= 1 and all(r in _DEBIAN for r in rest):
        return tag + "-slim"
    return None


def _debian_slim(tag: str) -> str | None:
    """debian: bookworm -> bookworm-slim, 12 -> 12-slim, bookworm-20240311 -> its -slim."""
    if tag in ("", "latest"):
        return "stable-slim"
    release, _, date = tag.partition("-")
    known = release in _DEBIAN or release in _DEBIAN_SUITES or _VERSION.fullmatch(release)
    return tag + "-slim" if known and (not date or re.fullmatch(r"\d{8}", date)) else None


def _jre(tag: str) -> str | None:
    """eclipse-temurin: 21 -> 21-jre, 21-jdk-jammy -> 21-jre-jammy, 21-jdk-alpine ->
    21-jre-alpine."""
    parts = tag.split("-")
    if not _VERSION.fullmatch(parts[0].partition("_")[0]):
        return None  # latest, or a tag we cannot read
    if _NOT_FULL.search(tag.replace("alpine", "")):
        return None
    if "jdk" in parts:
        return "-".join("jre" if part == "jdk" else part for part in parts)
    return "-".join([parts[0], "jre", *parts[1:]])


def _major_jre(tag: str) -> str | None:
    """openjdk (deprecated for eclipse-temurin): 17, 17-jdk-bookworm -> 17-jre."""
    major = re.match(r"\d+", tag)
    return f"{major.group()}-jre" if major and not _NOT_FULL.search(tag) else None


def _release_slim(tag: str) -> str | None:
    """buildpack-deps (a release plus the toolchain): its release's slim image."""
    release = tag.partition("-")[0]
    if release in _DEBIAN:
        return f"debian:{release}-slim"
    if release in _UBUNTU:
        return f"ubuntu:{release}"  # Ubuntu's image is the minimal one
    return "debian:stable-slim" if release in ("", "latest", "curl", "scm") else None


def _same_tag(tag: str) -> str | None:
    return tag or "latest"


def _in(repository: str, tags: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """The slim reference ("python:3.12-slim") for a tag, from a rule for the tag alone."""

    def slim(tag: str) -> str | None:
        found = tags(tag)
        return f"{repository}:{found}" if found else None

    return slim


def _no_drop_in(tag: str) -> str | None:
    """golang: a full image when its tag is no variant, with no slim image to swap in."""
    return None if _NOT_FULL.search(tag) else ""


class SlimPair(NamedTuple):
    """A full base and how to read its tags. ``full`` is the repository as Docker Hub shortens
    it ("python" for docker.io/library/python). ``slim_of`` takes a tag ("" for none) and gives
    the slim reference to use instead, "" when the tag is a full image without a drop-in slim
    one, or None when the tag is not a full image (a variant, or a tag it cannot read)."""

    full: str
    slim_of: Callable[[str], str | None]
    leaves_out: str  # what the full base has that the slim one does not
    advice: str = ""  # the fix when there is no slim image to swap in


_TOOLCHAIN = "compilers, headers, VCS tools and X and image libraries"
SLIM_PAIRS: tuple[SlimPair, ...] = (
    SlimPair("python", _in("python", _slim_before_distro), _TOOLCHAIN),
    SlimPair("ruby", _in("ruby", _slim_before_distro), _TOOLCHAIN),
    SlimPair("node", _in("node", _slim_last), _TOOLCHAIN),
    SlimPair("debian", _in("debian", _debian_slim), "man pages, locales and documentation"),
    SlimPair("buildpack-deps", _release_slim, _TOOLCHAIN),
    SlimPair("eclipse-temurin", _in("eclipse-temurin", _jre), "the JDK's compiler and tools"),
    SlimPair("openjdk", _in("eclipse-temurin", _major_jre), "the JDK's compiler and tools"),
    SlimPair(
        "golang",
        _no_drop_in,
        "the Go toolchain, " + _TOOLCHAIN,
        "Build in a golang stage and copy the binary onto gcr.io/distroless/static-debian12 "
        "(or scratch) with CGO_ENABLED=0, or onto debian:bookworm-slim when it needs cgo.",
    ),
    SlimPair("localhost/python-full", _in("localhost/python-slim", _same_tag), _TOOLCHAIN),
)
_PAIRS = {pair.full: pair for pair in SLIM_PAIRS}


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; a ``:`` before the last ``/`` is a port."""
    name, at, digest = reference.partition("@")
    colon = name.rfind(":")
    tag = None
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest if at else None


def hub_name(name: str) -> str:
    """Docker Hub's short form: docker.io/library/python and library/python are python."""
    parts = name.split("/")
    if len(parts) > 1 and parts[0] in _HUB:
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def full_base(base: str) -> tuple[SlimPair, str | None] | None:
    """The pair a full base image belongs to, and the slim reference to use instead (None when
    there is no drop-in, or a digest without a tag hides the version), keeping how ``base``
    names the registry. None when ``base`` is no full image this table knows."""
    name, tag, digest = split_reference(base)
    short = hub_name(name)
    pair = _PAIRS.get(short)
    if pair is None:
        return None
    if tag is None and digest is not None:
        return pair, None
    slim = pair.slim_of(tag or "")
    if slim is None:
        return None
    prefix = name[: len(name) - len(short)] if short != name else ""
    return pair, (prefix + slim if slim else None)


def slim_variant(base: str) -> str | None:
    """The slim image a final stage on the full ``base`` can use instead with the same runtime
    (python:3.12 -> python:3.12-slim); None when there is no such drop-in."""
    found = full_base(base)
    return found[1] if found else None
