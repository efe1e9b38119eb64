"""Reranking with a GGUF reranker through llama.cpp's rank pooling: scores as the model's
classification head reads the pair, the searcher's order, and a reranker that fails.

The test reranker (tests/support/minilm.py) is MiniLM with a seeded random head: its
scores say nothing about relevance, but they can be computed independently from the
[CLS] state, so the test checks that Hearth lays the pair out and reads the score right."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from app.documents.ingest import Indexer, add_paths
from app.documents.rerank import Reranker, reranker_model_path
from app.documents.search import Searcher
from app.engine.engine import Engine, _rank_tokens
from app.engine.events import LoadOptions
from app.errors import HearthError
from app.models.library import Library, is_embedding_entry, is_reranker_entry
from app.store import Store
from tests.conftest import GgufFiles
from tests.support.minilm import minilm_path, reranker_head
from tests.support.minilm import reranker_model_path as reranker_file

QUESTION = "how often should the dishwasher filter be rinsed"
PASSAGES = [
    "Twist the filter anticlockwise and lift it out. Rinse it once a week.",
    "Winter tyres were fitted on 12 November.",
    "",
    "Mittens eats two small meals a day.",
]


@pytest.fixture
def engine() -> Iterator[Engine]:
    loaded = Engine(state_cache_bytes=0)
    loaded.load(reranker_file(), LoadOptions(embedding=True, n_ctx=512))
    yield loaded
    loaded.close()


def cls_state(tokens: list[int]) -> np.ndarray:
    """The [CLS] hidden state of these tokens, from the same file pooled by CLS instead."""
    llm = llama_cpp.Llama(
        str(reranker_file()), embedding=True, n_ctx=512, n_batch=512, verbose=False,
        flash_attn=True,  # as Hearth loads it: the arithmetic matches to rounding
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_CLS,
    )  # fmt: skip
    try:
        raw = llm  # the binding's batch helpers
        raw._batch.reset()  # type: ignore[no-untyped-call]
        raw._batch.add_sequence(tokens, 0, True)
        raw._ctx.decode(raw._batch)
        state = llama_cpp.llama_get_embeddings_seq(raw._ctx.ctx, 0)
        return np.asarray(state[: llm.n_embd()], dtype=np.float64)
    finally:
        llm.close()


def test_scores_are_the_classification_head_reading_the_pair(engine: Engine) -> None:
    scores = engine.rank(QUESTION, PASSAGES)
    assert len(scores) == len(PASSAGES)
    head = {name: array.astype(np.float64) for name, array in reranker_head().items()}
    llm = engine._require()[0]
    for passage, score in zip(PASSAGES, scores, strict=True):
        state = cls_state(_rank_tokens(llm, QUESTION, passage))
        hidden = np.tanh(head["cls.weight"] @ state + head["cls.bias"])
        expected = float((head["cls.output.weight"] @ hidden + head["cls.output.bias"])[0])
        assert score == pytest.approx(expected, rel=1e-3, abs=1e-3)
    assert len(set(scores)) == len(scores)  # each pair is read on its own


def test_the_pair_is_laid_out_as_llama_server_does_for_bert(engine: Engine) -> None:
    llm = engine._require()[0]
    question = llm.tokenize(QUESTION.encode(), add_bos=False)
    passage = llm.tokenize(PASSAGES[0].encode(), add_bos=False)
    cls, sep = 101, 102  # BERT's [CLS] and [SEP]
    assert _rank_tokens(llm, QUESTION, PASSAGES[0]) == [cls, *question, sep, *passage, sep]
    long = _rank_tokens(llm, QUESTION, "word " * 2000)
    assert len(long) == llm.n_batch  # a long passage is cut to fit, the question kept
    assert long[: len(question) + 2] == [cls, *question, sep]


def test_an_embedding_model_is_refused_as_a_reranker() -> None:
    engine = Engine(state_cache_bytes=0)
    try:
        engine.load(minilm_path(), LoadOptions(embedding=True, n_ctx=512))
        with pytest.raises(HearthError, match="is not a reranker"):
            engine.rank(QUESTION, PASSAGES)
    finally:
        engine.close()


@pytest.fixture
def manuals(store: Store, tmp_path: Path) -> list[int]:
    chat = store.create_chat("Manuals")
    paths = []
    for i, text in enumerate(
        ["Rinse the dishwasher filter once a week.", "The dishwasher salt goes in the base.",
         "Dishwasher tablets go in the door.", "The dishwasher hums when it drains."]
    ):  # fmt: skip
        path = tmp_path / f"note-{i}.md"
        path.write_text(f"# Note {i}\n\n{text}\n")
        paths.append(path)
    add_paths(store, paths, chat_id=chat.id)
    list(Indexer(store).run())
    return [d.id for d in store.list_documents()]


def test_the_searcher_puts_the_rerankers_best_first(store: Store, manuals: list[int]) -> None:
    plain = Searcher(store).search("dishwasher", limit=4)
    assert len(plain) == 4
    reranker = Reranker(reranker_file())
    try:
        ranked = Searcher(store, reranker=reranker).search("dishwasher", limit=3)
    finally:
        reranker.close()
    assert len(ranked) == 3
    assert [p.score for p in ranked] == sorted((p.score for p in ranked), reverse=True)
    assert {p.fused_rank for p in ranked} <= {1, 2, 3, 4}  # from the fused candidates
    by_fused = {p.chunk.id: p.fused_rank for p in plain}
    assert all(by_fused[p.chunk.id] == p.fused_rank for p in ranked)


def test_a_broken_reranker_keeps_search_order_and_says_why(
    store: Store, manuals: list[int], gguf_files: GgufFiles
) -> None:
    plain = Searcher(store).search("dishwasher", limit=3)
    broken = Reranker(gguf_files.truncated())
    searcher = Searcher(store, reranker=broken)
    try:
        found = searcher.search("dishwasher", limit=3)
    finally:
        broken.close()
    assert [p.chunk.id for p in found] == [p.chunk.id for p in plain]
    assert searcher.reranker_problem is not None
    assert "cannot be used" in searcher.reranker_problem
    assert searcher.reranker is None  # not tried again for every question


def test_a_reranker_in_the_library_is_chosen_for_passages_not_for_meaning(
    store: Store, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    library = Library(store, models)
    entry = library.import_file(reranker_file(), "link")
    assert is_reranker_entry(entry) and is_embedding_entry(entry)  # it cannot chat
    assert store.get_setting("reranker_model") == entry.name
    assert store.get_setting("embedding_model") == ""  # it does not embed
    assert reranker_model_path(store) == Path(entry.path)
    store.set_setting("reranker_model", "gone")
    with pytest.raises(HearthError, match="not in your library"):
        reranker_model_path(store)
