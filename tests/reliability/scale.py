"""How many kills, fuzzed inputs and requests a reliability test tries.

CI runs the quick counts so the suite stays within minutes; before a release (and
before an issue about reliability is closed) run them at full strength with
``HEARTH_RELIABILITY=full`` and record the figures in docs/RELIABILITY.md.
"""

from __future__ import annotations

import os


def full_strength() -> bool:
    """True when HEARTH_RELIABILITY=full asks for the counts docs/RELIABILITY.md reports."""
    return os.environ.get("HEARTH_RELIABILITY", "").strip().lower() == "full"


def count(full: int, quick: int) -> int:
    """``full`` at full strength, else ``quick`` (never more than ``full``)."""
    return full if full_strength() else min(quick, full)
