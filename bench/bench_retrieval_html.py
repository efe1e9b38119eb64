"""Retrieval quality on real HTML documentation: SQLite's docs from Debian's sqlite3-doc.

The pages of the subset in bench/corpus_html/corpus.json (the SQL language pages lang_*.html,
every C API page c3ref/*.html, pragma.html and a few topic pages; 264 pages) go through
Hearth's own pipeline, as one collection in a fresh Store in a temporary folder:
app.documents.ingest add_paths + Indexer (extraction, chunking, FTS5), then
app.documents.embeddings embed_documents with all-MiniLM-L6-v2 (GGUF), then
app.documents.search Searcher. Nothing of Hearth's logic is copied here, so re-running this
after a change to extraction, chunking or search measures the new code.

The questions (bench/corpus_html/questions.json, checked by bench/check_html_questions.py)
come in pairs: "terms" names the API, pragma or keyword; "plain" asks for the same thing in
words that avoid the gold page's vocabulary. A question is a hit when one of the first five
passages is from the gold page and holds the evidence phrase (whitespace collapsed, case
ignored); "page@5" only asks that one of the five is from the gold page.

Searches: keyword only (Searcher without embedder), meaning only (keyword weight 0), the
fusion Hearth ships (Searcher(store, embedder) with its defaults) and a few other weights.

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_retrieval_html.py --label before
        (--label after on the changed code puts its rows beside the earlier ones)
Writes bench/results/retrieval_html.json and bench/results/retrieval_html.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from check_html_questions import (  # noqa: E402
    CORPUS,
    load_questions,
    normalise,
    problems,
    subset_pages,
)
from check_html_questions import ROOT as DOCS  # noqa: E402

from app.documents import search  # noqa: E402
from app.documents.embeddings import Embedder, embed_documents, embedder_for  # noqa: E402
from app.documents.ingest import Indexer, add_paths  # noqa: E402
from app.documents.search import Fusion, Searcher  # noqa: E402
from app.hardware import cpu_info  # noqa: E402
from app.store import Store  # noqa: E402
from tests.support.minilm import minilm_path  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TOP = 5
SHORT_CHARS = 50
SHIPPED = "fusion as shipped"
KINDS = ("terms", "plain")
# Other fusions for the table: (label, keyword weight, meaning weight); "fused" rows are
# reciprocal rank fusion, "convex" rows mix the scaled scores (Searcher's fusion="convex").
VARIANTS: list[tuple[str, float, float]] = [
    ("fused 1:1", 1.0, 1.0),
    ("fused 1:0.5", 1.0, 0.5),
    ("fused 0.3:1", 0.3, 1.0),
    ("convex 0.5:0.5", 0.5, 0.5),
    ("convex 0.3:0.7", 0.3, 0.7),
    ("convex 0.2:0.8", 0.2, 0.8),
]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "app", "ui")
    return commit + (" (+ uncommitted changes in app/ or ui/)" if dirty else "")


def relative(document_path: str) -> str:
    try:
        return str(Path(document_path).resolve().relative_to(DOCS.resolve()))
    except ValueError:
        return document_path


# ------------------------------------------------------------------ indexing
def build_index(store: Store, pages: list[str], workers: int) -> dict[str, Any]:
    collection = store.create_collection("sqlite-docs")
    start = time.perf_counter()
    added = add_paths(store, [DOCS / p for p in pages], collection_id=collection.id)
    if added.refused:
        for refused in added.refused:
            say(f"refused: {refused.message}")
    say(f"indexing {len(added.added)} pages (extract, chunk, FTS5), {workers} worker(s)")
    done = 0
    failed: list[str] = []
    for event in Indexer(store).run(workers=workers):
        if event.status in ("ready", "failed"):
            done += 1
            if event.status == "failed":
                failed.append(f"{event.name}: {event.done}/{event.total}")
            if done % 25 == 0 or done == len(added.added):
                say(f"  indexed {done}/{len(added.added)} pages")
    ingest_seconds = time.perf_counter() - start
    documents = store.list_documents(collection_id=collection.id)
    texts = [c.text for d in documents for c in store.document_chunks(d.id)]
    by_text = Counter(normalise(t) for t in texts)
    repeated = sum(n - 1 for n in by_text.values() if n > 1)
    common = [
        {"times": n, "text": t[:80]} for t, n in by_text.most_common(5) if n > 1
    ]  # the boilerplate most repeated, to see what it is
    return {
        "collection_id": collection.id,
        "pages_added": len(added.added),
        "pages_refused": [r.message for r in added.refused],
        "pages_failed": failed,
        "documents_ready": sum(1 for d in documents if d.status == "ready"),
        "passages": len(texts),
        "passage_chars_mean": round(sum(map(len, texts)) / max(len(texts), 1), 1),
        "share_under_50_chars": round(
            sum(1 for t in texts if len(t.strip()) < SHORT_CHARS) / max(len(texts), 1), 3
        ),
        "share_duplicated": round(repeated / max(len(texts), 1), 3),
        "most_repeated": common,
        "ingest_seconds": round(ingest_seconds, 1),
    }


def embed(store: Store, embedder: Embedder, collection_id: int) -> dict[str, Any]:
    documents = store.list_documents(collection_id=collection_id)
    total = store.chunk_count([d.id for d in documents])
    say(f"embedding {total} passages with {embedder.name}")
    start = time.perf_counter()
    done: dict[int, int] = {}
    last = start
    for progress in embed_documents(store, embedder, documents):
        done[progress.document_id] = progress.done
        now = time.perf_counter()
        if now - last > 15:
            rate = sum(done.values()) / (now - start)
            say(f"  embedded {sum(done.values())}/{total} passages ({rate:.1f}/s)")
            last = now
    seconds = time.perf_counter() - start
    return {
        "model": embedder.name,
        "passages": total,
        "embed_seconds": round(seconds, 1),
        "passages_per_second": round(total / seconds, 1) if seconds else None,
    }


def unreachable(store: Store, questions: list[dict[str, Any]], collection_id: int) -> list[str]:
    """Questions whose evidence phrase is in no passage of the gold page as Hearth indexed it
    (lost or split by extraction and chunking): no search can hit those."""
    texts: dict[str, list[str]] = {}
    for document in store.list_documents(collection_id=collection_id):
        chunks = store.document_chunks(document.id)
        texts[relative(document.path)] = [normalise(c.text) for c in chunks]
    return [
        q["id"]
        for q in questions
        if not any(normalise(q["evidence"]) in t for t in texts.get(q["gold"], []))
    ]


# ------------------------------------------------------------------ searching
def modes(store: Store, embedder: Embedder) -> list[tuple[str, Callable[[], Searcher]]]:
    out: list[tuple[str, Callable[[], Searcher]]] = [
        ("keyword only", lambda: Searcher(store)),
        ("meaning only", lambda: Searcher(store, embedder, keyword_weight=0.0, dense_weight=1.0)),
        (SHIPPED, lambda: Searcher(store, embedder)),
    ]
    for label, kw, dense in VARIANTS:
        fusion: Fusion = "convex" if label.startswith("convex") else "rrf"
        out.append((label, fused(store, embedder, kw, dense, fusion)))
    return out


def fused(
    store: Store, embedder: Embedder, kw: float, dense: float, fusion: Fusion = "rrf"
) -> Callable[[], Searcher]:
    return lambda: Searcher(store, embedder, keyword_weight=kw, dense_weight=dense, fusion=fusion)


def evaluate(
    searcher: Searcher, questions: list[dict[str, Any]], collection_id: int
) -> dict[str, Any]:
    documents = searcher.store.list_documents(collection_id=collection_id)
    hits: dict[str, list[int]] = {k: [] for k in KINDS}
    pages: dict[str, list[int]] = {k: [] for k in KINDS}
    per_question: dict[str, dict[str, Any]] = {}
    latencies: list[float] = []
    for q in questions:
        start = time.perf_counter()
        passages = searcher.search(q["question"], documents, limit=TOP)
        latencies.append((time.perf_counter() - start) * 1000)
        evidence = normalise(q["evidence"])
        found = [relative(p.document.path) for p in passages]
        hit_rank = next(
            (
                n
                for n, p in enumerate(passages, 1)
                if found[n - 1] == q["gold"] and evidence in normalise(p.chunk.text)
            ),
            None,
        )
        page_rank = next((n for n, f in enumerate(found, 1) if f == q["gold"]), None)
        hits[q["kind"]].append(int(hit_rank is not None))
        pages[q["kind"]].append(int(page_rank is not None))
        per_question[q["id"]] = {"hit_rank": hit_rank, "page_rank": page_rank, "top": found}
    row: dict[str, Any] = {}
    for kind in KINDS:
        row[f"hit@5_{kind}"] = round(sum(hits[kind]) / max(len(hits[kind]), 1), 3)
        row[f"page@5_{kind}"] = round(sum(pages[kind]) / max(len(pages[kind]), 1), 3)
    every = hits["terms"] + hits["plain"]
    row["hit@5_all"] = round(sum(every) / max(len(every), 1), 3)
    row["search_ms_p50"] = round(sorted(latencies)[len(latencies) // 2], 1)
    row["misses"] = [qid for qid, r in per_question.items() if r["hit_rank"] is None]
    row["questions"] = per_question
    return row


# ------------------------------------------------------------------ report
def write_report(data: dict[str, Any]) -> None:
    runs: dict[str, Any] = data["runs"]
    labels = list(runs)
    lines = [
        "# Retrieval on real HTML documentation (SQLite docs, sqlite3-doc)",
        "",
        f"Corpus: Debian package `{CORPUS['package']}` {CORPUS['version']}, pages under "
        f"`{CORPUS['root']}` matching {', '.join(f'`{p}`' for p in CORPUS['include'])}. "
        "Indexed as one collection by Hearth's own add_paths + Indexer, embedded with "
        "embed_documents, searched with Searcher. Questions: "
        "`bench/corpus_html/questions.json` (half in the docs' terms, half in plain words "
        "that avoid the gold page's vocabulary). Re-run: "
        "`PYTHONPATH=. .venv/bin/python bench/bench_retrieval_html.py --label after`.",
        "",
        "## Runs",
        "",
        "| run | date | Hearth commit | machine | pages | passages | < 50 chars | duplicated "
        "| evidence unreachable | embed passages/s | ingest s | embed s | total index s "
        "| load avg start/end |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in labels:
        r = runs[label]
        ix, em = r["index"], r["embedding"]
        load = "n/a (not recorded)"
        if "load_average_at_start" in r:
            load = f"{r['load_average_at_start']} / {r.get('load_average_at_end', '?')}"
        lines.append(
            f"| {label} | {r['date']} | {r['commit']} | {r['machine']} | "
            f"{ix['documents_ready']}/{ix['pages_added']} | {ix['passages']} | "
            f"{ix['share_under_50_chars']:.1%} | {ix['share_duplicated']:.1%} | "
            f"{len(ix.get('evidence_unreachable', []))} | "
            f"{em['passages_per_second']} | {ix['ingest_seconds']} | {em['embed_seconds']} | "
            f"{r['total_index_seconds']} | {load} |"
        )
    first = runs[labels[0]]
    lines += [
        "",
        f"## Recall@5 ({first['questions']['terms']} terms + {first['questions']['plain']} "
        "plain questions)",
        "",
        "hit@5: a top-5 passage is from the gold page and contains the evidence phrase. "
        "page@5: a top-5 passage is from the gold page.",
        "",
        "| search | run | hit@5 terms | hit@5 plain | hit@5 all | page@5 terms | page@5 plain "
        "| p50 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    mode_names: list[str] = []
    for label in labels:
        mode_names += [m for m in runs[label]["recall"] if m not in mode_names]
    for mode in mode_names:
        for label in labels:
            row = runs[label]["recall"].get(mode)
            if row is None:
                continue
            name = mode
            if mode == SHIPPED:
                shipped = runs[label]["shipped"]
                name += f" ({shipped.get('fusion', 'rrf')}, kw {shipped['keyword_weight']}, "
                name += f"meaning {shipped['dense_weight']})"
            if "error" in row:
                lines.append(f"| {name} | {label} | {row['error']} | | | | | |")
                continue
            lines.append(
                f"| {name} | {label} | {row['hit@5_terms']} | {row['hit@5_plain']} | "
                f"{row['hit@5_all']} | {row['page@5_terms']} | {row['page@5_plain']} | "
                f"{row['search_ms_p50']} |"
            )
    lines += ["", "## Misses of the shipped fusion", ""]
    for label in labels:
        row = runs[label]["recall"].get(SHIPPED, {})
        lines.append(f"- {label}: {', '.join(row.get('misses', [])) or 'none'}")
    lines += ["", "## Most repeated passages", ""]
    for label in labels:
        repeated = runs[label]["index"]["most_repeated"]
        shown = "; ".join(f"{m['times']}x {m['text']!r}" for m in repeated[:3])
        lines.append(f"- {label}: {shown or 'none'}")
    lines.append("")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval_html.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="before", help="name of this run (before, after…)")
    parser.add_argument("--workers", type=int, default=1, help="indexing worker processes")
    parser.add_argument("--limit-pages", type=int, default=0, help="index only the gold pages "
                        "and the first N others (a quick try; not for results)")  # fmt: skip
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json")
    args = parser.parse_args()
    json_path = RESULTS / "retrieval_html.json"
    data: dict[str, Any] = (
        json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {"runs": {}}
    )
    if args.report_only:
        write_report(data)
        return
    if not DOCS.is_dir():
        raise SystemExit(f"{DOCS} is missing: sudo apt-get install -y {CORPUS['package']}")
    pages = subset_pages()
    questions = load_questions()
    wrong = problems(questions, pages)
    if wrong:
        raise SystemExit("questions fail bench/check_html_questions.py:\n" + "\n".join(wrong))
    if args.limit_pages:
        gold = {q["gold"] for q in questions}
        pages = sorted(gold | set([p for p in pages if p not in gold][: args.limit_pages]))
    say(f"{len(pages)} pages, {len(questions)} questions, label {args.label!r}")

    run: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": f"{cpu_info().model}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "pages_in_subset": len(pages),
        "questions": {k: sum(1 for q in questions if q["kind"] == k) for k in KINDS},
        "shipped": {
            "keyword_weight": getattr(search, "KEYWORD_WEIGHT", "?"),
            "dense_weight": getattr(search, "DENSE_WEIGHT", "?"),
            "rrf_k": getattr(search, "RRF_K", "?"),
            "fusion": getattr(search, "FUSION", "rrf"),
            "context_weight": getattr(search, "CONTEXT_WEIGHT", "?"),
        },
    }
    with tempfile.TemporaryDirectory(prefix="hearth-bench-html-") as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        try:
            run["index"] = build_index(store, pages, args.workers)
            ix = run["index"]
            ix["evidence_unreachable"] = unreachable(store, questions, ix["collection_id"])
            say(
                f"{ix['passages']} passages, {ix['share_under_50_chars']:.1%} under 50 chars, "
                f"{ix['share_duplicated']:.1%} duplicated, {ix['ingest_seconds']} s; evidence "
                f"in no passage of its gold page: {ix['evidence_unreachable'] or 'none'}"
            )
            embedder = embedder_for(store, minilm_path())  # as the app runs it
            try:
                run["embedding"] = embed(store, embedder, ix["collection_id"])
                run["total_index_seconds"] = round(
                    ix["ingest_seconds"] + run["embedding"]["embed_seconds"], 1
                )
                say(
                    f"embedded at {run['embedding']['passages_per_second']} passages/s; "
                    f"index total {run['total_index_seconds']} s"
                )
                run["recall"] = {}
                for name, make in modes(store, embedder):
                    try:
                        row = evaluate(make(), questions, ix["collection_id"])
                    except TypeError as exc:  # a Searcher whose options changed
                        row = {"error": f"not measured: {exc}"}
                    run["recall"][name] = row
                    if "error" not in row:
                        say(
                            f"{name}: hit@5 terms {row['hit@5_terms']} plain "
                            f"{row['hit@5_plain']} (page@5 {row['page@5_terms']} / "
                            f"{row['page@5_plain']})"
                        )
            finally:
                embedder.close()
        finally:
            store.close()
    run["load_average_at_end"] = round(os.getloadavg()[0], 2)
    if args.limit_pages:  # a quick try of a part of the corpus: not a result
        print(json.dumps({k: v for k, v in run.items() if k != "recall"}, indent=1))
        return
    data["runs"][args.label] = run
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    write_report(data)
    print((RESULTS / "retrieval_html.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
