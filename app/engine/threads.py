"""How many threads llama.cpp runs, chosen from how busy the rest of the machine is.

llama.cpp's OpenMP threads spin at every barrier. When another program keeps a core
busy, a thread that lost its core holds every other one at the next barrier: on a
2-core laptop with one busy process, gemma-3-270m fell from 38.7 to 15.4 tokens/s at
2 threads while 1 thread made 23.4, and to 3.2 with two (bench/results/contention.md).
So the engine watches the CPU time the rest of the machine uses (all processes' busy
time minus this one's) and runs one thread fewer per core taken, and all of them again
when the machine is free.
OpenMP's passive wait policy would also avoid the collapse but cost 16% on an idle
machine, which this does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

INTERVAL = 0.25  # seconds between looks at the machine during an answer
FRESH = 2.0  # a reading older than this is not trusted at the start of an answer


@dataclass(frozen=True)
class CpuReading:
    """Cumulative CPU seconds: every process's busy time, and this process's."""

    at: float
    machine_busy: float
    ours: float


def read_cpu() -> CpuReading:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    mine = psutil.Process().cpu_times()
    return CpuReading(time.monotonic(), sum(times) - idle, mine.user + mine.system)


def _read_now() -> CpuReading:
    return read_cpu()  # looked up at each call, so a test can stand in for the machine


def busy_elsewhere(before: CpuReading, after: CpuReading) -> float:
    """How many cores other processes kept busy between two readings."""
    elapsed = after.at - before.at
    if elapsed <= 0:
        return 0.0
    others = (after.machine_busy - before.machine_busy) - (after.ours - before.ours)
    return max(0.0, others / elapsed)


class ThreadGovernor:
    """The thread count for llama.cpp: ``most`` on a free machine, one fewer for each
    core other processes keep busy, never under one. ``start`` at the beginning of an
    answer, ``tick`` at each token (it looks at most every INTERVAL)."""

    def __init__(self, most: int, *, read: Callable[[], CpuReading] | None = None) -> None:
        self.most = max(1, most)
        self._read: Callable[[], CpuReading] = read if read is not None else _read_now
        self._last = self._read()
        self.threads = self.most

    def _choose(self, elsewhere: float) -> int:
        return max(1, min(self.most, self.most - int(elsewhere + 0.5)))

    def start(self) -> int:
        """The count to begin an answer with: from the time since the last look when
        that is recent, else all threads (the first tick corrects it)."""
        now = self._read()
        if now.at - self._last.at <= FRESH:
            self.threads = self._choose(busy_elsewhere(self._last, now))
        else:
            self.threads = self.most
        self._last = now
        return self.threads

    def tick(self) -> int | None:
        """A new count when the machine changed since the last look, else None."""
        now = self._read()
        if now.at - self._last.at < INTERVAL:
            return None
        chosen = self._choose(busy_elsewhere(self._last, now))
        self._last = now
        if chosen == self.threads:
            return None
        self.threads = chosen
        return chosen
