"""Sizes for people: one formatting rule for every osonctl listing."""

from __future__ import annotations


def human_bytes(size: int) -> str:
    """``512 B``, ``1.5 KiB`` ... ``3.2 GiB`` (binary units, one decimal)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
