"""The library: import, delete, damaged files, per-model defaults, reveal, and embedding
models used for documents."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.models.library import Library
from app.store import Store
from tests.conftest import GgufFiles
from tests.support.minilm import minilm_path
from tests.ui.models.conftest import WAIT, MakePage, item, wait_idle
from ui.models.library import DefaultsDialog
from ui.models.page import ModelsPage


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
