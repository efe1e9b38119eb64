"""Finding passages: keyword search with FTS5 in a user's words, scopes (chat, collections),
and hybrid search fused with a real embedding model (all-MiniLM-L6-v2 in GGUF)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.documents.embeddings import Embedder, embed_documents, passage_windows, prefixes_for
from app.documents.ingest import Indexer, add_paths
from app.documents.search import Searcher, keyword_query
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.store import Store
from tests.support.minilm import minilm_path

MANUALS = {
    "dishwasher.md": """# Dishwasher DW-40

## Cleaning the filter

Twist the cylindrical filter anticlockwise and lift it out. Rinse it under running water
once a week, or whenever plates come out gritty.

## Salt and rinse aid

Fill the salt container with coarse dishwasher salt when the salt indicator lights up.
""",
    "car.md": """# Car service record

## Tyres

Winter tyres were fitted on 12 November. The tread depth was 6 mm on every wheel.

## Oil

The engine oil and the oil filter were changed at 45,000 km.
""",
    "cat.md": """# Looking after Mittens

## Food

Mittens eats two small meals a day: a pouch in the morning and dry biscuits at night.

## Vet

The yearly vaccination is due every March at the Riverside vet practice.
""",
}


@pytest.fixture
def library(store: Store, tmp_path: Path) -> dict[str, int]:
    """The three manuals in one chat, indexed; returns name -> document id."""
    chat = store.create_chat("Manuals")
    paths = []
    for name, text in MANUALS.items():
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    add_paths(store, paths, chat_id=chat.id)
    list(Indexer(store).run())
    return {d.name: d.id for d in store.list_documents()}


def test_keyword_query_drops_stop_words_and_quotes_everything() -> None:
    assert keyword_query("How do I clean the filter?") == '"clean" OR "filter"'
    # FTS5 syntax in a question is taken as words, never as operators.
    assert keyword_query('filter AND "salt* NEAR(x)') == '"filter" OR "salt" OR "near"'


@given(st.text(max_size=200))
def test_any_question_makes_a_query_fts5_accepts(question: str) -> None:
    store = Store.open(Path(":memory:"))
    try:
        store.keyword_chunks(keyword_query(question), None, 5)  # raises if FTS5 refuses it
    finally:
        store.close()


def test_keyword_search_finds_the_passage_in_users_words(
    store: Store, library: dict[str, int]
) -> None:
    passages = Searcher(store).search("how often should I rinse the dishwasher filter?")
    best = passages[0]
    assert best.document.name == "dishwasher.md"
    assert best.chunk.heading == "Dishwasher DW-40 > Cleaning the filter · Salt and rinse aid"
    assert "once a week" in best.chunk.text
    assert best.keyword_rank == 1 and best.dense_rank is None


def test_search_is_limited_to_what_the_chat_can_see(store: Store, tmp_path: Path) -> None:
    mine, other = store.create_chat("mine"), store.create_chat("other")
    for chat, name, text in (
        (mine, "a.md", "The spare key is under the blue flowerpot."),
        (other, "b.md", "The spare key is with the neighbour at number 12."),
    ):
        path = tmp_path / name
        path.write_text(text)
        add_paths(store, [path], chat_id=chat.id)
    shared = store.create_collection("Household")
    path = tmp_path / "c.md"
    path.write_text("The spare key for the shed hangs in the garage.")
    add_paths(store, [path], collection_id=shared.id)
    list(Indexer(store).run())

    seen = Searcher(store).search("spare key", store.chat_documents(mine.id))
    assert {p.document.name for p in seen} == {"a.md"}
    store.attach_collection(mine.id, shared.id)
    seen = Searcher(store).search("spare key", store.chat_documents(mine.id))
    assert {p.document.name for p in seen} == {"a.md", "c.md"}
    store.detach_collection(mine.id, shared.id)
    assert {d.name for d in store.chat_documents(mine.id)} == {"a.md"}


def test_failed_documents_are_not_searched(store: Store, library: dict[str, int]) -> None:
    store.update_document(library["car.md"], status="failed", error="car.md is broken")
    assert Searcher(store).search("winter tyres") == []


def test_nothing_matches_gives_no_passages(store: Store, library: dict[str, int]) -> None:
    assert Searcher(store).search("quantum chromodynamics") == []
    assert Searcher(store).search("   ") == []


def test_known_embedding_models_get_their_prefixes() -> None:
    assert prefixes_for("nomic-embed-text-v1.5.Q4_K_M.gguf") == (
        "search_query: ",
        "search_document: ",
    )
    assert prefixes_for("all-MiniLM-L6-v2-f16.gguf") == ("", "")


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    engine = Engine(state_cache_bytes=0)
    path = minilm_path()
    engine.load(path, LoadOptions(embedding=True, n_ctx=512, n_threads=1))
    shared = Embedder(path, engine=engine)
    yield shared
    shared.close()


def test_hybrid_search_finds_what_keywords_miss(
    store: Store, library: dict[str, int], embedder: Embedder
) -> None:
    question = "when does my kitty need her jabs?"
    # No word of the question is in the passage: keywords alone cannot find it.
    assert all(p.document.name != "cat.md" for p in Searcher(store).search(question))

    documents = store.list_documents()
    steps = list(embed_documents(store, embedder, documents))
    assert steps and all(s.done <= s.total for s in steps)
    assert all(store.get_document(d.id).embedding_model == embedder.key for d in documents)
    passages = Searcher(store, embedder).search(question, limit=3)
    assert passages[0].chunk.heading == "Looking after Mittens > Food · Vet"
    assert passages[0].dense_rank == 1 and passages[0].keyword_rank is None

    # Fused: a passage both searches rank well comes first.
    fused = Searcher(store, embedder).search("rinse the dishwasher filter", limit=3)
    assert fused[0].document.name == "dishwasher.md" and "once a week" in fused[0].chunk.text
    assert fused[0].keyword_rank == 1 and fused[0].dense_rank == 1


def test_embedding_resumes_and_follows_a_change_of_model(
    store: Store, library: dict[str, int], embedder: Embedder
) -> None:
    documents = store.list_documents()
    car = library["car.md"]
    store.update_document(car, embedding_model="other-model.gguf")
    store.set_embeddings([(c.id, b"\x00" * 8) for c in store.document_chunks(car)])
    list(embed_documents(store, embedder, documents))
    vectors = dict(store.chunk_embeddings([car]))
    assert all(len(v) == 384 * 4 for v in vectors.values())  # redone with the new model
    before = store.chunk_embeddings([d.id for d in documents])
    assert list(embed_documents(store, embedder, documents)) == []  # nothing left to do
    assert store.chunk_embeddings([d.id for d in documents]) == before


def test_a_long_passage_is_found_by_its_best_window(
    store: Store, tmp_path: Path, embedder: Embedder
) -> None:
    bread = " ".join(
        ["Knead the dough for ten minutes, then leave it to rise in a warm kitchen."] * 11
    )
    notes = tmp_path / "notes.md"
    notes.write_text(f"# Notes\n\n{bread} Mittens the cat has her vaccination every March.\n")
    other = tmp_path / "car.md"
    other.write_text(MANUALS["car.md"])
    add_paths(store, [notes, other], chat_id=store.create_chat("c").id)
    list(Indexer(store).run())
    documents = store.list_documents()
    list(embed_documents(store, embedder, documents))
    [chunk] = store.document_chunks(next(d.id for d in documents if d.name == "notes.md"))
    windows = passage_windows("notes.md", chunk)
    assert len(windows) >= 2  # a long passage: several windows, one vector each
    stored = dict(store.chunk_embeddings([chunk.document_id]))[chunk.id]
    assert len(stored) == len(windows) * 384 * 4

    question = "when does my kitty need her jabs?"
    found = Searcher(store, embedder, keyword_weight=0.0).search(question, limit=1)[0]
    assert found.chunk.id == chunk.id and found.dense_rank == 1
    query = embedder.embed_query(question)
    best = max(float(query @ v) for v in np.asarray(embedder.embed_passages(windows)))
    assert found.score == pytest.approx(1.0)  # scaled: the best candidate
    searcher = Searcher(store, embedder)
    _, similarity = searcher._dense(question, store.list_documents())
    assert similarity[chunk.id] == pytest.approx(best, abs=1e-4)  # its best window's cosine


def test_file_names_and_headings_help_keyword_search(store: Store, tmp_path: Path) -> None:
    chat = store.create_chat("x")
    for name, text in (
        (
            "vortex-cordless-vacuum-warranty.md",
            "# Warranty\n\n## Power\n\nIt runs 40 minutes on a charge.",
        ),
        ("kettle-manual.md", "# Manual\n\n## Base\n\nThe base holds no battery: no battery care."),
    ):
        (tmp_path / name).write_text(text)
        add_paths(store, [tmp_path / name], chat_id=chat.id)
    list(Indexer(store).run())
    question = "how long does my cordless vacuum keep going?"
    best = Searcher(store).search(question)[0]
    assert best.document.name == "vortex-cordless-vacuum-warranty.md"
    assert best.chunk.text.endswith("It runs 40 minutes on a charge.")
    # The passage never says "cordless" or "vacuum": only its file name does.
    assert Searcher(store, context_weight=0.0).search(question) == []


def test_words_in_most_passages_are_left_out_on_a_large_index(store: Store, tmp_path: Path) -> None:
    chat = store.create_chat("x")
    notes = tmp_path / "notes.txt"
    notes.write_text(
        "\n\n".join(
            f"Report {i}: the weather was fine. "
            + ("The boiler was serviced." if i == 7 else "")
            + " filler text" * 80
            for i in range(30)
        )
    )
    add_paths(store, [notes], chat_id=chat.id)
    list(Indexer(store).run())
    searcher = Searcher(store, prune_from=0)
    assert searcher._match("weather boiler report") == '"boiler"'
    assert searcher._match("weather report") in ('"weather"', '"report"')  # the rarest stays
    assert "boiler was serviced" in searcher.search("weather boiler report")[0].chunk.text
    # Below the size where it matters, every word is kept.
    assert Searcher(store)._match("weather boiler report") == '"weather" OR "boiler" OR "report"'


def test_a_small_scope_in_a_large_index_still_finds_its_passages(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.store.documents._KEYWORD_POOL", 3)  # as if the index were huge
    big, small = store.create_chat("big"), store.create_chat("small")
    crowd = []
    for i in range(6):  # short passages full of "boiler": the best matches of the index
        crowd.append(tmp_path / f"crowd{i}.txt")
        crowd[-1].write_text(f"Boiler boiler report {i}.")
    mine = tmp_path / "mine.txt"
    mine.write_text("My boiler was serviced in May, " + "and the rest is other news " * 30)
    add_paths(store, crowd, chat_id=big.id)
    add_paths(store, [mine], chat_id=small.id)
    list(Indexer(store).run())
    found = Searcher(store).search("boiler", store.chat_documents(small.id), limit=3)
    assert [p.document.name for p in found] == ["mine.txt"]
    assert len(store.keyword_chunks('"boiler"', None, 3)) == 3  # none of them is mine
