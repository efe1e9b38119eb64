"""The Models page as a whole: offline mode, dropped files, and the GUI thread kept free
while the hub and downloads work."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.store import Store
from tests.app.conftest import TINY_REPO
from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub
from tests.ui.models.conftest import Q8, WAIT, MakePage, open_repo, result_ids, search, wait_idle


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
