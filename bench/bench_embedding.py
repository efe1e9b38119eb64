"""Embedding speed: Hearth's embedder against llama-cpp-python called directly, in one run.

Passages: the first --passages passages of the SQLite HTML corpus (bench/corpus_html, the
same pages bench_retrieval_html.py indexes), extracted and chunked by Hearth's own Indexer
into a fresh Store, given to the model as Hearth gives them (file name and heading path,
then the text). Model: all-MiniLM-L6-v2 as F16 GGUF (tests/support/minilm.py), 2 threads.

Ways, interleaved round by round on the same passages:
- "binding, one text per call": llama_cpp.Llama(embedding=True) on the F16 file with the
  binding's defaults (no flash attention), Llama.embed([text]) per passage: the
  reference the issue measured Hearth against.
- "binding, 16 per call (Hearth before)": Llama.embed(batch of 16) with flash attention,
  as Hearth's engine called it before this change (the binding packs them into one
  512-token batch).
- "Hearth, whole passages": app.documents.embeddings.embedder_for(store, path)
  .embed_passages on the same texts: Hearth's engine as it runs now (the model's F32
  working copy, one text per decode).
- "Hearth, as indexing does": the same embedder given each passage's windows
  (passage_windows, ~500 characters each), which is what embed_documents does.
Quality: cosine of Hearth's whole-passage vectors with the reference's (same texts).

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_embedding.py [--passages 240] [--rounds 3]
Writes bench/results/embedding.json and bench/results/embedding.md. Run on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402
from bench_retrieval_html import git_commit  # noqa: E402
from check_html_questions import ROOT as DOCS  # noqa: E402
from check_html_questions import subset_pages  # noqa: E402

from app.documents.embeddings import (  # noqa: E402
    embedder_for,
    passage_for_embedding,
    passage_windows,
)
from app.documents.ingest import Indexer, add_paths  # noqa: E402
from app.hardware import cpu_info  # noqa: E402
from app.store import Store  # noqa: E402
from tests.support.minilm import minilm_path  # noqa: E402

RESULTS = ROOT / "bench" / "results"
THREADS = 2
REFERENCE = "binding, one text per call"
BEFORE = "binding, 16 per call (Hearth before)"
HEARTH = "Hearth, whole passages"
INDEXING = "Hearth, as indexing does (windows)"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def passages(store: Store, count: int) -> tuple[list[str], list[str]]:
    """``count`` passages as whole texts, and all their windows (as indexing embeds them)."""
    pages = subset_pages()
    collection = store.create_collection("sqlite-docs")
    added = add_paths(
        store, [DOCS / p for p in pages[: max(60, count // 3)]], collection_id=collection.id
    )
    for _ in Indexer(store).run([d.id for d in added.added], workers=1):
        pass
    pairs = [(d.name, c) for d in store.list_documents() for c in store.document_chunks(d.id)]
    if len(pairs) < count:
        raise SystemExit(f"only {len(pairs)} passages in the pages taken")
    pairs = pairs[:count]
    texts = [passage_for_embedding(name, chunk) for name, chunk in pairs]
    windows = [w for name, chunk in pairs for w in passage_windows(name, chunk)]
    return texts, windows


def binding(path: Path, *, flash_attn: bool) -> llama_cpp.Llama:
    return llama_cpp.Llama(
        str(path), embedding=True, n_ctx=512, n_batch=512, n_threads=THREADS,
        n_threads_batch=THREADS, flash_attn=flash_attn, verbose=False,
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": f"{cpu_info().model}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "threads": THREADS,
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    model = minilm_path()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-embed-") as tmp:
        store = Store.open(Path(tmp) / "hearth.db")
        try:
            texts, windows = passages(store, args.passages)
            run["windows"] = len(windows)
            reference = binding(model, flash_attn=False)  # the binding's default
            before = binding(model, flash_attn=True)  # as Hearth's engine loaded it
            tokens = sum(len(reference.tokenize(t.encode())) for t in texts)
            run["passages"] = len(texts)
            run["tokens_mean"] = round(tokens / len(texts), 1)
            started = time.perf_counter()
            hearth = embedder_for(store, model)
            hearth.embed_passages(texts[:2])  # loads it, making its working copy
            run["hearth_first_load_seconds"] = round(time.perf_counter() - started, 2)
            ways: dict[str, Callable[[], list[list[float]]]] = {
                REFERENCE: lambda: [reference.embed([t], normalize=True)[0] for t in texts],
                BEFORE: lambda: [
                    v
                    for i in range(0, len(texts), 16)
                    for v in before.embed(texts[i : i + 16], normalize=True)
                ],
                HEARTH: lambda: hearth.embed_passages(texts),
                INDEXING: lambda: hearth.embed_passages(windows),
            }
            seconds: dict[str, list[float]] = {name: [] for name in ways}
            vectors: dict[str, np.ndarray] = {}
            for round_number in range(args.rounds):
                for name, way in ways.items():
                    start = time.perf_counter()
                    made = way()
                    seconds[name].append(time.perf_counter() - start)
                    vectors[name] = np.asarray(made, dtype=np.float32)
                    say(f"round {round_number + 1} {name}: {seconds[name][-1]:.1f} s")
            hearth.close()
            reference.close()
            before.close()
        finally:
            store.close()
    run["load_average_at_end"] = round(os.getloadavg()[0], 2)
    reference_seconds = statistics.median(seconds[REFERENCE])
    run["ways"] = {
        name: {
            "seconds_median": round(statistics.median(s), 2),
            "passages_per_second": round(len(texts) / statistics.median(s), 1),
            "tokens_per_second": round(tokens / statistics.median(s)),
            "speed_vs_reference": round(reference_seconds / statistics.median(s), 2),
        }
        for name, s in seconds.items()
    }
    del run["ways"][INDEXING]["tokens_per_second"]  # its tokens are the windows', not these
    cosines = np.sum(vectors[HEARTH] * vectors[REFERENCE], axis=1)
    run["cosine_hearth_vs_reference"] = {
        "min": round(float(cosines.min()), 5),
        "mean": round(float(cosines.mean()), 5),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embedding.json").write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    write_report(run)


def write_report(run: dict[str, Any]) -> None:
    lines = [
        "# Embedding speed",
        "",
        "Written by `bench/bench_embedding.py` (see its docstring for what each way is).",
        "",
        f"{run['date']} · commit {run['commit']} · {run['machine']} · {run['threads']} threads"
        f" · load average {run['load_average_at_start']} at start, "
        f"{run['load_average_at_end']} at end",
        "",
        f"{run['passages']} real passages of SQLite's HTML docs (mean {run['tokens_mean']} "
        f"tokens; {run['windows']} windows), all-MiniLM-L6-v2 F16 GGUF; median of the rounds.",
        "",
        "| way | passages/s | tokens/s | vs one text per call | vs Hearth before |",
        "|---|---|---|---|---|",
    ]
    before = run["ways"][BEFORE]["passages_per_second"]
    for name, row in run["ways"].items():
        tokens = f"{row['tokens_per_second']:,}" if "tokens_per_second" in row else "-"
        lines.append(
            f"| {name} | {row['passages_per_second']} | {tokens} | "
            f"{row['speed_vs_reference']}× | {row['passages_per_second'] / before:.2f}× |"
        )
    cos = run["cosine_hearth_vs_reference"]
    lines += [
        "",
        f"Hearth's vectors against the reference's: cosine min {cos['min']}, mean "
        f"{cos['mean']} (the same model; Hearth runs its F32 working copy). Its first load, "
        f"making that copy, took {run['hearth_first_load_seconds']} s.",
        "",
    ]
    (RESULTS / "embedding.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
