"""`hearth serve` as users start it: a second process that other programs talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import openai

from tests.app.cli.test_chat import hearth

HEARTH = str(Path(sys.executable).parent / "hearth")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_an_openai_client_until_stopped(tmp_path: Path, tiny_model: Path) -> None:
    assert hearth(tmp_path, "models", "import", str(tiny_model)).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [HEARTH, "--home", str(tmp_path), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.05)
        client = openai.OpenAI(base_url=base, api_key="none", max_retries=0)
        reply = client.chat.completions.create(
            model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=4
        )
        assert reply.usage is not None and reply.usage.completion_tokens == 4
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"Serving tiny-llama at http://127.0.0.1:{port}/v1" in out
    assert "POST /v1/chat/completions 200 tiny-llama" in out, "a line per request"


def test_serving_beyond_this_computer_without_a_key_is_refused(tmp_path: Path) -> None:
    result = hearth(tmp_path, "serve", "--host", "0.0.0.0")
    assert result.returncode == 1
    assert "give an API key" in result.stderr and result.stderr.count("\n") == 1
