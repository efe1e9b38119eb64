"""Chats written out for people (Markdown) and for programs (JSON, every branch included)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from app import __version__
from app.store import Chat, Message, Store


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _stats_line(message: Message) -> str:
    s = message.stats
    parts = []
    if s.completion_tokens is not None:
        parts.append(f"{s.completion_tokens} tokens")
    if s.tokens_per_second:
        parts.append(f"{s.tokens_per_second:.1f} tok/s")
    if s.ttft_ms:
        parts.append(f"first token {s.ttft_ms:.0f} ms")
    if s.stop_reason:
        parts.append(f"stop: {s.stop_reason}")
    return " · ".join(parts)


def to_markdown(chat: Chat, thread: list[Message]) -> str:
    """The visible conversation (current branch) as Markdown."""
    lines = [f"# {chat.title}", "", f"*{_when(chat.created_at)}*"]
    if chat.model:
        lines[-1] += f" · model: `{chat.model}`"
    if chat.system_prompt.strip():
        lines += ["", "> **System:** " + chat.system_prompt.replace("\n", "\n> ")]
    for message in thread:
        who = {"user": "You", "assistant": "Assistant", "system": "System"}.get(
            message.role, message.role.title()
        )
        lines += ["", f"## {who}", ""]
        if message.reasoning.strip():
            lines += ["<details><summary>Reasoning</summary>", "", message.reasoning.strip(),
                      "", "</details>", ""]  # fmt: skip
        lines.append(message.content.strip() or "*(empty)*")
        if message.role == "assistant":
            footer = _stats_line(message)
            if message.status in ("stopped", "error"):
                footer = (
                    f"{message.status}"
                    + (f": {message.error}" if message.error else "")
                    + (f" · {footer}" if footer else "")
                )
            dropped = message.meta.get("dropped_message_ids")
            if dropped:
                footer += f" · {len(dropped)} older messages left out to fit the context"
            if footer:
                lines += ["", f"<sub>{footer}</sub>"]
    return "\n".join(lines) + "\n"


def to_json(store: Store, chat: Chat) -> dict[str, Any]:
    """The whole chat: settings, the current branch and every message of every branch."""
    messages = store.all_messages(chat.id)
    return {
        "format": "hearth-chat",
        "version": 1,
        "exported_by": f"hearth {__version__}",
        "chat": asdict(chat),
        "current_thread": [m.id for m in store.thread(chat.id)],
        "messages": [asdict(m) for m in messages],
    }


def export_chat(store: Store, chat_id: int, fmt: str) -> str:
    chat = store.get_chat(chat_id)
    if fmt == "md":
        return to_markdown(chat, store.thread(chat_id))
    if fmt == "json":
        return json.dumps(to_json(store, chat), indent=2, ensure_ascii=False)
    raise ValueError(f"unknown export format {fmt!r}")
