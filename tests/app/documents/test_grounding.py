"""Answers grounded in a chat's documents: whole or searched, numbered sources in the prompt,
sources stored with the answer and shown again when the chat is reopened."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.chat.runner import ChatRunner, MessageSaved, SourcesUsed
from app.documents.grounding import INSTRUCTION, Grounder, render_prompt, source_label
from app.documents.ingest import Indexer, add_paths
from app.engine.chat_format import Turn
from app.engine.engine import Engine
from app.engine.events import LoadOptions, Sampling
from app.store import SourceRecord, Store
from tests.support.documents import make_pdf

FAST = Sampling(temperature=0.0, max_tokens=8, seed=3)

PAGES = [
    "Annual report. This page is the cover of the Riverside bakery report.",
    "Sales grew by twelve percent. The sourdough loaf was the best seller of the year.",
    "The new oven was installed in June and cut gas use by a fifth.",
]


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "report.pdf", PAGES)


def index_into_chat(store: Store, paths: Sequence[Path]) -> int:
    chat = store.create_chat("Docs")
    add_paths(store, list(paths), chat_id=chat.id)
    list(Indexer(store).run())
    return chat.id


def test_a_small_pdf_is_given_whole_with_one_source_per_page(store: Store, report: Path) -> None:
    chat_id = index_into_chat(store, [report])
    grounding = Grounder(store).ground(chat_id, "What did the oven do?", context_tokens=4096)
    assert grounding is not None and grounding.mode == "whole"
    assert [(s.number, s.name, s.page) for s in grounding.sources] == [
        (1, "report.pdf", 1),
        (2, "report.pdf", 2),
        (3, "report.pdf", 3),
    ]
    assert "cut gas use by a fifth" in grounding.sources[2].text
    prompt = grounding.prompt("What did the oven do?")
    assert prompt.startswith(INSTRUCTION)
    assert "[3] report.pdf, page 3\nThe new oven" in prompt
    assert prompt.endswith("Question: What did the oven do?")


def test_a_large_set_goes_through_search_and_cites_the_right_page(
    store: Store, tmp_path: Path
) -> None:
    filler = "The committee discussed routine matters of the association at length. " * 40
    pages = [f"Page {i}. {filler}" for i in range(1, 40)]
    pages[22] = "The treasurer reported that the membership fee rises to 45 euros next spring."
    long_report = make_pdf(tmp_path / "minutes.pdf", pages)
    chat_id = index_into_chat(store, [long_report])
    grounding = Grounder(store).ground(
        chat_id, "How much will the membership fee be?", context_tokens=2048
    )
    assert grounding is not None and grounding.mode == "retrieval"
    first = grounding.sources[0]
    assert (first.number, first.name, first.page) == (1, "minutes.pdf", 23)
    assert "45 euros" in first.text
    total = sum(len(s.text) for s in grounding.sources) / 4
    assert total <= 2048 * 0.4 + len(first.text)  # passages leave room for the answer


def test_whole_mode_can_be_turned_off(store: Store, report: Path) -> None:
    chat_id = index_into_chat(store, [report])
    store.set_setting("document_whole_percent", 0)
    grounding = Grounder(store).ground(chat_id, "sourdough best seller", context_tokens=4096)
    assert grounding is not None and grounding.mode == "retrieval"
    assert grounding.sources[0].page == 2


def test_a_chat_without_documents_is_not_grounded(store: Store) -> None:
    chat = store.create_chat("plain")
    assert Grounder(store).ground(chat.id, "hello", context_tokens=4096) is None


def test_labels_name_the_file_and_page_or_section() -> None:
    assert source_label(SourceRecord(1, "a.pdf", "/x/a.pdf", "t", page=4)) == "a.pdf, page 4"
    assert (
        source_label(SourceRecord(2, "b.md", "/x/b.md", "t", heading="Setup > Linux"))
        == "b.md, Setup > Linux"
    )
    assert render_prompt("q?", []).endswith("Question: q?")


# --------------------------------------------------------------- with the engine
class RecordingEngine(Engine):
    """The real engine, noting the turns each generation was given."""

    def __init__(self) -> None:
        super().__init__(state_cache_bytes=16 << 20)
        self.seen: list[list[Turn]] = []

    def generate(self, turns: Sequence[Turn], *args: Any, **kwargs: Any) -> Any:
        self.seen.append([Turn(**t) for t in turns])
        return super().generate(turns, *args, **kwargs)


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[RecordingEngine]:
    recording = RecordingEngine()
    recording.load(tiny_model, LoadOptions(n_ctx=2048))
    yield recording
    recording.close()


def test_answers_carry_their_sources_and_keep_them(
    store: Store, report: Path, engine: RecordingEngine
) -> None:
    chat_id = index_into_chat(store, [report])
    runner = ChatRunner(store, engine, grounder=Grounder(store), flush_seconds=0.0)
    events = list(runner.send(chat_id, "When was the oven installed?", sampling=FAST))

    used = next(e for e in events if isinstance(e, SourcesUsed))
    assert used.mode == "whole" and [s.page for s in used.sources] == [1, 2, 3]
    answer = next(e.message for e in events if isinstance(e, MessageSaved) and e.final)
    assert answer.meta["documents_mode"] == "whole"
    # The model saw the numbered sources; the stored question stays as the user typed it.
    prompt = engine.seen[-1][-1]["content"]
    assert "[3] report.pdf, page 3" in prompt and prompt.endswith("When was the oven installed?")
    assert store.thread(chat_id)[0].content == "When was the oven installed?"

    # Reopened later (another connection, as after a restart): the same sources.
    reopened = Store.open(store.path)
    assert reopened.message_sources(answer.id) == used.sources
    reopened.close()

    # Continuing the answer gives the model the same sources again.
    list(runner.continue_answer(answer.id, sampling=FAST))
    assert engine.seen[-1][-1]["content"] == prompt

    # Removing the document keeps the answer's copy of its sources.
    store.delete_document(store.list_documents()[0].id)
    kept = store.message_sources(answer.id)
    assert [s.text for s in kept] == [s.text for s in used.sources]
    assert all(s.document_id is None for s in kept)


def test_earlier_questions_are_not_sent_with_their_sources_again(
    store: Store, report: Path, engine: RecordingEngine
) -> None:
    chat_id = index_into_chat(store, [report])
    runner = ChatRunner(store, engine, grounder=Grounder(store), flush_seconds=0.0)
    list(runner.send(chat_id, "First question?", sampling=FAST))
    list(runner.send(chat_id, "Second question?", sampling=FAST))
    turns = engine.seen[-1]
    assert turns[0]["content"] == "First question?"
    assert "Sources:" in turns[-1]["content"]


def test_exports_keep_the_sources_of_answers(
    store: Store, report: Path, engine: RecordingEngine
) -> None:
    from app.chat.export import export_chat, import_json

    chat_id = index_into_chat(store, [report])
    runner = ChatRunner(store, engine, grounder=Grounder(store), flush_seconds=0.0)
    list(runner.send(chat_id, "When was the oven installed?", sampling=FAST))
    markdown = export_chat(store, chat_id, "md")
    assert "Sources:\n\n1. report.pdf, page 1\n2. report.pdf, page 2\n3. report.pdf, page 3" in (
        markdown
    )
    copy = import_json(store, json.loads(export_chat(store, chat_id, "json")))
    answer = store.thread(copy.id)[-1]
    assert [s.page for s in store.message_sources(answer.id)] == [1, 2, 3]
