"""The settings dialog, the form it is built from, and the chat settings panel: real
widgets on a real store, driven through pytest-qt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QFileDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from app.chat.runner import sampling_for
from app.store import Store
from ui.chat.controller import ChatsController
from ui.chat.settings_panel import ChatSettingsPanel
from ui.settings.dialog import SettingsController, SettingsDialog
from ui.settings.form import SettingsForm


@pytest.fixture
def dialog(store: Store, qtbot: QtBot) -> SettingsDialog:
    shown = SettingsDialog(SettingsController(store))
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def _line_edit(dialog: SettingsDialog, name: str) -> QLineEdit:
    editor = dialog.form_for(name).editor(name)
    assert isinstance(editor, QLineEdit)
    return editor


def _type(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.selectAll()
    edit.del_()
    QTest.keyClicks(edit, text)


# ------------------------------------------------------------------ dialog
def test_bad_temperature_is_explained_next_to_the_field_and_nothing_is_saved(
    dialog: SettingsDialog, store: Store, qtbot: QtBot
) -> None:
    dialog.show_group("Sampling")
    edit = _line_edit(dialog, "temperature")
    _type(qtbot, edit, "7")

    error = dialog.form_for("temperature").error_label("temperature")
    assert error.isVisibleTo(dialog)
    assert error.text() == "Must be a number from 0 to 5."
    # Right under the field it is about, in the same cell.
    assert error.parent() is edit.parent()
    assert 0 <= error.geometry().top() - edit.geometry().bottom() <= 12
    assert edit.property("invalid") is True
    assert dialog.errors() == {"temperature": "Must be a number from 0 to 5."}
    assert not dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    assert "Temperature" in dialog.status_label.text()

    QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.apply() is False
    assert store.stored_settings() == {}

    _type(qtbot, edit, "abc")
    assert error.text() == "Must be a number from 0 to 5."
    _type(qtbot, edit, "0.4")
    assert not error.isVisibleTo(dialog)
    assert edit.property("invalid") is False
    assert dialog.ok_button.isEnabled()


def test_a_good_value_is_stored_on_ok(dialog: SettingsDialog, store: Store, qtbot: QtBot) -> None:
    _type(qtbot, _line_edit(dialog, "temperature"), "1.3")
    _type(qtbot, _line_edit(dialog, "threads"), "6")
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(dialog.settingsChanged) as changed:
        QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert changed.args == [{"threads": 6, "temperature": 1.3}]
    assert store.get_setting("temperature") == 1.3
    assert store.get_setting("threads") == 6
    assert dialog.result() == SettingsDialog.DialogCode.Accepted


def test_whole_numbers_and_folders_are_checked_too(
    dialog: SettingsDialog, store: Store, qtbot: QtBot
) -> None:
    _type(qtbot, _line_edit(dialog, "top_k"), "2.5")
    _type(qtbot, _line_edit(dialog, "models_dir"), "")
    assert dialog.errors() == {
        "top_k": "Must be a whole number from 0 to 100000.",
        "models_dir": "Must be a folder path.",
    }
    assert "Top-k, Models folder" in dialog.status_label.text()
    assert dialog.nav.item(1).text().startswith("Sampling")
    assert dialog.nav.item(1).text() != "Sampling", "the page with a problem is marked"
    assert not dialog.apply()
    assert store.stored_settings() == {}


def test_browse_fills_the_folder_field(
    dialog: SettingsDialog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path))
    dialog.show_group("Models")
    form = dialog.form_for("models_dir")
    browse = form.findChild(QPushButton, "browseButton")
    assert browse is not None
    browse.click()
    assert form.values()["models_dir"] == str(tmp_path)


def test_apply_is_enabled_only_by_a_change(
    dialog: SettingsDialog, store: Store, qtbot: QtBot
) -> None:
    assert dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    _type(qtbot, _line_edit(dialog, "seed"), "42")
    assert dialog.apply_button.isEnabled()
    QTest.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert store.get_setting("seed") == 42
    assert dialog.isVisible(), "Apply keeps the dialog open"
    assert not dialog.apply_button.isEnabled()


def test_restore_defaults_puts_every_field_back_and_ok_saves_it(store: Store, qtbot: QtBot) -> None:
    store.set_setting("temperature", 1.5)
    store.set_setting("theme", "dark")
    store.set_setting("offline", True)
    dialog = SettingsDialog(SettingsController(store))
    qtbot.addWidget(dialog)
    assert _line_edit(dialog, "temperature").text() == "1.5"

    QTest.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert _line_edit(dialog, "temperature").text() == "0.8"
    assert dialog.values()["theme"] == "system"
    assert dialog.values()["offline"] is False
    assert store.get_setting("theme") == "dark", "nothing saved before OK"

    with qtbot.waitSignal(dialog.settingsChanged) as changed:
        QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert changed.args == [{"temperature": 0.8, "offline": False, "theme": "system"}]
    assert store.stored_settings() == {}, "defaults are not stored as user values"
    assert store.get_setting("temperature") == 0.8


def test_choosing_a_theme_emits_settings_changed(
    dialog: SettingsDialog, store: Store, qtbot: QtBot
) -> None:
    dialog.show_group("Appearance")
    combo = dialog.form_for("theme").editor("theme")
    assert isinstance(combo, QComboBox)
    assert [combo.itemData(i) for i in range(combo.count())] == ["system", "light", "dark"]
    combo.setCurrentIndex(combo.findData("dark"))
    with qtbot.waitSignal(dialog.settingsChanged) as changed:
        QTest.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert changed.args == [{"theme": "dark"}]
    assert store.get_setting("theme") == "dark"


def test_cancel_stores_nothing(dialog: SettingsDialog, store: Store, qtbot: QtBot) -> None:
    _type(qtbot, _line_edit(dialog, "temperature"), "1.9")
    QTest.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == SettingsDialog.DialogCode.Rejected
    assert store.stored_settings() == {}


def test_controller_refuses_a_bad_value_and_stores_none_of_the_batch(
    store: Store, qtbot: QtBot
) -> None:
    controller = SettingsController(store)
    with qtbot.waitSignal(controller.failed) as failed:
        assert controller.save({"top_p": 0.5, "temperature": 9}) is False
    assert "temperature must be a number from 0 to 5" in failed.args[0]
    assert store.stored_settings() == {}


# -------------------------------------------------------------------- form
def test_optional_form_treats_empty_as_the_default(qtbot: QtBot) -> None:
    form = SettingsForm(names=["temperature", "offline", "theme"], optional=True)
    qtbot.addWidget(form)
    form.set_defaults({"temperature": 0.8, "offline": False, "theme": "system"})
    temperature = form.editor("temperature")
    assert isinstance(temperature, QLineEdit)
    assert temperature.placeholderText() == "Default: 0.8"
    assert form.values() == {}
    assert form.is_valid()
    form.set_values({"temperature": 0.3, "offline": True, "theme": "dark"})
    assert form.values() == {"temperature": 0.3, "offline": True, "theme": "dark"}
    form.clear()
    assert form.values() == {}


# -------------------------------------------------------------- chat panel
@pytest.fixture
def chats(store: Store, tmp_path: Path) -> Iterator[ChatsController]:
    controller = ChatsController(store, tmp_path / "home")
    yield controller
    controller.shutdown()


@pytest.fixture
def panel(chats: ChatsController, qtbot: QtBot) -> ChatSettingsPanel:
    shown = ChatSettingsPanel(chats)
    qtbot.addWidget(shown)
    shown.resize(380, 800)
    shown.show()
    return shown


def _panel_edit(panel: ChatSettingsPanel, name: str) -> QLineEdit:
    editor = panel.form.editor(name)
    assert isinstance(editor, QLineEdit)
    return editor


def test_chat_panel_saves_system_prompt_and_overrides_into_the_chat(
    panel: ChatSettingsPanel, store: Store, qtbot: QtBot
) -> None:
    store.set_setting("top_p", 0.9)
    chat = store.create_chat("Baking", params={"kept": "by others"})
    panel.set_chat(chat.id)
    assert _panel_edit(panel, "top_p").placeholderText() == "Default: 0.9"
    assert _panel_edit(panel, "temperature").text() == ""

    QTest.keyClicks(panel.system_prompt_edit, "You are a patient baker.")
    QTest.keyClicks(_panel_edit(panel, "temperature"), "0.2")
    QTest.keyClicks(_panel_edit(panel, "context_length"), "8192")
    panel.stop_edit.setPlainText("###\n\\n\\nUser:")
    with qtbot.waitSignal(panel.chatSettingsChanged) as saved:
        QTest.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == [chat.id]

    stored = store.get_chat(chat.id)
    assert stored.system_prompt == "You are a patient baker."
    assert stored.params == {
        "kept": "by others",
        "temperature": 0.2,
        "context_length": 8192,
        "stop": ["###", "\n\nUser:"],
    }
    sampling = sampling_for(store, stored)
    assert (sampling.temperature, sampling.top_p, sampling.stop) == (0.2, 0.9, ("###", "\n\nUser:"))

    # Reopened, the panel shows what was saved; emptying a field goes back to the default.
    panel.set_chat(chat.id)
    assert _panel_edit(panel, "temperature").text() == "0.2"
    assert panel.stop_edit.toPlainText() == "###\n\\n\\nUser:"
    QTest.mouseClick(panel.defaults_button, Qt.MouseButton.LeftButton)
    assert panel.save()
    assert store.get_chat(chat.id).params == {"kept": "by others", "stop": ["###", "\n\nUser:"]}


def test_chat_panel_refuses_a_bad_override(
    panel: ChatSettingsPanel, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat(params={"top_k": 10})
    panel.set_chat(chat.id)
    _type(qtbot, _panel_edit(panel, "top_k"), "lots")
    assert panel.form.error_label("top_k").isVisibleTo(panel)
    assert not panel.save_button.isEnabled()
    assert panel.save() is False
    assert store.get_chat(chat.id).params == {"top_k": 10}


def test_chat_panel_refuses_a_context_past_what_the_chats_model_was_trained_for(
    panel: ChatSettingsPanel, chats: ChatsController, store: Store, qtbot: QtBot
) -> None:
    entry = store.add_model("/models/tiny.gguf", "tiny-llama", 1000, context_length=2048)
    chat = store.create_chat("Long talk", model=entry.name)
    panel.set_chat(chat.id)
    _type(qtbot, _panel_edit(panel, "context_length"), "16384")
    with qtbot.waitSignal(chats.failed) as failed:
        assert panel.save() is False
    assert "tiny-llama was trained for at most 2,048 tokens of context" in failed.args[0]
    assert "16,384" in failed.args[0]
    assert store.get_chat(chat.id).params == {}
    _panel_edit(panel, "context_length").clear()
    _type(qtbot, _panel_edit(panel, "context_length"), "2048")
    assert panel.save() is True
    assert store.get_chat(chat.id).params == {"context_length": 2048}


def test_presets_are_saved_to_a_file_and_applied_to_another_chat(
    panel: ChatSettingsPanel, chats: ChatsController, store: Store, qtbot: QtBot
) -> None:
    first = store.create_chat("First")
    second = store.create_chat("Second")
    panel.set_chat(first.id)
    QTest.keyClicks(panel.system_prompt_edit, "Answer in French.")
    QTest.keyClicks(_panel_edit(panel, "temperature"), "0.1")
    panel.stop_edit.setPlainText("FIN")
    assert not panel.save_preset_button.isEnabled(), "a preset needs a name"
    QTest.keyClicks(panel.preset_name, "French")
    with qtbot.waitSignal(chats.presetsChanged):
        QTest.mouseClick(panel.save_preset_button, Qt.MouseButton.LeftButton)
    assert panel.presets() == ["French"]
    saved = json.loads(chats.presets_path.read_text(encoding="utf-8"))
    assert saved["presets"]["French"] == {
        "system_prompt": "Answer in French.",
        "params": {"temperature": 0.1, "stop": ["FIN"]},
    }
    assert store.get_chat(first.id).system_prompt == "", "saving a preset leaves the chat alone"

    panel.set_chat(second.id)
    assert panel.system_prompt_edit.toPlainText() == ""
    panel.preset_combo.setCurrentIndex(panel.preset_combo.findData("French"))
    panel.preset_combo.activated.emit(panel.preset_combo.currentIndex())
    assert panel.system_prompt_edit.toPlainText() == "Answer in French."
    assert panel.form.values() == {"temperature": 0.1}
    assert panel.save()
    chat = store.get_chat(second.id)
    assert (chat.system_prompt, chat.params) == (
        "Answer in French.",
        {"temperature": 0.1, "stop": ["FIN"]},
    )

    # A new controller (next start) reads the same presets; one can be deleted.
    again = ChatsController(store, chats.presets_path.parent)
    assert [p.name for p in again.presets()] == ["French"]
    panel.preset_combo.setCurrentIndex(panel.preset_combo.findData("French"))
    QTest.mouseClick(panel.delete_preset_button, Qt.MouseButton.LeftButton)
    assert panel.presets() == []
    assert again.presets() == []


def test_a_damaged_presets_file_is_reported_in_words(chats: ChatsController, qtbot: QtBot) -> None:
    chats.presets_path.parent.mkdir(parents=True)
    chats.presets_path.write_text("{not json", encoding="utf-8")
    with qtbot.waitSignal(chats.failed) as failed:
        assert chats.presets() == []
    assert "presets file" in failed.args[0] and "cannot be read" in failed.args[0]


def test_chat_panel_with_a_chat_that_is_gone_edits_nothing(
    panel: ChatSettingsPanel, store: Store
) -> None:
    panel.set_chat(4242)
    assert panel.chat_id is None
    assert not panel.isEnabled()
    assert "no chat with id 4242" in panel.subtitle.text()
    assert panel.save() is False
