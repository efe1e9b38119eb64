"""Chat titles: taken from a chat's first message (or the files it was started with),
one rule for the desktop and the command line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.errors import HearthError

DEFAULT_TITLE = "New chat"
TITLE_LENGTH = 60


class BlankMessageError(HearthError):
    """A message with nothing but white space in it was sent."""


def is_blank(text: str) -> bool:
    """Nothing but white space: not a message to send."""
    return not text.strip()


def require_text(text: str) -> str:
    """The message as typed, or BlankMessageError when it holds nothing to send."""
    if is_blank(text):
        raise BlankMessageError("The message is empty: type something to send")
    return text


def title_for(text: str) -> str:
    """A chat's title from its first message: the first non-blank line, shortened with an
    ellipsis to at most TITLE_LENGTH characters (DEFAULT_TITLE for a blank text)."""
    line = next((" ".join(part.split()) for part in text.splitlines() if part.strip()), "")
    if not line:
        return DEFAULT_TITLE
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def title_for_documents(paths: Sequence[Path]) -> str:
    """A chat started by dropping files: named after them until its first message."""
    if not paths:
        return DEFAULT_TITLE
    first = paths[0].name or str(paths[0])
    return first if len(paths) == 1 else f"{first} and {len(paths) - 1} more"
