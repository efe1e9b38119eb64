"""Kill at any moment while a download runs: the database stays whole, the part file is
kept, no partial file is listed as a model, and the next `hearth models pull` resumes from
the part file (a Range request from its size, not from zero) to a verified model.

A real `hearth models pull` process downloads from the stand-in hub, which sends each
64 KiB after a short pause so the download lasts long enough to be killed anywhere; the
test SIGKILLs it once the part file holds a randomly chosen number of bytes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from tests.app.conftest import fake_hub  # noqa: F401 (fixture)
from tests.reliability.killing import integrity, kill_when, read_only
from tests.reliability.scale import count
from tests.support.fake_hub import FakeHub
from tests.support.gguf_builder import TinyModelSpec, write_tiny_model

HEARTH = str(Path(sys.executable).parent / "hearth")
KILLS = count(full=20, quick=3)
REPO = "acme/Kill-GGUF"
PADDING = 3 << 20  # bytes after the tiny model's tensors, so each download takes a while


def part_size(home: Path) -> int:
    parts = list(home.rglob("*.part"))
    return parts[0].stat().st_size if parts else 0


def holds(home: Path, threshold: int) -> bool:
    return part_size(home) >= threshold


@pytest.mark.slow
def test_killing_a_download_keeps_its_part_and_resumes_from_it(
    fake_hub: FakeHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    files = {}
    for i in range(KILLS):
        model = write_tiny_model(tmp_path / f"m{i}.gguf", TinyModelSpec(seed=i))
        files[f"model-{i}.Q4_K_M.gguf"] = model.read_bytes() + random.randbytes(PADDING)
    fake_hub.add_model(REPO, files)
    fake_hub.pace = 0.01
    home = tmp_path / "home"
    env = {**os.environ, "HF_ENDPOINT": fake_hub.url, "HF_HOME": str(tmp_path / "hf-home"),
           "HEARTH_NO_STARTER": "1"}  # fmt: skip

    def hearth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HEARTH, "--home", str(home), *args], capture_output=True,
                              text=True, timeout=120, check=False, env=env)  # fmt: skip

    def listed() -> list[str]:
        result = hearth("models", "list", "--json", "--local")
        assert result.returncode == 0, result.stderr
        return sorted(Path(m["path"]).name for m in json.loads(result.stdout))

    rng = random.Random(15)
    finished: list[str] = []
    for name, data in files.items():
        threshold = rng.randint(1, len(data) - 1)  # bytes on disk when it dies
        process = subprocess.Popen(
            [HEARTH, "--home", str(home), "models", "pull", REPO, name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        kill_when(process, partial(holds, home, threshold), f"{threshold} bytes")

        db = home / "hearth.db"
        assert integrity(db) == "ok"
        kept = part_size(home)
        assert kept >= threshold, "bytes written before the kill are gone"
        assert listed() == finished, "a partial file is listed as a model"
        rows = read_only(db, "SELECT status FROM downloads WHERE filename = ?", (name,))
        assert rows and rows[0][0] != "done"

        asked_before = len(fake_hub.resolve_requests(f"{REPO}/{name}"))
        resumed = hearth("models", "pull", REPO, name)
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming at" in resumed.stderr
        ranges = [r.get("range") for r in fake_hub.resolve_requests(f"{REPO}/{name}")]
        if kept < len(data):
            assert ranges[asked_before:] == [f"bytes={kept}-"], "it did not resume from the part"
        else:  # killed after the last byte, before the rename: verified with no new request
            assert len(ranges) == asked_before
        path = next(home.rglob(name))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == fake_hub.sha256(f"{REPO}/{name}")
        assert not list(home.rglob("*.part"))
        finished = sorted([*finished, name])
        assert listed() == finished
    assert len(finished) == KILLS
