"""Conversations: sending, regenerating, editing and continuing messages in a stored chat,
with answers written to the database while they stream."""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from app.cancel import CancelToken
from app.chat.params import SAMPLING_SETTINGS
from app.chat.titles import require_text
from app.documents.grounding import Grounder, Grounding
from app.engine.backend import Backend
from app.engine.chat_format import Turn
from app.engine.context_length import check_context
from app.engine.events import (
    ContextTrimmed,
    Event,
    GenerationDone,
    LoadOptions,
    Sampling,
    TextDelta,
)
from app.errors import HearthError
from app.store import (
    Chat,
    Message,
    MessageStats,
    MessageStatus,
    ModelEntry,
    SourceRecord,
    Store,
)

_STATUS: dict[str, MessageStatus] = {"user": "stopped", "error": "error"}


@dataclass(frozen=True)
class MessageSaved:
    """A message was created (``final`` False) or finished (``final`` True) in the store."""

    message: Message
    final: bool = False


@dataclass(frozen=True)
class SourcesUsed:
    """The passages from the chat's documents that the answer was given, and whether the
    documents went in whole or through search."""

    message_id: int
    mode: str
    sources: list[SourceRecord]


@dataclass(frozen=True)
class ChatTitled:
    """The chat took its title from the message just sent (its first)."""

    chat_id: int
    title: str


ChatEvent = Event | MessageSaved | SourcesUsed | ChatTitled


def sampling_for(store: Store, chat: Chat, overrides: dict[str, Any] | None = None) -> Sampling:
    """Sampling from the settings, then the chat's own parameters, then one-off overrides."""
    values: dict[str, Any] = {name: store.get_setting(name) for name in SAMPLING_SETTINGS}
    values.update(chat.params)
    values.update(overrides or {})
    return Sampling.from_values(values)


# Settings (and per-model override keys) that decide how a model is loaded.
_LOAD_KEYS = {"context_length": "n_ctx", "threads": "n_threads", "gpu_layers": "n_gpu_layers"}


def load_options_for(
    store: Store,
    *,
    model: ModelEntry | None = None,
    chat: Chat | None = None,
    overrides: dict[str, Any] | None = None,
) -> LoadOptions:
    """How to load a model: settings, then the model's own overrides and chosen chat format,
    then the chat's context length, then one-off overrides (LoadOptions field names)."""
    values: dict[str, Any] = {
        field: store.get_setting(setting) for setting, field in _LOAD_KEYS.items()
    }
    if model is not None:
        values.update({_LOAD_KEYS[k]: v for k, v in model.overrides.items() if k in _LOAD_KEYS})
        if "context_length" in model.overrides:
            values["ctx_source"] = "the model's own settings"
        if model.chat_format:
            values["chat_format"] = model.chat_format
    if chat is not None and "context_length" in chat.params:
        values["n_ctx"] = int(chat.params["context_length"])
        values["ctx_source"] = "this chat's settings"
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return LoadOptions(**values)


def check_chat_context(store: Store, chat: Chat, params: dict[str, Any]) -> None:
    """Refuse a chat's own context length past what its model was trained for (the model
    the chat was last answered by, when it is in the library)."""
    if "context_length" not in params or not chat.model:
        return
    entry = next((m for m in store.list_models() if m.name == chat.model), None)
    if entry is not None:
        check_context(
            entry.name,
            entry.context_length,
            int(params["context_length"]),
            "this chat's context length of",
        )


def turns_for(chat: Chat, thread: Sequence[Message]) -> list[Turn]:
    turns: list[Turn] = []
    if chat.system_prompt.strip():
        turns.append({"role": "system", "content": chat.system_prompt})
    turns += [{"role": m.role, "content": m.content} for m in thread if m.role != "tool"]
    return turns


