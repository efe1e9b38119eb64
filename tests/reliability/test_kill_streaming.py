"""Kill at any moment while an answer streams: the database stays whole, the partial answer
is kept and marked interrupted when Hearth starts again, and nothing else changes.

A real `hearth chat` process streams gemma-3-270m's answer into a real data home; the test
watches the answer grow in the database and SIGKILLs the process once it holds a randomly
chosen number of characters (a different point each time), then restarts the way the
desktop does (`Store.recover_interrupted`) and checks what a user would see."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store import Store
from tests.reliability.scale import count

HEARTH = str(Path(sys.executable).parent / "hearth")
KILLS = count(full=20, quick=3)
DEADLINE = 60.0  # seconds for one answer to reach its kill point


def snapshot(db: Path) -> list[tuple[object, ...]]:
    """Every message row as it is on disk, read without Hearth's code."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT id, chat_id, role, content, status FROM messages ORDER BY id"
        ).fetchall()


def answer_text(db: Path, after_id: int) -> str:
    """The text of the newest answer written after message ``after_id`` ("" before one)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(
                "SELECT content FROM messages WHERE role = 'assistant' AND id > ? "
                "ORDER BY id DESC LIMIT 1",
                [after_id],
            ).fetchone()
    except sqlite3.OperationalError:  # busy for a moment: look again
        return ""
    return "" if row is None else str(row[0])


@pytest.mark.slow
def test_killing_hearth_mid_answer_loses_nothing(tmp_path: Path, gemma_model: Path) -> None:
    home = tmp_path / "home"
    db = home / "hearth.db"
    home.mkdir()
    with Store.open(db) as store:  # a chat the user already had
        kept = store.create_chat("Kept")
        first = store.add_message(kept.id, "user", "Capital of France?", parent_id=None)
        store.add_message(kept.id, "assistant", "Paris.", parent_id=first.id)
        store.set_setting("starter_model", False)
    rng = random.Random(15)
    survived = 0
    for kill in range(KILLS):
        before = snapshot(db)
        threshold = rng.randint(1, 300)  # characters of answer on disk when it dies
        process = subprocess.Popen(
            [HEARTH, "--home", str(home), "chat", str(gemma_model),
             f"Write a long story about lighthouse number {kill}.",
             "--temperature", "0.8", "--seed", str(kill), "--max-tokens", "2000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "HEARTH_NO_STARTER": "1"},
        )  # fmt: skip
        try:
            started = time.monotonic()
            seen = ""
            while len(seen) < threshold:
                assert process.poll() is None, "the answer ended before its kill point"
                assert time.monotonic() - started < DEADLINE, "the answer did not grow"
                seen = answer_text(db, int(str(before[-1][0])))
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()

        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        with Store.open(db) as store:
            assert store.recover_interrupted() == 1  # as the desktop does when it starts
        after = snapshot(db)
        assert after[: len(before)] == before, "earlier messages changed"
        asked, answer = after[len(before) :]
        assert asked[2:] == ("user", f"Write a long story about lighthouse number {kill}.",
                                "done")  # fmt: skip
        assert answer[2] == "assistant" and answer[4] == "stopped"
        assert str(answer[3]).startswith(seen), "text seen on disk before the kill was lost"
        with sqlite3.connect(db) as conn:
            reason = conn.execute(
                "SELECT stop_reason FROM messages WHERE id = ?", [answer[0]]
            ).fetchone()
        assert reason == ("interrupted",)
        survived += 1
    assert survived == KILLS
