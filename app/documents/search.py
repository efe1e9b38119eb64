"""Finding the passages that answer a question: keyword search (SQLite FTS5, BM25) always,
fused with search by meaning (embeddings) when the user has an embedding model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.store import Chunk, Document, Store

if TYPE_CHECKING:  # the caller brings the embedder; searching by keywords needs no llama.cpp
    from app.documents.embeddings import Embedder

# Words that say nothing about where an answer is. FTS5 ANDs terms by default, which finds
# nothing for most questions asked in a user's own words; we OR the meaningful ones and let
# BM25 rank the passages that share the most (and rarest) of them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves tell know please need want get got also may might must shall let lets im ive
    whats hows thing things something anything someone""".split()  # noqa: SIM905
)

_WORD = re.compile(r"\w+", re.UNICODE)

# Reciprocal rank fusion: score = sum(weight / (K + rank)). Weights chosen by
# bench/bench_documents.py (see bench/results/documents.md).
RRF_K = 60
KEYWORD_WEIGHT = 0.5
# BM25 weight of a passage's file name and heading path against its text (1.0).
CONTEXT_WEIGHT = 1.0
DENSE_WEIGHT = 1.0
_CANDIDATES = 50


# On a large index, words found in more than this share of all passages are left out of
# the query: they add little to BM25 (low IDF) but make FTS5 score most of the index
# (bench: p95 123 ms -> under 50 ms at 100k passages).
COMMON_SHARE = 0.1
PRUNE_FROM_PASSAGES = 5_000


def keyword_terms(text: str) -> list[str]:
    """A question's meaningful words, each quoted as an FTS5 string."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS or word in words or (len(word) < 2 and not word.isdigit()):
            continue
        words.append(word)
    if not words:  # a question of only stop words: search for them all the same
        words = list(dict.fromkeys(_WORD.findall(text.lower())))
    return ['"' + w.replace('"', '""') + '"' for w in words]


def keyword_query(text: str) -> str:
    """An FTS5 expression for a question: its meaningful words, quoted, ORed."""
    return " OR ".join(keyword_terms(text))


@dataclass(frozen=True)
class Passage:
    """A passage found for a question, with where it comes from and how it ranked."""

    chunk: Chunk
    document: Document
    score: float
    keyword_rank: int | None = None  # 1-based rank in keyword search, None if not found
    dense_rank: int | None = None  # 1-based rank in search by meaning


class _Vectors:
    """Embeddings of a set of documents as one matrix, kept while the set is unchanged."""

    def __init__(self) -> None:
        self.key: tuple[object, ...] | None = None
        self.ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self.matrix: np.ndarray = np.zeros((0, 0), dtype=np.float32)

    def load(self, store: Store, documents: Sequence[Document], model: str) -> None:
        ids = [d.id for d in documents if d.embedding_model == model]
        key = (model, tuple(ids), tuple(d.updated_at for d in documents if d.id in ids))
        if key == self.key:
            return
        rows = store.chunk_embeddings(ids)
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self.matrix = (
            np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )
        self.key = key


class Searcher:
    """Searches the passages of given documents; with an Embedder, by meaning too."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None = None,
        *,
        keyword_weight: float = KEYWORD_WEIGHT,
        dense_weight: float = DENSE_WEIGHT,
        context_weight: float = CONTEXT_WEIGHT,
        prune_from: int = PRUNE_FROM_PASSAGES,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.keyword_weight = keyword_weight
        self.dense_weight = dense_weight
        self.context_weight = context_weight
        self.prune_from = prune_from
        self._vectors = _Vectors()

    def search(
        self, question: str, documents: Sequence[Document] | None = None, *, limit: int = 6
    ) -> list[Passage]:
        """The best ``limit`` passages for ``question`` among ``documents`` (default: all
        searchable ones), best first."""
        if documents is None:
            documents = self.store.list_documents(statuses=("ready", "indexing"))
        documents = [d for d in documents if d.status in ("ready", "indexing")]
        if not documents or not question.strip():
            return []
        by_id = {d.id: d for d in documents}
        keyword = self.store.keyword_chunks(
            self._match(question), list(by_id), max(limit, _CANDIDATES), self.context_weight
        )
        keyword_ranks = {chunk_id: rank for rank, (chunk_id, _) in enumerate(keyword, 1)}
        dense_ranks = self._dense(question, documents)

        scores: dict[int, float] = {}
        for chunk_id, rank in keyword_ranks.items():
            scores[chunk_id] = self.keyword_weight / (RRF_K + rank)
        for chunk_id, rank in dense_ranks.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + self.dense_weight / (RRF_K + rank)
        if not dense_ranks:  # keyword only: report BM25's own score (higher is better)
            scores = {chunk_id: -bm25 for chunk_id, bm25 in keyword}
        best = sorted(scores, key=lambda c: (-scores[c], c))[:limit]
        chunks = {c.id: c for c in self.store.get_chunks(best)}
        return [
            Passage(
                chunk=chunks[c],
                document=by_id[chunks[c].document_id],
                score=round(scores[c], 6),
                keyword_rank=keyword_ranks.get(c),
                dense_rank=dense_ranks.get(c),
            )
            for c in best
            if c in chunks
        ]

    def _match(self, question: str) -> str:
        terms = keyword_terms(question)
        if len(terms) < 2:
            return " OR ".join(terms)
        total, counts = self.store.passage_frequencies(terms)
        if total < self.prune_from:
            return " OR ".join(terms)
        kept = [t for t, n in zip(terms, counts, strict=True) if n <= COMMON_SHARE * total]
        if not kept:  # every word is common: keep the rarest
            kept = [min(zip(counts, terms, strict=True))[1]]
        return " OR ".join(kept)

    def _dense(self, question: str, documents: Sequence[Document]) -> dict[int, int]:
        """Chunk id -> 1-based rank by cosine similarity to the question."""
        if self.embedder is None or self.dense_weight <= 0:
            return {}
        self._vectors.load(self.store, documents, self.embedder.name)
        if not len(self._vectors.ids):
            return {}
        query = self.embedder.embed_query(question)
        similarity = self._vectors.matrix @ query
        count = min(_CANDIDATES, len(similarity))
        top = np.argpartition(-similarity, count - 1)[:count]
        top = top[np.argsort(-similarity[top], kind="stable")]
        return {int(self._vectors.ids[i]): rank for rank, i in enumerate(top, 1)}
