"""Desktop tests never reach the real Hugging Face Hub: without the fake hub, the hub's
address is a local port nothing listens on (the "no network" a first launch can meet)."""

from __future__ import annotations

import socket

import pytest


def closed_local_url() -> str:
    """http://127.0.0.1:<port> where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def no_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake_hub fixture, where a test asks for it, points HF_ENDPOINT at itself later."""
    monkeypatch.setenv("HF_ENDPOINT", closed_local_url())
