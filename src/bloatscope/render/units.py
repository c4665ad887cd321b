"""Human-readable sizes, in SI units as docker and dive print them."""

from __future__ import annotations

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_bytes(size: int) -> str:
    """3 significant figures: ``999 B``, ``1.2 kB``, ``473 MB``."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    unit = 0
    while value >= 999.5 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    if value >= 99.95:
        return f"{value:.0f} {_UNITS[unit]}"
    if value >= 9.995:
        return f"{value:.1f} {_UNITS[unit]}"
    return f"{value:.2f} {_UNITS[unit]}"


def percent(part: float, whole: float) -> str:
    if whole <= 0:
        return "0%"
    return f"{100 * part / whole:.1f}%"
