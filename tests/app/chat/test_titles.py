"""Chat titles from the first message, and blank messages refused (app/titles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.chat.titles import (
    DEFAULT_TITLE,
    TITLE_LENGTH,
    BlankMessageError,
    require_text,
    title_for,
    title_for_documents,
)
from app.store import SCHEMA_NAMES, Store


def test_title_is_the_first_non_blank_line() -> None:
    assert title_for("\n\n  Plan a trip to Kyoto  \nin April") == "Plan a trip to Kyoto"


def test_long_title_is_shortened_with_an_ellipsis() -> None:
    title = title_for("word " * 40)
    assert len(title) == TITLE_LENGTH and title.endswith("…")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t\n", "\u3000"])
def test_blank_text_has_the_default_title_and_is_refused(blank: str) -> None:
    assert title_for(blank) == DEFAULT_TITLE
    with pytest.raises(BlankMessageError, match="The message is empty"):
        require_text(blank)


@given(st.text())
def test_any_text_gets_a_short_one_line_title(text: str) -> None:
    title = title_for(text)
    assert title and "\n" not in title and len(title) <= TITLE_LENGTH


def test_documents_title_names_the_first_file_and_counts_the_rest() -> None:
    assert title_for_documents([Path("a/report.pdf")]) == "report.pdf"
    assert title_for_documents([Path("report.pdf"), Path("b.md")]) == "report.pdf and 1 more"


def test_an_untitled_chat_takes_its_first_message_as_title(store: Store) -> None:
    chat = store.create_chat()
    assert chat.title == DEFAULT_TITLE and chat.auto_title
    titled = store.title_from_message(chat.id, "How do rainbows form?")
    assert titled is not None and titled.title == "How do rainbows form?"
    assert store.title_from_message(chat.id, "A second message") is None
    assert store.get_chat(chat.id).title == "How do rainbows form?"


def test_a_renamed_chat_keeps_the_users_title(store: Store) -> None:
    chat = store.create_chat()
    store.rename_chat(chat.id, "Homework")
    assert store.title_from_message(chat.id, "What is 2 + 2?") is None
    assert store.get_chat(chat.id).title == "Homework"
    named = store.create_chat("Given at creation")
    assert not named.auto_title


def test_upgrade_titles_old_untitled_chats_from_their_first_message(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    previous = SCHEMA_NAMES.index("0005_chat_auto_titles")
    with Store.open(path, stop_before=SCHEMA_NAMES[previous]) as old:
        talked = old.create_chat("New chat")
        old.append_message(talked.id, "user", "\n  Tell me about owls\nplease")
        empty = old.create_chat("New chat")
        mine = old.create_chat("My notes")
        old.append_message(mine.id, "user", "anything")
    with Store.open(path) as store:
        assert store.get_chat(talked.id).title == "Tell me about owls"
        assert store.get_chat(empty.id).auto_title
        assert store.get_chat(mine.id).title == "My notes"
        assert not store.get_chat(mine.id).auto_title
