"""Documents: ingestion throughput, search latency and retrieval quality, in one run.

- Ingestion: the corpus in bench/corpus/docs (Markdown) is written as PDF pages (a few
  hundred in all) and indexed by Hearth's Indexer with 1 and with 2 worker processes
  into a fresh database each time; the reference in the same run is pypdf alone
  extracting the text of the same files (no chunking, no database).
- Search latency: synthetic passages (10k and 100k) made from the corpus vocabulary;
  the corpus questions are searched with Hearth's Searcher (keyword: FTS5 BM25, words
  ORed, passages fetched), against a bare FTS5 MATCH ... ORDER BY rank LIMIT on the same
  database as reference. Target: p95 under 50 ms for keyword search. The vector product
  of search by meaning is timed on random unit vectors of MiniLM's size.
- Quality: recall@5 of the questions in bench/corpus/questions.json (written in the
  documents' terms and in users' own words): a question counts when one of the first
  five passages is from the right document and holds the answer phrase. Keyword search
  alone (target >= 0.8), search by meaning with all-MiniLM-L6-v2, and their fusion with
  several weights (the fusion Hearth ships is chosen from these numbers).

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_documents.py [--copies 3] [--rounds 3]
Writes bench/results/documents.json and bench/results/documents.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app import __version__  # noqa: E402
from app.documents import search  # noqa: E402
from app.documents.embeddings import embed_documents, embedder_for  # noqa: E402
from app.documents.ingest import Indexer, add_paths  # noqa: E402
from app.documents.search import Searcher  # noqa: E402
from app.hardware import cpu_info  # noqa: E402
from app.store import Store  # noqa: E402
from tests.support.documents import make_pdf  # noqa: E402
from tests.support.minilm import minilm_path  # noqa: E402

CORPUS = ROOT / "bench" / "corpus"
RESULTS = ROOT / "bench" / "results"
PAGE_CHARS = 2400  # about a printed page of prose


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(pct(values, 0.5), 2), "p95": round(pct(values, 0.95), 2)}


def markdown_files() -> list[Path]:
    return sorted((CORPUS / "docs").glob("*.md"))


def paginate(text: str) -> list[str]:
    pages: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + len(paragraph) > PAGE_CHARS:
            pages.append(current)
            current = ""
        current += ("\n\n" if current else "") + paragraph.replace("#", "").strip()
    if current:
        pages.append(current)
    return pages


# ------------------------------------------------------------------ ingestion
def write_pdfs(folder: Path, copies: int) -> tuple[list[Path], int]:
    paths: list[Path] = []
    pages = 0
    for copy in range(copies):
        for md in markdown_files():
            page_texts = paginate(md.read_text(encoding="utf-8"))
            paths.append(make_pdf(folder / f"{md.stem}-{copy}.pdf", page_texts))
            pages += len(page_texts)
    return paths, pages


def ingest_once(paths: list[Path], workers: int, folder: Path) -> float:
    db = folder / f"ingest-{workers}-{time.monotonic_ns()}.db"
    store = Store.open(db)
    try:
        chat = store.create_chat("bench")
        start = time.perf_counter()
        add_paths(store, paths, chat_id=chat.id)
        events = list(Indexer(store).run(workers=workers))
        elapsed = time.perf_counter() - start
        failed = [e for e in events if e.status == "failed"]
        assert not failed, failed
        return elapsed
    finally:
        store.close()
        db.unlink()


def pypdf_once(paths: list[Path]) -> float:
    from pypdf import PdfReader

    start = time.perf_counter()
    for path in paths:
        for page in PdfReader(path).pages:
            page.extract_text()
    return time.perf_counter() - start


def bench_ingestion(copies: int, rounds: int, folder: Path) -> dict[str, Any]:
    paths, pages = write_pdfs(folder, copies)
    times: dict[str, list[float]] = {"hearth_1_worker": [], "hearth_2_workers": [], "pypdf": []}
    for _ in range(rounds):
        times["hearth_1_worker"].append(ingest_once(paths, 1, folder))
        times["hearth_2_workers"].append(ingest_once(paths, 2, folder))
        times["pypdf"].append(pypdf_once(paths))
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "files": len(paths),
        "pages": pages,
        "seconds": times,
        "pages_per_second": {k: round(pages / v, 1) for k, v in medians.items()},
    }


# ------------------------------------------------------------------- latency
def synthetic_store(folder: Path, chunks: int, vocabulary: list[str]) -> Store:
    store = Store.open(folder / f"search-{chunks}.db")
    chat = store.create_chat("bench")
    rng = random.Random(chunks)
    per_document = 1000
    for start in range(0, chunks, per_document):
        document = store.add_document(
            f"/bench/doc{start}.pdf", f"doc{start}.pdf", "pdf", chat_id=chat.id, status="ready"
        )
        batch = []
        for ordinal in range(per_document):
            words = rng.choices(vocabulary, k=170)  # ~1000 characters
            batch.append({"ordinal": ordinal, "text": " ".join(words), "page": ordinal // 3 + 1})
        store.add_chunks(document.id, batch, progress=per_document)
    return store


def bench_latency(sizes: list[int], questions: list[str], folder: Path) -> dict[str, Any]:
    text = " ".join(p.read_text(encoding="utf-8") for p in markdown_files())
    vocabulary = re.findall(r"[A-Za-z]{2,}", text)
    out: dict[str, Any] = {}
    for size in sizes:
        store = synthetic_store(folder, size, vocabulary)
        documents = store.list_documents()
        searcher = Searcher(store)
        for q in questions[:5]:  # warm the page cache
            searcher.search(q, documents)
        hearth_ms: list[float] = []
        bare_ms: list[float] = []
        for q in questions * 2:
            start = time.perf_counter()
            searcher.search(q, documents, limit=6)
            hearth_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            match = " ".join(f'"{w}"' for w in re.findall(r"\w+", q.lower()))
            store.db.execute(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT 6",
                [match],
            ).fetchall()
            bare_ms.append((time.perf_counter() - start) * 1000)
        rng = np.random.default_rng(size)
        matrix = rng.standard_normal((size, 384)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        dense_ms: list[float] = []
        for _ in range(100):
            query = matrix[rng.integers(size)]
            start = time.perf_counter()
            similarity = matrix @ query
            top = np.argpartition(-similarity, 49)[:50]
            top[np.argsort(-similarity[top])]
            dense_ms.append((time.perf_counter() - start) * 1000)
        out[str(size)] = {
            "queries": len(hearth_ms),
            "keyword_ms": summary(hearth_ms),
            "bare_fts5_and_ms": summary(bare_ms),
            "vector_product_ms": summary(dense_ms),
        }
        store.close()
    return out


# ------------------------------------------------------------------- quality
FUSIONS: list[tuple[str, float, float]] = [
    ("keyword only, text alone", 1.0, 0.0),
    ("keyword only", 1.0, 0.0),
    ("keyword only, common words pruned", 1.0, 0.0),
    ("meaning only", 0.0, 1.0),
    ("fused 1:1", 1.0, 1.0),
    ("fused 0.5:1", 0.5, 1.0),
    ("fused 1:0.5", 1.0, 0.5),
    ("fused 0.3:1", 0.3, 1.0),
    ("fused 0.2:1", 0.2, 1.0),
    ("fused 0.1:1", 0.1, 1.0),
    ("convex 0.5:0.5", 0.5, 0.5),
    ("convex 0.3:0.7", 0.3, 0.7),
    ("convex 0.2:0.8", 0.2, 0.8),
    ("convex 0.4:0.6", 0.4, 0.6),
]


def bench_quality(folder: Path) -> dict[str, Any]:
    questions = json.loads((CORPUS / "questions.json").read_text(encoding="utf-8"))
    store = Store.open(folder / "quality.db")
    chat = store.create_chat("bench")
    add_paths(store, markdown_files(), chat_id=chat.id)
    list(Indexer(store).run())
    documents = store.list_documents()
    chunks = store.chunk_count([d.id for d in documents])

    embedder = embedder_for(store, minilm_path())  # as the app runs it
    embedder.embed_query("warm up")  # loads it (and makes its working copy) before timing
    start = time.perf_counter()
    list(embed_documents(store, embedder, documents))
    embed_seconds = time.perf_counter() - start
    documents = store.list_documents()

    results: dict[str, Any] = {}
    misses: dict[str, list[str]] = {}
    for label, kw, dense in FUSIONS:
        searcher = Searcher(store, embedder if dense > 0 else None, keyword_weight=kw,
                            dense_weight=dense,
                            fusion="convex" if label.startswith("convex") else "rrf")  # fmt: skip
        if label.endswith("text alone"):  # file names and headings not searched
            searcher.context_weight = 0.0
        if label.endswith("pruned"):  # as on a large index, whatever this one's size
            searcher.prune_from = 0
        hits: dict[str, list[int]] = {"terms": [], "plain": []}
        misses[label] = []
        latencies: list[float] = []
        for q in questions:
            start = time.perf_counter()
            passages = searcher.search(q["question"], documents, limit=5)
            latencies.append((time.perf_counter() - start) * 1000)
            found = any(
                p.document.name == q["document"] and q["answer_contains"] in p.chunk.text
                for p in passages
            )
            hits[q["style"]].append(int(found))
            if not found:
                misses[label].append(q["id"])
        everything = hits["terms"] + hits["plain"]
        results[label] = {
            "keyword_weight": kw,
            "dense_weight": dense,
            "recall_at_5": round(sum(everything) / len(everything), 3),
            "recall_at_5_terms": round(sum(hits["terms"]) / len(hits["terms"]), 3),
            "recall_at_5_plain": round(sum(hits["plain"]) / len(hits["plain"]), 3),
            "search_ms_p95": round(pct(latencies, 0.95), 2),
        }
    embedder.close()
    store.close()
    return {
        "documents": len(documents),
        "passages": chunks,
        "questions": len(questions),
        "questions_by_style": {
            s: sum(1 for q in questions if q["style"] == s) for s in ("terms", "plain")
        },
        "embedding_seconds": round(embed_seconds, 1),
        "embedding_model": embedder.name,
        "recall": results,
        "misses": misses,
    }


# ------------------------------------------------------------------- report
def write_report(data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "documents.json").write_text(json.dumps(data, indent=2) + "\n")
    ing = data["ingestion"]
    lines = [
        "# Documents benchmark",
        "",
        f"{data['date']} · Hearth {data['hearth']} · {data['cpu']} · {data['cores']} cores · "
        f"Python {data['python']}",
        "",
        f"## Ingestion ({ing['files']} PDFs, {ing['pages']} pages, median of {data['rounds']})",
        "",
        "| | pages/s |",
        "|---|---|",
    ]
    names = {
        "hearth_1_worker": "Hearth, 1 worker (extract, chunk, store, FTS5 index)",
        "hearth_2_workers": "Hearth, 2 workers (both cores)",
        "pypdf": "pypdf text extraction alone (reference, 1 core)",
    }
    lines += [f"| {names[k]} | {v} |" for k, v in ing["pages_per_second"].items()]
    lines += [
        "",
        "## Search latency (ms; the corpus questions, twice each)",
        "",
        "| passages | keyword p50 | keyword p95 | bare FTS5 AND p95 (reference) | "
        "vector product p95 |",
        "|---|---|---|---|---|",
    ]
    for size, row in data["latency"].items():
        lines.append(
            f"| {int(size):,} | {row['keyword_ms']['p50']} | {row['keyword_ms']['p95']} | "
            f"{row['bare_fts5_and_ms']['p95']} | {row['vector_product_ms']['p95']} |"
        )
    quality = data["quality"]
    lines += [
        "",
        f"## Retrieval quality ({quality['questions']} questions: "
        f"{quality['questions_by_style']['terms']} in the documents' terms, "
        f"{quality['questions_by_style']['plain']} in users' own words; "
        f"{quality['documents']} documents, {quality['passages']} passages)",
        "",
        "| search | recall@5 | terms | plain words | p95 ms |",
        "|---|---|---|---|---|",
    ]
    for label, row in quality["recall"].items():
        lines.append(
            f"| {label} | {row['recall_at_5']} | {row['recall_at_5_terms']} | "
            f"{row['recall_at_5_plain']} | {row['search_ms_p95']} |"
        )
    lines += [
        "",
        f"Hearth ships keyword weight {search.KEYWORD_WEIGHT} and meaning weight "
        f"{search.DENSE_WEIGHT} ("
        + (
            "convex: the two scores scaled to 0..1 and mixed"
            if search.FUSION == "convex"
            else f"reciprocal rank fusion, k = {search.RRF_K}"
        )
        + "); file names and "
        f"headings count {search.CONTEXT_WEIGHT}x as much as passage text in BM25 "
        "('text alone' leaves them out). From "
        f"{search.PRUNE_FROM_PASSAGES:,} passages on, question words found in more than "
        f"{search.COMMON_SHARE:.0%} of passages are left out of the keyword query ('common "
        "words pruned' applies that to this small corpus too).",
        "",
        f"Embedding the corpus with {quality['embedding_model']}: "
        f"{quality['embedding_seconds']} s.",
        "",
    ]
    (RESULTS / "documents.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="copies of the corpus as PDFs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json")
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads((RESULTS / "documents.json").read_text()))
        return
    questions = [
        q["question"] for q in json.loads((CORPUS / "questions.json").read_text(encoding="utf-8"))
    ]
    cpu = cpu_info()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-docs-") as tmp:
        folder = Path(tmp)
        data: dict[str, Any] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "hearth": __version__,
            "cpu": cpu.model,
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "rounds": args.rounds,
        }
        # Ingestion and keyword search first: once llama.cpp has run in this process
        # (the quality part embeds with it), its OpenMP threads take CPU from the
        # indexing worker processes and the timings no longer describe Hearth alone.
        print("ingestion…", file=sys.stderr)
        data["ingestion"] = bench_ingestion(args.copies, args.rounds, folder)
        print("latency…", file=sys.stderr)
        data["latency"] = bench_latency(args.sizes, questions, folder)
        print("quality…", file=sys.stderr)
        data["quality"] = bench_quality(folder)
    write_report(data)
    print((RESULTS / "documents.md").read_text())


if __name__ == "__main__":
    main()
