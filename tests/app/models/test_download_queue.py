"""The download queue: two downloads at once, pausing, shutting down, errors in words."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.models.download_queue import DownloadQueue
from app.models.downloads import Progress
from app.models.errors import DownloadError
from app.store import Store
from tests.support.downloading import (
    FILE,
    KEY,
    REPO,
    MiB,
    make_downloader,
    random_bytes,
    record_tokens,
    wait_for,
)
from tests.support.fake_hub import FakeHub


def test_queue_runs_three_downloads_never_more_than_two_at_once(
    fake_hub: FakeHub, store: Store, tmp_path: Path
) -> None:
    names = [f"m{i}.gguf" for i in range(3)]
    fake_hub.add_model(REPO, {n: random_bytes(MiB, seed=i) for i, n in enumerate(names)})
    downloader = make_downloader(store, tmp_path, progress_interval=0.0)
    ids = [downloader.plan(REPO, n).id for n in names]
    lock = threading.Lock()
    running: set[int] = set()
    peak = 0
    progress: list[Progress] = []
    finished: list[tuple[int, str | None]] = []

    # The first two downloads each wait at their first step until the other one is
    # running too: two at once is shown, not hoped for. A queue that ran them one at a
    # time would break the barrier (and the test) instead.
    both_running = threading.Barrier(2, timeout=20)

    def on_progress(step: Progress) -> None:
        nonlocal peak
        with lock:
            first_step = step.download_id not in running
            progress.append(step)
            running.add(step.download_id)
            peak = max(peak, len(running))
        if first_step and step.download_id in ids[:2]:
            both_running.wait()

    def on_finished(download_id: int, error: str | None) -> None:
        with lock:
            running.discard(download_id)
            finished.append((download_id, error))

    queue = DownloadQueue(
        downloader, concurrency=2, on_progress=on_progress, on_finished=on_finished
    )
    try:
        for download_id in ids:
            queue.submit(download_id)
        assert queue.wait_idle(timeout=20)
    finally:
        queue.shutdown()
    assert peak == 2
    assert sorted(finished) == [(i, None) for i in ids]
    assert {s.download_id for s in progress if s.status == "done"} == set(ids)
    assert [store.get_download(i).status for i in ids] == ["done"] * 3


def test_queue_pause_stops_a_running_download_and_takes_a_waiting_one_out_of_line(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub.add_model("acme/Second", {FILE: big})
    downloader = make_downloader(store, tmp_path, progress_interval=0.0)
    first = downloader.plan(REPO, FILE)
    second = downloader.plan("acme/Second", FILE)
    started = threading.Event()
    finished: list[tuple[int, str | None]] = []
    tokens = record_tokens(monkeypatch)

    def on_progress(step: Progress) -> None:
        if step.download_id == first.id and step.downloaded > 0:
            started.set()
            assert tokens[0].wait(10), "never paused"  # the download waits for the pause

    queue = DownloadQueue(
        downloader,
        concurrency=1,
        on_progress=on_progress,
        on_finished=lambda i, e: finished.append((i, e)),
    )
    try:
        queue.submit(first.id)
        queue.submit(second.id)
        assert started.wait(10)
        queue.pause(second.id)  # still waiting: taken out of the line
        queue.pause(first.id)
        assert queue.wait_idle(timeout=10)
    finally:
        queue.shutdown()
    assert finished == [(first.id, None)]
    assert store.get_download(first.id).status == "paused"
    assert Path(first.part_path).stat().st_size == store.get_download(first.id).downloaded_bytes
    assert store.get_download(second.id).status == "paused"
    assert fake_hub.resolve_requests(f"acme/Second/{FILE}") == []


def test_queue_shutdown_pauses_running_downloads_and_leaves_waiting_ones_for_next_start(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub.add_model("acme/Second", {FILE: big})
    downloader = make_downloader(store, tmp_path, progress_interval=0.0)
    first = downloader.plan(REPO, FILE)
    second = downloader.plan("acme/Second", FILE)
    started = threading.Event()
    tokens = record_tokens(monkeypatch)

    def on_progress(step: Progress) -> None:
        if step.downloaded > 0:
            started.set()
            assert tokens[0].wait(10), "never shut down"  # the download waits for it

    queue = DownloadQueue(downloader, concurrency=1, on_progress=on_progress)
    queue.submit(first.id)
    queue.submit(second.id)
    assert started.wait(10)
    queue.shutdown(timeout=10)
    assert queue.active() == []
    with pytest.raises(DownloadError, match="shut down"):
        queue.submit(second.id)

    after = {d.id: d.status for d in make_downloader(store, tmp_path).pending()}
    assert after == {first.id: "paused", second.id: "queued"}
    assert Path(first.part_path).stat().st_size == store.get_download(first.id).downloaded_bytes


def test_queue_reports_errors_in_words(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    fake_hub.corrupt.add(KEY)
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    finished: list[tuple[int, str | None]] = []
    queue = DownloadQueue(downloader, on_finished=lambda i, e: finished.append((i, e)))
    try:
        queue.submit(planned.id)
        assert queue.wait_idle(timeout=10)
    finally:
        queue.shutdown()
    [(download_id, error)] = finished
    assert download_id == planned.id and error is not None and "arrived damaged" in error


def test_a_retry_submitted_from_the_finished_callback_is_accepted(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    # "Try again" pressed the moment a failure is reported must not be dropped.
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    fake_hub.fail_next[KEY] = [404]
    finished: list[str | None] = []
    queue: DownloadQueue

    def on_finished(download_id: int, error: str | None) -> None:
        finished.append(error)
        if len(finished) == 1:
            queue.submit(download_id)

    queue = DownloadQueue(downloader, on_finished=on_finished)
    try:
        queue.submit(planned.id)
        wait_for(lambda: len(finished) == 2, seconds=10)
        assert queue.wait_idle(timeout=10)
    finally:
        queue.shutdown()
    assert finished[0] is not None and finished[1] is None
    assert store.get_download(planned.id).status == "done"
