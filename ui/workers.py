"""Background jobs for the desktop: app/ generators and long calls run on a worker thread,
their progress and results arrive on the GUI thread as signals, errors arrive as words.

Each ``WorkerThread`` is one long-lived QThread that runs its jobs in order. The
engine gets its own, so every llama.cpp call happens on the same OS thread (one
OpenMP team, instead of a new one for every pool thread that touches it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.cancel import CancelToken
from app.errors import HearthError

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """What the user reads: a HearthError's own words, otherwise a short note (traceback logged)."""
    if isinstance(exc, HearthError):
        return str(exc)
    log.error("background job failed", exc_info=exc)
    return f"Something went wrong: {type(exc).__name__}: {exc}. Details are in the log."


class Job(QObject):
    """One piece of background work.

    ``progress`` carries each value a generator yields (or each call of a function
    job's ``report``); ``succeeded`` its return value; ``failed`` a message for the
    user; ``finished`` always comes last. ``stop()`` sets the job's CancelToken:
    app/ code stops at its next step and finishes normally, keeping its work.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, body: Callable[[CancelToken, Callable[[Any], None]], Any]) -> None:
        super().__init__()
        self.cancel_token = CancelToken()
        self._body = body
        self.running = False

    @classmethod
    def from_generator(cls, make: Callable[[CancelToken], Iterator[Any]]) -> Job:
        def body(token: CancelToken, report: Callable[[Any], None]) -> Any:
            generator = make(token)
            while True:
                try:
                    report(next(generator))
                except StopIteration as stop:
                    return stop.value

        return cls(body)

    @classmethod
    def from_function(cls, call: Callable[[CancelToken, Callable[[Any], None]], Any]) -> Job:
        return cls(call)

    def stop(self) -> None:
        self.cancel_token.cancel()

    def execute(self) -> None:
        """Runs on the worker thread; signals are queued to the receivers' threads."""
        self.running = True
        try:
            result = self._body(self.cancel_token, self.progress.emit)
        except BaseException as exc:
            self.failed.emit(describe_error(exc))
        else:
            self.succeeded.emit(result)
        finally:
            self.running = False
            self.finished.emit()


class _Executor(QObject):
    def __init__(self, around: Callable[[], AbstractContextManager[Any]] | None) -> None:
        super().__init__()
        self._around = around or contextlib.nullcontext

    @Slot(object)
    def run(self, job: Job) -> None:
        with self._around():
            job.execute()


class WorkerThread(QObject):
    """A named background thread that runs submitted jobs one after another, each inside
    ``around()`` when given (the engine's: a turn with the model, shared with the API)."""

    _submit = Signal(object)

    def __init__(
        self,
        name: str,
        parent: QObject | None = None,
        *,
        around: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._executor = _Executor(around)
        self._executor.moveToThread(self._thread)
        self._submit.connect(self._executor.run)
        self._jobs: set[Job] = set()
        self._thread.start()

    def submit(self, job: Job) -> Job:
        self._jobs.add(job)  # keep it alive until it has finished
        job.finished.connect(lambda: self._jobs.discard(job))
        self._submit.emit(job)
        return job

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the running job, finish the thread; True if it ended in time."""
        for job in list(self._jobs):
            job.stop()
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))
