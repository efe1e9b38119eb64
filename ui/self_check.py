"""`hearth doctor --check`: proves this installation works end to end, the way a user would.

It opens the real main window (offscreen when there is no display), loads a model
from the library (the one named, else the first chat model), sends one message
through the chat page, waits for the answer, and closes the window. Each step is
printed; the first that fails is named in words. It runs in a throw-away chat
that is deleted afterwards, so nothing the user has changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QTimer

from app.context import Context
from app.engine.events import GenerationDone, LoadedModel
from app.errors import HearthError
from app.models.library import is_embedding_entry
from app.store import ModelEntry
from ui.application import build_window, create_application
from ui.main_window import MainWindow

PROMPT = "Say hello in five words."
ANSWER_TOKENS = 16
STEP_SECONDS = 120.0


def run_check(ctx: Context, model: str | None, say: Callable[[str], None]) -> int:
    """0 when every step worked; raises HearthError naming the step that did not."""
    entry = _pick(ctx, model)
    start = time.monotonic()
    app = create_application()
    window = build_window(ctx, app)
    window.show()
    say(f"window   opened ({app.platformName()} display)")
    chat_before = {c.id for c in ctx.store.list_chats()}
    try:
        loaded: list[LoadedModel] = []
        failed: list[str] = []
        window.engine.modelLoaded.connect(loaded.append)
        window.engine.loadFailed.connect(failed.append)
        window.load_model(entry)
        _wait(lambda: bool(loaded or failed), "loading the model")
        if failed:
            raise HearthError(f"Loading {entry.name} failed: {failed[0]}")
        say(f"model    {loaded[0].name} loaded in {loaded[0].load_seconds:.1f} s")
        # A short answer in a chat of its own: the check measures, it does not chat.
        chat = ctx.store.create_chat("Hearth installation check", model=entry.name)
        ctx.store.update_chat(chat.id, params={"max_tokens": ANSWER_TOKENS, "temperature": 0.0})
        window.open_chat(chat.id)
        done: list[GenerationDone] = []
        window.engine.generationDone.connect(done.append)
        window.chat_page.send(PROMPT)
        _wait(lambda: bool(done) or window.chat_page.error_text() is not None, "answering")
        if not done:
            raise HearthError(f"The answer failed: {window.chat_page.error_text()}")
        answer = done[0]
        if answer.error:
            raise HearthError(f"The answer failed: {answer.error}")
        stats = answer.stats
        say(
            f"answer   {stats.completion_tokens} tokens at {stats.tokens_per_second:.1f} tok/s: "
            f"{answer.answer.strip()[:60]!r}"
        )
        _wait(lambda: not window.engine.busy, "finishing the answer")
    finally:
        _close(window)
        for chat in ctx.store.list_chats():
            if chat.id not in chat_before:
                ctx.store.delete_chat(chat.id)
    say(f"closed   cleanly; the check took {time.monotonic() - start:.1f} s")
    return 0


def _pick(ctx: Context, model: str | None) -> ModelEntry:
    models = [m for m in ctx.store.list_models() if not is_embedding_entry(m)]
    if model is not None:
        return ctx.store.find_model(model)
    if not models:
        raise HearthError(
            "The library has no chat model to check with: add one (hearth models starter, "
            "or hearth models import FILE), or name a file."
        )
    return models[0]


def _wait(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STEP_SECONDS
    loop = QEventLoop()
    while not done():
        if time.monotonic() > deadline:
            raise HearthError(f"No result after {STEP_SECONDS:.0f} s while {what}.")
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def _close(window: MainWindow) -> None:
    window.shutdown()
    window.close()
