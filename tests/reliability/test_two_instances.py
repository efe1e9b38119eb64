"""Two Hearths on one data home. The desktop and the command line share the database
safely (WAL, a busy timeout): writers running at once lose no write. Work one of them
is doing is left to it by the other: a live answer is not called a crash's, a download
is not run twice into one part file. A second desktop window is told plainly that one is
already open, and it starts once that window is gone, however it ended."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.context import Context
from app.locks import AlreadyOpenError, held_elsewhere
from app.store import Store
from tests.app.conftest import fake_hub  # noqa: F401 (fixture)
from tests.reliability.killing import integrity, read_only
from tests.reliability.scale import count
from tests.support.fake_hub import FakeHub
from tests.support.gguf_builder import write_tiny_model
from ui.application import create_application, open_desktop, run_desktop

HEARTH = str(Path(sys.executable).parent / "hearth")
ROOT = Path(__file__).resolve().parents[2]
WRITES = count(full=2000, quick=150)

WRITER = """
import sys
from pathlib import Path
from app.store import Store

store = Store.open(Path(sys.argv[1]))
tag, writes = sys.argv[2], int(sys.argv[3])
chat = store.create_chat(f"writer {tag}")
parent = None
for i in range(writes):
    role = "user" if i % 2 == 0 else "assistant"
    message = store.add_message(chat.id, role, f"{tag}-{i}", parent_id=parent)
    store.append_text(message.id, "!")
    store.set_setting("top_k", 100 + i)
    parent = message.id
store.close()
"""


def test_writers_in_three_processes_lose_no_write(tmp_path: Path) -> None:
    db = tmp_path / "hearth.db"  # new: the first two to open it race to create it too
    command = [sys.executable, "-c", WRITER, str(db)]
    writers = [
        subprocess.Popen([*command, tag, str(WRITES)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for tag in ("cli", "api")
    ]
    with Store.open(db) as store:  # and the desktop, writing at the same time
        chat = store.create_chat("desktop")
        parent = None
        for i in range(WRITES):
            parent = store.add_message(chat.id, "user", f"desktop-{i}", parent_id=parent).id
            store.set_setting("temperature", 0.5 + (i % 10) / 10)
    for writer in writers:
        _, errors = writer.communicate(timeout=300)
        assert writer.returncode == 0, errors  # no "database is locked", no other error
    assert integrity(db) == "ok"
    with sqlite3.connect(db) as conn:
        for tag, suffix in (("cli", "!"), ("api", "!"), ("desktop", "")):
            written = [row[0] for row in conn.execute(
                "SELECT m.content FROM messages m JOIN chats c ON c.id = m.chat_id "
                "WHERE c.title LIKE ? ORDER BY m.id", [f"%{tag}"])]  # fmt: skip
            assert written == [f"{tag}-{i}{suffix}" for i in range(WRITES)], tag


@pytest.mark.slow
def test_the_desktop_leaves_an_answer_the_cli_is_writing_alone(
    tmp_path: Path, gemma_model: Path, qtbot: QtBot
) -> None:
    home = tmp_path / "home"
    with Context.open(home, logging_to_file=False) as ctx:
        ctx.store.set_setting("starter_model", False)
    db = home / "hearth.db"
    cli = subprocess.Popen(
        [HEARTH, "--home", str(home), "chat", str(gemma_model), "Tell me about the sea.",
         "--temperature", "0", "--max-tokens", "120"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HEARTH_NO_STARTER": "1"},
    )  # fmt: skip

    def answer() -> tuple[str, str]:
        rows = read_only(db, "SELECT status, content FROM messages WHERE role = 'assistant'")
        return (str(rows[0][0]), str(rows[0][1])) if rows else ("", "")

    deadline = time.monotonic() + 60
    while answer()[0] != "streaming" or not answer()[1]:
        assert cli.poll() is None and time.monotonic() < deadline, "no answer streamed"
        time.sleep(0.01)
    with Context.open(home, logging_to_file=False) as ctx:
        window = open_desktop(ctx, create_application())  # recovers what crashes left
        qtbot.addWidget(window)
        try:
            status, seen = answer()
            assert status == "streaming" or cli.poll() is not None, "a live answer was stopped"
            _, errors = cli.communicate(timeout=120)
            assert cli.returncode == 0, errors
            status, text = answer()
            assert status == "done" and text.startswith(seen) and len(text) > len(seen)
        finally:
            window.shutdown()
            ctx.store.let_go("desktop")


def test_a_second_desktop_is_told_plainly_and_starts_once_the_first_is_gone(
    tmp_path: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    first = subprocess.Popen(
        [HEARTH, "--home", str(home), "gui"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "HEARTH_NO_STARTER": "1"},
    )  # fmt: skip
    lock = home / "locks" / "desktop.lock"
    try:
        deadline = time.monotonic() + 60
        while not (lock.exists() and held_elsewhere(lock)):
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, "the first desktop never opened"
            time.sleep(0.02)
        shown: list[tuple[str, str]] = []
        monkeypatch.setattr("ui.application.QMessageBox.information",
                            lambda _parent, title, text: shown.append((title, text)))  # fmt: skip
        with Context.open(home, logging_to_file=False) as ctx:
            assert run_desktop(ctx) == 1
            [(title, text)] = shown
            assert title == "Hearth is already open"
            assert str(home) in text and "Switch to that window" in text
            assert first.poll() is None  # the open window is untouched
            first.send_signal(signal.SIGKILL)  # it ends the worst way: its lock goes with it
            first.wait()
            window = open_desktop(ctx, create_application())
            qtbot.addWidget(window)
            try:
                with (
                    Context.open(home, logging_to_file=False) as another,
                    pytest.raises(AlreadyOpenError),
                ):  # now this one is the open one
                    open_desktop(another, create_application())
            finally:
                window.shutdown()
                ctx.store.let_go("desktop")
    finally:
        first.kill()
        first.wait()


@pytest.mark.slow
def test_a_download_running_in_one_hearth_is_left_to_it_by_another(
    fake_hub: FakeHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    model = write_tiny_model(tmp_path / "m.gguf").read_bytes() + random.randbytes(3 << 20)
    fake_hub.add_model("acme/Two-GGUF", {"two.Q4_K_M.gguf": model})
    fake_hub.pace = 0.08  # about 4 s: the second starts well before it ends
    home = tmp_path / "home"
    env = {**os.environ, "HF_ENDPOINT": fake_hub.url, "HF_HOME": str(tmp_path / "hf-home"),
           "HEARTH_NO_STARTER": "1"}  # fmt: skip
    pull = [HEARTH, "--home", str(home), "models", "pull", "acme/Two-GGUF", "two.Q4_K_M.gguf"]
    first = subprocess.Popen(pull, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size for p in home.rglob("*.part")):
        assert first.poll() is None and time.monotonic() < deadline, "the first never started"
        time.sleep(0.01)
    second = subprocess.run(pull, capture_output=True, text=True, timeout=120, env=env)
    assert second.returncode == 1
    assert "being downloaded by another Hearth" in second.stderr
    cancel = subprocess.run([HEARTH, "--home", str(home), "models", "downloads", "--cancel", "1"],
                            capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert cancel.returncode == 1 and "cancel it there" in cancel.stderr
    _, errors = first.communicate(timeout=120)
    assert first.returncode == 0, errors
    [path] = list(home.rglob("two.Q4_K_M.gguf"))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(model).hexdigest()
    rows = read_only(home / "hearth.db", "SELECT status FROM downloads")
    assert rows == [("done",)]
