"""The PEP 508 marker environment of the Python interpreter an install location belongs to:
which Python version a site-packages directory is for (from its path, or for Debian's
unversioned ``lib/python3/dist-packages`` from the interpreters the image holds) and the
platform values the image's architecture implies. Requirement markers of the packages installed
there are evaluated against it."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from bloatscope.model.image import Platform
from bloatscope.packages.base import ImageFiles

# Used when neither the install path nor the image tells the version (``pip --target`` into a
# directory of an image whose interpreter lives somewhere unusual): a current CPython.
FALLBACK_PYTHON_VERSION = (3, 12)

# ``lib/python3.11/site-packages``, ``lib64/python3.9/site-packages``, free-threaded ``python3.13t``
_VERSIONED_LIB = re.compile(r"(?:^|/)lib(?:64)?/python(\d+)\.(\d+)t?/")
# Debian's ``usr/lib/python3/dist-packages`` serves every python3.N the system has.
_UNVERSIONED_DIST_PACKAGES = re.compile(r"^(?:(.*)/)?lib/python3/dist-packages(?:/|$)")
_INTERPRETER_NAME = re.compile(r"^python(3)\.(\d+)t?$")

# OCI architecture names -> what ``platform.machine()`` reports on Linux for them.
_MACHINES = {
    "amd64": "x86_64",
    "arm64": "aarch64",
    "386": "i686",
    "arm": "armv7l",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "mips64le": "mips64",
    "loong64": "loongarch64",
}
_ARM_VARIANT_MACHINES = {"v5": "armv5tel", "v6": "armv6l", "v7": "armv7l"}

# os -> (sys_platform, platform_system, os_name)
_SYSTEMS = {
    "linux": ("linux", "Linux", "posix"),
    "windows": ("win32", "Windows", "nt"),
    "darwin": ("darwin", "Darwin", "posix"),
}


class MarkerEnvironments:
    """Marker environments for the install locations of one image, computed once per
    site directory (a site-packages holds hundreds of dist-info directories)."""

    def __init__(self, files: ImageFiles) -> None:
        self._files = files
        self._by_site: dict[str, Mapping[str, str]] = {}

    def for_location(self, location: str) -> Mapping[str, str]:
        """The environment for the distribution whose metadata directory is ``location``."""
        site = posixpath.dirname(location)
        environment = self._by_site.get(site)
        if environment is None:
            version = python_version_for(self._files, location)
            environment = marker_environment(version, self._files.platform)
            self._by_site[site] = environment
        return environment


def python_version_for(files: ImageFiles, location: str) -> tuple[int, int]:
    """The (major, minor) of the Python that imports from ``location``."""
    versioned = list(_VERSIONED_LIB.finditer(location))
    if versioned:
        # the innermost lib/pythonX.Y is the one whose site-packages this is
        major, minor = versioned[-1].groups()
        return int(major), int(minor)
    debian = _UNVERSIONED_DIST_PACKAGES.match(location)
    if debian:
        prefix = debian.group(1) or ""
        found = highest_python(files, [prefix])
        if found:
            return found
    return highest_python(files, ["usr/local", "usr"]) or FALLBACK_PYTHON_VERSION


def highest_python(files: ImageFiles, prefixes: Iterable[str]) -> tuple[int, int] | None:
    """The highest python3.N that any prefix has a ``lib/python3.N`` or ``bin/python3.N`` of."""
    found: list[tuple[int, int]] = []
    for prefix in prefixes:
        for directory in ("lib", "bin"):
            path = posixpath.join(prefix, directory) if prefix else directory
            for name in files.listdir(path):
                match = _INTERPRETER_NAME.match(name)
                if match:
                    found.append((int(match.group(1)), int(match.group(2))))
    return max(found, default=None)


def marker_environment(version: tuple[int, int], platform: Platform) -> Mapping[str, str]:
    """Every PEP 508 environment marker for CPython ``version`` on ``platform``. The patch level
    is unknown to a reader of the tree; ``.0`` stands for it."""
    full_version = f"{version[0]}.{version[1]}.0"
    sys_platform, system, os_name = _SYSTEMS.get(platform.os, (platform.os, platform.os, "posix"))
    return MappingProxyType(
        {
            "implementation_name": "cpython",
            "implementation_version": full_version,
            "os_name": os_name,
            "platform_machine": platform_machine(platform),
            "platform_release": "",
            "platform_system": system,
            "platform_version": "",
            "python_full_version": full_version,
            "platform_python_implementation": "CPython",
            "python_version": f"{version[0]}.{version[1]}",
            "sys_platform": sys_platform,
        }
    )


def platform_machine(platform: Platform) -> str:
    """``platform.machine()`` of a Linux process on an image of ``platform``."""
    if platform.architecture == "arm" and platform.variant in _ARM_VARIANT_MACHINES:
        return _ARM_VARIANT_MACHINES[platform.variant]
    return _MACHINES.get(platform.architecture, platform.architecture)
