"""Several downloads at once on plain threads (no Qt), for the desktop."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.cancel import CancelToken
from app.errors import HearthError
from app.models.downloads import Downloader, Progress
from app.models.errors import DownloadError

log = logging.getLogger(__name__)


class DownloadQueue:
    """Runs submitted downloads on ``concurrency`` plain threads (no Qt), in order.

    ``on_progress`` and ``on_finished`` are called on the worker threads: a UI hands them
    over to its own thread. ``on_finished(id, message)`` gets None when the run ended
    without an error (done, paused or cancelled: the store says which) and the words
    of the error otherwise.
    """

    def __init__(
        self,
        downloader: Downloader,
        *,
        concurrency: int = 2,
        on_progress: Callable[[Progress], None] | None = None,
        on_finished: Callable[[int, str | None], None] | None = None,
    ) -> None:
        self.downloader = downloader
        self.on_progress = on_progress
        self.on_finished = on_finished
        self._cond = threading.Condition()
        self._waiting: deque[int] = deque()
        self._running: dict[int, CancelToken] = {}
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, name=f"hearth-download-{i}", daemon=True)
            for i in range(max(1, concurrency))
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, download_id: int) -> None:
        """Queue a planned download (a second submit of a queued or running one is ignored)."""
        with self._cond:
            if self._closed:
                raise DownloadError("The download queue is shut down.")
            if download_id in self._running or download_id in self._waiting:
                return
            self._waiting.append(download_id)
            self._cond.notify_all()

    def pause(self, download_id: int) -> None:
        """Pause a running download (part kept) or take a waiting one out of the line."""
        with self._cond:
            if download_id in self._waiting:
                self._waiting.remove(download_id)
                self._cond.notify_all()
            token = self._running.get(download_id)
            if token is not None:
                token.cancel()
        self.downloader.pause(download_id)

    def cancel(self, download_id: int) -> None:
        """Stop a download for good and delete its part file."""
        with self._cond:
            if download_id in self._waiting:
                self._waiting.remove(download_id)
                self._cond.notify_all()
        self.downloader.cancel(download_id)

    def active(self) -> list[int]:
        """The ids running right now."""
        with self._cond:
            return list(self._running)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is waiting or running; False when ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._waiting and not self._running, timeout=timeout
            )

    def shutdown(self, timeout: float = 10.0) -> None:
        """Pause what is running (the parts stay for next time) and stop the threads.

        Downloads still waiting keep their "queued" row: ``Downloader.pending`` offers
        them again at the next start.
        """
        with self._cond:
            self._closed = True
            self._waiting.clear()
            for token in self._running.values():
                token.cancel()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or bool(self._waiting))
                if self._closed:
                    return
                download_id = self._waiting.popleft()
                token = self._running[download_id] = CancelToken()
            message: str | None = None
            try:
                for progress in self.downloader.run(download_id, token):
                    self._call(self.on_progress, progress)
            except HearthError as e:
                message = str(e)
            except Exception as e:  # a bug: logged with its traceback, shown in words
                log.exception("download %s crashed", download_id)
                message = f"Unexpected error: {e}"
            finally:
                # Released before the callback, so a "resume" or "try again" it
                # triggers is accepted instead of ignored as still running.
                with self._cond:
                    self._running.pop(download_id, None)
                    self._cond.notify_all()
                self._call(self.on_finished, download_id, message)

    @staticmethod
    def _call(callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a broken callback must not stop the downloads
            log.exception("download callback %r failed", callback)
