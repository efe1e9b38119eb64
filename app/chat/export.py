"""Chats written out for people (Markdown) and for programs (JSON, every branch included)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from app import __version__
from app.documents.grounding import source_label
from app.store import Chat, Message, MessageStats, SourceRecord, Store


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


def to_markdown(
    chat: Chat, thread: list[Message], sources: dict[int, list[SourceRecord]] | None = None
) -> str:
    """The visible conversation (current branch) as Markdown, answers with their sources."""
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
        given = (sources or {}).get(message.id) or []
        if given:
            lines += ["", "Sources:", ""]
            lines += [f"{s.number}. {source_label(s)}" for s in given]
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
        "messages": [
            {**asdict(m), "sources": [asdict(s) for s in store.message_sources(m.id)]}
            for m in messages
        ],
    }


def export_chat(store: Store, chat_id: int, fmt: str) -> str:
    chat = store.get_chat(chat_id)
    if fmt == "md":
        thread = store.thread(chat_id)
        return to_markdown(chat, thread, {m.id: store.message_sources(m.id) for m in thread})
    if fmt == "json":
        return json.dumps(to_json(store, chat), indent=2, ensure_ascii=False)
    raise ValueError(f"unknown export format {fmt!r}")


def import_json(store: Store, data: dict[str, Any]) -> Chat:
    """A new chat from a JSON export (every branch kept); a file that is not one is refused."""
    from app.errors import HearthError

    if not isinstance(data, dict) or data.get("format") != "hearth-chat":
        raise HearthError("This file is not a Hearth chat export")
    if data.get("version") != 1:
        raise HearthError(f"This chat export has version {data.get('version')!r}; expected 1")
    chat_data = data.get("chat") or {}
    messages = sorted(data.get("messages") or [], key=lambda m: m["id"])
    try:
        chat = store.create_chat(
            str(chat_data.get("title") or "Imported chat"),
            model=chat_data.get("model"),
            system_prompt=str(chat_data.get("system_prompt") or ""),
            params=dict(chat_data.get("params") or {}),
        )
        new_ids: dict[int, int] = {}
        for message in messages:
            parent = message.get("parent_id")
            created = store.add_message(
                chat.id,
                message["role"],
                str(message.get("content") or ""),
                parent_id=new_ids[parent] if parent is not None else None,
                model=message.get("model"),
                meta=message.get("meta") or {},
            )
            new_ids[message["id"]] = created.id
            store.save_sources(
                created.id, [SourceRecord(**s) for s in message.get("sources") or []]
            )
            stats = MessageStats(**(message.get("stats") or {}))
            store.append_text(created.id, reasoning=str(message.get("reasoning") or ""))
            store.finish_message(
                created.id,
                status=message.get("status") if message.get("status") != "streaming" else "stopped",
                stats=stats,
                error=message.get("error"),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise HearthError(f"This chat export is damaged: {exc}") from exc
    thread = [new_ids[i] for i in data.get("current_thread") or [] if i in new_ids]
    if thread:
        store.select_branch(thread[-1])
    return store.get_chat(chat.id)
