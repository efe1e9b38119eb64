"""Model downloads from the Hugging Face Hub that survive drops, restarts and full disks.

A download is planned (``Downloader.plan``: the hub says size, sha256 and commit; the
name is checked; free space is checked), then run (``Downloader.run``: a generator of
``Progress``) into ``<file>.part`` next to its destination. The part file is the state:
a dropped connection, a pause or a crash resumes from its size with a Range request,
and the sha256 is computed while writing. Only a verified file is renamed into place.
``DownloadQueue`` (``download_queue``) runs several of them on plain threads.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import httpx2
from huggingface_hub import constants as hf_constants
from huggingface_hub import (
    get_hf_file_metadata,
    get_session,
    get_token,
    hf_hub_url,
    hf_raise_for_status,
)
from huggingface_hub.errors import (
    HfHubHTTPError,
    OfflineModeIsEnabled,
)
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

from app.cancel import CancelToken
from app.hardware import free_disk_bytes
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
    hub_refusal,
)
from app.models.transfer import (
    DiskFull,
    PartFile,
    SpeedMeter,
    content_range_start,
    disk_full_error,
    disk_of,
    file_size,
    fsync_file,
    part_path_for,
    unlink_quietly,
)
from app.store import Download, DownloadStatus, Store
from app.units import format_bytes

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
_STORE_EVERY_S = 0.5  # how often downloaded_bytes is written while streaming
_MAX_BACKOFF_S = 60.0
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_ACTIVE_STATUSES: tuple[DownloadStatus, ...] = ("queued", "running", "paused", "verifying")
_NAME_PART = re.compile(r"^[A-Za-z0-9._-]+$")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Progress:
    """One step of a running download, as ``run`` yields it."""

    download_id: int
    filename: str
    downloaded: int
    total: int | None
    bytes_per_second: float
    eta_seconds: float | None
    status: str

    @property
    def fraction(self) -> float | None:
        return self.downloaded / self.total if self.total else None


# ----------------------------------------------------------------------------- helpers
class _Retry(Exception):
    """A try that can be repeated: dropped connection, timeout, 5xx/429, bad byte range."""

    def __init__(self, reason: str, status: int = 0) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class _Active:
    """A run in progress in this process, so pause/cancel can reach it from other threads."""

    token: CancelToken
    discard: bool = False  # cancel (delete the part) rather than pause


@dataclass(frozen=True)
class _HubFacts:
    """What the hub says about one file at one commit."""

    size: int
    sha256: str | None  # the LFS oid; None for small files kept in git
    etag: str | None
    commit: str | None


# ----------------------------------------------------------------------------- downloader
class Downloader:
    """Plans and runs downloads of single hub files into ``models_dir/<author>/<repo>/``.

    Pausing is cancelling the ``CancelToken`` given to ``run`` (``pause(id)`` does it for
    a run happening on another thread): the run stops at the next network read, keeps
    the part file, records its size, sets status "paused" and ends. ``cancel(id)``
    throws the part away. Every method is safe to call from any thread.
    """

    def __init__(
        self,
        store: Store,
        models_dir: Path,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        offline: bool = False,
        retries: int = 5,
        backoff_seconds: float = 1.0,
        timeout: float = 30.0,
        chunk_bytes: int = 1 << 20,
        on_complete: Callable[[Download, Path], None] | None = None,
        progress_interval: float = 0.1,
    ) -> None:
        self.store = store
        self.models_dir = Path(models_dir)
        self._endpoint = endpoint
        self._token = token if token is not None else get_token()
        self.offline = offline
        self.retries = max(0, retries)
        self.backoff_seconds = max(0.0, backoff_seconds)
        self.timeout = timeout
        self.chunk_bytes = max(1 << 12, chunk_bytes)
        self.on_complete = on_complete
        self.progress_interval = progress_interval  # seconds between yields while streaming
        self._lock = threading.Lock()
        self._active: dict[int, _Active] = {}

    # ------------------------------------------------------------------ settings
    @property
    def endpoint(self) -> str:
        """The hub's address: the argument, else HF_ENDPOINT (read now), else huggingface.co."""
        chosen = self._endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        return chosen.rstrip("/")

    def is_offline(self) -> bool:
        return self.offline or hf_constants.is_offline_mode()

    def _auth(self) -> str | bool:
        return self._token or False  # False: never fall back to a token found elsewhere

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = dict(build_hf_headers(token=self._auth()))
        headers["Accept-Encoding"] = "identity"  # byte ranges only mean something uncompressed
        return headers

    # ------------------------------------------------------------------ paths
    def target_path(self, repo_id: str, filename: str) -> Path:
        """``models_dir/<author>/<repo name>/<filename>``; refuses names that could escape it."""
        author, name = self._check_repo_id(repo_id)
        parts = self._check_filename(filename)
        root = self.models_dir.resolve()
        target = self.models_dir.joinpath(author, name, *parts)
        if not target.resolve().is_relative_to(root):
            self._refuse(filename, "it resolves to a place outside the models folder")
        return target

    def _refuse(self, name: str, why: str) -> NoReturn:
        raise UnsafePathError(
            f"Refusing to download {name!r}: {why}. Hearth only writes inside its models "
            f"folder ({self.models_dir})."
        )

    def _check_repo_id(self, repo_id: str) -> tuple[str, str]:
        parts = repo_id.split("/")
        if len(parts) != 2 or not all(_NAME_PART.match(p) for p in parts):
            self._refuse(repo_id, "a repository id is <author>/<name> in letters, digits, . _ -")
        if any(p in (".", "..") or ".." in p for p in parts):
            self._refuse(repo_id, "the repository id contains '..'")
        return parts[0], parts[1]

    def _check_filename(self, filename: str) -> list[str]:
        if not filename:
            self._refuse(filename, "the file name is empty")
        if any(ord(c) < 32 or c == "\x7f" for c in filename):
            self._refuse(filename, "the file name contains control characters")
        if "\\" in filename:
            self._refuse(filename, "the file name contains backslashes")
        if filename.startswith("/") or _DRIVE.match(filename):
            self._refuse(filename, "the file name is an absolute path")
        if ":" in filename:
            self._refuse(filename, "the file name contains ':'")
        parts = filename.split("/")
        if any(p in ("", ".", "..") for p in parts):
            self._refuse(filename, "the file name has empty, '.' or '..' parts")
        if any(len(p.encode()) > 200 for p in parts):
            self._refuse(filename[:60] + "…", "a part of the file name is over 200 bytes long")
        return parts

    def _check_row_paths(self, row: Download) -> tuple[Path, Path]:
        """The row's destination and part file, re-checked (the database is outside input)."""
        dest = self.target_path(row.repo_id, row.filename)
        recorded, part = Path(row.dest_path), Path(row.part_path)
        if recorded.resolve() != dest.resolve() or part.resolve() != part_path_for(dest).resolve():
            # The models folder moved (setting changed) since the row was written: follow it.
            self.store.update_download(
                row.id, dest_path=str(dest), part_path=str(part_path_for(dest))
            )
        return dest, part_path_for(dest)

    # ------------------------------------------------------------------ plan
    def plan(self, repo_id: str, filename: str, revision: str = "main") -> Download:
        """Ask the hub about the file, check the name and the disk, and queue it.

        Reuses the row of an earlier attempt (its part file is resumed); a finished
        download whose file is still there is returned as it is, with no network.
        """
        dest = self.target_path(repo_id, filename)
        part = part_path_for(dest)
        existing = self.store.find_download(repo_id, filename, revision)
        if existing is not None:
            if existing.status == "done" and dest.is_file():
                return existing
            if self._is_active(existing.id):
                return existing
        try:
            try:
                facts = self._ask_hub(repo_id, filename, revision)
            except (httpx2.TooManyRedirects, httpx2.UnsupportedProtocol) as e:
                raise _bad_redirect(filename) from e
        except DownloadError as err:
            if existing is not None:
                self.store.update_download(existing.id, error=str(err))
            raise
        if existing is not None and existing.sha256 != facts.sha256:
            unlink_quietly(part)  # the file changed on the hub: old bytes are of another file
        have = file_size(part)
        if have > facts.size:
            unlink_quietly(part)
            have = 0
        needed = facts.size - have
        free = free_disk_bytes(dest.parent)
        if needed > free:
            full = disk_full_error(dest.parent, needed, free)
            if existing is not None:
                self.store.update_download(existing.id, error=str(full))
            raise full
        url = hf_hub_url(
            repo_id, filename, revision=facts.commit or revision, endpoint=self.endpoint
        )
        return self.store.upsert_download(
            repo_id, filename, revision, str(dest), str(part),
            url=url, total_bytes=facts.size, downloaded_bytes=have, sha256=facts.sha256,
            etag=facts.etag, status="queued", error=None,
        )  # fmt: skip

    def _ask_hub(self, repo_id: str, filename: str, revision: str) -> _HubFacts:
        """Size, sha256 (LFS oid), ETag and commit, with retries on transient trouble."""
        where = f"{repo_id}/{filename}"
        if self.is_offline():
            raise OfflineError(
                f"Hearth is in offline mode, so it can't fetch {where}. "
                "Turn offline mode off to download models."
            )
        failures = 0
        retries = min(self.retries, 2)  # someone is waiting for this answer: fail fast
        while True:
            try:
                return self._ask_hub_once(repo_id, filename, revision)
            except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError) as e:
                failures += 1
                if failures > retries:
                    raise NoNetworkError(
                        f"Can't reach the Hugging Face Hub to look up {where} "
                        f"({e or type(e).__name__}). Check your connection and try again."
                    ) from e
            except HfHubHTTPError as e:
                status = e.response.status_code if e.response is not None else 0
                if status not in _RETRY_STATUSES:
                    raise self._http_error(e, repo_id, filename, revision) from e
                failures += 1
                if failures > retries:
                    raise HubUnavailableError(
                        f"The Hugging Face Hub is having trouble (HTTP {status}) looking up "
                        f"{where}. Try again in a few minutes."
                    ) from e
            except OfflineModeIsEnabled as e:
                raise OfflineError(
                    f"Offline mode is on (HF_HUB_OFFLINE): can't fetch {where}."
                ) from e
            time.sleep(self._backoff(failures))

    def _ask_hub_once(self, repo_id: str, filename: str, revision: str) -> _HubFacts:
        url = hf_hub_url(repo_id, filename, revision=revision, endpoint=self.endpoint)
        meta = get_hf_file_metadata(
            url, token=self._auth(), timeout=self.timeout, endpoint=self.endpoint
        )
        commit = meta.commit_hash
        # paths-info at the same commit gives the LFS sha256 (the hub's ETag is only a hint).
        response = get_session().post(
            f"{self.endpoint}/api/models/{repo_id}/paths-info/{quote(commit or revision, safe='')}",
            data={"paths": [filename], "expand": False},
            headers=self._headers(),
            timeout=self.timeout,
        )
        hf_raise_for_status(response)
        facts = _facts_from_paths_info(response, filename, commit, meta.etag)
        if facts is None:
            raise NotOnHubError(
                f"{filename} is not in {repo_id} (revision {revision}) on the Hugging Face Hub."
            )
        return facts

    def _http_error(
        self, err: HfHubHTTPError, repo_id: str, filename: str, revision: str
    ) -> DownloadError:
        refusal = hub_refusal(
            err, endpoint=self.endpoint, repo_id=repo_id, revision=revision, path=filename,
            logged_in=bool(self._token),
        )  # fmt: skip
        assert refusal is not None  # every HfHubHTTPError has a wording
        if refusal.kind == "gated":
            return GatedModelError(refusal.message)
        if refusal.kind == "not_found":
            return NotOnHubError(refusal.message)
        return DownloadError(refusal.message)

    # ------------------------------------------------------------------ run
    def run(self, download_id: int, cancel: CancelToken | None = None) -> Iterator[Progress]:
        """Fetch the rest of the file, yielding ``Progress``; see the class for pausing.

        Raises a ``DownloadError`` subclass after recording status and message in the store:
        paused (part kept) for no network, hub trouble, a full disk or offline mode;
        failed for gated, missing, unsafe or corrupt files (a corrupt part is deleted).
        If the caller stops iterating early, the download is recorded as paused.
        """
        token = cancel if cancel is not None else CancelToken()
        row = self.store.get_download(download_id)
        if row.status == "done" and Path(row.dest_path).is_file():
            yield self._progress(row, row.total_bytes or row.downloaded_bytes, 0.0, "done")
            return
        with self._lock:
            if download_id in self._active:
                raise DownloadError(f"{row.filename} is already downloading.")
            if not self.store.hold(_work(download_id)):  # nothing touched: it is theirs
                raise DownloadError(_ELSEWHERE.format(name=row.filename))
            row = self.store.get_download(download_id)
            active = None if row.status == "cancelled" else _Active(token)
            if active is not None:
                self._active[download_id] = active
            else:
                self.store.let_go(_work(download_id))
        if active is None:  # cancel() came first: plan() starts it again
            yield self._progress(row, 0, 0.0, "cancelled")
            return
        transfer = PartFile(part_path_for(Path(row.dest_path)))
        try:
            yield from self._run(row, active, transfer)
        except (GeneratorExit, KeyboardInterrupt):
            self._settle_if_running(row, "paused", None)
            raise
        except DownloadError as e:
            self._settle_if_running(row, "failed", str(e))
            raise
        except Exception as e:
            log.exception("download %s (%s/%s) failed", row.id, row.repo_id, row.filename)
            self._settle_if_running(row, "failed", f"Unexpected error: {e}")
            raise
        finally:
            transfer.close()
            with self._lock:
                self._active.pop(download_id, None)
                self.store.let_go(_work(download_id))

    def _run(self, row: Download, active: _Active, t: PartFile) -> Iterator[Progress]:
        token = active.token
        row = self._settle(row.id, "running", None)
        dest, part = self._check_row_paths(row)
        t.part = part
        if self.is_offline():
            have = file_size(part)
            err: DownloadError = OfflineError(
                f"Hearth is in offline mode: {row.filename} stays paused at {format_bytes(have)}. "
                "Turn offline mode off to resume it."
            )
            self._settle(row.id, "paused", str(err), downloaded_bytes=have)
            raise err
        url = row.url or hf_hub_url(
            row.repo_id, row.filename, revision=row.revision, endpoint=self.endpoint
        )
        total = row.total_bytes
        part.parent.mkdir(parents=True, exist_ok=True)
        have = file_size(part)
        if total is not None and have > total:
            t.restart()
            have = 0
        if have:
            # Resuming: hash the bytes already on disk so the digest covers the whole file.
            self.store.update_download(row.id, downloaded_bytes=have)
            for hashed in self._hash_existing(t, have, token):
                yield self._progress(row, hashed, 0.0, "running")
        if total is not None and not token.cancelled:
            free = free_disk_bytes(part.parent)
            if total - t.offset > free:
                err = disk_full_error(part.parent, total - t.offset, free)
                self._settle(row.id, "paused", str(err), downloaded_bytes=file_size(part))
                raise err
        self.store.update_download(row.id, downloaded_bytes=t.offset)
        meter = SpeedMeter(t.offset)
        yield self._progress(row, t.offset, 0.0, "running")

        attempts, failures = row.attempts, 0
        while not token.cancelled and (total is None or t.offset < total):
            started = t.offset
            attempts += 1
            self.store.update_download(row.id, attempts=attempts)
            try:
                yield from self._stream(url, t, token, meter, row)
                if total is None:
                    break  # with no known size, a clean end of the body is the end
                if t.offset < total and not token.cancelled:
                    raise _Retry("the connection closed before the end of the file")
            except _Retry as retry:
                failures = 1 if t.offset > started else failures + 1
                log.info("download %s: %s at byte %s (try %s)", row.id, retry, t.offset, failures)
                if failures > self.retries:
                    err = self._gave_up(retry, t.offset)
                    self._settle(row.id, "paused", str(err), downloaded_bytes=t.offset)
                    raise err from retry.__cause__
                self.store.update_download(row.id, downloaded_bytes=t.offset)
                yield self._progress(row, t.offset, 0.0, "running")
                self._sleep(self._backoff(failures), token)
            except ChecksumError as too_much:  # the server sent more than the file holds
                t.discard()
                self._settle(row.id, "failed", str(too_much), downloaded_bytes=0)
                raise
            except OfflineModeIsEnabled as e:
                err = OfflineError(
                    f"Offline mode is on (HF_HUB_OFFLINE): {row.filename} stays paused at "
                    f"{format_bytes(t.offset)}."
                )
                self._settle(row.id, "paused", str(err), downloaded_bytes=t.offset)
                raise err from e
            except HfHubHTTPError as e:
                err = self._http_error(e, row.repo_id, row.filename, row.revision)
                if isinstance(err, NotOnHubError):
                    t.discard()  # it will never resume
                self._settle(row.id, "failed", str(err), downloaded_bytes=file_size(part))
                raise err from e
            except DiskFull as e:
                have = file_size(part)
                err = DiskFullError(
                    f"The disk filled up while downloading {row.filename}: free some space on "
                    f"{disk_of(part.parent)}; the download is paused and will resume from "
                    f"{format_bytes(have)}"
                )
                self._settle(row.id, "paused", str(err), downloaded_bytes=have)
                raise err from e.__cause__

        if token.cancelled:
            if active.discard:
                t.discard()
                self._settle(row.id, "cancelled", None, downloaded_bytes=0)
                yield self._progress(row, 0, 0.0, "cancelled")
            else:
                have = file_size(part)
                self._settle(row.id, "paused", None, downloaded_bytes=have)
                yield self._progress(row, have, 0.0, "paused")
            return

        # Verify, then move into place with one rename: the destination is never partial.
        self._settle(row.id, "verifying", None, downloaded_bytes=t.offset)
        digest = t.hasher.hexdigest()
        wrong = None
        if total is not None and t.offset != total:
            wrong = f"{t.offset:,} bytes instead of {total:,}"
        elif row.sha256 and digest != row.sha256.lower():
            wrong = "its sha256 does not match the one the hub published"
        if wrong is not None:
            t.discard()
            err = ChecksumError(
                f"{row.filename} arrived damaged ({wrong}). The partial file was deleted; "
                "download it again."
            )
            self._settle(row.id, "failed", str(err), downloaded_bytes=0)
            raise err
        fsync_file(part)
        part.replace(dest)
        done = self._settle(row.id, "done", None, downloaded_bytes=t.offset, total_bytes=t.offset)
        log.info("downloaded %s/%s to %s", row.repo_id, row.filename, dest)
        if self.on_complete is not None:
            self.on_complete(done, dest)
        yield self._progress(done, t.offset, meter.bytes_per_second, "done")

    def _stream(
        self, url: str, t: PartFile, token: CancelToken, meter: SpeedMeter, row: Download
    ) -> Iterator[Progress]:
        """One GET from ``t.offset`` to the end (or a cancel), appended to the part file."""
        headers = self._headers()
        if t.offset:
            headers["Range"] = f"bytes={t.offset}-"
        try:
            with get_session().stream(
                "GET", url, headers=headers, timeout=self.timeout, follow_redirects=True
            ) as response:
                status = response.status_code
                if status in _RETRY_STATUSES:
                    response.read()
                    raise _Retry(f"HTTP {status}", status)
                if status == 416:  # our Range is past the end: the part is not of this file
                    t.restart()
                    raise _Retry("the server refused the byte range", status)
                hf_raise_for_status(response)
                if status == 206:
                    start = content_range_start(response.headers.get("Content-Range"))
                    if start != t.offset:
                        t.restart()
                        raise _Retry(f"the server sent bytes from {start}, not {t.offset}")
                elif status == 200:
                    if t.offset:
                        log.info("the server ignored Range for %s: starting again from 0", url)
                        t.restart()
                        meter.reset(0)
                else:
                    raise _Retry(f"unexpected HTTP {status}", status)
                yield from self._write(response, t, token, meter, row)
        except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError) as e:
            raise _Retry(str(e) or type(e).__name__) from e
        except (httpx2.TooManyRedirects, httpx2.UnsupportedProtocol) as e:
            raise _bad_redirect(row.filename) from e

    def _write(
        self,
        response: httpx2.Response,
        t: PartFile,
        token: CancelToken,
        meter: SpeedMeter,
        row: Download,
    ) -> Iterator[Progress]:
        stored_at = yielded_at = time.monotonic()
        pending: list[bytes] = []
        pending_bytes = 0
        with t.open() as file:
            try:
                for piece in response.iter_bytes():
                    pending.append(piece)
                    pending_bytes += len(piece)
                    if row.total_bytes is not None and t.offset + pending_bytes > row.total_bytes:
                        pending.clear()  # not one byte past the size the hub gave
                        raise ChecksumError(
                            f"The server sent more of {row.filename} than the "
                            f"{format_bytes(row.total_bytes)} the hub says it holds, so it is "
                            "not that file; the download was stopped and its partial file "
                            "deleted."
                        )
                    if pending_bytes < self.chunk_bytes and not token.cancelled:
                        continue
                    block = b"".join(pending)
                    pending.clear()
                    pending_bytes = 0
                    t.append(file, block)
                    if token.cancelled:
                        return
                    now = time.monotonic()
                    if now - stored_at >= _STORE_EVERY_S:
                        file.flush()
                        self.store.update_download(row.id, downloaded_bytes=t.offset)
                        stored_at = now
                    if now - yielded_at >= self.progress_interval:
                        meter.add(now, t.offset)
                        yielded_at = now
                        yield self._progress(row, t.offset, meter.bytes_per_second, "running")
            finally:
                # Keep every byte received, even when the connection just broke: the next
                # try asks for what comes after them.
                if pending:
                    block = b"".join(pending)
                    pending.clear()
                    t.append(file, block)
        meter.add(time.monotonic(), t.offset)

    def _hash_existing(self, t: PartFile, size: int, token: CancelToken) -> Iterator[int]:
        last = time.monotonic()
        with t.part.open("rb") as f:
            while t.offset < size and not token.cancelled:
                block = f.read(min(8 << 20, size - t.offset))
                if not block:
                    break
                t.hasher.update(block)
                t.offset += len(block)
                now = time.monotonic()
                if now - last >= self.progress_interval:
                    last = now
                    yield t.offset

    def _gave_up(self, retry: _Retry, offset: int) -> DownloadError:
        tries = self.retries + 1
        if retry.status:
            return HubUnavailableError(
                f"The Hugging Face Hub kept failing ({retry}, {tries} tries); the download is "
                f"paused and will resume from {format_bytes(offset)}"
            )
        return NoNetworkError(
            f"Can't reach the Hugging Face Hub ({retry}); the download is paused and will "
            f"resume from {format_bytes(offset)}"
        )

    def _backoff(self, failures: int) -> float:
        return float(min(_MAX_BACKOFF_S, self.backoff_seconds * 2 ** max(0, failures - 1)))

    @staticmethod
    def _sleep(seconds: float, token: CancelToken) -> None:
        """Wait before a retry; a pause ends the wait at once."""
        token.wait(seconds)

    def _settle(
        self, download_id: int, status: DownloadStatus, error: str | None, **fields: Any
    ) -> Download:
        return self.store.update_download(download_id, status=status, error=error, **fields)

    def _settle_if_running(self, row: Download, status: DownloadStatus, error: str | None) -> None:
        """Record how a run ended when it ended without saying so (an exception, a close)."""
        try:
            current = self.store.get_download(row.id)
            if current.status in ("running", "verifying"):
                have = file_size(Path(current.part_path))
                self._settle(row.id, status, error, downloaded_bytes=have)
        except Exception:
            log.exception("could not record the end of download %s", row.id)

    @staticmethod
    def _progress(row: Download, done: int, speed: float, status: str) -> Progress:
        total = row.total_bytes
        eta = (total - done) / speed if total is not None and speed > 0 else None
        return Progress(row.id, row.filename, done, total, speed, eta, status)

    # ------------------------------------------------------------------ control
    def _is_active(self, download_id: int) -> bool:
        """Running here, or in another Hearth on this data home (a window or the CLI)."""
        with self._lock:
            if download_id in self._active:
                return True
        return self.store.in_progress_elsewhere(_work(download_id))

    def pause(self, download_id: int) -> None:
        """Pause a run happening on another thread (same as cancelling its token).

        A queued download that is not running is simply marked paused.
        """
        with self._lock:
            active = self._active.get(download_id)
            if active is not None:
                active.token.cancel()
                return
            row = self.store.get_download(download_id)
            if row.status in ("queued", "running", "verifying"):
                self.store.update_download(download_id, status="paused")

    def cancel(self, download_id: int) -> None:
        """Stop the download for good: its part file is deleted and its status is "cancelled".

        A finished download is left alone (removing a model is the library's job).
        """
        with self._lock:
            active = self._active.get(download_id)
            if active is not None:
                active.discard = True
                active.token.cancel()
                return
            row = self.store.get_download(download_id)
            if row.status == "done":
                return
            if self.store.in_progress_elsewhere(_work(download_id)):
                raise DownloadError(
                    f"{row.filename} is downloading in another Hearth window or command; "
                    "cancel it there."
                )
            unlink_quietly(Path(row.part_path))
            self.store.update_download(
                download_id, status="cancelled", downloaded_bytes=0, error=None
            )

    def pending(self) -> list[Download]:
        """Downloads to offer to resume at start-up: queued, paused, and interrupted ones.

        A row left "running" or "verifying" by a crash becomes "paused", with the size
        of its part file (the bytes really on disk) as its progress.
        """
        rows = []
        for row in self.store.list_downloads(*_ACTIVE_STATUSES):
            if row.status in ("running", "verifying") and not self._is_active(row.id):
                row = self.store.update_download(
                    row.id, status="paused", downloaded_bytes=file_size(Path(row.part_path))
                )
            rows.append(row)
        return rows


