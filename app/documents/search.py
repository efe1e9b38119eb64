"""Finding the passages that answer a question: keyword search (SQLite FTS5, BM25) always,
fused with search by meaning (embeddings) when the user has an embedding model."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from app.documents.ingest import passage_context
from app.errors import HearthError
from app.store import Chunk, Document, Store

if TYPE_CHECKING:  # the caller brings the models; searching by keywords needs no llama.cpp
    from app.documents.embeddings import Embedder
    from app.documents.rerank import Reranker

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

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)

# How keyword and meaning results are combined. "convex": the two scores, each scaled to
# 0..1 over the candidates, mixed by the weights, so a passage only keywords found can
# still lead when it matches well. "rrf", reciprocal rank fusion: score =
# sum(weight / (K + rank)), where such a passage can never outrank the meaning side's
# top 50. Convex 0.2:0.8 found the most answers over both benchmark corpora together
# (bench/results/documents.md, bench/results/retrieval_html.md), keyword questions at 1.0.
Fusion = Literal["rrf", "convex"]
FUSION: Fusion = "convex"
RRF_K = 60
KEYWORD_WEIGHT = 0.2
# BM25 weight of a passage's file name and heading path against its text (1.0).
CONTEXT_WEIGHT = 1.0
DENSE_WEIGHT = 0.8
_CANDIDATES = 50
# With a reranker, this many of the best fused passages are read again with the question.
RERANK_CANDIDATES = 20


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
    fused_rank: int | None = None  # 1-based rank before the reranker reordered them


class _Vectors:
    """Embeddings of a set of documents as one matrix, kept while the set is unchanged.

    A passage has one vector per window it was embedded in (its bytes hold them one after
    another); the matrix holds every window, a passage's rows together."""

    def __init__(self) -> None:
        self.key: tuple[object, ...] | None = None
        self.ids: np.ndarray = np.zeros(0, dtype=np.int64)  # one per passage
        self.starts: np.ndarray = np.zeros(0, dtype=np.int64)  # each passage's first row
        self.matrix: np.ndarray = np.zeros((0, 0), dtype=np.float32)
        self.row: dict[int, int] = {}  # chunk id -> its index in ids

    def load(self, store: Store, documents: Sequence[Document], model: str, width: int) -> None:
        ids = [d.id for d in documents if d.embedding_model == model]
        key = (model, width, tuple(ids), tuple(d.updated_at for d in documents if d.id in ids))
        if key == self.key:
            return
        chunk_ids: list[int] = []
        blocks: list[np.ndarray] = []
        for chunk_id, data in store.chunk_embeddings(ids):
            if not data or len(data) % (4 * width):
                continue  # made by another model: its document is embedded again
            chunk_ids.append(chunk_id)
            blocks.append(np.frombuffer(data, dtype=np.float32).reshape(-1, width))
        self.ids = np.asarray(chunk_ids, dtype=np.int64)
        counts = np.asarray([len(b) for b in blocks], dtype=np.int64)
        self.starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self.matrix = np.vstack(blocks) if blocks else np.zeros((0, width), dtype=np.float32)
        self.row = {chunk_id: row for row, chunk_id in enumerate(chunk_ids)}
        self.key = key

    def similarity(self, query: np.ndarray) -> np.ndarray:
        """Each passage's cosine to the question: that of its best window."""
        return np.maximum.reduceat(self.matrix @ query, self.starts)


