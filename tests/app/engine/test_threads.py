"""The thread count follows the machine's load: readings made up, the arithmetic real;
and the engine hands the count to llama.cpp."""

from __future__ import annotations

from pathlib import Path

import llama_cpp.llama_cpp as llama_lib
import pytest

from app.engine import threads
from app.engine.engine import Engine
from app.engine.events import GenerationDone, LoadOptions, Sampling
from app.engine.threads import CpuReading, ThreadGovernor, busy_elsewhere


class Machine:
    """A made-up machine: each reading is `elsewhere` cores of others' work and `ours`
    cores of this process's over `step` seconds since the last one."""

    def __init__(self) -> None:
        self.at = self.busy = self.ours = 0.0
        self.elsewhere, self.mine, self.step = 0.0, 2.0, 0.5

    def read(self) -> CpuReading:
        self.at += self.step
        self.ours += self.mine * self.step
        self.busy += (self.mine + self.elsewhere) * self.step
        return CpuReading(self.at, self.busy, self.ours)


def test_busy_elsewhere_is_the_machines_busy_time_less_ours() -> None:
    before = CpuReading(10.0, 100.0, 40.0)
    after = CpuReading(12.0, 103.0, 41.0)  # 3 core-seconds busy, 1 of them ours, in 2 s
    assert busy_elsewhere(before, after) == 1.0
    assert busy_elsewhere(after, after) == 0.0


def test_one_thread_fewer_for_each_busy_core_and_all_again_when_free() -> None:
    machine = Machine()
    governor = ThreadGovernor(2, read=machine.read)
    assert governor.start() == 2  # a free machine
    assert governor.tick() is None  # nothing changed
    machine.elsewhere = 1.0  # a browser tab keeps a core busy
    assert governor.tick() == 1
    assert governor.tick() is None
    machine.elsewhere = 2.0
    assert governor.tick() is None  # never under one thread
    machine.elsewhere = 0.2  # a little background work is not a lost core
    assert governor.tick() == 2
    machine.elsewhere = 0.6
    assert governor.tick() == 1


def test_a_stale_reading_starts_with_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = Machine()
    governor = ThreadGovernor(4, read=machine.read)
    machine.elsewhere = 3.0
    assert governor.start() == 1  # measured just now: three cores taken
    machine.step = threads.FRESH + 1  # the app sat idle: that reading says nothing now
    assert governor.start() == 4
    machine.step = threads.INTERVAL / 2
    assert governor.tick() is None  # looks at most every INTERVAL


def test_the_engine_gives_llama_cpp_the_governors_count(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = Machine()
    monkeypatch.setattr(threads, "read_cpu", machine.read)
    monkeypatch.setattr("app.engine.engine.physical_cores", lambda: 2)
    engine = Engine(state_cache_bytes=0)
    seen: list[int] = []
    original = llama_lib.llama_set_n_threads

    def record(ctx: object, n: int, batch: int) -> None:
        seen.append(n)
        original(ctx, n, batch)

    monkeypatch.setattr(llama_lib, "llama_set_n_threads", record)
    try:
        engine.load(tiny_model, LoadOptions(n_ctx=256))  # threads left to Hearth
        machine.elsewhere = 1.0
        events = list(engine.generate([{"role": "user", "content": "Hi"}], Sampling(
            temperature=0.0, max_tokens=8)))  # fmt: skip
        assert isinstance(events[-1], GenerationDone)
        assert seen and seen[0] == 1  # one core was taken: one thread
        machine.elsewhere = 0.0
        list(engine.generate([{"role": "user", "content": "Hi"}], Sampling(max_tokens=8)))
        assert seen[-1] == 2  # free again: both
        engine.load(tiny_model, LoadOptions(n_ctx=256, n_threads=2))  # the user's choice
        seen.clear()
        machine.elsewhere = 1.0
        list(engine.generate([{"role": "user", "content": "Hi"}], Sampling(max_tokens=8)))
        assert seen == []  # kept as the user set it
    finally:
        engine.close()
