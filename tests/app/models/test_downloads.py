"""Downloads against the fake hub: resuming after drops, pauses and restarts; checks; refusals."""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pytest

import app.models.downloads as downloads
import app.models.transfer as transfer
from app.cancel import CancelToken
from app.engine.gguf_file import validate_file
from app.models.downloads import Progress
from app.models.errors import (
    ChecksumError,
    DiskFullError,
    DownloadError,
    GatedModelError,
    HubUnavailableError,
    NoNetworkError,
    NotOnHubError,
    OfflineError,
    UnsafePathError,
)
from app.store import Download, Store
from tests.support.downloading import (
    FILE,
    KEY,
    REPO,
    MiB,
    drain,
    files_under,
    make_downloader,
    random_bytes,
    resolve_ranges,
)
from tests.support.fake_hub import FakeHub, Headers, isolate_huggingface_hub


# ------------------------------------------------------------------ the happy path
def test_download_lands_in_models_author_repo_verified_and_reported(
    hub_with_models: FakeHub, store: Store, tmp_path: Path
) -> None:
    completed: list[tuple[Download, Path]] = []
    downloader = make_downloader(store, tmp_path, on_complete=lambda d, p: completed.append((d, p)))
    planned = downloader.plan("acme/Tiny-Chat-GGUF", "tiny-chat.Q4_K_M.gguf")
    key = "acme/Tiny-Chat-GGUF/tiny-chat.Q4_K_M.gguf"
    assert planned.status == "queued"
    assert planned.sha256 == hub_with_models.sha256(key)
    assert planned.total_bytes == len(hub_with_models.content(key))
    assert hub_with_models.commit("acme/Tiny-Chat-GGUF") in (planned.url or "")

    steps = drain(downloader.run(planned.id))

    dest = tmp_path / "models" / "acme" / "Tiny-Chat-GGUF" / "tiny-chat.Q4_K_M.gguf"
    assert dest.read_bytes() == hub_with_models.content(key)
    assert validate_file(dest).architecture == "llama"
    done = store.get_download(planned.id)
    assert (done.status, done.error, done.downloaded_bytes) == ("done", None, dest.stat().st_size)
    assert completed == [(done, dest)]
    assert steps[-1].status == "done" and steps[-1].downloaded == steps[-1].total
    assert steps[-1].bytes_per_second > 0
    assert not list((tmp_path / "models").rglob("*.part"))


def test_file_in_a_repo_subfolder_keeps_its_folder(
    fake_hub: FakeHub, store: Store, tmp_path: Path
) -> None:
    fake_hub.add_model(REPO, {"Q4/part.gguf": b"GGUF" + bytes(1000)})
    downloader = make_downloader(store, tmp_path)
    drain(downloader.run(downloader.plan(REPO, "Q4/part.gguf").id))
    assert (tmp_path / "models" / "acme" / "Big-GGUF" / "Q4" / "part.gguf").stat().st_size == 1004


def test_plan_of_a_finished_download_asks_the_hub_nothing(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path)
    first = downloader.plan(REPO, FILE)
    drain(downloader.run(first.id))
    asked = len(fake_hub.requests)
    again = downloader.plan(REPO, FILE)
    assert (again.id, again.status) == (first.id, "done")
    assert [s.status for s in drain(downloader.run(again.id))] == ["done"]
    assert len(fake_hub.requests) == asked


