"""A remote model in the chat page, as a user meets it: listed in the picker beside the
library, chosen with Use, answering with streaming, stats and stop, a dead server told in
the banner with the chat kept; and Settings → Remote servers adding one. The server is a
real `hearth serve` in a second process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.engine.events import LoadOptions
from app.remote.servers import RemoteServers
from app.secrets import Secrets
from app.store import Store
from tests.support.serve_process import ServeProcess
from tests.ui.chat.test_page import TIMEOUT, make_page, send_by_keyboard, wait_idle
from ui.chat.page import ChatPage
from ui.engine_controller import EngineController
from ui.settings.remote_servers import RemoteServersPanel

REMOTE = "bigbox/tiny-llama"


@pytest.fixture(scope="module")
def bigbox(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("bigbox"), tiny_model, context=2048)
    yield server
    server.stop()


@pytest.fixture
def servers(store: Store, tmp_path: Path) -> RemoteServers:
    return RemoteServers(store, Secrets(tmp_path))


@pytest.fixture
def controller(store: Store, servers: RemoteServers) -> Iterator[EngineController]:
    store.set_setting("temperature", 0.0)
    store.set_setting("max_tokens", 12)
    ctrl = EngineController(store, remote_servers=servers)
    yield ctrl
    assert ctrl.shutdown_and_wait()


def listed_page(store: Store, controller: EngineController, qtbot: QtBot) -> ChatPage:
    page = make_page(store, controller, qtbot)
    with qtbot.waitSignal(controller.remoteModels, timeout=TIMEOUT):
        controller.refresh_remote_models()
    return page


def use_remote(page: ChatPage, controller: EngineController, qtbot: QtBot) -> None:
    index = page.model_picker.findData(REMOTE)
    assert index >= 0, "the remote model is in the picker"
    page.model_picker.setCurrentIndex(index)
    assert page.load_button.text() == "Use"
    with qtbot.waitSignal(controller.remoteReady, timeout=TIMEOUT):
        QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)


def test_a_remote_model_is_picked_and_answers_like_a_local_one(
    store: Store, controller: EngineController, servers: RemoteServers, bigbox: ServeProcess,
    tiny_model: Path, qtbot: QtBot,
) -> None:  # fmt: skip
    servers.add("bigbox", bigbox.url)
    controller.engine.load(tiny_model, LoadOptions(n_ctx=1024))
    page = listed_page(store, controller, qtbot)
    labels = [page.model_picker.itemText(i) for i in range(page.model_picker.count())]
    assert labels == [f"{REMOTE} · remote"]  # the loaded file is not in the library
    use_remote(page, controller, qtbot)
    assert page.model_status.text() == "● Connected"
    assert page.load_button.text() == "Stop using"

    with qtbot.waitSignal(page.chatChanged, timeout=TIMEOUT) as created:
        send_by_keyboard(page, qtbot, "Hello over there")
    wait_idle(controller, qtbot)
    _question, answer = store.thread(created.args[0])
    assert answer.model == REMOTE and answer.status == "done" and answer.content
    assert store.get_chat(created.args[0]).model == REMOTE
    card = page.view.message_widget(answer.id)
    assert card is not None and card.displayed_text() == answer.content
    assert "12 tokens" in card.stats_label.text()

    QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)  # Stop using
    assert controller.remote is None and controller.answering_with is controller.loaded


def test_a_server_that_went_away_is_said_in_the_banner_and_the_chat_is_kept(
    store: Store, controller: EngineController, servers: RemoteServers, tiny_model: Path,
    tmp_path: Path, qtbot: QtBot,
) -> None:  # fmt: skip
    dying = ServeProcess(tmp_path / "dying", tiny_model)
    try:
        servers.add("bigbox", dying.url)
        page = listed_page(store, controller, qtbot)
        use_remote(page, controller, qtbot)
        dying.kill()
        with qtbot.waitSignal(page.chatChanged, timeout=TIMEOUT) as created:
            send_by_keyboard(page, qtbot, "Are you there?")
        wait_idle(controller, qtbot)
    finally:
        dying.stop()
    question, answer = store.thread(created.args[0])
    assert question.content == "Are you there?"
    assert answer.status == "error" and answer.error and "Can't reach bigbox" in answer.error
    shown = page.error_text()
    assert shown is not None and "Can't reach bigbox" in shown
    assert page.composer.edit.isEnabled()


def test_settings_add_a_server_keep_its_key_private_and_list_its_models(
    store: Store, controller: EngineController, servers: RemoteServers, bigbox: ServeProcess,
    tmp_path: Path, qtbot: QtBot,
) -> None:  # fmt: skip
    panel = RemoteServersPanel(servers, controller)
    qtbot.addWidget(panel)
    panel.show()
    panel.name_edit.setText("bad name")
    panel.url_edit.setText(bigbox.url)
    panel.save()
    assert "can't name a server" in panel.status.text() and servers.endpoints() == []
    panel.name_edit.setText("bigbox")
    panel.key_edit.setText("sk-private")
    with qtbot.waitSignal(controller.remoteModels, timeout=TIMEOUT):
        panel.save()
    item = panel.table.topLevelItem(0)
    assert item is not None
    assert [item.text(i) for i in range(4)] == ["bigbox", bigbox.url, "saved", "tiny-llama"]
    assert panel.key_edit.text() == ""
    assert servers.has_key("bigbox")
    assert b"sk-private" not in Path(store.path).read_bytes()
    panel.table.setCurrentItem(item)
    panel.remove_selected()
    assert panel.table.topLevelItemCount() == 0 and not servers.has_key("bigbox")
