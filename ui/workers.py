"""Background jobs for the desktop: app/ generators and long calls run in superqt workers,
their progress and results arrive on the GUI thread as signals, errors arrive as words."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase, create_worker

from app.engine import CancelToken
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

    ``progress`` carries each value a generator yields (or each call of the
    ``report`` callback of a function job); ``succeeded`` its return value;
    ``failed`` a message for the user; ``finished`` always comes last.
    ``stop()`` sets the job's CancelToken: app/ code stops at its next step and
    finishes normally, keeping what it had done.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, worker_factory: Callable[[CancelToken, Job], WorkerBase[Any]]) -> None:
        super().__init__()
        self.cancel_token = CancelToken()
        self._worker = worker_factory(self.cancel_token, self)
        self._worker.returned.connect(self.succeeded.emit)
        self._worker.errored.connect(lambda exc: self.failed.emit(describe_error(exc)))
        self._worker.finished.connect(self.finished.emit)

    @classmethod
    def from_generator(cls, make: Callable[[CancelToken], Iterator[Any]]) -> Job:
        def factory(token: CancelToken, job: Job) -> WorkerBase[Any]:
            def run() -> Iterator[Any]:
                return (yield from make(token))

            worker = create_worker(run, _start_thread=False)
            assert isinstance(worker, GeneratorWorker)
            worker.yielded.connect(job.progress.emit)
            return worker

        return cls(factory)

    @classmethod
    def from_function(cls, call: Callable[[CancelToken, Callable[[Any], None]], Any]) -> Job:
        def factory(token: CancelToken, job: Job) -> WorkerBase[Any]:
            # Emitted from the worker thread; Qt queues it to the receivers' (GUI) thread.
            worker = create_worker(call, token, job.progress.emit, _start_thread=False)
            assert isinstance(worker, FunctionWorker)
            return worker

        return cls(factory)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self.cancel_token.cancel()

    @property
    def running(self) -> bool:
        return bool(self._worker.is_running)
