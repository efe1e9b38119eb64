"""Fixtures and helpers for the models screens' tests: a ModelsPage over a fresh controller,
the fake hub, and the steps the tests share (search, open a repository, read a row)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from app.store import Store
from tests.app import conftest as hub_fixtures
from ui.models.controller import FileRow, ModelsController
from ui.models.page import ModelsPage

# The hub fixtures live beside the core's tests; these names make them usable here.
fake_hub = hub_fixtures.fake_hub
hub_with_models = hub_fixtures.hub_with_models

Q4 = "tiny-chat.Q4_K_M.gguf"
Q8 = "tiny-chat.Q8_0.gguf"
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


def wait_idle(page: ModelsPage, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not page.controller.is_busy, timeout=WAIT)