# ------------------------------------------------------------------ resuming
def test_download_resumes_after_connection_drop_without_refetching(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    fake_hub.cut_after[KEY] = 1_234_567
    downloader = make_downloader(store, tmp_path)
    drain(downloader.run(downloader.plan(REPO, FILE).id))
    assert (tmp_path / "models" / REPO / FILE).read_bytes() == big
    assert resolve_ranges(fake_hub) == [None, "bytes=1234567-"]
    assert fake_hub.bytes_served[KEY] == len(big)


def test_paused_download_resumes_after_restart_from_the_recorded_byte(
    fake_hub: FakeHub, tmp_path: Path
) -> None:
    data = random_bytes(16 * MiB)  # bigger than what the sockets buffer, so a pause shows
    fake_hub.add_model(REPO, {FILE: data})
    db = tmp_path / "restart.db"
    store = Store.open(db)
    first = make_downloader(store, tmp_path, progress_interval=0.0)
    planned = first.plan(REPO, FILE)
    token = CancelToken()
    steps = []
    for step in first.run(planned.id, token):
        steps.append(step)
        if step.downloaded >= MiB:
            token.cancel()
        assert len(steps) < 10_000
    paused = store.get_download(planned.id)
    part = Path(paused.part_path)
    assert steps[-1].status == "paused"
    assert paused.status == "paused" and paused.error is None
    assert MiB <= paused.downloaded_bytes == part.stat().st_size < len(data)
    assert not Path(paused.dest_path).exists()
    store.close()
    served_before = fake_hub.bytes_served[KEY]  # once the hub has finished that answer
    assert served_before < len(data)  # the pause stopped the transfer

    reopened = Store.open(db)  # a new process: new store, new downloader, same files
    try:
        second = make_downloader(reopened, tmp_path)
        assert [d.id for d in second.pending()] == [planned.id]
        drain(second.run(planned.id))
        assert Path(paused.dest_path).read_bytes() == data
        assert reopened.get_download(planned.id).status == "done"
    finally:
        reopened.close()
    assert resolve_ranges(fake_hub)[-1] == f"bytes={paused.downloaded_bytes}-"
    # The resume fetched exactly the rest; anything beyond the file size is what the first
    # connection had in flight (socket buffers) when the pause closed it.
    assert fake_hub.bytes_served[KEY] - served_before == len(data) - paused.downloaded_bytes


def test_pending_turns_a_crashed_running_download_into_paused_at_the_part_size(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    part = Path(planned.part_path)
    part.parent.mkdir(parents=True)
    part.write_bytes(big[:700_000])  # what reached the disk before the crash...
    store.update_download(planned.id, status="running", downloaded_bytes=500_000)  # ...and the db
    finished = store.upsert_download("x/y", "z.gguf", "main", "/d", "/p", status="done")

    [pending] = downloader.pending()

    assert (pending.id, pending.status, pending.downloaded_bytes) == (planned.id, "paused", 700_000)
    assert store.get_download(finished.id).status == "done"
    drain(downloader.run(planned.id))
    assert resolve_ranges(fake_hub) == ["bytes=700000-"]
    assert Path(planned.dest_path).read_bytes() == big


def test_plan_again_reuses_the_row_and_its_part_file(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    Path(planned.part_path).parent.mkdir(parents=True)
    Path(planned.part_path).write_bytes(big[:1000])
    again = downloader.plan(REPO, FILE)
    assert (again.id, again.downloaded_bytes, again.status) == (planned.id, 1000, "queued")


def test_server_ignoring_range_restarts_the_file_cleanly(
    quirky_hub: QuirkyHub, store: Store, tmp_path: Path
) -> None:
    data = random_bytes(2 * MiB)
    quirky_hub.add_model(REPO, {FILE: data})
    quirky_hub.cut_after[KEY] = 500_000
    quirky_hub.ignore_range.add(KEY)
    downloader = make_downloader(store, tmp_path)
    drain(downloader.run(downloader.plan(REPO, FILE).id))
    assert (tmp_path / "models" / REPO / FILE).read_bytes() == data
    assert resolve_ranges(quirky_hub) == [None, "bytes=500000-"]  # answered with 200: all of it


def test_redirect_to_a_cdn_is_followed_and_keeps_the_range(
    quirky_hub: QuirkyHub, store: Store, tmp_path: Path
) -> None:
    data = random_bytes(2 * MiB)
    quirky_hub.add_model(REPO, {FILE: data})
    quirky_hub.redirect.add(KEY)
    quirky_hub.cut_after[KEY] = 700_000
    downloader = make_downloader(store, tmp_path)
    drain(downloader.run(downloader.plan(REPO, FILE).id))
    assert (tmp_path / "models" / REPO / FILE).read_bytes() == data
    # hub -> CDN, cut; hub -> CDN again, from where it stopped
    assert resolve_ranges(quirky_hub) == [None, None, "bytes=700000-", "bytes=700000-"]
    assert quirky_hub.bytes_served[KEY] == len(data)


# ------------------------------------------------------------------ retries
def test_server_errors_are_retried_with_backoff_then_succeed(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(
        downloads.Downloader, "_sleep", staticmethod(lambda seconds, _token: waits.append(seconds))
    )
    downloader = make_downloader(store, tmp_path, backoff_seconds=0.05)
    planned = downloader.plan(REPO, FILE)
    fake_hub.fail_next[KEY] = [500, 503]
    drain(downloader.run(planned.id))
    assert waits == [0.05, 0.1]  # each wait doubles
    assert len(fake_hub.resolve_requests(KEY)) == 3
    done = store.get_download(planned.id)
    assert (done.status, done.attempts) == ("done", 3)
    assert Path(done.dest_path).read_bytes() == big


def test_retries_exhausted_on_server_errors_pause_with_a_clear_message(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path, retries=2)
    planned = downloader.plan(REPO, FILE)
    fake_hub.fail_next[KEY] = [503, 503, 503]
    with pytest.raises(HubUnavailableError, match=r"HTTP 503.*paused and will resume from 0 B"):
        drain(downloader.run(planned.id))
    paused = store.get_download(planned.id)
    assert paused.status == "paused"
    assert paused.error is not None and "503" in paused.error
    assert len(fake_hub.resolve_requests(KEY)) == 3  # one try and two retries

    drain(downloader.run(planned.id))  # the hub is back
    assert store.get_download(planned.id).status == "done"


def test_a_dropped_connection_with_no_retries_left_pauses_where_it_stopped(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    fake_hub.cut_after[KEY] = 2_000_000
    downloader = make_downloader(store, tmp_path, retries=0)
    planned = downloader.plan(REPO, FILE)
    with pytest.raises(NoNetworkError, match=r"paused and will resume from 2\.0 MB"):
        drain(downloader.run(planned.id))
    paused = store.get_download(planned.id)
    assert (paused.status, paused.downloaded_bytes) == ("paused", 2_000_000)
    assert Path(paused.part_path).stat().st_size == 2_000_000


def test_unreachable_hub_pauses_and_keeps_the_part(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path, retries=2)
    planned = downloader.plan(REPO, FILE)
    Path(planned.part_path).parent.mkdir(parents=True)
    Path(planned.part_path).write_bytes(big[:2_000_000])
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    store.update_download(planned.id, url=(planned.url or "").replace(fake_hub.url, dead))
    with pytest.raises(NoNetworkError) as caught:
        drain(downloader.run(planned.id))
    assert str(caught.value).startswith("Can't reach the Hugging Face Hub")
    assert str(caught.value).endswith("the download is paused and will resume from 2.0 MB")
    paused = store.get_download(planned.id)
    assert (paused.status, paused.downloaded_bytes, paused.attempts) == ("paused", 2_000_000, 3)
    assert Path(paused.part_path).stat().st_size == 2_000_000


def test_plan_retries_hub_trouble_and_fails_fast_when_unreachable(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    fake_hub.fail_next[KEY] = [503]  # the metadata request
    planned = make_downloader(store, tmp_path).plan(REPO, FILE)
    assert planned.sha256 == fake_hub.sha256(KEY)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    unreachable = make_downloader(store, tmp_path, endpoint=dead)
    with pytest.raises(NoNetworkError, match="Can't reach the Hugging Face Hub"):
        unreachable.plan("acme/Other", "x.gguf")


def test_a_file_changed_on_the_hub_drops_the_old_part(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    Path(planned.part_path).parent.mkdir(parents=True)
    Path(planned.part_path).write_bytes(big[:1000])
    newer = random_bytes(2 * MiB, seed=99)
    fake_hub.add_model(REPO, {FILE: newer})
    again = downloader.plan(REPO, FILE)
    assert (again.id, again.downloaded_bytes) == (planned.id, 0)
    assert again.sha256 == fake_hub.sha256(KEY) != planned.sha256
    drain(downloader.run(again.id))
    assert Path(again.dest_path).read_bytes() == newer


# ------------------------------------------------------------------ refusals
def test_checksum_mismatch_deletes_the_part_and_fails(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    fake_hub.corrupt.add(KEY)
    completed: list[Path] = []
    downloader = make_downloader(store, tmp_path, on_complete=lambda d, p: completed.append(p))
    planned = downloader.plan(REPO, FILE)
    with pytest.raises(ChecksumError, match=r"damaged.*partial file was deleted"):
        drain(downloader.run(planned.id))
    failed = store.get_download(planned.id)
    assert failed.status == "failed" and failed.error is not None and "sha256" in failed.error
    assert not Path(failed.part_path).exists() and not Path(failed.dest_path).exists()
    assert completed == []


def test_gated_repo_without_token_says_how_to_get_access(
    hub_with_models: FakeHub, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path)
    with pytest.raises(GatedModelError) as caught:
        downloader.plan("carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf")
    message = str(caught.value)
    assert "carol/Gated-Tiny-GGUF is gated or private" in message
    assert f"Open {hub_with_models.url}/carol/Gated-Tiny-GGUF, accept them" in message
    assert "hearth models login" in message
    assert store.list_downloads() == []


def test_gated_repo_downloads_with_the_token(
    hub_with_models: FakeHub, store: Store, tmp_path: Path
) -> None:
    hub_with_models.token = "hf_secret"
    wrong = make_downloader(store, tmp_path, token="hf_wrong")
    with pytest.raises(GatedModelError, match="check that your token is valid"):
        wrong.plan("carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf")
    downloader = make_downloader(store, tmp_path, token="hf_secret")
    planned = downloader.plan("carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf")
    drain(downloader.run(planned.id))
    assert store.get_download(planned.id).status == "done"
    requests = hub_with_models.resolve_requests("carol/Gated-Tiny-GGUF/gated-tiny.Q4_K_M.gguf")
    assert requests[-1]["authorization"] == "Bearer hf_secret"


def test_access_lost_between_plan_and_run_fails_and_keeps_the_part(
    hub_with_models: FakeHub, store: Store, tmp_path: Path
) -> None:
    hub_with_models.token = "hf_secret"
    planned = make_downloader(store, tmp_path, token="hf_secret").plan(
        "carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf"
    )
    Path(planned.part_path).parent.mkdir(parents=True)
    Path(planned.part_path).write_bytes(b"GGUF")
    with pytest.raises(GatedModelError):
        drain(make_downloader(store, tmp_path).run(planned.id))
    assert store.get_download(planned.id).status == "failed"
    assert Path(planned.part_path).read_bytes() == b"GGUF"


@pytest.mark.parametrize(
    ("repo_id", "filename", "revision"),
    [
        ("acme/Big-GGUF", "missing.gguf", "main"),
        ("acme/No-Such-Repo", "big.Q4_K_M.gguf", "main"),
        ("acme/Big-GGUF", "big.Q4_K_M.gguf", "no-such-branch"),
    ],
)
def test_missing_repo_file_or_revision_is_not_on_hub(
    fake_hub: FakeHub,
    big: bytes,
    store: Store,
    tmp_path: Path,
    repo_id: str,
    filename: str,
    revision: str,
) -> None:
    with pytest.raises(NotOnHubError, match="Hugging Face Hub"):
        make_downloader(store, tmp_path).plan(repo_id, filename, revision)
    assert store.list_downloads() == []
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize(
    "filename",
    [
        "../evil.gguf",
        "/etc/passwd",
        "a/../../b.gguf",
        "C:\\x.gguf",
        "C:x.gguf",
        "dir\\..\\x.gguf",
        "",
        "a//b.gguf",
        "./x.gguf",
        "x.gguf\x00.txt",
        "models/",
    ],
)
def test_unsafe_hub_file_names_are_refused_and_nothing_is_written(
    fake_hub: FakeHub, store: Store, tmp_path: Path, filename: str
) -> None:
    before = files_under(tmp_path)
    downloader = make_downloader(store, tmp_path)
    with pytest.raises(UnsafePathError, match="Refusing to download"):
        downloader.target_path(REPO, filename)
    with pytest.raises(UnsafePathError):
        downloader.plan(REPO, filename)
    assert fake_hub.requests == []
    assert store.list_downloads() == []
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("repo_id", ["../acme", "acme/..", "acme", "acme/a/b", "acme/a..b"])
def test_unsafe_repository_ids_are_refused(
    fake_hub: FakeHub, store: Store, tmp_path: Path, repo_id: str
) -> None:
    with pytest.raises(UnsafePathError):
        make_downloader(store, tmp_path).plan(repo_id, FILE)
    assert fake_hub.requests == []


def test_a_link_out_of_the_models_folder_is_refused(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "acme").symlink_to(outside, target_is_directory=True)
    downloader = make_downloader(store, tmp_path)
    with pytest.raises(UnsafePathError, match="outside the models folder"):
        downloader.plan(REPO, FILE)
    assert list(outside.iterdir()) == []


def test_not_enough_disk_space_is_refused_before_any_byte(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloads, "free_disk_bytes", lambda path: 1_000_000)
    with pytest.raises(DiskFullError) as caught:
        make_downloader(store, tmp_path).plan(REPO, FILE)
    message = str(caught.value)
    assert message.startswith("Not enough free space on /")
    assert "needs 2.1 MB more, 1.0 MB free" in message
    assert fake_hub.resolve_requests(KEY) == [] and fake_hub.bytes_served == {}


def test_space_counts_what_the_part_file_already_holds(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    Path(planned.part_path).parent.mkdir(parents=True)
    Path(planned.part_path).write_bytes(big[: 2 * MiB])
    monkeypatch.setattr(downloads, "free_disk_bytes", lambda path: MiB + 1)
    assert downloader.plan(REPO, FILE).downloaded_bytes == 2 * MiB
    drain(downloader.run(planned.id))
    assert fake_hub.bytes_served[KEY] == MiB


def test_disk_filled_after_planning_pauses_before_fetching(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    monkeypatch.setattr(downloads, "free_disk_bytes", lambda path: 10)
    with pytest.raises(DiskFullError, match="needs"):
        drain(downloader.run(planned.id))
    assert store.get_download(planned.id).status == "paused"
    assert fake_hub.resolve_requests(KEY) == []


def test_disk_full_while_writing_pauses_and_keeps_the_part(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_append = transfer.PartFile.append
    calls = {"n": 0}

    class FullDisk:
        def write(self, block: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self) -> None:
            pass

    def append(self: Any, file: Any, block: bytes) -> None:
        calls["n"] += 1  # the disk fills up at the third write
        real_append(self, cast(Any, FullDisk()) if calls["n"] == 3 else file, block)

    monkeypatch.setattr(transfer.PartFile, "append", append)
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    with pytest.raises(DiskFullError, match=r"The disk filled up.*paused and will resume from"):
        drain(downloader.run(planned.id))
    paused = store.get_download(planned.id)
    assert paused.status == "paused"
    assert 0 < paused.downloaded_bytes == Path(paused.part_path).stat().st_size < len(big)

    drain(downloader.run(planned.id))  # space was freed
    assert Path(paused.dest_path).read_bytes() == big


def test_offline_mode_makes_no_request_at_all(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    planned = make_downloader(store, tmp_path).plan(REPO, FILE)
    fake_hub.requests.clear()
    offline = make_downloader(store, tmp_path, offline=True)
    with pytest.raises(OfflineError, match="offline mode"):
        offline.plan("acme/Other", "x.gguf")
    with pytest.raises(OfflineError, match="offline mode"):
        drain(offline.run(planned.id))
    assert fake_hub.requests == []
    assert store.get_download(planned.id).status == "paused"


# ------------------------------------------------------------------ pause and cancel
def test_cancel_deletes_the_part_and_marks_cancelled(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path, progress_interval=0.0)
    planned = downloader.plan(REPO, FILE)
    token = CancelToken()
    for step in downloader.run(planned.id, token):
        if step.downloaded > 0:
            token.cancel()  # pause first
    assert Path(planned.part_path).exists()

    downloader.cancel(planned.id)

    cancelled = store.get_download(planned.id)
    assert (cancelled.status, cancelled.downloaded_bytes) == ("cancelled", 0)
    assert not Path(planned.part_path).exists() and not Path(planned.dest_path).exists()
    assert downloader.pending() == []


def test_cancel_during_a_run_on_another_thread_stops_it_and_deletes_the_part(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path, progress_interval=0.0)
    planned = downloader.plan(REPO, FILE)
    steps: list[Progress] = []
    for step in downloader.run(planned.id):
        steps.append(step)
        if step.downloaded > 0 and len(steps) == 2:
            canceller = threading.Thread(target=downloader.cancel, args=(planned.id,))
            canceller.start()
            canceller.join(5)
    assert steps[-1].status == "cancelled"
    assert store.get_download(planned.id).status == "cancelled"
    assert not Path(planned.part_path).exists() and not Path(planned.dest_path).exists()


def test_a_run_abandoned_by_its_caller_is_recorded_as_paused(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path, progress_interval=0.0)
    planned = downloader.plan(REPO, FILE)
    run = cast(Generator[Progress, None, None], downloader.run(planned.id))
    for step in run:
        if step.downloaded > 0:
            break
    run.close()
    paused = store.get_download(planned.id)
    assert paused.status == "paused"
    assert paused.downloaded_bytes == Path(paused.part_path).stat().st_size > 0


def test_the_same_download_cannot_run_twice_at_once(
    fake_hub: FakeHub, big: bytes, store: Store, tmp_path: Path
) -> None:
    downloader = make_downloader(store, tmp_path)
    planned = downloader.plan(REPO, FILE)
    first = iter(downloader.run(planned.id))
    next(first)
    with pytest.raises(DownloadError, match="already downloading"):
        drain(downloader.run(planned.id))
    drain(first)
    assert store.get_download(planned.id).status == "done"


# ------------------------------------------------------------------ a hub with a CDN's quirks
class QuirkyHub(FakeHub):
    """The fake hub plus two habits of the real hub's CDN, per file: a redirect, a Range ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.redirect: set[str] = set()
        self.ignore_range: set[str] = set()

    def _resolve(
        self, h: Any, method: str, repo_id: str, revision: str, path: str, headers: Headers
    ) -> None:
        key = f"{repo_id}/{path}"
        if method == "GET" and key in self.redirect and "cdn=1" not in h.path:
            location = f"{self.url}/{repo_id}/resolve/{self.commit(repo_id)}/{quote(path)}?cdn=1"
            h.send_response(302)
            h.send_header("Location", location)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if method == "GET" and key in self.ignore_range:
            headers = Headers((k, v) for k, v in headers.items() if k != "range")
        super()._resolve(h, method, repo_id, revision, path, headers)


@pytest.fixture
def quirky_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuirkyHub]:
    hub = QuirkyHub()
    hub.start()
    try:
        isolate_huggingface_hub(monkeypatch, tmp_path / "hf-home", hub.url)
        yield hub
    finally:
        hub.stop()
