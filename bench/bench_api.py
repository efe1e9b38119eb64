"""The local API against the engine it serves, in one run, on gemma-3-270m Q4_K_M.

Measures, interleaving the two so that both see the same machine conditions:
- generation tokens/s and time to first token of the same request: the engine called
  directly in this process, and `hearth serve` in its own process through the official
  openai client, streaming (same model, threads, sampling and token count);
- 8 clients at once: all served to completion, in turn;
- the desktop's own server (app/api/background.py, in this process, on the engine the
  desktop uses) with 8 clients at once while the GUI path answers too: a ChatRunner
  answering chat messages, each in its own turn as the desktop's engine thread takes
  them. All must complete, with no EngineBusy; the GUI's longest wait for its turn shows
  it queues fairly (behind at most the requests that arrived before it).

Each round uses a new question for both (so neither gets the other's prompt cache).
Targets (issue #14): API tokens/s >= 0.95 of the engine's, TTFT overhead under 20 ms.

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_api.py [--rounds 5] [--threads 2]
Writes bench/results/api.json and bench/results/api.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openai  # noqa: E402

from app import __version__  # noqa: E402
from app.api.background import ApiConfig, DesktopApi  # noqa: E402
from app.api.host import ModelHost  # noqa: E402
from app.chat.runner import ChatRunner, MessageSaved  # noqa: E402
from app.engine.engine import Engine  # noqa: E402
from app.engine.events import (  # noqa: E402
    EngineBusy,
    GenerationDone,
    LoadOptions,
    Sampling,
    TextDelta,
)
from app.hardware import cpu_info  # noqa: E402
from app.store import Store  # noqa: E402
from tests.support.models import gemma_path  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TOKENS = 128
MODEL = "Gemma 3 270m"  # the name the library gives the file
HEARTH = str(Path(sys.executable).with_name("hearth"))


def question(i: int) -> str:
    return f"Round {i}: tell a long story about a lighthouse keeper and the sea."


def engine_once(engine: Engine, i: int) -> tuple[float, float]:
    """(tokens/s of generation, ms to the first token) for one answer, called directly."""
    start = time.perf_counter()
    first: float | None = None
    done: GenerationDone | None = None
    sampling = Sampling(temperature=0.0, max_tokens=TOKENS, repeat_penalty=1.0)
    for event in engine.generate([{"role": "user", "content": question(i)}], sampling):
        if isinstance(event, TextDelta) and first is None:
            first = time.perf_counter()
        elif isinstance(event, GenerationDone):
            done = event
    assert done is not None and first is not None
    return done.stats.tokens_per_second, (first - start) * 1000


def api_once(client: openai.OpenAI, i: int) -> tuple[float, float]:
    """The same through `hearth serve`: tokens/s from the first to the last piece, and the
    ms from sending the request to the first piece of the answer."""
    start = time.perf_counter()
    first: float | None = None
    pieces = 0
    completion = 0
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": question(i)}], stream=True,
        max_tokens=TOKENS, temperature=0.0, extra_body={"repeat_penalty": 1.0},
        stream_options={"include_usage": True},
    )  # fmt: skip
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces += 1
            if first is None:
                first = time.perf_counter()
        if chunk.usage is not None:
            completion = chunk.usage.completion_tokens
    end = time.perf_counter()
    assert first is not None and completion > 1
    return (completion - 1) / (end - first), (first - start) * 1000


def concurrent(client: openai.OpenAI, n: int, model: str = MODEL) -> dict[str, Any]:
    results: list[int] = []
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            reply = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": question(100 + i)}],
                max_tokens=32, temperature=0.0,
            )  # fmt: skip
            results.append(reply.usage.completion_tokens if reply.usage else 0)
        except openai.OpenAIError as exc:
            errors.append(str(exc))

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"clients": n, "completed": len(results), "errors": errors,
            "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def desktop_crowd(model: Path, threads: int, n: int, gui_answers: int) -> dict[str, Any]:
    """The desktop's server with ``n`` clients at once while the GUI path answers
    ``gui_answers`` chat messages, all on one engine through the same turns."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-desktop-") as folder:
        store = Store.open(Path(folder) / "hearth.db")
        store.set_setting("max_tokens", 32)
        store.set_setting("temperature", 0.0)
        engine = Engine()
        engine.load(model, LoadOptions(n_ctx=2048, n_threads=threads))
        host = ModelHost(store, engine=engine, desktop=True)
        api = DesktopApi(host)
        url = api.apply(ApiConfig(enabled=True, port=0))
        assert url is not None
        name = host.served_models()[0].name
        client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=300)
        runner = ChatRunner(store, engine)
        chat = store.create_chat()
        answered: list[int] = []
        waits: list[tuple[float, int]] = []  # (ms waited for the turn, requests ahead)
        gui_errors: list[str] = []

        def gui() -> None:  # as the desktop's engine thread runs each answer: in a turn
            for i in range(gui_answers):
                asked, ahead = time.perf_counter(), host.queued()
                try:
                    with host.turn(always=True):
                        waits.append(((time.perf_counter() - asked) * 1000, ahead))
                        for event in runner.send(chat.id, question(200 + i)):
                            if (isinstance(event, MessageSaved) and event.final
                                    and event.message.role == "assistant"):  # fmt: skip
                                answered.append(event.message.stats.completion_tokens or 0)
                except EngineBusy as exc:
                    gui_errors.append(f"EngineBusy: {exc}")

        start = time.perf_counter()
        gui_thread = threading.Thread(target=gui)
        gui_thread.start()
        host.wait_queued(1, timeout=60)  # the GUI's first answer has the model
        crowd = concurrent(client, n, model=name)
        gui_thread.join()
        seconds = time.perf_counter() - start
        api.stop()
        engine.close()
        store.close()
    return {**crowd, "gui_answers": gui_answers, "gui_completed": len(answered),
            "gui_errors": gui_errors, "gui_waits_ms": [round(w, 1) for w, _ in waits],
            "gui_ahead": [a for _, a in waits],
            "seconds": round(seconds, 2)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model = gemma_path()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-api-") as home:
        env = {**os.environ, "HEARTH_HOME": home, "HEARTH_NO_STARTER": "1"}
        subprocess.run([HEARTH, "models", "import", str(model), "--link"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run([HEARTH, "models", "config", MODEL, "--threads",
                        str(args.threads), "--context-length", "2048"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [HEARTH, "serve", "--port", str(port)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none",
                                   max_retries=0, timeout=300)  # fmt: skip
            for _ in range(600):
                try:
                    client.models.list()
                    break
                except openai.APIConnectionError:
                    time.sleep(0.1)
            engine = Engine()
            engine.load(model, LoadOptions(n_ctx=2048, n_threads=args.threads))
            engine_once(engine, -1)  # warm both
            api_once(client, -2)
            rows: dict[str, list[float]] = {"engine_tps": [], "engine_ttft": [],
                                            "api_tps": [], "api_ttft": []}  # fmt: skip
            for i in range(args.rounds):
                tps, ttft = engine_once(engine, 2 * i)
                rows["engine_tps"].append(tps)
                rows["engine_ttft"].append(ttft)
                tps, ttft = api_once(client, 2 * i + 1)
                rows["api_tps"].append(tps)
                rows["api_ttft"].append(ttft)
            engine.close()
            crowd = concurrent(client, 8)
        finally:
            server.terminate()
            server.communicate(timeout=30)
    desktop = desktop_crowd(model, args.threads, 8, gui_answers=3)
    med = {k: statistics.median(v) for k, v in rows.items()}
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "hearth": __version__, "python": platform.python_version(),
        "cpu": cpu_info().model, "threads": args.threads, "rounds": args.rounds,
        "tokens": TOKENS, "load_average_1m": round(os.getloadavg()[0], 2),
        "median": {k: round(v, 2) for k, v in med.items()},
        "samples": {k: [round(x, 2) for x in v] for k, v in rows.items()},
        "tps_ratio": round(med["api_tps"] / med["engine_tps"], 3),
        "ttft_overhead_ms": round(med["api_ttft"] - med["engine_ttft"], 1),
        "concurrent": crowd, "desktop_concurrent": desktop,
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(report, indent=2) + "\n")
    md = "\n".join([
        "# Local API against the engine",
        "",
        f"{report['when']}, hearth {__version__}, {report['cpu']}, {args.threads} threads, "
        f"gemma-3-270m Q4_K_M, {TOKENS} tokens greedy, median of {args.rounds} interleaved "
        f"rounds; 1-minute load {report['load_average_1m']} at the end.",
        "",
        "| | engine (direct) | API (`hearth serve`, openai client, streaming) "
        "| ratio / overhead | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| generation tokens/s | {med['engine_tps']:.1f} | {med['api_tps']:.1f} | "
        f"{report['tps_ratio']:.3f} | >= 0.95 |",
        f"| time to first token (ms) | {med['engine_ttft']:.1f} | {med['api_ttft']:.1f} | "
        f"+{report['ttft_overhead_ms']:.1f} ms | < 20 ms |",
        "",
        f"8 clients at once: {crowd['completed']} of {crowd['clients']} served to completion "
        f"in {crowd['seconds']} s, {len(crowd['errors'])} errors.",
        "",
        f"The desktop's own server (one engine, in-process) with 8 clients at once while the "
        f"GUI path (a ChatRunner) answers {desktop['gui_answers']} chat messages: "
        f"{desktop['completed']} of {desktop['clients']} clients and "
        f"{desktop['gui_completed']} of {desktop['gui_answers']} GUI answers served to "
        f"completion in {desktop['seconds']} s, {len(desktop['errors'])} API errors, "
        f"{len(desktop['gui_errors'])} EngineBusy. Each GUI answer waited for its turn "
        + ", ".join(f"{w:,.0f} ms ({a} ahead)"
                    for w, a in zip(desktop['gui_waits_ms'], desktop['gui_ahead'], strict=True))
        + " (requests ahead: those that arrived before it; 32 tokens each).",
        "",
    ])  # fmt: skip
    (RESULTS / "api.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
