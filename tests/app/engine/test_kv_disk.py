"""Chats' KV state on disk: a chat answered before a restart is answered after it without
evaluating its history again, with the same answer; a damaged, foreign or outdated state
is never used, and the files stay within their budget."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.engine.engine import Engine
from app.engine.events import Event, GenerationDone, LoadOptions, Sampling
from app.engine.kv_disk import KVDisk, SavedState

GREEDY = Sampling(temperature=0, max_tokens=8, seed=1)
FIRST = [{"role": "user", "content": "Tell me about lighthouses and their keepers."}]


def finish(events: Iterator[Event]) -> GenerationDone:
    done = [e for e in events if isinstance(e, GenerationDone)]
    assert done, "the generation never finished"
    return done[-1]


def saved(n: int, fill: int = 1) -> SavedState:
    return SavedState(np.arange(n, dtype=np.intc), bytes([fill]) * 1000)


def test_a_state_comes_back_as_it_was_saved(tmp_path: Path) -> None:
    disk = KVDisk(tmp_path / "kv", 10_000_000)
    disk.save("model-a", 7, saved(50))
    disk.flush()
    back = disk.load("model-a", 7)
    assert back is not None and back.state == saved(50).state
    assert list(back.tokens) == list(range(50))
    assert disk.load("model-b", 7) is None  # another model (or other settings) never finds it
    assert disk.load("model-a", 8) is None  # nor another chat


def test_a_damaged_state_is_never_used_and_is_deleted(tmp_path: Path) -> None:
    disk = KVDisk(tmp_path / "kv", 10_000_000)
    disk.save("m", 1, saved(50))
    disk.flush()
    path = disk.path_for("m", 1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert disk.load("m", 1) is None
    assert not path.exists()
    path.write_bytes(b"HEARTHKV")  # cut short
    assert disk.load("m", 1) is None


def test_the_files_stay_within_their_budget_least_recently_used_first(tmp_path: Path) -> None:
    disk = KVDisk(tmp_path / "kv", 3_500)  # room for three states of ~1.2 KB
    for chat in (1, 2, 3):
        disk.save("m", chat, saved(10, chat))
        disk.flush()
        os.utime(disk.path_for("m", chat), ns=(chat * 10**9, chat * 10**9))
    assert disk.load("m", 1) is not None  # chat 1 used again: now the most recent
    disk.save("m", 4, saved(10, 4))
    disk.flush()
    kept = {chat for chat in (1, 2, 3, 4) if disk.path_for("m", chat).exists()}
    assert kept == {1, 3, 4}
    assert sum(p.stat().st_size for p in (tmp_path / "kv").glob("*.kv")) <= 3_500


def test_a_state_left_half_written_by_a_crash_is_cleared_away(tmp_path: Path) -> None:
    disk = KVDisk(tmp_path / "kv", 10_000_000)
    (tmp_path / "kv").mkdir()
    left = tmp_path / "kv" / "abc.part"
    left.write_bytes(b"\0" * 5000)
    os.utime(left, (1, 1))  # written long ago
    disk.save("m", 1, saved(10))
    disk.flush()
    assert not left.exists() and disk.load("m", 1) is not None


def answered_after_restart(
    model: Path, disk: KVDisk | None, options: LoadOptions
) -> GenerationDone:
    """A second message in chat 5, from an engine that has just started."""
    engine = Engine(kv_disk=disk)
    try:
        engine.load(model, options)
        first = FIRST_ANSWERS[str(model)]
        turns = [*FIRST, {"role": "assistant", "content": first},
                 {"role": "user", "content": "And how did they keep the lamp lit?"}]  # fmt: skip
        return finish(engine.generate(turns, GREEDY, session=5))
    finally:
        engine.close()


FIRST_ANSWERS: dict[str, str] = {}
FIRST_PROMPT_TOKENS: dict[str, int] = {}


@pytest.fixture
def answered_before(tiny_model: Path, tmp_path: Path) -> KVDisk:
    """Chat 5 answered once by an engine that saves its state, then closed (the app quits)."""
    disk = KVDisk(tmp_path / "kv", 100_000_000)
    engine = Engine(kv_disk=disk)
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    first = finish(engine.generate(FIRST, GREEDY, session=5))
    FIRST_ANSWERS[str(tiny_model)] = first.answer
    FIRST_PROMPT_TOKENS[str(tiny_model)] = first.stats.prompt_tokens
    engine.close()
    disk.flush()
    assert len(list((tmp_path / "kv").glob("*.kv"))) == 1
    return disk


def test_a_chat_reopened_after_a_restart_skips_its_history(
    answered_before: KVDisk, tiny_model: Path
) -> None:
    warm = answered_after_restart(tiny_model, answered_before, LoadOptions(n_ctx=512))
    cold = answered_after_restart(tiny_model, None, LoadOptions(n_ctx=512))
    assert cold.stats.prompt_evaluated == cold.stats.prompt_tokens
    assert warm.stats.prompt_tokens == cold.stats.prompt_tokens
    # The first message was not evaluated again (the tiny model's answer is random bytes
    # whose tokens do not survive being written out, so the reuse ends there).
    reused = warm.stats.prompt_tokens - warm.stats.prompt_evaluated
    assert reused >= FIRST_PROMPT_TOKENS[str(tiny_model)] - 1
    assert warm.answer == cold.answer  # and the answer is the one a cold start gives


def test_a_damaged_or_foreign_state_falls_back_to_evaluating(
    answered_before: KVDisk, tiny_model: Path
) -> None:
    cold = answered_after_restart(tiny_model, None, LoadOptions(n_ctx=512))
    other_settings = answered_after_restart(tiny_model, answered_before, LoadOptions(n_ctx=384))
    assert other_settings.stats.prompt_evaluated == other_settings.stats.prompt_tokens
    answered_before.flush()
    for path in answered_before.folder.glob("*.kv"):  # that run saved its own state too
        data = bytearray(path.read_bytes())
        data[-100] ^= 0xFF
        path.write_bytes(bytes(data))
    damaged = answered_after_restart(tiny_model, answered_before, LoadOptions(n_ctx=512))
    assert damaged.stats.prompt_evaluated == damaged.stats.prompt_tokens
    assert damaged.answer == cold.answer


def test_a_state_saved_for_an_edited_history_reuses_only_what_still_matches(
    answered_before: KVDisk, tiny_model: Path
) -> None:
    engine = Engine(kv_disk=answered_before)
    try:
        engine.load(tiny_model, LoadOptions(n_ctx=512))
        edited = [{"role": "user", "content": "Tell me about windmills instead."}]
        reference = Engine()
        reference.load(tiny_model, LoadOptions(n_ctx=512))
        expected = finish(reference.generate(edited, GREEDY)).answer
        reference.close()
        done = finish(engine.generate(edited, GREEDY, session=5))
        assert done.answer == expected
        assert done.stats.prompt_evaluated > 0
    finally:
        engine.close()


@pytest.mark.slow
def test_hearth_chat_continued_in_a_new_process_starts_warm(
    gemma_model: Path, tmp_path: Path
) -> None:
    """Two `hearth chat` runs: the second continues the chat the first saved, from its
    state on disk; with the setting at 0 it evaluates the whole history again."""
    import json
    import sqlite3
    import subprocess
    import sys

    hearth = str(Path(sys.executable).parent / "hearth")
    env = {**os.environ, "HEARTH_NO_STARTER": "1"}

    def evaluated_on_second_turn(home: Path, budget_mb: int) -> tuple[int, int]:
        def run(*args: str) -> None:
            done = subprocess.run([hearth, "--home", str(home), *args], capture_output=True,
                                  text=True, timeout=300, env=env, check=False)  # fmt: skip
            assert done.returncode == 0, done.stderr

        run("settings", "set", "kv_cache_disk_mb", str(budget_mb))
        long_question = "Summarise this logbook. " + " ".join(
            f"Day {n}: the keeper trimmed the wick and wound the clock." for n in range(25)
        )
        run("chat", str(gemma_model), long_question, "--max-tokens", "16", "--temperature", "0")
        run("chat", str(gemma_model), "--chat", "1", "And the last day?", "--max-tokens", "8",
            "--temperature", "0")  # fmt: skip
        with sqlite3.connect(home / "hearth.db") as conn:
            meta, prompt = conn.execute(
                "SELECT meta, prompt_tokens FROM messages WHERE role = 'assistant' "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return int(json.loads(meta)["prompt_evaluated"]), int(prompt)

    warm, tokens = evaluated_on_second_turn(tmp_path / "warm", 2048)
    cold, same_tokens = evaluated_on_second_turn(tmp_path / "cold", 0)
    assert tokens == same_tokens > 250
    assert cold == tokens  # without saved state: the whole history again
    assert warm < tokens / 4  # with it: about the new message only
    assert list((tmp_path / "warm" / "cache" / "kv").glob("*.kv"))
    assert not (tmp_path / "cold" / "cache" / "kv").exists()
