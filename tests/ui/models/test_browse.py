"""Browsing the hub against the fake hub: search, sort, pages, suggested models, a hub
that can't be reached."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.models.catalog import EMBEDDING_STARTERS, RERANKER_STARTERS, STARTERS
from tests.app.conftest import TINY_REPO
from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub
from tests.ui.models.conftest import WAIT, MakePage, item, result_ids, search


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


def test_a_reranker_is_suggested_and_opens_in_the_repo_view(
    fake_hub: FakeHub, make_page: MakePage, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    suggested = RERANKER_STARTERS[0]
    fake_hub.add_model(
        suggested.repo_id, {suggested.filename: gguf_files.tiny("rerank.gguf").read_bytes()}
    )
    page = make_page()
    buttons = page.browse.suggestions.reranker.buttons
    assert list(buttons) == [s.repo_id for s in RERANKER_STARTERS]
    assert buttons[suggested.repo_id].text().startswith(suggested.label)
    with qtbot.waitSignal(page.controller.repoLoaded, timeout=WAIT) as loaded:
        QTest.mouseClick(buttons[suggested.repo_id], Qt.MouseButton.LeftButton)
    assert loaded.args[0].repo_id == suggested.repo_id
    assert list(page.repo.download_buttons) == [suggested.filename]
