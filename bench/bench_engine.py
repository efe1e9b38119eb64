"""Hearth's engine against llama.cpp's own llama-bench, in one run, on gemma-3-270m Q4_K_M.

Measures, interleaving the two so that both see the same machine conditions:
- generation tokens/s: llama-bench tg128 vs Hearth's streaming path (our token loop,
  detokenizing, stop-string checks) generating 128 tokens;
- prompt tokens/s: llama-bench pp512 vs Hearth evaluating a fresh 512-token prompt;
- time to first token of the 10th turn of a chat vs the 1st (KV cache reuse).

Usage:  .venv/bin/python bench/bench_engine.py [--threads N ...] [--rounds R]
Writes bench/results/engine.json and bench/results/engine.md.
"""

from __future__ import annotations

import argparse
import json
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

from app import __version__  # noqa: E402
from app.engine.build import llama_build  # noqa: E402
from app.engine.engine import Engine  # noqa: E402
from app.engine.events import GenerationDone, LoadOptions, Sampling  # noqa: E402
from app.hardware import cpu_info, physical_cores  # noqa: E402
from tests.support.models import gemma_path  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STORY = (
    "The old lighthouse keeper climbed the spiral stairs every evening, counting the steps "
    "as his father had taught him. "
)


def build_llama_bench() -> Path:
    out = subprocess.run(
        ["bash", str(ROOT / "bench" / "build_llama_bench.sh")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return Path(out.stdout.strip().splitlines()[-1])


def run_llama_bench(binary: Path, model: Path, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [str(binary), "-m", str(model), "-t", str(threads), "-p", "512", "-n", "128",
         "-r", "1", "-o", "json"],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    rows = json.loads(out.stdout)
    result = {}
    for row in rows:
        key = "pp512" if row["n_prompt"] == 512 else "tg128"
        result[key] = float(row["avg_ts"])
    return result


def raw_binding_round(llm: Any, prompt: str) -> float:
    """The same 128-token generation straight through llama-cpp-python's create_completion."""
    llm.reset()
    llm._ctx.kv_cache_clear()
    first = None
    count = 0
    for _chunk in llm.create_completion(
        prompt, max_tokens=128, stream=True, temperature=0.8, top_k=40, top_p=0.95,
        min_p=0.05, repeat_penalty=1.1, seed=7,
    ):  # fmt: skip
        count += 1
        if first is None:
            first = time.perf_counter()
    assert first is not None
    return (count - 1) / (time.perf_counter() - first)


def exactly_n_tokens(engine: Engine, n: int) -> str:
    """A user message that makes a prompt of exactly n tokens through the chat format."""
    text = STORY * 40
    base = len(engine.tokenize_prompt(engine.render([{"role": "user", "content": ""}])))
    words = text.split()
    lo, hi = 1, len(words)
    while lo < hi:  # longest prefix of words that fits
        mid = (lo + hi + 1) // 2
        candidate = " ".join(words[:mid])
        size = len(engine.tokenize_prompt(engine.render([{"role": "user", "content": candidate}])))
        if size <= n:
            lo = mid
        else:
            hi = mid - 1
    message = " ".join(words[:lo])
    assert base < n
    return message


def hearth_round(engine: Engine, threads: int, prompt_512: str) -> dict[str, float]:
    # Generation: a short prompt, then 128 tokens through the full streaming path.
    engine.forget_cache()
    done = _done(
        engine.generate(
            [{"role": "user", "content": "Tell me a long story about a lighthouse."}],
            Sampling(max_tokens=128, seed=7),
        )
    )
    generation = done.stats.tokens_per_second
    generated = done.stats.completion_tokens
    # Prompt processing: a fresh ~512-token prompt, no cache to reuse.
    engine.forget_cache()
    done = _done(
        engine.generate(
            [{"role": "user", "content": prompt_512}], Sampling(max_tokens=1, temperature=0)
        )
    )
    prompt = done.stats.prompt_evaluated / (done.stats.ttft_ms / 1000)
    return {"tg": generation, "tg_tokens": generated, "pp": prompt,
            "pp_tokens": done.stats.prompt_evaluated}  # fmt: skip


def _done(events: Any) -> GenerationDone:
    last = None
    for event in events:
        last = event
    assert isinstance(last, GenerationDone)
    return last


def ttft_by_turn(engine: Engine, turns: int = 10) -> list[dict[str, float]]:
    engine.forget_cache()
    history: list[dict[str, str]] = [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."}
    ]
    questions = [
        "What is a lighthouse for?", "Who keeps it running?", "How tall are they usually?",
        "What colour are they painted?", "Why do they flash?", "Are any still manned?",
        "What replaced the keepers?", "Which is the oldest one?", "Can you visit them?",
        "Tell me one more fact about lighthouses.",
    ]  # fmt: skip
    rows = []
    for i in range(turns):
        history.append({"role": "user", "content": questions[i % len(questions)]})
        done = _done(engine.generate(history, Sampling(max_tokens=48, seed=i), session="chat"))
        history.append({"role": "assistant", "content": done.answer})
        rows.append(
            {
                "turn": i + 1,
                "prompt_tokens": done.stats.prompt_tokens,
                "prompt_evaluated": done.stats.prompt_evaluated,
                "ttft_ms": round(done.stats.ttft_ms, 1),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[physical_cores()])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    model = gemma_path()
    binary = build_llama_bench()
    engine = Engine()
    configs = []
    for threads in args.threads:
        engine.load(model, LoadOptions(n_ctx=2048, n_threads=threads, n_batch=512))
        prompt_512 = exactly_n_tokens(engine, 512)
        _done(engine.generate([{"role": "user", "content": "Hi"}], Sampling(max_tokens=8)))
        ref: list[dict[str, float]] = []
        ours: list[dict[str, float]] = []
        raw: list[float] = []
        import llama_cpp

        raw_llm = llama_cpp.Llama(
            str(model), n_ctx=2048, n_threads=threads, n_threads_batch=threads,
            flash_attn=True, verbose=False,
        )  # fmt: skip
        raw_prompt = engine.render(
            [{"role": "user", "content": "Tell me a long story about a lighthouse."}]
        )
        for r in range(args.rounds):
            ref.append(run_llama_bench(binary, model, threads))
            ours.append(hearth_round(engine, threads, prompt_512))
            raw.append(raw_binding_round(raw_llm, raw_prompt))
            print(f"threads={threads} round {r + 1}: llama-bench {ref[-1]}  hearth {ours[-1]}"
                  f"  raw binding tg {raw[-1]:.1f}")  # fmt: skip
        raw_llm.close()
        turns = ttft_by_turn(engine)
        median = statistics.median
        config = {
            "threads": threads,
            "rounds": args.rounds,
            "llama_bench": {
                "tg128_tokens_per_s": [round(x["tg128"], 2) for x in ref],
                "pp512_tokens_per_s": [round(x["pp512"], 1) for x in ref],
            },
            "raw_binding": {"generation_tokens_per_s": [round(x, 2) for x in raw]},
            "hearth": {
                "generation_tokens_per_s": [round(x["tg"], 2) for x in ours],
                "generated_tokens": [x["tg_tokens"] for x in ours],
                "prompt_tokens_per_s": [round(x["pp"], 1) for x in ours],
                "prompt_tokens": [x["pp_tokens"] for x in ours],
            },
            "median": {
                "llama_bench_tg": round(median(x["tg128"] for x in ref), 2),
                "hearth_tg": round(median(x["tg"] for x in ours), 2),
                "raw_binding_tg": round(median(raw), 2),
                "llama_bench_pp": round(median(x["pp512"] for x in ref), 1),
                "hearth_pp": round(median(x["pp"] for x in ours), 1),
            },
            "ttft_by_turn": turns,
        }
        m = config["median"]
        config["generation_ratio"] = round(m["hearth_tg"] / m["llama_bench_tg"], 3)
        config["prompt_ratio"] = round(m["hearth_pp"] / m["llama_bench_pp"], 3)
        config["generation_ratio_vs_raw_binding"] = round(m["hearth_tg"] / m["raw_binding_tg"], 3)
        config["ttft_turn10_over_turn1"] = round(turns[-1]["ttft_ms"] / turns[0]["ttft_ms"], 2)
        configs.append(config)
        engine.unload()

    cpu = cpu_info()
    report = {
        "benchmark": "engine vs llama-bench",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "hearth": __version__,
        "llama_cpp_python": llama_build().version,
        "llama_cpp_system_info": llama_build().system_info,
        "machine": {
            "cpu": cpu.model,
            "physical_cores": cpu.physical_cores,
            "features": list(cpu.features),
            "platform": platform.platform(),
        },
        "model": "gemma-3-270m Q4_K_M",
        "targets": {"generation_ratio": ">= 0.97", "ttft_turn10_over_turn1": "<= 1.5"},
        "configs": configs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "engine.md").write_text(to_markdown(report))
    print((RESULTS / "engine.md").read_text())
    return 0


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Engine benchmark: Hearth vs llama-bench",
        "",
        f"{report['date']} · Hearth {report['hearth']} · llama-cpp-python "
        f"{report['llama_cpp_python']} · {report['model']}",
        f"Machine: {report['machine']['cpu']}, {report['machine']['physical_cores']} physical "
        f"cores. llama.cpp: {report['llama_cpp_system_info']}",
        "",
        "Medians over interleaved rounds (llama-bench run, then Hearth, repeated), same model,",
        "same threads, same llama.cpp source and flags. Targets: generation >= 97% of",
        "llama-bench; 10th-turn time to first token <= 1.5x the 1st.",
        "",
        "| threads | llama-bench tg128 | raw llama-cpp-python | Hearth generation | "
        "Hearth / llama-bench | Hearth / raw | llama-bench pp512 | Hearth prompt | ratio "
        "| TTFT turn 10 / turn 1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in report["configs"]:
        m = c["median"]
        lines.append(
            f"| {c['threads']} | {m['llama_bench_tg']} tok/s | {m['raw_binding_tg']} tok/s | "
            f"{m['hearth_tg']} tok/s | {c['generation_ratio']:.2f} | "
            f"{c['generation_ratio_vs_raw_binding']:.2f} | {m['llama_bench_pp']} tok/s | "
            f"{m['hearth_pp']} tok/s | {c['prompt_ratio']:.2f} | {c['ttft_turn10_over_turn1']} |"
        )
    for c in report["configs"]:
        lines += ["", f"## {c['threads']} thread(s): every round", ""]
        lines.append(
            "| round | llama-bench tg128 | raw binding | Hearth gen | llama-bench pp512 "
            "| Hearth prompt |"
        )
        lines.append("| --- | --- | --- | --- | --- | --- |")
        lb, h, rb = c["llama_bench"], c["hearth"], c["raw_binding"]
        for i in range(c["rounds"]):
            lines.append(
                f"| {i + 1} | {lb['tg128_tokens_per_s'][i]} | "
                f"{rb['generation_tokens_per_s'][i]} | {h['generation_tokens_per_s'][i]} "
                f"| {lb['pp512_tokens_per_s'][i]} | {h['prompt_tokens_per_s'][i]} |"
            )
        lines += ["", "| turn | prompt tokens | evaluated | time to first token |",
                  "| --- | --- | --- | --- |"]  # fmt: skip
        for t in c["ttft_by_turn"]:
            lines.append(
                f"| {t['turn']} | {t['prompt_tokens']} | {t['prompt_evaluated']} "
                f"| {t['ttft_ms']} ms |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
