"""Kill the desktop while it saves settings: the database stays whole and holds either the
settings of one save or the next, never half of each, and nothing else changes.

A child process runs the desktop's own SettingsController on a real data home and saves
five settings again and again, each save a new "generation" of values; the test SIGKILLs
it once a randomly chosen generation is on disk, so the kill falls anywhere in a save."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import SettingError
from app.store import Store
from tests.reliability.killing import integrity, kill_when, read_only
from tests.reliability.scale import count

KILLS = count(full=20, quick=3)
ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from pathlib import Path
import pytest

from app.errors import SettingError
from app.store import Store
from ui.settings.dialog import SettingsController
from tests.reliability.test_kill_settings import generation

store = Store.open(Path(sys.argv[1]))
controller = SettingsController(store)
k = int(sys.argv[2])
while True:
    k += 1
    assert controller.save(generation(k)), "the save was refused"
"""


def generation(k: int) -> dict[str, int]:
    """The values save number ``k`` stores: each one tells ``k`` (none is a default)."""
    return {
        "seed": 1000 + k,
        "top_k": 1000 + k,
        "context_length": 10_000 + k,
        "idle_unload_minutes": 100 + k,
        "max_tokens": 5000 + k,
    }


def stored_generation(store: Store) -> int:
    """The one generation every saved value belongs to (fails on a mix of two)."""
    k = int(store.get_setting("seed")) - 1000
    assert {name: store.get_setting(name) for name in generation(k)} == generation(k), (
        "the settings on disk are half of one save and half of another"
    )
    return k


def test_killing_the_desktop_mid_save_keeps_settings_whole(tmp_path: Path) -> None:
    db = tmp_path / "hearth.db"
    with Store.open(db) as store:
        kept = store.create_chat("Kept")
        store.add_message(kept.id, "user", "Remember this.", parent_id=None)
        store.set_setting("theme", "dark")
        assert store.save_settings(generation(0))
    chats_before = read_only(db, "SELECT * FROM chats")
    messages_before = read_only(db, "SELECT * FROM messages")
    rng = random.Random(15)
    last = 0
    for _ in range(KILLS):
        target = last + rng.randint(1, 150)  # saves that reach the disk before the kill
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db), str(last)], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def reached(target: int = target) -> bool:
            rows = read_only(db, "SELECT value FROM settings WHERE name = 'seed'")
            return bool(rows) and int(str(rows[0][0])) - 1000 >= target

        kill_when(process, reached, f"save {target}")

        assert integrity(db) == "ok"
        with Store.open(db) as store:
            k = stored_generation(store)
            assert k >= target
            assert store.get_setting("theme") == "dark"  # a setting it did not touch
        assert read_only(db, "SELECT * FROM chats") == chats_before
        assert read_only(db, "SELECT * FROM messages") == messages_before
        last = k


def test_a_refused_value_stores_none_of_the_save(tmp_path: Path) -> None:
    with Store.open(tmp_path / "hearth.db") as store:
        store.save_settings(generation(1))
        with pytest.raises(SettingError, match=r"(?i)top.k"):
            store.save_settings({**generation(2), "top_k": -5})
        assert stored_generation(store) == 1
