"""The kill harness the crash tests share: start a real Hearth process, wait until what it
has written reaches a randomly chosen point, and SIGKILL it there."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

DEADLINE = 60.0  # seconds for a process to reach its kill point


def kill_when(process: subprocess.Popen[bytes], reached: Callable[[], bool], what: str) -> None:
    """SIGKILL ``process`` as soon as ``reached()`` is true (checked every few ms).

    Fails when the process ends first or does not get there within DEADLINE seconds:
    a kill that never happened proves nothing.
    """
    started = time.monotonic()
    try:
        while not reached():
            assert process.poll() is None, f"it ended before its kill point ({what})"
            assert time.monotonic() - started < DEADLINE, f"it never reached {what}"
            time.sleep(0.003)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL, "it ended by itself, not by the kill"


def integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of the database, read without Hearth's code."""
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def read_only(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows as they are on disk right now ([] while the database is busy for a moment)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
