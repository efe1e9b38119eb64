"""The desktop's handle on the engine: load, send, regenerate, edit, continue and stop,
each run as a background Job, reported through signals carrying plain data."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.chat import ChatEvent, ChatRunner, MessageSaved
from app.engine import (
    CancelToken,
    ContextTrimmed,
    Engine,
    GenerationDone,
    LoadedModel,
    LoadOptions,
    TextDelta,
)
from app.store import Store
from ui.workers import Job, WorkerThread


def batched_text(events: Iterator[ChatEvent], interval: float = 0.05) -> Iterator[ChatEvent]:
    """Join consecutive text pieces of the same kind so at most one crosses to the GUI
    thread every ``interval`` seconds (the first at once); other events pass through in
    order, after any text held back."""
    pending: TextDelta | None = None
    last = 0.0
    with contextlib.closing(events) as stream:  # type: ignore[type-var]
        for event in stream:
            if isinstance(event, TextDelta):
                if pending is not None and pending.kind == event.kind:
                    pending = TextDelta(event.kind, pending.text + event.text)
                else:
                    if pending is not None:
                        yield pending
                    pending = event
                now = time.monotonic()
                if now - last >= interval:
                    yield pending
                    pending, last = None, now
                continue
            if pending is not None:
                yield pending
                pending = None
            yield event
        if pending is not None:
            yield pending


class EngineController(QObject):
    loadProgress = Signal(float)  # 0..1
    modelLoaded = Signal(object)  # LoadedModel
    loadFailed = Signal(str)
    modelUnloaded = Signal()
    messageSaved = Signal(object, object)  # Message, final
    textDelta = Signal(str, str)  # kind ("answer" | "reasoning"), text
    contextTrimmed = Signal(object)  # ContextTrimmed
    generationDone = Signal(object)  # GenerationDone
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(
        self, store: Store, engine: Engine | None = None, *, idle_unload_minutes: int = 0
    ) -> None:
        super().__init__()
        self.engine = engine or Engine()
        self.runner = ChatRunner(store, self.engine)
        self._job: Job | None = None
        self._load_job: Job | None = None
        # Every llama.cpp call runs on this one thread, in order.
        self._thread = WorkerThread("hearth-engine", self)
        self._idle_minutes = idle_unload_minutes
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(30_000)
        self._idle_timer.timeout.connect(self._check_idle)
        if idle_unload_minutes > 0:
            self._idle_timer.start()

    @property
    def busy(self) -> bool:
        return self._job is not None

    # ---------------------------------------------------------------- load
    def load(self, path: Path, options: LoadOptions | None = None) -> None:
        def call(token: CancelToken, report: Callable[[Any], None]) -> LoadedModel:
            return self.engine.load(path, options, on_progress=report, cancel=token)

        job = Job.from_function(call)
        job.progress.connect(self.loadProgress.emit)
        job.succeeded.connect(self.modelLoaded.emit)
        job.failed.connect(self.loadFailed.emit)
        job.finished.connect(lambda: setattr(self, "_load_job", None))
        self._load_job = job
        self._thread.submit(job)

    def unload(self) -> None:
        """Free the loaded model's memory (refused while it is answering)."""
        if self._job is not None:
            self.failed.emit("The model is still answering; stop it before unloading.")
            return
        job = Job.from_function(lambda _token, _report: self.engine.unload())
        job.succeeded.connect(lambda _result: self.modelUnloaded.emit())
        job.failed.connect(self.failed.emit)
        self._thread.submit(job)

    def cancel_load(self) -> None:
        if self._load_job is not None:
            self._load_job.stop()

    # ------------------------------------------------------------ generate
    def send(self, chat_id: int, text: str) -> None:
        self._run(lambda token: self.runner.send(chat_id, text, cancel=token))

    def regenerate(self, message_id: int) -> None:
        self._run(lambda token: self.runner.regenerate(message_id, cancel=token))

    def edit(self, message_id: int, text: str) -> None:
        self._run(lambda token: self.runner.edit(message_id, text, cancel=token))

    def continue_answer(self, message_id: int) -> None:
        self._run(lambda token: self.runner.continue_answer(message_id, cancel=token))

    def stop(self) -> None:
        """Stop the answer at the next token; what was written stays."""
        if self._job is not None:
            self._job.stop()

    def _run(self, make: Callable[[CancelToken], Iterator[ChatEvent]]) -> None:
        if self._job is not None:
            self.failed.emit("The model is still answering; stop it or wait for it to finish.")
            return
        job = Job.from_generator(lambda token: batched_text(make(token)))
        job.progress.connect(self._dispatch)
        job.failed.connect(self.failed.emit)
        job.finished.connect(self._finished)
        self._job = job
        self.busyChanged.emit(True)
        self._thread.submit(job)

    def _dispatch(self, event: ChatEvent) -> None:
        if isinstance(event, TextDelta):
            self.textDelta.emit(event.kind, event.text)
        elif isinstance(event, MessageSaved):
            self.messageSaved.emit(event.message, event.final)
        elif isinstance(event, ContextTrimmed):
            self.contextTrimmed.emit(event)
        elif isinstance(event, GenerationDone):
            self.generationDone.emit(event)

    def _finished(self) -> None:
        self._job = None
        self.busyChanged.emit(False)

    def shutdown_and_wait(self) -> bool:
        """Stop any answer (it is saved as stopped), free the model, end the engine thread."""
        self._idle_timer.stop()
        if self._job is not None:
            self._job.stop()
        unload = Job.from_function(lambda _token, _report: self.engine.close())
        self._thread.submit(unload)
        return self._thread.shutdown()

    def _check_idle(self) -> None:
        if self._job is None and self._load_job is None:
            self.engine.unload_if_idle(self._idle_minutes * 60)
