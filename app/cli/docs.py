"""The command line's document side: `hearth docs add|list|search|remove|index|collections`."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.cli.parser import DEFAULT_COLLECTION
from app.context import Context
from app.documents.chunking import section_count
from app.documents.embeddings import (
    Embedder,
    EmbedMeter,
    embed_documents,
    embedder_for,
    embedding_key,
    embedding_model_path,
    needs_vectors,
    vector_state,
)
from app.documents.grounding import source_label
from app.documents.ingest import AddResult, Indexer, add_paths, pending_documents
from app.documents.rerank import open_reranker
from app.documents.search import Searcher
from app.errors import HearthError, NotFoundError
from app.hardware import physical_cores
from app.store import Collection, Document, SourceRecord, Store
from app.terminal import print_json, table


def open_embedder(store: Store) -> Embedder | None:
    """The user's embedding model, ready to load, or None for keyword search only."""
    path = embedding_model_path(store)
    return embedder_for(store, path) if path is not None else None


def index_documents(
    store: Store, documents: list[Document], *, quiet: bool = False, embedder: Embedder | None
) -> list[Document]:
    """Index (and embed, with an embedding model) these documents, reporting each file on
    stderr; returns them as they ended."""
    ids = [d.id for d in documents]
    workers = max(1, min(2, physical_cores(), len(ids)))
    for progress in Indexer(store).run(ids, workers=workers):
        if quiet:
            continue
        if progress.status == "failed":
            print(f"  failed: {progress.error}", file=sys.stderr)
        elif progress.status == "ready":
            print(f"  indexed {progress.name}: {progress.passages} passages", file=sys.stderr)
    ended = [store.get_document(i) for i in ids]
    if embedder is not None:
        ready = [d for d in ended if d.status == "ready"]
        embed_with_progress(store, embedder, ready, quiet=quiet)
        ended = [store.get_document(i) for i in ids]
    return ended


def embed_with_progress(
    store: Store, embedder: Embedder, documents: list[Document], *, quiet: bool = False
) -> int:
    """Give these documents' passages vectors, saying on stderr how far it has got
    (passages done, the rate, the time left) about once a second; returns how many
    documents were given vectors."""
    stale = [d for d in documents if d.status == "ready" and needs_vectors(store, d, embedder.key)]
    total = sum(store.chunk_count([d.id]) for d in stale)
    if not stale or total == 0:
        return 0
    meter = EmbedMeter(total)
    last = time.monotonic()
    finished = 0
    latest: dict[int, int] = {}  # document id -> its passages with vectors
    tty = sys.stderr.isatty()
    for step in embed_documents(store, embedder, stale):
        latest[step.document_id] = step.done
        meter.advance(sum(latest.values()))
        finished += step.done == step.total
        now = time.monotonic()
        if quiet or (now - last < 1.0 and meter.done < total):
            continue
        last = now
        line = f"  embedding: {meter.text()}"
        print(("\r" + line.ljust(60)) if tty else line, end="" if tty else "\n",
              file=sys.stderr, flush=True)  # fmt: skip
    if tty and not quiet:
        print(file=sys.stderr)
    return finished


def require_collection(store: Store, name: str) -> Collection:
    collection = store.find_collection(name)
    if collection is None:
        raise NotFoundError(f"There is no collection called {name!r}")
    return collection


def _owner(ctx: Context, args: argparse.Namespace) -> dict[str, int]:
    if getattr(args, "chat", None) is not None:
        return {"chat_id": ctx.store.get_chat(args.chat).id}
    name = getattr(args, "collection", None) or DEFAULT_COLLECTION
    return {"collection_id": ctx.store.create_collection(name).id}


def report_added(result: AddResult) -> None:
    for refused in result.refused:
        print(f"  refused: {refused.message}", file=sys.stderr)
    for document in result.unchanged:
        print(f"  unchanged: {document.name} (already indexed)", file=sys.stderr)


def cmd_docs_add(ctx: Context, args: argparse.Namespace) -> int:
    result = add_paths(ctx.store, [Path(p) for p in args.paths], **_owner(ctx, args))
    report_added(result)
    ended = index_documents(ctx.store, result.added, embedder=open_embedder(ctx.store))
    failed = [d for d in ended if d.status == "failed"]
    ready = len(ended) - len(failed)
    print(
        f"{ready} added, {len(result.unchanged)} unchanged, "
        f"{len(failed) + len(result.refused)} not added"
    )
    return 1 if failed or result.refused else 0


def cmd_docs_index(ctx: Context, args: argparse.Namespace) -> int:
    """Finish interrupted indexing, and give every passage a vector from the embedding
    model (documents indexed before one was chosen get theirs now)."""
    embedder = open_embedder(ctx.store)
    pending = pending_documents(ctx.store)
    ended = index_documents(ctx.store, pending, embedder=None) if pending else []
    failed = [d for d in ended if d.status == "failed"]
    if pending:
        print(f"{len(ended) - len(failed)} indexed, {len(failed)} failed")
    if embedder is not None:
        embedded = embed_with_progress(ctx.store, embedder, ctx.store.list_documents())
        print(f"{embedded} documents given vectors by {embedder.name}")
    elif not pending:
        print("Nothing left to index.")
    return 1 if failed else 0


