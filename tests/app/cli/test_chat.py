"""`hearth chat`, `hearth chats …` and `hearth models info` through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GgufFiles

HEARTH = str(Path(sys.executable).parent / "hearth")


def hearth(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEARTH, "--home", str(home), *args],
        capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ),
    )  # fmt: skip


def test_one_answer_is_streamed_saved_and_listed(tmp_path: Path, tiny_model: Path) -> None:
    result = hearth(tmp_path, "chat", str(tiny_model), "Hello there", "--max-tokens", "8",
                    "--temperature", "0", "--system", "Be brief.")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    listing = json.loads(hearth(tmp_path, "chats", "list", "--json").stdout)
    assert len(listing) == 1
    assert listing[0]["title"] == "Hello there" and listing[0]["messages"] == 2
    assert listing[0]["system_prompt"] == "Be brief."
    shown = hearth(tmp_path, "chats", "show", str(listing[0]["id"])).stdout
    assert "## You\n\nHello there" in shown and "## Assistant" in shown


def test_json_record_carries_the_stats_and_chat_continues(tmp_path: Path, tiny_model: Path) -> None:
    first = hearth(tmp_path, "chat", str(tiny_model), "One", "--json", "--max-tokens", "6")
    record = json.loads(first.stdout)
    assert record["stats"]["completion_tokens"] <= 6
    assert record["stats"]["prompt_tokens"] > 0 and record["stats"]["ttft_ms"] > 0
    assert record["model"] == "tiny-llama"
    again = hearth(tmp_path, "chat", str(tiny_model), "Two", "--json", "--max-tokens", "6",
                   "--chat", str(record["chat_id"]))  # fmt: skip
    assert json.loads(again.stdout)["chat_id"] == record["chat_id"]
    exported = hearth(tmp_path, "chats", "export", str(record["chat_id"]), "--format", "json")
    data = json.loads(exported.stdout)
    assert [m["content"] for m in data["messages"] if m["role"] == "user"] == ["One", "Two"]
    exported_file = tmp_path / "chat.json"
    exported_file.write_text(exported.stdout)
    imported = hearth(tmp_path, "chats", "import", str(exported_file))
    assert "Imported 'One'" in imported.stdout and "(4 messages)" in imported.stdout
    not_json = hearth(tmp_path, "chats", "import", str(tiny_model))
    assert not_json.returncode == 1 and "Cannot read" in not_json.stderr
    out = tmp_path / "chat.md"
    hearth(tmp_path, "chats", "export", str(record["chat_id"]), "-o", str(out))
    assert out.read_text().startswith("# One")


def test_no_save_leaves_no_chat(tmp_path: Path, tiny_model: Path) -> None:
    result = hearth(tmp_path, "chat", str(tiny_model), "secret", "--no-save", "--max-tokens", "4")
    assert result.returncode == 0, result.stderr
    assert json.loads(hearth(tmp_path, "chats", "list", "--json").stdout) == []


def test_interactive_loop_answers_each_line(tmp_path: Path, tiny_model: Path) -> None:
    result = subprocess.run(
        [HEARTH, "--home", str(tmp_path), "chat", str(tiny_model), "--max-tokens", "4"],
        input="first\nsecond\n/exit\n", capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    listing = json.loads(hearth(tmp_path, "chats", "list", "--json").stdout)
    assert listing[0]["messages"] == 4


def test_bad_model_argument_is_one_clear_line(tmp_path: Path, gguf_files: GgufFiles) -> None:
    missing = hearth(tmp_path, "chat", "no-such-model", "hi")
    assert missing.returncode == 1
    assert "No model called 'no-such-model'" in missing.stderr
    assert "Traceback" not in missing.stderr
    broken = hearth(tmp_path, "chat", str(gguf_files.truncated()), "hi")
    assert broken.returncode == 1 and "truncated" in broken.stderr
    assert broken.stderr.count("\n") == 1


def test_models_info_summarises_the_file(tmp_path: Path, tiny_model: Path) -> None:
    info = json.loads(hearth(tmp_path, "models", "info", str(tiny_model), "--json").stdout)
    assert info["architecture"] == "llama" and info["layers"] == 2
    assert info["chat_template"] is True and info["context_length"] == 2048
    assert info["memory_estimate"]["total_bytes"] > info["memory_estimate"]["weights_bytes"] > 0
    text = hearth(tmp_path, "models", "info", str(tiny_model)).stdout
    assert "Architecture    llama" in text and "(470.2 KB)" in text
    assert "Memory          about " in text


@pytest.mark.slow
def test_models_info_on_gemma(tmp_path: Path, gemma_model: Path) -> None:
    info = json.loads(
        hearth(tmp_path, "models", "info", str(gemma_model), "--json", "--ctx", "8192").stdout
    )
    assert info["architecture"] == "gemma3" and info["quantization"] == "Q4_K_M"
    assert info["chat_template"] is False and info["context_length"] == 32768
    assert 250e6 < info["parameters"] < 300e6
    assert info["memory_estimate"]["context"] == 8192


def test_a_models_own_format_is_used_when_chatting(tmp_path: Path, gguf_files: GgufFiles) -> None:
    source = gguf_files.without_template()
    hearth(tmp_path, "models", "import", str(source))
    configured = hearth(tmp_path, "models", "config", "tiny-llama", "--format", "chatml",
                        "--threads", "1")  # fmt: skip
    assert "chat format: chatml" in configured.stdout, configured.stderr
    result = hearth(tmp_path, "chat", "tiny-llama", "hi", "--json", "--max-tokens", "3")
    record = json.loads(result.stdout)
    shown = json.loads(hearth(tmp_path, "chats", "show", str(record["chat_id"]), "--json").stdout)
    assert shown["messages"][-1]["meta"]["chat_format"] == "chatml"


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_message_is_refused_in_words(tmp_path: Path, tiny_model: Path, blank: str) -> None:
    result = hearth(tmp_path, "chat", str(tiny_model), blank)
    assert result.returncode == 1
    assert "The message is empty" in result.stderr and "unexpected error" not in result.stderr
    assert json.loads(hearth(tmp_path, "chats", "list", "--json").stdout) == []


def test_a_model_llama_cpp_refuses_is_explained_in_one_line(
    tmp_path: Path, gguf_files: GgufFiles
) -> None:
    unknown = gguf_files.tiny("foo.gguf", architecture="foo")
    result = hearth(tmp_path, "chat", str(unknown), "hi")
    assert result.returncode == 1
    assert "does not support the architecture 'foo'" in result.stderr
    assert "Traceback" not in result.stderr
    log = (tmp_path / "logs").glob("*.log")
    assert any("unknown model architecture: 'foo'" in p.read_text() for p in log)
