"""The Models page against the fake hub: search, a repo's files judged, downloads, the library."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QTreeWidget, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from app.models.catalog import EMBEDDING_STARTERS, STARTERS
from app.models.downloads import Progress
from app.models.library import Library
from app.store import Store
from tests.app import conftest as hub_fixtures
from tests.app.conftest import TINY_REPO
from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub
from tests.support.minilm import minilm_path
from ui.models.controller import FileRow, ModelsController
from ui.models.page import DefaultsDialog, DownloadRow, ModelsPage

# The hub fixtures live beside the core's tests; these names make them usable here.
fake_hub = hub_fixtures.fake_hub
hub_with_models = hub_fixtures.hub_with_models

Q4 = "tiny-chat.Q4_K_M.gguf"
Q8 = "tiny-chat.Q8_0.gguf"
MiB = 1 << 20
WAIT = 15_000

MakePage = Callable[..., ModelsPage]


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def make_page(store: Store, models_dir: Path, qtbot: QtBot) -> Iterator[MakePage]:
    """Builds a page over a fresh controller; every controller is shut down afterwards."""
    controllers: list[ModelsController] = []

    def make(*, offline: bool = False, **options: Any) -> ModelsPage:
        settings: dict[str, Any] = {"backoff_seconds": 0.001, "hub_timeout": 10.0}
        settings.update(options)
        controller = ModelsController(store, models_dir, offline=offline, **settings)
        controllers.append(controller)
        page = ModelsPage(controller)
        qtbot.addWidget(page)
        page.resize(1100, 720)
        # Start-up work (the library scan, interrupted downloads) settles before the test acts.
        qtbot.waitUntil(lambda: not controller.is_busy, timeout=WAIT)
        return page

    yield make
    for controller in controllers:
        assert controller.shutdown(), "the controller's threads stopped"


def item(tree: QTreeWidget, index: int) -> QTreeWidgetItem:
    found = tree.topLevelItem(index)
    assert found is not None, f"row {index}"
    return found


def result_ids(page: ModelsPage) -> list[str]:
    tree = page.browse.results
    return [
        str(item(tree, i).data(0, Qt.ItemDataRole.UserRole))
        for i in range(tree.topLevelItemCount())
    ]


def search(page: ModelsPage, qtbot: QtBot, text: str) -> None:
    page.browse.search_field.setText(text)
    with qtbot.waitSignal(page.controller.searchResults, timeout=WAIT):
        QTest.keyClick(page.browse.search_field, Qt.Key.Key_Return)


def open_repo(page: ModelsPage, qtbot: QtBot, repo_id: str) -> list[FileRow]:
    with qtbot.waitSignal(page.controller.repoLoaded, timeout=WAIT) as loaded:
        page.open_repo(repo_id)
    rows: list[FileRow] = loaded.args[1]
    return rows


def top_items(page: ModelsPage) -> list[QTreeWidgetItem]:
    tree = page.repo.files
    return [item(tree, i) for i in range(tree.topLevelItemCount())]


def only_row(page: ModelsPage) -> DownloadRow:
    [row] = page.downloads.rows.values()
    return row


def wait_idle(page: ModelsPage, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not page.controller.is_busy, timeout=WAIT)


# ------------------------------------------------------------------ browse
def test_search_lists_results_most_downloaded_first_and_pages_with_more(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page(page_size=2)
    search(page, qtbot, "tiny")
    assert result_ids(page) == [TINY_REPO, "bob/tiny-llama-GGUF"]
    first = item(page.browse.results, 0)
    assert [first.text(c) for c in range(8)] == [
        "Tiny-Chat-GGUF", "acme", "5,000", "40", "2026-02-01", "llama", "170K", "2,048",
    ]  # fmt: skip
    assert page.browse.more_button.isVisible() or not page.isVisible()
    assert not page.browse.more_button.isHidden()
    assert page.browse.notice.isHidden(), "live results carry no offline notice"

    with qtbot.waitSignal(page.controller.searchResults, timeout=WAIT):
        QTest.mouseClick(page.browse.more_button, Qt.MouseButton.LeftButton)
    assert result_ids(page) == [TINY_REPO, "bob/tiny-llama-GGUF", "carol/Gated-Tiny-GGUF"]
    assert page.browse.more_button.isHidden(), "no further page"
    assert "(gated)" in item(page.browse.results, 2).text(0)

    with qtbot.waitSignal(page.controller.searchResults, timeout=WAIT):
        page.browse.sort_combo.setCurrentIndex(page.browse.sort_combo.findData("likes"))
    assert result_ids(page) == ["bob/tiny-llama-GGUF", TINY_REPO]


def test_a_search_the_hub_cannot_answer_is_explained_in_the_page(
    fake_hub: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    fake_hub.stop()  # nothing listens any more: connection refused
    page = make_page()
    page.browse.search_field.setText("tiny")
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.browse.run_search()
    assert "Can't reach the Hugging Face Hub" in failed.args[0]
    assert not page.banner.isHidden()
    assert page.banner_text.text() == failed.args[0]


# ------------------------------------------------------------------ a repository
def test_opening_a_repo_shows_grouped_files_with_verdicts_and_exactly_one_recommended(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page()
    search(page, qtbot, "tiny")
    with qtbot.waitSignal(page.controller.repoLoaded, timeout=WAIT) as loaded:
        page.browse.results.itemActivated.emit(item(page.browse.results, 0), 0)
    rows: list[FileRow] = loaded.args[1]
    assert page.browse_stack.currentWidget() is page.repo
    assert page.repo.title.text() == TINY_REPO

    items = top_items(page)
    names = [i.text(0) for i in items]
    assert len(items) == 4, names  # Q4, Q8, the split model (one entry), the projector
    [split] = [i for i in items if "(2 parts)" in i.text(0)]
    assert [cast(QTreeWidgetItem, split.child(c)).text(0) for c in range(split.childCount())] == [
        "big-00001-of-00002.gguf",
        "big-00002-of-00002.gguf",
    ]
    assert [n for n in names if n.startswith("★")] == [f"★ {Q8}"], "one recommended: the best"
    assert sum(r.recommended for r in rows) == 1

    widgets = [page.repo.files.itemWidget(i, 3) for i in items]
    verdicts = [v for v in widgets if isinstance(v, QLabel)]
    assert len(verdicts) == len(items)
    kinds = [v.property("fit") for v in verdicts]
    assert kinds[-1] == "projector" and "Vision projector" in verdicts[-1].text()
    assert set(kinds[:-1]) <= {"fits", "tight", "partial_offload", "cpu_only", "too_large"}
    assert all(v.text() for v in verdicts)
    q8_verdict = verdicts[names.index(f"★ {Q8}")]
    assert q8_verdict.property("fit") == "fits" and q8_verdict.text().startswith("Fits")

    assert "read from the header" in page.repo.about.text()
    assert Q8 in page.repo.recommended.text()
    readme = page.repo.readme.toPlainText()
    assert "Tiny Chat GGUF" in readme and "license:" not in readme


def test_a_repo_that_cannot_be_opened_says_why(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page()
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.open_repo("acme/No-Such-Repo")
    assert "No repository called acme/No-Such-Repo" in failed.args[0]
    assert page.banner_text.text() == failed.args[0]
    assert page.repo.status.text().startswith("Couldn't open acme/No-Such-Repo")


# ------------------------------------------------------------------ downloads
def test_downloading_the_recommended_file_shows_progress_then_lands_in_the_library(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, models_dir: Path, qtbot: QtBot
) -> None:
    page = make_page()
    open_repo(page, qtbot, TINY_REPO)
    button = page.repo.download_buttons[Q8]
    assert button.objectName() == "primary", "the recommended file's button stands out"
    steps: list[Progress] = []
    page.controller.downloadProgress.connect(steps.append)
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        assert not button.isEnabled()
    qtbot.waitUntil(lambda: only_row(page).status == "done", timeout=WAIT)

    assert any(s.status == "running" for s in steps)
    assert steps[-1].status == "done" and steps[-1].downloaded == steps[-1].total
    row = only_row(page)
    assert (row.repo_id, row.filename) == (TINY_REPO, Q8)
    assert row.bar.value() == 1000 and row.state.text() == "Done"
    assert row.error_label.isHidden() and row.pause_button.isHidden()
    assert page.tabs.tabText(1) == "Downloads"

    [entry] = store.list_models()
    assert (entry.repo_id, entry.filename) == (TINY_REPO, Q8)
    assert entry.path == str(models_dir / "acme" / "Tiny-Chat-GGUF" / Q8)
    assert entry.sha256 is not None
    assert [m.id for m in page.library.models] == [entry.id]
    assert item(page.library.list, 0).text(5) == TINY_REPO
    assert button.text() == "In library" and not button.isEnabled()


def test_a_split_model_downloads_every_part_and_joins_the_library_once(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, qtbot: QtBot
) -> None:
    page = make_page()
    open_repo(page, qtbot, TINY_REPO)
    first = "big-00001-of-00002.gguf"
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        page.repo.download_buttons[first].click()
    qtbot.waitUntil(
        lambda: [r.status for r in page.downloads.rows.values()] == ["done", "done"],
        timeout=WAIT,
    )
    assert sorted(r.filename for r in page.downloads.rows.values()) == [
        first,
        "big-00002-of-00002.gguf",
    ]
    [entry] = store.list_models()
    assert entry.path.endswith(first) and entry.metadata["split_count"] == 2


def test_a_gated_repo_without_a_token_says_how_to_get_access(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, qtbot: QtBot
) -> None:
    page = make_page()
    open_repo(page, qtbot, "carol/Gated-Tiny-GGUF")
    assert "could not read a model header" in page.repo.about.text()
    button = page.repo.download_buttons["gated-tiny.Q4_K_M.gguf"]
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        button.click()
    message = failed.args[0]
    assert message.startswith("Couldn't download gated-tiny.Q4_K_M.gguf:")
    assert "gated" in message and "hearth models login" in message
    assert not page.banner.isHidden() and page.banner_text.text() == message
    assert button.isEnabled() and button.text() == "Download", "it can be tried again"
    assert store.list_models() == []


def test_a_hub_failing_with_server_errors_is_reported_in_words(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page(retries=1)
    open_repo(page, qtbot, TINY_REPO)
    hub_with_models.fail_next[f"{TINY_REPO}/{Q4}"] = [500] * 10
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.repo.download_buttons[Q4].click()
    assert "The Hugging Face Hub is having trouble (HTTP 500)" in failed.args[0]
    assert page.banner_text.text() == failed.args[0]


def test_a_file_that_arrives_damaged_shows_the_error_on_its_row(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, qtbot: QtBot
) -> None:
    hub_with_models.corrupt.add(f"{TINY_REPO}/{Q4}")
    page = make_page()
    open_repo(page, qtbot, TINY_REPO)
    with qtbot.waitSignal(page.controller.downloadFinished, timeout=WAIT) as finished:
        page.repo.download_buttons[Q4].click()
    assert "arrived damaged" in finished.args[1]
    row = only_row(page)
    assert row.status == "failed" and row.state.text() == "Failed"
    assert not row.error_label.isHidden() and "arrived damaged" in row.error_label.text()
    assert not row.resume_button.isHidden() and row.resume_button.text() == "Try again"
    assert store.list_models() == []

    hub_with_models.corrupt.clear()
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        QTest.mouseClick(row.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.status == "done", timeout=WAIT)
    assert row.error_label.isHidden()


def start_download_that_stalls(page: ModelsPage, hub: FakeHub, qtbot: QtBot) -> DownloadRow:
    """Q8 (4 MiB+) cut after 1 MiB; the controller's long backoff holds it there."""
    hub.cut_after[f"{TINY_REPO}/{Q8}"] = MiB
    open_repo(page, qtbot, TINY_REPO)
    page.repo.download_buttons[Q8].click()
    qtbot.waitUntil(lambda: bool(page.downloads.rows), timeout=WAIT)
    row = only_row(page)
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=WAIT)
    assert row.status == "running" and not row.pause_button.isHidden()
    assert page.tabs.tabText(1) == "Downloads (1)"
    return row