_ELSEWHERE = (
    "{name} is being downloaded by another Hearth on this data folder (another window, "
    "or `hearth models pull`); it goes on there, and this one leaves it alone."
)


def _bad_redirect(filename: str) -> DownloadError:
    return DownloadError(
        f"The hub sent the download of {filename} round in redirects, or to an address that "
        "is not a web address; Hearth refuses to follow it."
    )


def _work(download_id: int) -> str:
    """The name of a download's lock while some Hearth runs it (app.locks)."""
    return f"download-{download_id}"


def _facts_from_paths_info(
    response: httpx2.Response, filename: str, commit: str | None, etag: str | None
) -> _HubFacts | None:
    """The entry for ``filename`` in a paths-info answer (None when the hub has no such file)."""
    try:
        entries = response.json()
        for entry in entries:
            if entry.get("type") != "file" or entry.get("path") != filename:
                continue
            lfs = entry.get("lfs")
            size = int(lfs["size"] if lfs else entry["size"])
            sha256 = str(lfs["oid"]).lower() if lfs else None
            if size < 0 or (sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", sha256)):
                raise ValueError(f"bad size or sha256 for {filename}")
            return _HubFacts(size=size, sha256=sha256, etag=etag, commit=commit)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise DownloadError(f"The hub sent an answer Hearth can't read about {filename}.") from e
    return None
