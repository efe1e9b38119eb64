"""`hearth serve` in a second process on a free loopback port: the OpenAI-compatible
server that remote-backend tests talk to, as a user's other machine would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

HEARTH = str(Path(sys.executable).parent / "hearth")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """A running ``hearth serve`` over its own data home holding ``model``."""

    def __init__(
        self,
        home: Path,
        model: Path,
        *,
        api_key: str | None = None,
        context: int = 512,
        quiet: bool = False,
    ) -> None:
        home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        subprocess.run(
            [HEARTH, "--home", str(home), "models", "import", str(model)],
            check=True, capture_output=True, timeout=120, env=env,
        )  # fmt: skip
        subprocess.run(
            [HEARTH, "--home", str(home), "settings", "set", "context_length", str(context)],
            check=True, capture_output=True, timeout=60, env=env,
        )  # fmt: skip
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        command = [HEARTH, "--home", str(home), "serve", "--port", str(self.port)]
        if api_key:
            command += ["--api-key", api_key]
        if quiet:  # no line per request (nobody reads stdout while it serves)
            command.append("--quiet")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        deadline = time.monotonic() + 90
        while True:  # ready when it answers (the port opens after the model loads)
            try:
                if httpx.get(self.url + "/models", headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"hearth serve exited: {self.process.communicate()[1]}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("hearth serve never answered")
            time.sleep(0.05)

    def kill(self) -> None:
        """Gone at once, as a machine that loses power or a server that crashes."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
