"""A repository's files against the fake hub: grouped, judged for this computer, one
recommended."""

from __future__ import annotations

from typing import cast

from PySide6.QtWidgets import QLabel, QPushButton, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from tests.app.conftest import TINY_REPO
from tests.support.fake_hub import FakeHub
from tests.ui.models.conftest import Q8, WAIT, MakePage, item, open_repo, search
from ui.models.controller import FileRow
from ui.models.page import ModelsPage


def top_items(page: ModelsPage) -> list[QTreeWidgetItem]:
    tree = page.repo.files
    return [item(tree, i) for i in range(tree.topLevelItemCount())]


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


def test_buttons_in_the_file_table_are_real_buttons(
    hub_with_models: FakeHub, make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page()
    open_repo(page, qtbot, TINY_REPO)
    buttons = page.repo.files.findChildren(QPushButton)
    assert {b.text() for b in buttons} == {"Download"}
    assert len(page.repo.download_buttons) == 4
