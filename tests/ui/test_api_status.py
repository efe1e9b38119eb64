"""The desktop's API in the window: switched on in Settings, it answers with the model the
desktop has loaded, the request shows in the recent requests, and switched off the port
closes; the window's own answers and API requests share the model without clashing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx  # the HTTP client openai uses here
import openai
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from app.context import Context
from app.engine.events import LoadOptions
from ui.application import build_window, create_application
from ui.main_window import MainWindow
from ui.settings.dialog import SettingsDialog


@pytest.fixture
def window(ctx: Context, qtbot: QtBot, tiny_model: Path) -> Iterator[MainWindow]:
    ctx.store.set_setting("max_tokens", 16)
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.engine.modelLoaded, timeout=10_000):
        win.engine.load(tiny_model, LoadOptions(n_ctx=512))
    yield win
    win.shutdown()


def switch_api(window: MainWindow, qtbot: QtBot, on: bool, port: str = "0") -> None:
    """Settings → API: tick or untick the switch, set the port, Apply."""
    dialog = SettingsDialog(window.settings, window)
    dialog.settingsChanged.connect(window._settings_changed)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_group("API")
    box = dialog.form_for("api_server").editor("api_server")
    port_edit = dialog.form_for("api_port").editor("api_port")
    assert isinstance(box, QCheckBox) and isinstance(port_edit, QLineEdit)
    box.setChecked(on)
    port_edit.setText(port)
    QTest.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    dialog.close()


def test_the_api_switched_on_answers_with_the_loaded_model_and_off_closes_the_port(
    window: MainWindow, qtbot: QtBot
) -> None:
    indicator = window.api_indicator
    assert not indicator.isVisibleTo(window), "off by default"
    switch_api(window, qtbot, True)
    url = window.api.url
    assert url is not None and url.startswith("http://127.0.0.1:")
    assert indicator.isVisibleTo(window) and indicator.text() == f"API on {url}"

    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)
    reply = client.chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "Hello"}], max_tokens=6
    )
    assert reply.model == "tiny-llama" and reply.choices[0].message.content
    indicator.click()
    dialog = indicator.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=5_000)
    items = [dialog.table.item(0, c) for c in range(dialog.table.columnCount())]
    cells = [item.text() if item is not None else "" for item in items]
    assert cells[2] == "POST /v1/chat/completions" and cells[3] == "tiny-llama"
    assert cells[5] == "6" and cells[7] == "200" and cells[1].startswith("127.0.0.1:")
    assert url in dialog.status_label.text() and "tiny-llama" in dialog.status_label.text()

    switch_api(window, qtbot, False)
    assert window.api.url is None and not indicator.isVisibleTo(window)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models")
    assert "The API is off" in dialog.status_label.text()
    assert dialog.table.rowCount() == 1, "the requests seen stay listed"


def test_the_windows_answer_and_an_api_request_share_the_model(
    window: MainWindow, qtbot: QtBot
) -> None:
    switch_api(window, qtbot, True)
    url = window.api.url
    assert url is not None
    failures: list[str] = []
    window.engine.failed.connect(failures.append)
    replies: list[object] = []

    def ask() -> None:
        client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)
        try:
            replies.append(client.completions.create(model="tiny-llama", prompt="Once",
                                                     max_tokens=12))  # fmt: skip
        except Exception as exc:  # reported below
            replies.append(exc)

    chat = window.ctx.store.create_chat()
    asking = threading.Thread(target=ask)
    with qtbot.waitSignal(window.engine.generationDone, timeout=20_000) as done:
        window.engine.send(chat.id, "Hello")
        asking.start()
    qtbot.waitUntil(lambda: bool(replies), timeout=20_000)
    asking.join(10)
    assert failures == [] and done.args[0].answer
    assert isinstance(replies[0], openai.types.Completion), replies[0]
    assert replies[0].usage is not None and replies[0].usage.completion_tokens == 12


def test_a_port_in_use_is_said_in_words_and_the_window_carries_on(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        switch_api(window, qtbot, True, str(port))
    assert len(warnings) == 1 and f"port {port}: another program" in warnings[0]
    assert window.api.url is None
    assert window.api_indicator.text() == "API off: could not start"
    assert window.isVisible()
