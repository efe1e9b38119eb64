"""The hub token never lands anywhere Hearth writes: after a real gated download with it,
an answer, an export and a bug report, no file in the data home (the database, its WAL,
the log), no export and no output holds it, while the hub did receive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.app.conftest import fake_hub, hub_with_models  # noqa: F401 (fixtures)
from tests.support.fake_hub import FakeHub

HEARTH = str(Path(sys.executable).parent / "hearth")
TOKEN = "hf_s3cr3tT0kenThatMustNeverBeWritten"
GATED = ("carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf")


def test_the_hub_token_is_never_written_down(hub_with_models: FakeHub, tmp_path: Path) -> None:  # noqa: F811
    hub_with_models.token = TOKEN
    home = tmp_path / "home"
    env = {**os.environ, "HF_ENDPOINT": hub_with_models.url, "HF_TOKEN": TOKEN,
           "HF_HOME": str(tmp_path / "hf-home"), "HEARTH_NO_STARTER": "1"}  # fmt: skip
    export = tmp_path / "chat.json"
    outputs: list[str] = []

    def hearth(*args: str) -> str:
        result = subprocess.run(
            [HEARTH, "--home", str(home), *args],
            capture_output=True, text=True, timeout=120, check=False, env=env,
        )  # fmt: skip
        assert result.returncode == 0, (args, result.stderr)
        outputs.extend((result.stdout, result.stderr))
        return result.stdout

    hearth("models", "pull", *GATED)
    [model] = json.loads(hearth("models", "list", "--json"))
    for args in (
        ("chat", model["name"], "Hello", "--max-tokens", "4"),
        ("chats", "export", "1", "--format", "json", "-o", str(export)),
        ("chats", "export", "1", "--format", "md"),
        ("doctor",),
        ("settings", "list"),
    ):
        hearth(*args)
    sent = hub_with_models.resolve_requests("/".join(GATED))
    assert sent and sent[-1]["authorization"] == f"Bearer {TOKEN}"  # it was really used

    written = [p for p in home.rglob("*") if p.is_file()] + [export]
    assert any(p.name == "hearth.db" for p in written) and any(p.suffix == ".log" for p in written)
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), f"the token is in {path}"
    for text in outputs:
        assert TOKEN not in text
