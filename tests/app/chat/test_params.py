"""A chat's own parameters: overrides checked against their declarations, keys others own
kept, stop strings to and from their one-per-line text form."""

from __future__ import annotations

import pytest

from app.chat.params import (
    OVERRIDE_SETTINGS,
    STOP_KEY,
    chat_params,
    overrides_of,
    stop_strings_from_text,
    stop_strings_of,
    stop_strings_to_text,
)
from app.errors import HearthError


def test_overrides_and_stop_strings_replace_the_old_ones_and_other_keys_are_kept() -> None:
    existing = {"kept": "by others", "temperature": 0.9, "top_k": 10, STOP_KEY: ["old"]}
    params = chat_params(existing, {"temperature": "0.2", "context_length": 8192}, ["###", ""])
    assert params == {
        "kept": "by others",
        "temperature": 0.2,
        "context_length": 8192,
        STOP_KEY: ["###"],
    }


def test_no_overrides_and_no_stop_strings_leave_only_the_keys_others_own() -> None:
    assert chat_params({"kept": 1, "seed": 4, STOP_KEY: ["x"]}, {}, ["", ""]) == {"kept": 1}


def test_an_override_outside_the_chats_settings_is_refused_in_words() -> None:
    assert "theme" not in OVERRIDE_SETTINGS
    with pytest.raises(HearthError, match="theme cannot be set per chat"):
        chat_params({}, {"theme": "dark"}, [])


def test_an_override_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(HearthError):
        chat_params({}, {"top_k": "lots"}, [])


def test_overrides_and_stop_strings_are_read_back_from_params() -> None:
    params = {"temperature": 0.1, "kept": True, STOP_KEY: ["FIN", 7]}
    assert overrides_of(params) == {"temperature": 0.1}
    assert stop_strings_of(params) == ["FIN", "7"]
    assert stop_strings_of({STOP_KEY: "not a list"}) == []
    assert stop_strings_of({}) == []


def test_stop_strings_round_trip_through_their_text_form() -> None:
    stops = ["###", "\n\nUser:", "tab\there", "back\\slash"]
    text = stop_strings_to_text(stops)
    assert text == "###\n\\n\\nUser:\ntab\\there\nback\\\\slash"
    assert stop_strings_from_text(text + "\n\n") == stops


def test_an_unknown_escape_in_stop_text_is_kept_as_written() -> None:
    assert stop_strings_from_text("a\\qb\nend\\") == ["a\\qb", "end\\"]