class _Similarity:
    """A question's cosine similarity to every passage, looked up by chunk id."""

    def __init__(self, row: dict[int, int], values: np.ndarray) -> None:
        self._row, self._values = row, values

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._row

    def __getitem__(self, chunk_id: int) -> float:
        return float(self._values[self._row[chunk_id]])

    def get(self, chunk_id: int, default: float) -> float:
        return self[chunk_id] if chunk_id in self._row else default


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
        fusion: Fusion = FUSION,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.reranker_problem: str | None = None  # why the reranker was set aside, in words
        self.keyword_weight = keyword_weight
        self.dense_weight = dense_weight
        self.context_weight = context_weight
        self.prune_from = prune_from
        self.fusion = fusion
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
        dense_ranks, similarity = self._dense(question, documents)

        scores: dict[int, float] = {}
        if not dense_ranks:  # keyword only: report BM25's own score (higher is better)
            scores = {chunk_id: -bm25 for chunk_id, bm25 in keyword}
        elif self.fusion == "rrf":
            for chunk_id, rank in keyword_ranks.items():
                scores[chunk_id] = self.keyword_weight / (RRF_K + rank)
            for chunk_id, rank in dense_ranks.items():
                scores[chunk_id] = scores.get(chunk_id, 0.0) + self.dense_weight / (RRF_K + rank)
        else:
            scores = self._convex(keyword, dense_ranks, similarity)
        wanted = max(limit, RERANK_CANDIDATES) if self.reranker is not None else limit
        best = sorted(scores, key=lambda c: (-scores[c], c))[:wanted]
        chunks = {c.id: c for c in self.store.get_chunks(best)}
        fused_ranks = {c: rank for rank, c in enumerate(best, 1)}
        best = [c for c in best if c in chunks]
        if self.reranker is not None and len(best) > 1:
            try:
                scores = self._reranked(question, [chunks[c] for c in best], by_id)
                best = sorted(best, key=lambda c: (-scores[c], fused_ranks[c]))
            except (HearthError, OSError, RuntimeError, ValueError) as exc:
                # The answer goes on in search order; the reranker is not tried again.
                self.reranker_problem = (
                    f"The reranker {self.reranker.name} cannot be used ({exc}); passages are "
                    "given in search order"
                )
                log.warning("%s", self.reranker_problem)
                self.reranker = None
        return [
            Passage(
                chunk=chunks[c],
                document=by_id[chunks[c].document_id],
                score=round(scores[c], 6),
                keyword_rank=keyword_ranks.get(c),
                dense_rank=dense_ranks.get(c),
                fused_rank=fused_ranks[c],
            )
            for c in best[:limit]
        ]

    def _reranked(
        self, question: str, chunks: list[Chunk], by_id: dict[int, Document]
    ) -> dict[int, float]:
        """The reranker's score of each passage, read with where it is (file, headings)."""
        assert self.reranker is not None
        texts = [
            f"{passage_context(by_id[c.document_id].name, c.heading)}\n\n{c.text}" for c in chunks
        ]
        values = self.reranker.scores(question, texts)
        return {c.id: value for c, value in zip(chunks, values, strict=True)}

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

    def _convex(
        self,
        keyword: list[tuple[int, float]],
        dense_ranks: dict[int, int],
        similarity: _Similarity,
    ) -> dict[int, float]:
        """Each candidate's BM25 and cosine, each scaled to 0..1 over the candidates, mixed
        by the weights: a passage only keywords found scores by how well they matched,
        not only by its rank (a candidate's cosine is known even when only keywords found
        it; BM25 is 0 for one they did not find)."""
        bm25 = {chunk_id: -score for chunk_id, score in keyword}
        top_bm25 = max(bm25.values(), default=0.0)
        candidates = set(bm25) | set(dense_ranks)
        cosines = [similarity[c] for c in candidates if c in similarity]
        low, high = (min(cosines), max(cosines)) if cosines else (0.0, 0.0)
        total = self.keyword_weight + self.dense_weight
        scores: dict[int, float] = {}
        for chunk_id in candidates:
            lexical = bm25.get(chunk_id, 0.0) / top_bm25 if top_bm25 > 0 else 0.0
            cosine = similarity.get(chunk_id, low)
            meaning = (cosine - low) / (high - low) if high > low else 0.0
            scores[chunk_id] = (self.keyword_weight * lexical + self.dense_weight * meaning) / total
        return scores

    def _dense(
        self, question: str, documents: Sequence[Document]
    ) -> tuple[dict[int, int], _Similarity]:
        """Chunk id -> 1-based rank by cosine similarity to the question, for the best
        candidates; and chunk id -> cosine for every passage."""
        if self.embedder is None or self.dense_weight <= 0:
            return {}, _Similarity({}, np.zeros(0, dtype=np.float32))
        if not any(d.embedding_model == self.embedder.key for d in documents):
            return {}, _Similarity({}, np.zeros(0, dtype=np.float32))
        query = self.embedder.embed_query(question)
        self._vectors.load(self.store, documents, self.embedder.key, len(query))
        if not len(self._vectors.ids):
            return {}, _Similarity({}, np.zeros(0, dtype=np.float32))
        similarity = self._vectors.similarity(query)
        count = min(_CANDIDATES, len(similarity))
        top = np.argpartition(-similarity, count - 1)[:count]
        top = top[np.argsort(-similarity[top], kind="stable")]
        ranks = {int(self._vectors.ids[i]): rank for rank, i in enumerate(top, 1)}
        return ranks, _Similarity(self._vectors.row, similarity)
