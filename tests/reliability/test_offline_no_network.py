"""Offline mode attempts no network connection at all: every CLI command and a desktop
launch run in a process whose internet sockets refuse to connect and record the attempt
(tests/support/no_network.py). Commands that need the network say so in words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GgufFiles

WRAPPER = str(Path(__file__).resolve().parent.parent / "support" / "no_network.py")
ROOT = Path(__file__).resolve().parents[2]


def run(log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, WRAPPER, str(log), *args],
        capture_output=True, text=True, timeout=180, check=False, cwd=ROOT,
        # A hub at an address (no name to look up first): any try reaches connect().
        env={**os.environ, "HF_ENDPOINT": "http://192.0.2.1:9", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


@pytest.fixture
def offline_home(tmp_path: Path, gguf_files: GgufFiles) -> tuple[Path, Path, Path]:
    """A data home with offline mode on, a tiny model in the library and a document."""
    home, log = tmp_path / "home", tmp_path / "connects.log"
    log.write_text("")
    assert run(log, "--", "--home", str(home), "settings", "set", "offline", "true").returncode == 0
    model = gguf_files.tiny("tiny.gguf")
    assert run(log, "--", "--home", str(home), "models", "import", str(model)).returncode == 0
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nThe spare key is under the blue flowerpot.\n")
    return home, log, notes


def test_no_cli_command_connects_in_offline_mode(offline_home: tuple[Path, Path, Path]) -> None:
    home, log, notes = offline_home
    commands: list[tuple[str, ...]] = [
        ("models", "list"),
        ("models", "search", "qwen"),
        ("models", "files", "Qwen/Qwen3-0.6B-GGUF"),
        ("models", "pull", "Qwen/Qwen3-0.6B-GGUF", "Qwen3-0.6B-Q8_0.gguf"),
        ("models", "downloads"),
        ("models", "info", "tiny-llama"),
        ("chat", "tiny-llama", "Where is the key?", "--max-tokens", "4"),
        ("chats", "list"),
        ("chats", "show", "1"),
        ("chats", "export", "1", "--format", "md"),
        ("docs", "add", str(notes)),
        ("docs", "list"),
        ("docs", "search", "spare key"),
        ("docs", "index"),
        ("settings", "list"),
        ("presets", "list"),
        ("remote", "add", "box", "http://192.0.2.7:8080/v1"),
        ("remote", "list"),
        ("doctor",),
    ]
    said: dict[str, str] = {}
    for command in commands:
        result = run(log, "--", "--home", str(home), *command)
        said[" ".join(command)] = result.stdout + result.stderr
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert log.read_text() == "", f"{' '.join(command)} tried to connect: {log.read_text()}"
    for needs_network in ("models search qwen", "models pull Qwen/Qwen3-0.6B-GGUF "
                          "Qwen3-0.6B-Q8_0.gguf", "models files Qwen/Qwen3-0.6B-GGUF"):  # fmt: skip
        assert "offline" in said[needs_network].lower(), said[needs_network]


def test_the_desktop_starts_without_connecting_in_offline_mode(
    offline_home: tuple[Path, Path, Path],
) -> None:
    home, log, _ = offline_home
    result = run(log, "--desktop", str(home))
    assert result.returncode == 0, result.stderr
    assert log.read_text() == ""


def test_the_wrapper_records_a_connection(tmp_path: Path) -> None:
    """The check itself can fail: an online command that reaches out is recorded."""
    log = tmp_path / "connects.log"
    log.write_text("")
    run(log, "--", "--home", str(tmp_path / "home"), "models", "search", "qwen")
    assert "192.0.2.1" in log.read_text()
