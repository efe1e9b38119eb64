"""Numbers as people read them: sizes in KB/MB/GB, parameter counts, time left."""

from __future__ import annotations


def format_bytes(n: int | float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as file managers and the hub show them)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def format_count(n: int) -> str:
    """268098176 -> '268M', 7241732096 -> '7.24B'."""
    if n >= 999.5e6:  # 999.6M would otherwise print as "1000M"
        return f"{n / 1e9:.2f}B"
    if n >= 1e6:
        return f"{n / 1e6:.0f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}K"
    return str(n)


def plural(count: int, word: str, many: str | None = None) -> str:
    """1 -> '1 token', 3 -> '3 tokens', 1200 -> '1,200 tokens'."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def format_duration(seconds: float | None) -> str:
    """75 -> '1:15', 3725 -> '1:02:05'; empty when unknown (None or negative)."""
    if seconds is None or seconds < 0:
        return ""
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"
