"""How saved chats and their branches are listed: chats under day headings (the
sidebar), and where each message stands among its alternatives (the ‹ 1/3 › arrows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.store import Chat, Message


@dataclass(frozen=True)
class ChatGroup:
    """Chats under one day heading, newest first."""

    label: str  # "Today", "Yesterday", "Previous 7 days", "Older"
    chats: tuple[Chat, ...]


GROUP_LABELS = ("Today", "Yesterday", "Previous 7 days", "Older")


def day_label(timestamp: float, today: date) -> str:
    days = (today - datetime.fromtimestamp(timestamp).date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days <= 7:
        return "Previous 7 days"
    return "Older"


def group_by_day(chats: Iterable[Chat], now: datetime) -> list[ChatGroup]:
    """Chats sorted newest first under Today / Yesterday / Previous 7 days / Older
    (empty groups left out)."""
    ordered = sorted(chats, key=lambda c: (c.updated_at, c.id), reverse=True)
    buckets: dict[str, list[Chat]] = {label: [] for label in GROUP_LABELS}
    for chat in ordered:
        buckets[day_label(chat.updated_at, now.date())].append(chat)
    return [ChatGroup(label, tuple(items)) for label, items in buckets.items() if items]


def sibling_positions(messages: list[Message]) -> dict[int, tuple[int, int]]:
    """id → (1-based position, count) among the messages sharing its parent, for every
    message that has alternatives."""
    groups: dict[int | None, list[int]] = {}
    for message in messages:
        groups.setdefault(message.parent_id, []).append(message.id)
    positions: dict[int, tuple[int, int]] = {}
    for ids in groups.values():
        if len(ids) > 1:
            ordered = sorted(ids)
            for index, message_id in enumerate(ordered, start=1):
                positions[message_id] = (index, len(ordered))
    return positions
