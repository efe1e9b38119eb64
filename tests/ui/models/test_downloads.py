"""Downloads from the fake hub: progress, split models, gated repos, damaged files, pause,
resume and cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.models.downloads import Progress
from app.store import Store
from tests.app.conftest import TINY_REPO
from tests.support.fake_hub import FakeHub
from tests.ui.models.conftest import Q4, Q8, WAIT, MakePage, item, open_repo
from ui.models.downloads import DownloadRow
from ui.models.page import ModelsPage

MiB = 1 << 20


def only_row(page: ModelsPage) -> DownloadRow:
    [row] = page.downloads.rows.values()
    return row


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