def _where(ctx: Context, document: Document) -> str:
    if document.chat_id is not None:
        return f"chat {document.chat_id}"
    if document.collection_id is not None:
        return ctx.store.get_collection(document.collection_id).name
    return ""


def _length(document: Document, sections: int) -> str:
    """A PDF's pages; for files without pages (HTML, Markdown, text) their sections."""
    if document.pages:
        return f"{document.pages} page{'s' if document.pages != 1 else ''}"
    if sections:
        return f"{sections} section{'s' if sections != 1 else ''}"
    return ""


def cmd_docs_list(ctx: Context, args: argparse.Namespace) -> int:
    documents = _scope(ctx, args)
    if documents is None:
        documents = ctx.store.list_documents()
    model = embedding_model_path(ctx.store)
    key = embedding_key(model) if model is not None else None
    records = []
    for d in documents:
        state = vector_state(ctx.store, d, key) if key is not None else None
        records.append(
            {
                **asdict(d),
                "where": _where(ctx, d),
                "passages": ctx.store.chunk_count([d.id]),
                "sections": section_count(ctx.store.chunk_headings(d.id)),
                "with_vectors": state.with_vectors if state else 0,
                "vectors": state.label() if state else "none (no embedding model)",
            }
        )
    if args.json:
        print_json(records)
        return 0
    if not documents:
        print("No documents yet. Add some with: hearth docs add FILE_OR_FOLDER")
        return 0
    rows = [
        [
            str(r["id"]),
            r["name"],
            r["status"],
            _length(d, r["sections"]),
            str(r["passages"]),
            r["vectors"] if key is not None else "-",
            r["where"],
            r["error"] or "",
        ]
        for d, r in zip(documents, records, strict=True)
    ]
    print(table(rows, ["ID", "NAME", "STATUS", "LENGTH", "PASSAGES", "VECTORS", "IN", "PROBLEM"]))
    if key is None:
        print("No embedding model: documents are searched by keywords only.")
    elif any(r["vectors"] != "all" and r["passages"] for r in records):
        print("Some passages lack vectors from the embedding model: run `hearth docs index`.")
    return 0


def _scope(ctx: Context, args: argparse.Namespace) -> list[Document] | None:
    if args.chat is not None:
        return ctx.store.chat_documents(args.chat)
    if args.collection:
        collection = require_collection(ctx.store, args.collection)
        return ctx.store.list_documents(collection_id=collection.id)
    return None


def cmd_docs_search(ctx: Context, args: argparse.Namespace) -> int:
    embedder = None if args.keywords_only else open_embedder(ctx.store)
    reranker = None if args.keywords_only else open_reranker(ctx.store)
    try:
        limit = args.limit or int(ctx.store.get_setting("document_passages"))
        searcher = Searcher(ctx.store, embedder, reranker=reranker)
        passages = searcher.search(args.query, _scope(ctx, args), limit=limit)
        if searcher.reranker_problem:
            print(searcher.reranker_problem, file=sys.stderr)
    finally:
        for model in (embedder, reranker):
            if model is not None:
                model.close()
    records: list[dict[str, Any]] = [
        {
            "rank": rank,
            "score": p.score,
            "document_id": p.document.id,
            "name": p.document.name,
            "path": p.document.path,
            "page": p.chunk.page,
            "heading": p.chunk.heading,
            "start_char": p.chunk.start_char,
            "end_char": p.chunk.end_char,
            "text": p.chunk.text,
            "keyword_rank": p.keyword_rank,
            "dense_rank": p.dense_rank,
            "fused_rank": p.fused_rank,
        }
        for rank, p in enumerate(passages, 1)
    ]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("No passage matches.")
        return 0
    for r in records:
        label = source_label(
            SourceRecord(0, r["name"], r["path"], r["text"], r["page"], r["heading"])
        )
        text = " ".join(r["text"].split())
        print(f"[{r['rank']}] {label}\n    {text[:300]}{'…' if len(text) > 300 else ''}\n")
    return 0


def cmd_docs_remove(ctx: Context, args: argparse.Namespace) -> int:
    for document_id in args.ids:
        document = ctx.store.get_document(document_id)
        ctx.store.delete_document(document_id)
        print(f"Removed {document.name} (the file itself is untouched)")
    return 0


def cmd_docs_collections(ctx: Context, args: argparse.Namespace) -> int:
    collections = ctx.store.list_collections()
    records = [
        {**asdict(c), "documents": len(ctx.store.list_documents(collection_id=c.id))}
        for c in collections
    ]
    if args.json:
        print_json(records)
    elif not records:
        print("No collections yet: `hearth docs add PATH --collection NAME` makes one.")
    else:
        print(table([[str(r["id"]), r["name"], str(r["documents"])] for r in records],
                    ["ID", "NAME", "DOCUMENTS"]))  # fmt: skip
    return 0


def require_ready(documents: list[Document], added: AddResult) -> None:
    """Refuse a chat about documents none of which could be read."""
    if not any(d.status == "ready" for d in documents):
        problems = [r.message for r in added.refused]
        problems += [d.error or d.name for d in documents if d.status == "failed"]
        raise HearthError("None of the documents could be read: " + "; ".join(problems))
