"""Documents in chats, driven like a user would: real files dropped on the chat page, indexed
by the real DocumentsController, answered by the tiny GGUF model, sources shown and opened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import Context
from app.documents.ingest import IndexProgress, add_paths
from app.engine.events import LoadOptions
from app.store import SourceRecord, Store
from tests.conftest import GgufFiles
from tests.support.documents import make_docx, make_pdf, sample_pages
from ui.application import build_window, create_application
from ui.chat.controller import ChatController
from ui.chat.page import ChatPage
from ui.chat.view import MessageWidget
from ui.documents.controller import DocumentsController
from ui.documents.panel import SourcePassageDialog
from ui.engine_controller import EngineController

TIMEOUT = 20_000


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def engine(store: Store) -> Iterator[EngineController]:
    ctrl = EngineController(store)
    yield ctrl
    assert ctrl.shutdown_and_wait()


@pytest.fixture
def documents(store: Store, engine: EngineController) -> Iterator[DocumentsController]:
    ctrl = DocumentsController(store, engine)
    yield ctrl
    assert ctrl.shutdown_and_wait()


@pytest.fixture
def page(
    store: Store,
    engine: EngineController,
    documents: DocumentsController,
    tiny_model: Path,
    qtbot: QtBot,
) -> ChatPage:
    store.set_setting("temperature", 0.0)
    store.set_setting("max_tokens", 16)
    engine.engine.load(tiny_model, LoadOptions(n_ctx=2048))
    widget = ChatPage(ChatController(store), engine, documents=documents)
    qtbot.addWidget(widget)
    widget.resize(1000, 760)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    broken = folder / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not really a pdf\n")
    return {
        "pdf": make_pdf(folder / "report.pdf", sample_pages(12, words=300)),
        "md": _write(folder / "notes.md", "# Setup\n\nThe lamp stays on the river stone.\n"),
        "docx": make_docx(folder / "letter.docx", [("title", "Letter"), ("p", "Dear harbor.")]),
        "broken": broken,
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def wait_settled(store: Store, chat_id: int, documents: DocumentsController, qtbot: QtBot) -> None:
    def settled() -> bool:
        found = store.chat_documents(chat_id)
        return bool(found) and all(d.status in ("ready", "failed") for d in found)

    qtbot.waitUntil(settled, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not documents.is_indexing(), timeout=TIMEOUT)


def row_states(page: ChatPage) -> dict[str, str]:
    assert page.documents_panel is not None
    return {row.document.name: row.state_label.text() for row in page.documents_panel.rows.values()}


def answer_card(page: ChatPage, store: Store) -> MessageWidget:
    assert page.current_chat_id is not None
    answer = store.thread(page.current_chat_id)[-1]
    widget = page.view.message_widget(answer.id)
    assert widget is not None
    return widget


# ---------------------------------------------------------------- dropping
def test_dropped_files_are_indexed_with_progress_and_the_chat_stays_usable(
    page: ChatPage,
    engine: EngineController,
    documents: DocumentsController,
    store: Store,
    files: dict[str, Path],
    qtbot: QtBot,
) -> None:
    chat = store.create_chat("Reading")
    page.open_chat(chat.id)
    steps: list[IndexProgress] = []
    documents.progress.connect(steps.append)

    assert page.drop_paths([files["pdf"], files["md"]])
    panel = page.documents_panel
    assert panel is not None
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=TIMEOUT)
    assert panel.isVisibleTo(page)
    # The chat answers while the documents are indexed on their own thread.
    page.send("Hello")
    qtbot.waitUntil(lambda: not engine.busy, timeout=TIMEOUT)
    wait_settled(store, chat.id, documents, qtbot)

    assert set(row_states(page)) == {"report.pdf", "notes.md"}
    assert all(text.startswith("Ready") for text in row_states(page).values())
    pdf = next(d for d in store.chat_documents(chat.id) if d.name == "report.pdf")
    assert pdf.pages == 12
    assert panel.rows[pdf.id].kind_label.text() == "PDF · 12 pages"
    pdf_steps = [s for s in steps if s.document_id == pdf.id]
    assert pdf_steps[0].status == "indexing"
    assert pdf_steps[-1].status == "ready"
    assert (pdf_steps[-1].done, pdf_steps[-1].total) == (12, 12), "progress counts pages"
    assert panel.title_label.text() == "Documents · 2"
    assert store.thread(chat.id)[-1].status == "done"


def test_a_real_drop_event_with_urls_starts_a_chat_for_the_documents(
    page: ChatPage, documents: DocumentsController, store: Store, files: dict[str, Path],
    qtbot: QtBot,
) -> None:  # fmt: skip
    assert page.current_chat_id is None
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(files["md"])), QUrl.fromLocalFile(str(files["docx"]))])
    enter = QDragEnterEvent(
        QPoint(200, 200), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted(), "the page takes dragged files"
    drop = QDropEvent(
        QPointF(200, 200), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(page, drop)

    assert drop.isAccepted()
    chat_id = page.current_chat_id
    assert chat_id is not None
    assert store.get_chat(chat_id).title == "notes.md and 1 more"
    wait_settled(store, chat_id, documents, qtbot)
    assert sorted(d.name for d in store.chat_documents(chat_id)) == ["letter.docx", "notes.md"]
    qtbot.waitUntil(lambda: len(row_states(page)) == 2, timeout=TIMEOUT)
    assert page.documents_button.text() == "Documents · 2"


def test_a_dropped_folder_adds_the_documents_inside(
    page: ChatPage, documents: DocumentsController, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    _write(folder / "a.md", "# A\n\nAlpha text.\n")
    _write(folder / "sub" / "b.txt", "Beta text.\n")
    (folder / "picture.png").write_bytes(b"\x89PNG not a document")
    chat = store.create_chat("Folder")
    page.open_chat(chat.id)
    page.drop_paths([folder])
    wait_settled(store, chat.id, documents, qtbot)
    assert sorted(d.name for d in store.chat_documents(chat.id)) == ["a.md", "b.txt"]


def test_a_broken_file_shows_its_error_while_the_others_become_ready(
    page: ChatPage,
    documents: DocumentsController,
    store: Store,
    files: dict[str, Path],
    tmp_path: Path,
    qtbot: QtBot,
) -> None:
    chat = store.create_chat("Mixed")
    page.open_chat(chat.id)
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG")
    messages: list[str] = []
    page.statusMessage.connect(messages.append)
    page.drop_paths([files["broken"], files["md"], files["docx"], image])
    wait_settled(store, chat.id, documents, qtbot)
    qtbot.waitUntil(lambda: len(row_states(page)) == 3, timeout=TIMEOUT)

    states = row_states(page)
    assert states["notes.md"].startswith("Ready")
    assert states["letter.docx"].startswith("Ready")
    assert states["broken.pdf"].startswith("Failed: ")
    broken = next(d for d in store.chat_documents(chat.id) if d.name == "broken.pdf")
    assert broken.status == "failed" and broken.error
    panel = page.documents_panel
    assert panel is not None
    row = panel.rows[broken.id]
    assert row.state_label.toolTip() == broken.error
    assert panel.problems_label.isVisibleTo(page)
    problems = panel.problems_label.text()
    assert "photo.png" in problems and "can't read .png" in problems, "refused in words"
    assert any("broken.pdf" in m for m in messages), "the failure reached the status bar"


def test_removing_a_file_while_it_indexes_cancels_and_deletes_it(
    page: ChatPage, documents: DocumentsController, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    big = make_pdf(tmp_path / "big.pdf", sample_pages(60, words=400))
    chat = store.create_chat("Cancel")
    page.open_chat(chat.id)
    page.drop_paths([big])
    panel = page.documents_panel
    assert panel is not None
    qtbot.waitUntil(lambda: len(panel.rows) == 1, timeout=TIMEOUT)
    document_id = next(iter(panel.rows))
    row = panel.rows[document_id]
    assert row.state in ("queued", "indexing")
    QTest.mouseClick(row.remove_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: not store.chat_documents(chat.id), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not documents.is_indexing(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not documents.is_removing(document_id), timeout=TIMEOUT)
    assert not panel.rows
    assert store.chunk_count([document_id]) == 0


def test_pending_documents_resume_when_the_window_starts(
    ctx: Context, files: dict[str, Path], qtbot: QtBot
) -> None:
    chat = ctx.store.create_chat("Left unfinished")
    added = add_paths(ctx.store, [files["pdf"], files["md"]], chat_id=chat.id)
    assert {d.status for d in added.added} == {"queued"}
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(
            lambda: all(d.status == "ready" for d in ctx.store.chat_documents(chat.id)),
            timeout=TIMEOUT,
        )
    finally:
        window.shutdown()


def test_choosing_another_embedding_model_in_the_library_restarts_embedding(
    ctx: Context, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    try:
        starts: list[bool] = []
        monkeypatch.setattr(window.documents, "start", lambda: starts.append(True))
        window.models.embeddingModelChanged.emit("bge-small")
        assert starts == [True]
    finally:
        window.shutdown()


def test_documents_added_to_a_collection_are_indexed_and_attached_to_the_open_chat(
    ctx: Context, files: dict[str, Path], qtbot: QtBot
) -> None:
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    try:
        chat = ctx.store.create_chat("Uses the manuals")
        window.chat_page.open_chat(chat.id)
        window.add_to_collection("Manuals", [files["md"]])
        collection = ctx.store.find_collection("Manuals")
        assert collection is not None
        qtbot.waitUntil(
            lambda: (
                [d.status for d in ctx.store.list_documents(collection_id=collection.id)]
                == ["ready"]
            ),
            timeout=TIMEOUT,
        )
        assert ctx.store.chat_collections(chat.id) == [collection]
        assert [d.name for d in ctx.store.chat_documents(chat.id)] == [files["md"].name]
    finally:
        window.shutdown()


# ------------------------------------------------------------------ sources
def test_an_answer_in_a_chat_with_documents_shows_sources_that_survive_reopening(
    page: ChatPage,
    engine: EngineController,
    documents: DocumentsController,
    store: Store,
    tmp_path: Path,
    qtbot: QtBot,
) -> None:
    pages = ["Page one: lamps.", "Page two: rivers.", "Page three: bridges."]
    pdf = make_pdf(tmp_path / "short.pdf", pages)
    chat = store.create_chat("Grounded")
    page.open_chat(chat.id)
    page.drop_paths([pdf])
    wait_settled(store, chat.id, documents, qtbot)

    page.send("What do the pages say?")
    qtbot.waitUntil(lambda: not engine.busy, timeout=TIMEOUT)
    answer = store.thread(chat.id)[-1]
    assert answer.meta["documents_mode"] == "whole"
    # The context meter counts what the model was given: the documents too.
    used = (answer.stats.prompt_tokens or 0) + (answer.stats.completion_tokens or 0)
    assert page.composer.meter.text().startswith(f"{used:,} / ")
    card = answer_card(page, store)
    assert card.sources_box is not None
    chips = [chip.text() for chip in card.sources_box.chips]
    assert chips == ["[1] short.pdf · p. 1", "[2] short.pdf · p. 2", "[3] short.pdf · p. 3"]
    assert card.sources_box.mode_label.text() == "Answered from whole documents"
    assert page.documents_panel is not None
    assert "Whole documents" in page.documents_panel.mode_label.text()

    other = store.create_chat("Elsewhere")
    page.open_chat(other.id)
    page.open_chat(chat.id)
    reopened = answer_card(page, store)
    assert reopened is not card
    assert reopened.sources_box is not None
    assert [chip.text() for chip in reopened.sources_box.chips] == chips


def test_clicking_a_source_chip_opens_its_passage_on_the_right_page(
    page: ChatPage, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    report = make_pdf(tmp_path / "report.pdf", ["One.", "Two.", "Three."])
    chat = store.create_chat("Sources")
    question = store.append_message(chat.id, "user", "Where is the lamp?")
    answer = store.add_message(
        chat.id, "assistant", "On the stone [2].", parent_id=question.id,
        meta={"documents_mode": "retrieval"},
    )  # fmt: skip
    store.save_sources(
        answer.id,
        [
            SourceRecord(1, "report.pdf", str(report), "The river runs.", page=1),
            SourceRecord(2, "report.pdf", str(report), "The lamp is on the stone.", page=3),
            SourceRecord(3, "gone.md", str(tmp_path / "gone.md"), "Setup text.", heading="Setup"),
        ],
    )
    page.open_chat(chat.id)
    card = answer_card(page, store)
    assert card.sources_box is not None
    assert card.sources_box.mode_label.text() == "From 3 searched passages"
    assert [c.text() for c in card.sources_box.chips][2] == "[3] gone.md · Setup"

    QTest.mouseClick(card.sources_box.chips[1], Qt.MouseButton.LeftButton)
    dialog = page.view.source_dialog
    assert isinstance(dialog, SourcePassageDialog)
    qtbot.waitExposed(dialog)
    assert "Page 3" in dialog.where_label.text()
    assert dialog.text.toPlainText() == "The lamp is on the stone."
    assert dialog.text.isReadOnly()
    assert dialog.open_button.isEnabled()
    dialog.close()

    QTest.mouseClick(card.sources_box.chips[2], Qt.MouseButton.LeftButton)
    missing = page.view.source_dialog
    assert isinstance(missing, SourcePassageDialog)
    assert "Section: Setup" in missing.where_label.text()
    assert not missing.open_button.isEnabled()
    assert "is no longer at" in missing.message_label.text()
    assert not missing.open_file()
    missing.close()

    # The citation in the answer's text is a link to the same passage.
    assert 'href="source:2"' in card.content.toHtml()
    card.content.anchorClicked.emit(QUrl("source:2"))
    cited = page.view.source_dialog
    assert isinstance(cited, SourcePassageDialog)
    assert cited.text.toPlainText() == "The lamp is on the stone."
    cited.close()


# --------------------------------------------------------------- embeddings
def test_ready_documents_are_embedded_on_the_engine_thread(
    page: ChatPage,
    engine: EngineController,
    documents: DocumentsController,
    store: Store,
    files: dict[str, Path],
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.documents.embeddings import Embedder
    from tests.support.minilm import minilm_path

    store.set_setting("embedding_model", str(minilm_path()))
    monkeypatch.setattr("app.documents.embeddings._BATCH", 4)  # several batches per file
    threads: set[str] = set()
    original = Embedder.embed_passages
    seen: list[str] = []  # the PDF's row, after each batch

    def watch(step: object) -> None:
        seen.append(row_states(page).get("report.pdf", ""))

    documents.embedProgress.connect(watch)

    def recording(self: Embedder, texts: list[str], cancel: object = None) -> list[list[float]]:
        threads.add(QThread.currentThread().objectName())
        return original(self, texts, cancel)  # type: ignore[arg-type]

    monkeypatch.setattr(Embedder, "embed_passages", recording)
    chat = store.create_chat("Embedded")
    page.open_chat(chat.id)
    page.drop_paths([files["pdf"], files["md"]])
    wait_settled(store, chat.id, documents, qtbot)

    def embedded() -> bool:
        ids = [d.id for d in store.chat_documents(chat.id)]
        return len(store.chunk_embeddings(ids)) == store.chunk_count(ids)

    qtbot.waitUntil(embedded, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not engine.embedding_pending, timeout=TIMEOUT)
    assert threads == {"hearth-engine"}
    pdf = next(d for d in store.chat_documents(chat.id) if d.name == "report.pdf")
    total = store.chunk_count([pdf.id])
    assert total > 8, "the test needs several batches"
    during = [text for text in seen if "embedding" in text]
    assert during[0].startswith(f"Ready · embedding 4/{total}")
    assert any("/s" in text and "left" in text for text in during)  # rate and time once known
    assert row_states(page)["report.pdf"] == "Ready"  # found by meaning now: nothing to add
    page.send("Where is the lamp?")
    qtbot.waitUntil(lambda: not engine.busy, timeout=TIMEOUT)
    assert store.thread(chat.id)[-1].status == "done"


def test_a_missing_embedding_model_is_reported_and_answers_use_keywords(
    page: ChatPage,
    engine: EngineController,
    documents: DocumentsController,
    store: Store,
    files: dict[str, Path],
    qtbot: QtBot,
) -> None:
    chat = store.create_chat("Keywords")
    page.open_chat(chat.id)
    page.drop_paths([files["pdf"]])
    wait_settled(store, chat.id, documents, qtbot)
    store.set_setting("embedding_model", "no-such-embedder")
    store.set_setting("document_whole_percent", 0)  # always search
    with qtbot.waitSignal(engine.embeddingProblem, timeout=TIMEOUT) as problem:
        page.send("Which page holds page3mark?")
    qtbot.waitUntil(lambda: not engine.busy, timeout=TIMEOUT)
    assert "not in your library" in str(problem.args[0])
    answer = store.thread(chat.id)[-1]
    assert answer.status == "done"
    assert answer.meta["documents_mode"] == "retrieval"
    assert store.message_sources(answer.id)[0].page == 3


def test_a_ready_row_says_when_it_is_found_by_keywords_only_until_embedded(
    documents: DocumentsController, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    from app.documents.embeddings import VectorState
    from ui.documents.panel import DocumentRow, DocumentsPanel

    panel = DocumentsPanel(documents)
    qtbot.addWidget(panel)
    notes = _write(tmp_path / "notes.md", "# Notes\n\nThe lamp stays on the river stone.\n")
    document = store.update_document(
        add_paths(store, [notes], chat_id=store.create_chat("c").id).added[0].id, status="ready"
    )
    row = DocumentRow(panel, document)
    qtbot.addWidget(row)
    row.show_document(document, None, collection=None, vectors=VectorState(10, 3, False))
    assert row.state_label.text() == "Ready · by keywords until embedded"
    row.show_document(document, None, collection=None, vectors=VectorState(10, 10, True))
    assert row.state_label.text() == "Ready · by keywords until embedded"  # another model's
    row.show_document(document, None, collection=None, vectors=VectorState(10, 10, False))
    assert row.state_label.text() == "Ready"


def test_answers_rank_passages_with_the_reranker_and_survive_a_broken_one(
    page: ChatPage,
    engine: EngineController,
    documents: DocumentsController,
    store: Store,
    files: dict[str, Path],
    qtbot: QtBot,
    gguf_files: GgufFiles,
) -> None:
    from tests.support.minilm import reranker_model_path

    chat = store.create_chat("Ranked")
    page.open_chat(chat.id)
    page.drop_paths([files["pdf"]])
    wait_settled(store, chat.id, documents, qtbot)
    store.set_setting("document_whole_percent", 0)  # always search
    store.set_setting("reranker_model", str(reranker_model_path()))
    page.send("Which page holds page3mark?")
    qtbot.waitUntil(lambda: not engine.busy, timeout=TIMEOUT)
    assert engine.searcher.reranker is not None and engine.searcher.reranker_problem is None
    assert store.message_sources(store.thread(chat.id)[-1].id)  # answered from passages

    store.set_setting("reranker_model", str(gguf_files.truncated()))
    with qtbot.waitSignal(engine.embeddingProblem, timeout=TIMEOUT) as problem:
        page.send("Which page holds page4mark?")
    qtbot.waitUntil(lambda: not engine.busy, timeout=TIMEOUT)
    assert "reranker" in str(problem.args[0]) and "search order" in str(problem.args[0])
    answer = store.thread(chat.id)[-1]
    assert answer.status == "done" and store.message_sources(answer.id)