def test_pause_keeps_the_part_and_resume_continues_from_it(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, qtbot: QtBot
) -> None:
    page = make_page(backoff_seconds=60)
    row = start_download_that_stalls(page, hub_with_models, qtbot)
    with qtbot.waitSignal(page.controller.downloadFinished, timeout=WAIT) as finished:
        QTest.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    assert finished.args == [row.download_id, ""]
    assert row.status == "paused" and row.state.text() == "Paused"
    assert not row.resume_button.isHidden() and row.pause_button.isHidden()
    assert "can be resumed" in row.detail.text()
    saved = store.get_download(row.download_id)
    assert saved.status == "paused" and saved.downloaded_bytes == MiB
    assert Path(saved.part_path).stat().st_size == MiB

    page.controller.downloader.backoff_seconds = 0.001
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        QTest.mouseClick(row.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.status == "done", timeout=WAIT)
    ranges = [h.get("range") for h in hub_with_models.resolve_requests(f"{TINY_REPO}/{Q8}")]
    assert ranges[-1] == f"bytes={MiB}-", "resumed from the part file, not from zero"
    assert [m.filename for m in store.list_models()] == [Q8]


def test_downloads_paused_by_closing_are_offered_to_resume_at_the_next_start(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, qtbot: QtBot
) -> None:
    first = make_page(backoff_seconds=60)
    row = start_download_that_stalls(first, hub_with_models, qtbot)
    assert first.controller.shutdown()
    assert store.get_download(row.download_id).status == "paused"

    again = make_page()
    qtbot.waitUntil(lambda: row.download_id in again.downloads.rows, timeout=WAIT)
    restored = again.downloads.rows[row.download_id]
    assert restored.status == "paused" and not restored.resume_button.isHidden()
    assert restored.bar.value() > 0 and restored.filename == Q8
    with qtbot.waitSignal(again.controller.libraryChanged, timeout=WAIT):
        restored.resume_button.click()
    qtbot.waitUntil(lambda: restored.status == "done", timeout=WAIT)


