"""Platform strings and descriptors, normalized the way containerd's platforms package does."""

from __future__ import annotations

from typing import Any

from bloatscope.errors import BloatscopeError
from bloatscope.model.image import Platform

_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
}


def normalize(os_name: str, architecture: str, variant: str = "") -> Platform:
    os_name = os_name.lower()
    architecture = architecture.lower()
    variant = variant.lower()
    if architecture in _ARCH_ALIASES:
        architecture, alias_variant = _ARCH_ALIASES[architecture]
        variant = variant or alias_variant
    if (architecture, variant) in (("amd64", "v1"), ("arm64", "v8"), ("arm64", "8")):
        variant = ""  # the default variant of these architectures
    elif architecture == "arm" and not variant:
        variant = "v7"
    elif architecture == "arm" and variant.isdigit():
        variant = "v" + variant
    return Platform(os_name, architecture, variant)


def normalize_platform(raw: dict[str, Any]) -> Platform:
    return normalize(
        str(raw.get("os", "")), str(raw.get("architecture", "")), str(raw.get("variant", "") or "")
    )


def parse_platform(text: str) -> Platform:
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise BloatscopeError(f"--platform {text!r} is not os/arch or os/arch/variant")
    return normalize(*parts)
