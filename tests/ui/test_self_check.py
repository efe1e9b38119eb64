"""`hearth doctor --check`: the real window loads a model and answers, headless, and
leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEARTH = str(Path(sys.executable).parent / "hearth")


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)  # with no display, the check goes offscreen by itself
    return subprocess.run(
        [HEARTH, "--home", str(home), *args],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip


def test_the_check_opens_the_window_loads_a_model_and_answers(
    tmp_path: Path, tiny_model: Path
) -> None:
    assert run(tmp_path, "models", "import", str(tiny_model)).returncode == 0
    result = run(tmp_path, "doctor", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Hearth ") and "checking this installation" in lines[0]
    assert "window   opened (offscreen display)" in lines[1]
    assert lines[2].startswith("  model    tiny-llama loaded in")
    assert lines[3].startswith("  answer   ") and " tokens at " in lines[3]
    assert lines[4].startswith("  closed   cleanly")
    assert "No chats yet" in run(tmp_path, "chats", "list").stdout, "its chat is gone"


def test_the_check_says_what_is_missing(tmp_path: Path) -> None:
    result = run(tmp_path, "doctor", "--check")
    assert result.returncode == 1
    assert "The library has no chat model to check with" in result.stderr