def test_cancel_deletes_the_part_file(
    hub_with_models: FakeHub, make_page: MakePage, store: Store, qtbot: QtBot
) -> None:
    page = make_page(backoff_seconds=60)
    row = start_download_that_stalls(page, hub_with_models, qtbot)
    part = Path(store.get_download(row.download_id).part_path)
    assert part.exists()
    with qtbot.waitSignal(page.controller.downloadFinished, timeout=WAIT):
        row.cancel_button.click()
    assert row.status == "cancelled" and row.cancel_button.isHidden()
    assert not part.exists()
    page.downloads.clear_finished()
    assert page.downloads.rows == {} and not page.downloads.empty.isHidden()


# ------------------------------------------------------------------ offline
def test_offline_mode_shows_saved_results_with_a_notice_and_makes_no_request(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    online = make_page()
    search(online, qtbot, "tiny")
    assert online.controller.shutdown()
    hub_with_models.requests.clear()

    page = make_page(offline=True)
    wait_idle(page, qtbot)
    assert page.tabs.currentWidget() is page.library
    assert not page.offline_badge.isHidden()
    empty = page.library.empty.text()
    assert "needs a model file (.gguf)" in empty and "import it" in empty
    assert not page.library.empty_import_button.isHidden()

    search(page, qtbot, "tiny")
    assert result_ids(page) == [TINY_REPO, "bob/tiny-llama-GGUF", "carol/Gated-Tiny-GGUF"]
    assert not page.browse.notice.isHidden()
    assert page.browse.notice.text().startswith("Offline mode: showing the results saved on")

    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.open_repo(TINY_REPO)
    assert "offline mode" in failed.args[0]
    assert hub_with_models.requests == []


# ------------------------------------------------------------------ the library
def test_importing_a_gguf_adds_it_and_delete_removes_it(
    make_page: MakePage,
    store: Store,
    models_dir: Path,
    gguf_files: GgufFiles,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = make_page()
    wait_idle(page, qtbot)
    assert "No models yet" in page.library.empty.text()
    source = gguf_files.tiny("my-model.Q4_K_M.gguf")
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        page.controller.import_files([source])
    [entry] = store.list_models()
    assert Path(entry.path) == models_dir / "imported" / source.name
    tree = page.library.list
    assert tree.topLevelItemCount() == 1 and item(tree, 0).text(0) == entry.name
    assert item(tree, 0).text(5) == "imported"
    assert page.library.empty_box.isHidden() and not page.library.action_bar.isHidden()

    tree.setCurrentItem(item(tree, 0))
    loaded: list[object] = []
    page.loadRequested.connect(loaded.append)
    page.library.load_button.click()
    assert loaded == [entry]

    asked: list[str] = []

    def answer(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        page.library.delete_button.click()
    assert entry.name in asked[0]
    assert store.list_models() == [] and not Path(entry.path).exists()
    assert tree.topLevelItemCount() == 0 and not page.library.empty_box.isHidden()


def test_a_dropped_gguf_file_is_imported_and_a_damaged_one_explained(
    make_page: MakePage, store: Store, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    page = make_page()
    wait_idle(page, qtbot)

    def drop(path: Path) -> None:
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(path))])
        event = QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        page.dropEvent(event)

    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        drop(gguf_files.tiny("dropped.gguf"))
    assert page.tabs.currentWidget() is page.library
    assert [Path(m.path).name for m in store.list_models()] == ["dropped.gguf"]

    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        drop(gguf_files.wrong_magic())
    assert failed.args[0].startswith("Couldn't import wrong-magic.gguf:")
    assert page.banner_text.text() == failed.args[0]


def test_a_damaged_file_in_the_models_folder_is_named_not_listed(
    make_page: MakePage, models_dir: Path, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    page = make_page()
    models_dir.mkdir(parents=True, exist_ok=True)
    gguf_files.truncated().rename(models_dir / "broken.gguf")
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.library.refresh_button.click()
    assert failed.args[0].startswith("Hearth skipped 1 file it can't use")
    assert "broken.gguf" in failed.args[0]
    assert page.banner_text.text() == failed.args[0]
    assert page.library.models == []


def test_model_defaults_are_saved_per_model(
    make_page: MakePage, store: Store, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    page = make_page()
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        page.controller.import_files([gguf_files.tiny()])
    [entry] = store.list_models()
    dialog = DefaultsDialog(entry)
    qtbot.addWidget(dialog)
    assert dialog.values() == (
        {"threads": None, "gpu_layers": None, "context_length": None},
        None,
    ), "nothing set: the app's settings apply"
    dialog.threads.setValue(4)
    dialog.context.setValue(8192)
    assert dialog.context.value() == 2048, "no more than the model was trained for"
    assert any("At most 2,048 tokens" in label.text() for label in dialog.findChildren(QLabel))
    dialog.context.setValue(1024)
    dialog.chat_format.setCurrentIndex(dialog.chat_format.findData("chatml"))
    changes, chat_format = dialog.values()
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        page.controller.set_model_defaults(entry.name, changes, chat_format)
    [saved] = store.list_models()
    assert saved.overrides == {"threads": 4, "context_length": 1024}
    assert saved.chat_format == "chatml"

    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.controller.set_model_defaults(entry.name, {"context_length": 100}, None)
    assert "context_length must be" in failed.args[0]
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT) as failed:
        page.controller.set_model_defaults(entry.name, {"context_length": 16384}, None)
    assert "trained for at most 2,048 tokens" in failed.args[0]


def test_reveal_opens_the_models_folder(
    make_page: MakePage, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    page = make_page()
    model = models_dir / "acme" / "Repo" / "m.gguf"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"")
    assert page.controller.reveal(model)
    assert [u.toLocalFile() for u in opened] == [str(model.parent)]


# ------------------------------------------------------------------ embedding models
def test_embedding_models_are_suggested_and_open_in_the_repo_view(
    fake_hub: FakeHub, make_page: MakePage, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    suggested = EMBEDDING_STARTERS[1]
    fake_hub.add_model(
        suggested.repo_id, {suggested.filename: gguf_files.tiny("embed.gguf").read_bytes()}
    )
    page = make_page()
    assert not page.browse.suggestions.isHidden()
    buttons = page.browse.suggestion_buttons
    assert list(buttons) == [s.repo_id for s in EMBEDDING_STARTERS]
    for starter in EMBEDDING_STARTERS:
        assert buttons[starter.repo_id].text().startswith(starter.label)
        assert "MB" in buttons[starter.repo_id].text(), "with its approximate size"

    with qtbot.waitSignal(page.controller.repoLoaded, timeout=WAIT) as loaded:
        QTest.mouseClick(buttons[suggested.repo_id], Qt.MouseButton.LeftButton)
    assert loaded.args[0].repo_id == suggested.repo_id
    assert page.tabs.currentWidget() is page.browse_stack
    assert page.browse_stack.currentWidget() is page.repo
    assert page.repo.title.text() == suggested.repo_id
    assert list(page.repo.download_buttons) == [suggested.filename]


def test_chat_models_are_suggested_beside_the_embedding_models(
    fake_hub: FakeHub, make_page: MakePage, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    page = make_page()
    chat = page.browse.chat_suggestion_buttons
    assert chat, "at least one chat model is suggested"
    assert set(chat) <= {s.repo_id for s in STARTERS}
    first = next(s for s in STARTERS if s.repo_id == next(iter(chat)))
    fake_hub.add_model(first.repo_id, {first.filename: gguf_files.tiny().read_bytes()})
    with qtbot.waitSignal(page.controller.repoLoaded, timeout=WAIT) as loaded:
        QTest.mouseClick(next(iter(chat.values())), Qt.MouseButton.LeftButton)
    assert loaded.args[0].repo_id == next(iter(chat))


def test_offline_mode_hides_the_embedding_suggestions(make_page: MakePage) -> None:
    page = make_page(offline=True)
    assert page.browse.suggestions.isHidden()


def embedding_marks(page: ModelsPage, name: str) -> tuple[list[str], QPushButton | None]:
    """The badge texts in a library row's last column, and its Use for documents button."""
    tree = page.library.list
    rows = [item(tree, i) for i in range(tree.topLevelItemCount())]
    [row] = [r for r in rows if r.text(0) == name]
    holder = tree.itemWidget(row, 6)
    assert holder is not None, f"{name} has marks"
    labels = [label.text() for label in holder.findChildren(QLabel)]
    buttons = holder.findChildren(QPushButton)
    return labels, buttons[0] if buttons else None


def test_an_embedding_model_in_the_library_says_documents_use_it_and_cannot_be_loaded(
    make_page: MakePage, store: Store, models_dir: Path, qtbot: QtBot
) -> None:
    embedder = Library(store, models_dir).import_file(minilm_path(), "link")
    assert store.get_setting("embedding_model") == embedder.name
    page = make_page()
    labels, button = embedding_marks(page, embedder.name)
    assert "Embedding model" in labels
    assert any("Used for documents" in text for text in labels)
    assert button is None, "the model in use offers no Use button"

    loaded: list[object] = []
    page.loadRequested.connect(loaded.append)
    row = item(page.library.list, 0)
    page.library.list.setCurrentItem(row)
    assert page.library.load_button.isHidden(), "no chat Load for an embedding model"
    assert not page.library.embedding_note.isHidden()
    page.library.list.itemDoubleClicked.emit(row, 0)
    assert loaded == []


def test_use_for_documents_switches_the_embedding_model_setting(
    make_page: MakePage, store: Store, models_dir: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    library = Library(store, models_dir)
    first = library.import_file(minilm_path(), "link")
    second_file = tmp_path / "second-embedder.gguf"
    shutil.copyfile(minilm_path(), second_file)
    second = library.import_file(second_file, "link")
    assert store.get_setting("embedding_model") == first.name
    page = make_page()
    _, button = embedding_marks(page, second.name)
    assert button is not None and button.text() == "Use for documents"

    changed: list[str] = []
    page.controller.embeddingModelChanged.connect(changed.append)
    with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert store.get_setting("embedding_model") == second.name
    assert changed == [second.name]
    labels, button = embedding_marks(page, second.name)
    assert any("Used for documents" in text for text in labels) and button is None
    _, first_button = embedding_marks(page, first.name)
    assert first_button is not None, "the other one can be chosen again"


# ------------------------------------------------------------------ the GUI thread
def test_the_gui_thread_keeps_running_while_hub_calls_and_downloads_run(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page()
    wait_idle(page, qtbot)
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    gui = threading.get_ident()
    threads: list[int] = []
    page.controller.searchResults.connect(lambda *_: threads.append(threading.get_ident()))
    page.controller.downloadProgress.connect(lambda *_: threads.append(threading.get_ident()))
    busy: list[bool] = []
    page.controller.busy.connect(busy.append)
    try:
        # The hub holds each answer until the event loop has turned a few times: a
        # search or download run on the GUI thread would stop the timer and time out.
        hub_with_models.hold_answers()
        held = hub_with_models.held
        page.browse.search_field.setText("tiny")
        with qtbot.waitSignal(page.controller.searchResults, timeout=WAIT):
            QTest.keyClick(page.browse.search_field, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: hub_with_models.held > held, timeout=WAIT)
            asked = ticks
            qtbot.waitUntil(lambda: ticks >= asked + 5, timeout=WAIT)
            hub_with_models.release_answers()
        qtbot.waitUntil(lambda: busy == [True, False], timeout=WAIT)
        open_repo(page, qtbot, TINY_REPO)
        hub_with_models.hold_answers()
        held = hub_with_models.held
        with qtbot.waitSignal(page.controller.libraryChanged, timeout=WAIT):
            page.repo.download_buttons[Q8].click()
            qtbot.waitUntil(lambda: hub_with_models.held > held, timeout=WAIT)
            asked = ticks
            qtbot.waitUntil(lambda: ticks >= asked + 5, timeout=WAIT)
            hub_with_models.release_answers()
    finally:
        hub_with_models.release_answers()
        timer.stop()
    assert threads and set(threads) == {gui}, "every signal arrives on the GUI thread"


def test_buttons_in_the_file_table_are_real_buttons(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page()
    open_repo(page, qtbot, TINY_REPO)
    buttons = page.repo.files.findChildren(QPushButton)
    assert {b.text() for b in buttons} == {"Download"}
    assert len(page.repo.download_buttons) == 4


def test_a_hub_error_goes_when_the_user_moves_on_and_browse_says_the_hub_is_unreachable(
    fake_hub: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    fake_hub.stop()  # nothing listens any more: connection refused
    page = make_page()
    page.browse.search_field.setText("tiny")
    with qtbot.waitSignal(page.controller.failed, timeout=WAIT):
        page.browse.run_search()
    assert not page.banner.isHidden()
    empty = page.browse.empty.text()
    assert "can't reach the Hugging Face Hub" in empty and "Import a .gguf file" in empty
    assert "try “qwen”" not in empty
    assert page.browse.suggestions.isHidden(), "nothing to download while unreachable"
    page.show_library()
    assert page.banner.isHidden(), "the hub's error is not the library's"
    page.show_browse()
    assert page.banner.isHidden()
