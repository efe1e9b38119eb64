"""The desktop's engine controller: work happens off the GUI thread and arrives as signals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.chat.runner import ChatEvent
from app.engine.events import GenerationDone, LoadOptions
from app.store import Store
from tests.conftest import GgufFiles
from ui.engine_controller import EngineController


@pytest.fixture
def controller(store: Store) -> Iterator[EngineController]:
    ctrl = EngineController(store)
    yield ctrl
    assert ctrl.shutdown_and_wait()


def test_load_then_send_streams_through_signals(
    controller: EngineController, store: Store, tiny_model: Path, qtbot: QtBot
) -> None:
    progress: list[float] = []
    controller.loadProgress.connect(progress.append)
    with qtbot.waitSignal(controller.modelLoaded, timeout=10_000) as loaded:
        controller.load(tiny_model, LoadOptions(n_ctx=512))
    assert loaded.args[0].name == "tiny-llama"
    assert progress and progress[-1] == pytest.approx(1.0)

    gui_thread = threading.get_ident()
    deltas: list[tuple[str, str, int]] = []
    controller.textDelta.connect(lambda k, t: deltas.append((k, t, threading.get_ident())))
    chat = store.create_chat()
    with qtbot.waitSignal(controller.generationDone, timeout=10_000) as done:
        controller.send(chat.id, "Hello")
    qtbot.waitUntil(lambda: not controller.busy, timeout=10_000)
    result: GenerationDone = done.args[0]
    assert deltas and all(thread == gui_thread for *_, thread in deltas)
    assert "".join(t for k, t, _ in deltas if k == "answer") == result.answer
    assert store.thread(chat.id)[-1].content == result.answer
    assert not controller.busy


def test_stop_from_the_gui_keeps_the_partial_answer(
    controller: EngineController, store: Store, tiny_model: Path, qtbot: QtBot
) -> None:
    controller.engine.load(tiny_model, LoadOptions(n_ctx=2048))
    chat = store.create_chat()
    store.update_chat(chat.id, params={"max_tokens": 1800, "temperature": 0.0})
    controller.textDelta.connect(lambda *_: controller.stop())
    with qtbot.waitSignal(controller.generationDone, timeout=10_000) as done:
        controller.send(chat.id, "Go on and on")
    assert done.args[0].stats.stop_reason == "user"
    qtbot.waitUntil(lambda: not controller.busy, timeout=5_000)
    answer = store.thread(chat.id)[-1]
    assert answer.status == "stopped"
    assert (answer.stats.completion_tokens or 0) < 1800


def test_a_second_request_while_busy_is_reported_not_run(
    controller: EngineController, store: Store, tiny_model: Path, qtbot: QtBot
) -> None:
    controller.engine.load(tiny_model, LoadOptions(n_ctx=2048))
    chat = store.create_chat(params={"max_tokens": 1500, "temperature": 0.0})
    errors: list[str] = []
    controller.failed.connect(errors.append)
    controller.send(chat.id, "first")
    controller.send(chat.id, "second")
    assert errors == ["The model is still answering; stop it or wait for it to finish."]
    controller.stop()
    qtbot.waitUntil(lambda: not controller.busy, timeout=10_000)
    assert [m.content for m in store.thread(chat.id) if m.role == "user"] == ["first"]


def test_a_damaged_model_fails_with_words(
    controller: EngineController, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    with qtbot.waitSignal(controller.loadFailed, timeout=10_000) as failed:
        controller.load(gguf_files.wrong_magic())
    assert "is not a GGUF model file" in failed.args[0]
    assert "ZIP" in failed.args[0]


def test_unload_frees_the_model(
    controller: EngineController, tiny_model: Path, qtbot: QtBot
) -> None:
    controller.engine.load(tiny_model, LoadOptions(n_ctx=256))
    with qtbot.waitSignal(controller.modelUnloaded, timeout=10_000):
        controller.unload()
    assert controller.engine.loaded is None


def test_text_pieces_are_joined_before_crossing_threads_and_nothing_is_lost() -> None:
    from app.engine.events import ContextTrimmed, TextDelta
    from ui.engine_controller import batched_text

    trimmed = ContextTrimmed((1, 2), 100, 256)

    def events() -> Iterator[ChatEvent]:
        yield from (TextDelta("answer", c) for c in "Hello")
        yield TextDelta("reasoning", "hm")
        yield TextDelta("answer", " world")
        yield trimmed

    out = list(batched_text(events(), interval=60.0))
    assert out[0] == TextDelta("answer", "H")  # the first piece goes out at once
    assert out[-1] == trimmed
    texts = [(e.kind, e.text) for e in out if isinstance(e, TextDelta)]
    assert texts == [("answer", "H"), ("answer", "ello"), ("reasoning", "hm"), ("answer", " world")]


def test_every_engine_job_takes_a_turn_with_the_api(
    controller: EngineController, store: Store, tiny_model: Path, qtbot: QtBot
) -> None:
    host = controller.host
    assert host.desktop and host.engine is controller.engine
    with qtbot.waitSignal(controller.modelLoaded, timeout=10_000):
        controller.load(tiny_model, LoadOptions(n_ctx=512))
    chat = store.create_chat()
    with host.turn():  # an API request has the model
        controller.send(chat.id, "Hello")
        assert host.wait_queued(2, timeout=10), "the answer waits in the same line"
        assert store.thread(chat.id) == [], "and has not started"
    with qtbot.waitSignal(controller.generationDone, timeout=10_000) as done:
        pass
    assert done.args[0].answer and done.args[0].error is None
    qtbot.waitUntil(lambda: not controller.busy, timeout=10_000)
    assert store.thread(chat.id)[-1].content == done.args[0].answer
