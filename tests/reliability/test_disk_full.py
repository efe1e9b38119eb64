"""Disk full while an answer is saved, while a download runs and while documents index:
the user is told in words, everything saved before stays whole, and the work goes on once
space is freed.

Each test gives Hearth a real small disk (a tmpfs mounted for the test, which needs root,
as CI and the project's machines have) and fills it while the work runs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import Store
from tests.app.conftest import fake_hub  # noqa: F401 (fixture)
from tests.reliability.killing import integrity, read_only
from tests.support.fake_hub import FakeHub
from tests.support.gguf_builder import write_tiny_model

HEARTH = str(Path(sys.executable).parent / "hearth")
ENV = {**os.environ, "HEARTH_NO_STARTER": "1"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MB disk of its own (tmpfs), unmounted after the test."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # big blocks, then the last few bytes too
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize < 64 << 10
    return filler


def wait_until(condition, process: subprocess.Popen[str], what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"it ended before {what}"
        assert time.monotonic() < deadline, f"it never reached {what}"
        time.sleep(0.005)


@pytest.mark.slow
def test_a_full_disk_while_an_answer_is_saved(small_disk: Path, gemma_model: Path) -> None:
    home = small_disk / "home"
    db = home / "hearth.db"
    first = subprocess.run([HEARTH, "--home", str(home), "chat", str(gemma_model), "Say hi.",
                            "--max-tokens", "8"], capture_output=True, text=True, env=ENV,
                           timeout=120, check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = read_only(db, "SELECT id, role, content, status FROM messages ORDER BY id")
    answering = subprocess.Popen(
        [HEARTH, "--home", str(home), "chat", str(gemma_model), "--chat", "1",
         "Write a long story about a lighthouse.",
         "--temperature", "0.8", "--max-tokens", "1500"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip

    def answer() -> str:
        rows = read_only(db, "SELECT content FROM messages WHERE id > ? AND role = 'assistant'",
                         (before[-1][0],))  # fmt: skip
        return str(rows[0][0]) if rows else ""

    wait_until(lambda: len(answer()) > 40, answering, "an answer on disk")
    filler = fill(small_disk)
    seen = answer()
    _, err = answering.communicate(timeout=180)
    assert answering.returncode != 0
    assert f"The disk holding Hearth's data ({home}) is full" in err
    assert "Everything saved until now is kept" in err
    assert "unexpected" not in err and "Traceback" not in err
    filler.unlink()
    assert integrity(db) == "ok"
    after = read_only(db, "SELECT id, role, content, status FROM messages ORDER BY id")
    assert after[: len(before)] == before
    assert str(after[len(before) + 1][2]).startswith(seen)
    again = subprocess.run([HEARTH, "--home", str(home), "chat", str(gemma_model), "--chat", "1",
                            "And now?",
                            "--max-tokens", "8"], capture_output=True, text=True, env=ENV,
                           timeout=120, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr
    with Store.open(db) as store:  # the desktop, starting again, marks it cut off
        assert store.recover_interrupted() == 1
        assert store.get_message(int(str(after[len(before) + 1][0]))).status == "stopped"


def test_a_full_disk_while_downloading(
    small_disk: Path,
    fake_hub: FakeHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = write_tiny_model(tmp_path / "m.gguf").read_bytes() + random.randbytes(12 << 20)
    fake_hub.add_model("acme/Full-GGUF", {"full.Q4_K_M.gguf": data})
    fake_hub.pace = 0.01
    home = tmp_path / "home"  # the database elsewhere: only the models folder fills up
    env = {**ENV, "HF_ENDPOINT": fake_hub.url, "HF_HOME": str(tmp_path / "hf-home")}

    def hearth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HEARTH, "--home", str(home), *args], capture_output=True,
                              text=True, timeout=120, check=False, env=env)  # fmt: skip

    assert hearth("settings", "set", "models_dir", str(small_disk / "models")).returncode == 0
    pull = [HEARTH, "--home", str(home), "models", "pull", "acme/Full-GGUF", "full.Q4_K_M.gguf"]
    running = subprocess.Popen(pull, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)  # fmt: skip
    part = small_disk / "models" / "acme" / "Full-GGUF" / "full.Q4_K_M.gguf.part"
    wait_until(lambda: part.exists() and part.stat().st_size > 1 << 20, running, "1 MiB")
    filler = fill(small_disk)
    _, err = running.communicate(timeout=120)
    assert running.returncode != 0
    assert "full" in err.lower() and "Traceback" not in err and "unexpected" not in err
    kept = part.stat().st_size
    assert kept > 1 << 20  # what arrived before is kept
    [(status, done)] = read_only(
        home / "hearth.db", "SELECT status, downloaded_bytes FROM downloads"
    )
    assert status == "paused" and done == kept
    assert "No models" in hearth("models", "list", "--local").stdout  # no partial one

    filler.unlink()
    resumed = hearth("models", "pull", "acme/Full-GGUF", "full.Q4_K_M.gguf")
    assert resumed.returncode == 0, resumed.stderr
    assert fake_hub.resolve_requests("acme/Full-GGUF/full.Q4_K_M.gguf")[-1]["range"] == (
        f"bytes={kept}-"
    )
    model = small_disk / "models" / "acme" / "Full-GGUF" / "full.Q4_K_M.gguf"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.slow
def test_a_full_disk_while_documents_index(small_disk: Path, tmp_path: Path) -> None:
    from tests.reliability.test_kill_indexing import long_text

    home = small_disk / "home"
    db = home / "hearth.db"
    book = tmp_path / "logbook.txt"
    book.write_text(long_text(paragraphs=6000))
    (tmp_path / "short.txt").write_text("The keeper lit the lamp at dusk.")

    def hearth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HEARTH, "--home", str(home), *args], capture_output=True,
                              text=True, timeout=300, check=False, env=ENV)  # fmt: skip

    assert hearth("docs", "add", str(tmp_path / "short.txt")).returncode == 0
    kept_before = read_only(db, "SELECT * FROM chunks ORDER BY id")
    indexing = subprocess.Popen([HEARTH, "--home", str(home), "docs", "add", str(book)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=ENV)  # fmt: skip

    def progress() -> int:
        rows = read_only(db, "SELECT progress FROM documents WHERE name = 'logbook.txt'")
        return int(str(rows[0][0])) if rows else 0

    wait_until(lambda: progress() >= 64, indexing, "the first passages")
    filler = fill(small_disk)
    out, err = indexing.communicate(timeout=300)
    assert indexing.returncode != 0
    assert "is full" in out + err and "Traceback" not in err and "unexpected" not in err
    filler.unlink()
    assert integrity(db) == "ok"
    assert read_only(db, "SELECT * FROM chunks ORDER BY id")[: len(kept_before)] == kept_before
    stopped_at = progress()
    assert stopped_at >= 64

    resumed = hearth("docs", "index")
    assert resumed.returncode == 0, resumed.stderr
    [(status, count)] = read_only(db, "SELECT status, progress FROM documents WHERE name = ?",
                                  ("logbook.txt",))  # fmt: skip
    assert status == "ready" and int(str(count)) > stopped_at
    found = hearth("docs", "search", "Entry 5999")
    assert "logbook.txt" in found.stdout
