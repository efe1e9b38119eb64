"""Generation on a busy machine: Hearth's thread count chosen from the load, against fixed
thread counts, in one run, on gemma-3-270m Q4_K_M.

For each load (no other work, then one and two CPU-bound processes the benchmark starts
itself: `python -c "while True: pass"`), interleaved round by round, Hearth's Engine
generates the same greedy 64-token answer three ways: with its thread count left to it
(app.engine.threads: one thread fewer per core other processes keep busy), and with 1
and with 2 threads fixed (the user's own choice, which Hearth keeps as it is). Reported:
median generation tokens/s, and each way against the best fixed count under that load.
Targets (issue #16): under contention >= 0.8x the best fixed count; idle within 3% of it.

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_contention.py [--rounds 5]
Writes bench/results/contention.json and bench/results/contention.md. Start it on an idle
machine: the load it measures is the load it makes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_retrieval_html import git_commit  # noqa: E402

from app.engine.engine import Engine  # noqa: E402
from app.engine.events import GenerationDone, LoadOptions, Sampling  # noqa: E402
from app.hardware import cpu_info, physical_cores  # noqa: E402
from tests.support.models import gemma_path  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HEARTH = "Hearth (threads from the load)"
TOKENS = 64


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tokens_per_second(engine: Engine, turn: int) -> float:
    messages = [{"role": "user", "content": f"Tell a story about lighthouse number {turn}."}]
    done = None
    for event in engine.generate(messages, Sampling(temperature=0.0, max_tokens=TOKENS)):
        if isinstance(event, GenerationDone):
            done = event
    assert done is not None
    return done.stats.tokens_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cores = physical_cores()
    run: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": f"{cpu_info().model}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "tokens": TOKENS,
    }
    fixed = {f"{n} thread{'s' if n > 1 else ''} fixed": n for n in sorted({1, cores})}
    engines: dict[str, Engine] = {}
    for name, threads in {HEARTH: None, **fixed}.items():
        engine = Engine(state_cache_bytes=0)
        engine.load(gemma_path(), LoadOptions(n_ctx=1024, n_threads=threads))
        engines[name] = engine
    results: dict[str, dict[str, float]] = {}
    for busy in (0, 1, 2):
        load = f"{busy} busy process{'es' if busy != 1 else ''}"
        workers = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)
        ]
        try:
            rates: dict[str, list[float]] = {name: [] for name in engines}
            for round_number in range(args.rounds):
                for name, engine in engines.items():
                    rates[name].append(tokens_per_second(engine, round_number))
            results[load] = {name: round(statistics.median(r), 1) for name, r in rates.items()}
            say(f"{load}: {results[load]}")
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
    for engine in engines.values():
        engine.close()
    run["tokens_per_second"] = results
    run["vs_best_fixed"] = {
        load: {name: round(rate / max(row[n] for n in fixed), 3) for name, rate in row.items()}
        for load, row in results.items()
    }
    run["load_average_at_end"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "contention.json").write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    names = list(engines)
    lines = [
        "# Generation on a busy machine",
        "",
        "Written by `bench/bench_contention.py` (see its docstring).",
        "",
        f"{run['date']} · commit {run['commit']} · {run['machine']} · gemma-3-270m Q4_K_M · "
        f"{TOKENS} tokens, greedy · median of {args.rounds} rounds · load average "
        f"{run['load_average_at_start']} at start",
        "",
        "Generation tokens/s (in brackets: against the best fixed thread count under that load):",
        "",
        "| load | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for load, row in results.items():
        cells = [f"{row[n]} ({run['vs_best_fixed'][load][n]}×)" for n in names]
        lines.append(f"| {load} | " + " | ".join(cells) + " |")
    lines.append("")
    (RESULTS / "contention.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
