"""Time to first token of a long chat: warm, after a switch, after a restart, and cold, in
one run, on gemma-3-270m Q4_K_M at 2 threads.

A chat is grown turn by turn (greedy 48-token answers to questions about a logbook) until
its prompt passes 4,000 tokens. At turns 1, 10 and 30 (or the last one) the next message
is answered four ways, interleaved for each round:

- **warm:** by the engine that answered the turn before (the chat's KV cache is live
  and holds the history up to the last answer: only the new message is evaluated);
- **after a switch:** by an engine that answered another chat last, with no room in
  memory for snapshots (``state_cache_bytes=0``), so the chat comes back from disk;
- **after a restart:** by a new engine, as a new process of the app would: the chat's
  state after its last answer is read from ``<home>/cache/kv`` (app.engine.kv_disk);
- **cold:** by a new engine with no saved state: the whole prompt is evaluated.

Reported: median time to first token (ms) of each, and restart / warm. Target (issue #16):
after a restart within 1.5x of warm.

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_reopen.py [--rounds 3]
Writes bench/results/reopen.json and bench/results/reopen.md. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_retrieval_html import git_commit  # noqa: E402

from app.engine.engine import Engine, _capture, _restore  # noqa: E402 (the bench resets a cache)
from app.engine.events import GenerationDone, LoadOptions, Sampling  # noqa: E402
from app.engine.kv_disk import KVDisk, SavedState  # noqa: E402
from app.hardware import cpu_info  # noqa: E402
from tests.support.models import gemma_path  # noqa: E402

THREADS = 2
N_CTX = 8192
ANSWER = Sampling(temperature=0, max_tokens=48, seed=1)
PROBE = Sampling(temperature=0, max_tokens=1, seed=1)
CHAT = 1


def answer(engine: Engine, turns: list[dict[str, str]], sampling: Sampling,
           session: int = CHAT) -> GenerationDone:  # fmt: skip
    done = [e for e in engine.generate(turns, sampling, session=session)
            if isinstance(e, GenerationDone)]  # fmt: skip
    return done[-1]


def engine_with(disk: KVDisk | None, *, memory: int | None = None) -> Engine:
    engine = Engine(kv_disk=disk, state_cache_bytes=memory)
    engine.load(gemma_path(), LoadOptions(n_ctx=N_CTX, n_threads=THREADS))
    return engine


def question(n: int) -> str:
    entries = " ".join(
        f"Day {n * 10 + d}: wind {d + 2}, lamp lit at {d + 5} pm." for d in range(10)
    )
    return f"Logbook page {n}. {entries} What changed on this page?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-reopen-"))
    disk = KVDisk(folder / "kv", 4_000_000_000)
    main_engine = engine_with(disk)
    turns: list[dict[str, str]] = []
    marks: dict[int, dict[str, list[float]]] = {}
    prompt_tokens: dict[int, int] = {}
    turn = 0
    while True:
        turn += 1
        if turn in (1, 10, 30):
            # The chat as it stands after its last answer: every way starts from it.
            llm = main_engine._llm
            assert llm is not None
            before = _capture(llm).saved
            turns.append({"role": "user", "content": question(turn)})
            times: dict[str, list[float]] = {"warm": [], "switch": [], "restart": [], "cold": []}

            def on_disk(state: SavedState) -> None:
                disk.save(main_engine._kv_id or "", CHAT, state)
                disk.flush()

            for _ in range(args.rounds):
                _restore(llm, before)  # warm: the live cache holds the chat's history
                times["warm"].append(answer(main_engine, turns, PROBE).stats.ttft_ms)
                switcher = engine_with(disk, memory=0)
                answer(switcher, [{"role": "user", "content": "Name a colour."}], PROBE, 2)
                on_disk(before)
                times["switch"].append(answer(switcher, turns, PROBE).stats.ttft_ms)
                switcher.close()
                on_disk(before)
                restarted = engine_with(disk)
                times["restart"].append(answer(restarted, turns, PROBE).stats.ttft_ms)
                restarted.close()
                cold = engine_with(None)
                times["cold"].append(answer(cold, turns, PROBE).stats.ttft_ms)
                cold.close()
            marks[turn] = times
            _restore(llm, before)
        else:
            turns.append({"role": "user", "content": question(turn)})
        done = answer(main_engine, turns, ANSWER)
        disk.flush()
        prompt_tokens[turn] = done.stats.prompt_tokens
        turns.append({"role": "assistant", "content": done.answer})
        print(f"turn {turn}: {done.stats.prompt_tokens} prompt tokens", file=sys.stderr)
        if (turn >= 30 and done.stats.prompt_tokens > 4000) or turn >= 60:
            break
    main_engine.close()

    rows = []
    for turn, times in marks.items():
        median = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"turn": turn, "prompt_tokens": prompt_tokens[turn], **median,
                     "restart_over_warm": median["restart"] / median["warm"]})  # fmt: skip
    result: dict[str, Any] = {
        "benchmark": "reopen", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(), "cpu": cpu_info().model, "machine": platform.machine(),
        "cores": os.cpu_count(), "threads": THREADS, "n_ctx": N_CTX, "rounds": args.rounds,
        "load_average": os.getloadavg()[0], "rows": rows,
    }  # fmt: skip
    out = ROOT / "bench" / "results"
    (out / "reopen.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Reopening a long chat: time to first token", "",
        f"{result['date']} · commit {result['commit']} · {result['cpu']} · "
        f"{THREADS} threads · n_ctx {N_CTX} · median of {args.rounds} rounds · "
        f"load average at the end {result['load_average']:.2f}", "",
        "Written by `bench/bench_reopen.py` (what each column means is in its docstring).", "",
        "| turn | prompt tokens | warm ms | after a switch ms | after a restart ms | cold ms | "
        "restart / warm |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['turn']} | {r['prompt_tokens']:,} | {r['warm']:.0f} | "
                     f"{r['switch']:.0f} | {r['restart']:.0f} | {r['cold']:.0f} | "
                     f"{r['restart_over_warm']:.2f}x |")  # fmt: skip
    (out / "reopen.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