class ChatRunner:
    """Runs a backend (the local engine or a remote server) over a stored chat; every
    method is a generator of ChatEvents."""

    def __init__(
        self,
        store: Store,
        engine: Backend,
        *,
        grounder: Grounder | None = None,
        flush_seconds: float = 0.05,
    ) -> None:
        self.store = store
        self.engine = engine
        self.grounder = grounder
        self.flush_seconds = flush_seconds

    def send(
        self,
        chat_id: int,
        text: str,
        *,
        sampling: Sampling | None = None,
        cancel: CancelToken | None = None,
    ) -> Generator[ChatEvent, None, None]:
        """Add the user's message after the visible conversation and stream the answer."""
        require_text(text)
        user = self.store.append_message(chat_id, "user", text)
        yield MessageSaved(user)
        titled = self.store.title_from_message(chat_id, text)
        if titled is not None:
            yield ChatTitled(titled.id, titled.title)
        yield from self._answer(user, sampling, cancel)

    def edit(
        self,
        message_id: int,
        text: str,
        *,
        sampling: Sampling | None = None,
        cancel: CancelToken | None = None,
    ) -> Generator[ChatEvent, None, None]:
        """A new version of a user message (a branch beside the old one), answered afresh."""
        require_text(text)
        original = self.store.get_message(message_id)
        if original.role != "user":
            raise HearthError("Only your own messages can be edited and resent")
        edited = self.store.add_message(
            original.chat_id, "user", text, parent_id=original.parent_id
        )
        yield MessageSaved(edited)
        yield from self._answer(edited, sampling, cancel)

    def regenerate(
        self,
        message_id: int,
        *,
        sampling: Sampling | None = None,
        cancel: CancelToken | None = None,
    ) -> Generator[ChatEvent, None, None]:
        """Another answer to the same question, kept beside the old one."""
        _, question = self._answer_and_question(message_id, "regenerated")
        yield from self._answer(question, sampling, cancel)

    def continue_answer(
        self,
        message_id: int,
        *,
        sampling: Sampling | None = None,
        cancel: CancelToken | None = None,
    ) -> Generator[ChatEvent, None, None]:
        """Extend an answer that stopped early (stopped, cut at max tokens) in place."""
        answer, question = self._answer_and_question(message_id, "continued")
        yield from self._answer(question, sampling, cancel, existing=answer)

    def _answer_and_question(self, message_id: int, verb: str) -> tuple[Message, Message]:
        answer = self.store.get_message(message_id)
        if answer.role != "assistant" or answer.parent_id is None:
            raise HearthError(f"Only an answer can be {verb}")
        return answer, self.store.get_message(answer.parent_id)

    # ----------------------------------------------------------------------
    def _answer(
        self,
        question: Message,
        sampling: Sampling | None,
        cancel: CancelToken | None,
        existing: Message | None = None,
    ) -> Generator[ChatEvent, None, None]:
        chat = self.store.get_chat(question.chat_id)
        thread = self.store.thread(chat.id, question.id)
        turns = turns_for(chat, thread)
        offset = 1 if chat.system_prompt.strip() else 0
        visible = [m for m in thread if m.role != "tool"]
        sampling = sampling or sampling_for(self.store, chat)
        loaded = self.engine.loaded
        model_name = loaded.name if loaded else None
        grounding = self._ground(chat, question, existing)
        if grounding is not None and grounding.sources:
            turns[-1] = {"role": "user", "content": grounding.prompt(question.content)}

        if existing is None:
            answer = self.store.add_message(
                chat.id, "assistant", parent_id=question.id, status="streaming", model=model_name
            )
        else:
            answer = existing
            self.store.select_branch(existing.id)
        yield MessageSaved(answer)
        if grounding is not None:
            if existing is None:
                self.store.save_sources(answer.id, grounding.sources)
            yield SourcesUsed(answer.id, grounding.mode, grounding.sources)

        pending_text: list[str] = []
        pending_reasoning: list[str] = []
        last_flush = time.monotonic()
        done: GenerationDone | None = None
        dropped_ids: list[int] = []

        def flush() -> None:
            nonlocal last_flush
            if pending_text or pending_reasoning:
                self.store.append_text(answer.id, "".join(pending_text), "".join(pending_reasoning))
                pending_text.clear()
                pending_reasoning.clear()
            last_flush = time.monotonic()

        try:
            for event in self.engine.generate(
                turns,
                sampling,
                session=chat.id,
                continue_text=existing.content if existing else "",
                cancel=cancel,
            ):
                if isinstance(event, TextDelta):
                    (pending_reasoning if event.kind == "reasoning" else pending_text).append(
                        event.text
                    )
                    if time.monotonic() - last_flush >= self.flush_seconds:
                        flush()
                elif isinstance(event, ContextTrimmed):
                    dropped_ids = [visible[i - offset].id for i in event.dropped if i - offset >= 0]
                elif isinstance(event, GenerationDone):
                    done = event
                yield event
        finally:
            flush()
            status: MessageStatus
            if done is None:  # abandoned or failed mid-way: keep what was written
                status = "stopped"
                stats = None
                error = None
            else:
                status = _STATUS.get(done.stats.stop_reason, "done")
                stats = MessageStats(
                    prompt_tokens=done.stats.prompt_tokens,
                    completion_tokens=done.stats.completion_tokens,
                    ttft_ms=round(done.stats.ttft_ms, 1),
                    tokens_per_second=round(done.stats.tokens_per_second, 2),
                    stop_reason=done.stats.stop_reason,
                )
                error = done.error
            meta: dict[str, Any] = {}
            if dropped_ids:
                meta["dropped_message_ids"] = dropped_ids
            if grounding is not None:
                meta["documents_mode"] = grounding.mode
            if done is not None:
                meta["prompt_evaluated"] = done.stats.prompt_evaluated
                if loaded is not None:
                    meta["chat_format"] = loaded.chat_source
            final = self.store.finish_message(
                answer.id,
                status=status,
                stats=stats,
                error=error,
                meta=meta,
            )
        yield MessageSaved(final, final=True)

    def _ground(self, chat: Chat, question: Message, existing: Message | None) -> Grounding | None:
        """What the answer is given from the chat's documents (a continued answer keeps the
        sources it started with)."""
        if existing is not None:
            sources = self.store.message_sources(existing.id)
            if not sources:
                return None
            mode = str(existing.meta.get("documents_mode", "retrieval"))
            return Grounding("whole" if mode == "whole" else "retrieval", sources)
        if self.grounder is None:
            return None
        loaded = self.engine.loaded
        if loaded is None:
            return self.grounder.ground(chat.id, question.content, context_tokens=4096)
        return self.grounder.ground(
            chat.id,
            question.content,
            context_tokens=loaded.n_ctx,
            count_tokens=self.engine.count_tokens,
        )
