"""Presets saved by the desktop, used and managed from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from app.chat.presets import Presets
from tests.app.cli.test_chat import hearth


def test_a_preset_saved_in_the_desktop_sets_up_a_command_line_chat(
    tmp_path: Path, tiny_model: Path
) -> None:
    Presets(tmp_path).add("Terse", system_prompt="Answer in one word.", overrides={"max_tokens": 3})
    listed = json.loads(hearth(tmp_path, "presets", "list", "--json").stdout)
    assert [(p["name"], p["params"]) for p in listed] == [("Terse", {"max_tokens": 3})]
    result = hearth(tmp_path, "chat", str(tiny_model), "Hello", "--preset", "Terse", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert 0 < record["stats"]["completion_tokens"] <= 3
    [chat] = json.loads(hearth(tmp_path, "chats", "list", "--json").stdout)
    assert chat["system_prompt"] == "Answer in one word."
    assert chat["params"]["max_tokens"] == 3


def test_an_unknown_preset_is_named_in_one_line(tmp_path: Path, tiny_model: Path) -> None:
    Presets(tmp_path).add("Terse", overrides={"max_tokens": 3})
    result = hearth(tmp_path, "chat", str(tiny_model), "Hello", "--preset", "Chatty")
    assert result.returncode == 1
    assert result.stderr == "hearth: No preset called 'Chatty' (presets: Terse).\n"
    removed = hearth(tmp_path, "presets", "rm", "Terse")
    assert removed.stdout == "Deleted the preset 'Terse'.\n"
    assert "No presets yet" in hearth(tmp_path, "presets", "list").stdout
