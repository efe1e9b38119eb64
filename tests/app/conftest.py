"""Fixtures for the core's hub side: a fake Hugging Face Hub on 127.0.0.1 and repos on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub, isolate_huggingface_hub

TINY_REPO = "acme/Tiny-Chat-GGUF"
TINY_README = """---
license: apache-2.0
tags: [gguf, llama]
---
# Tiny Chat GGUF

GGUF quantizations of Tiny Chat, a 2-layer test model.
"""
# The Q8_0 file is padded past its header and weights (GGUF readers ignore trailing
# bytes), so reading only its header is visibly cheaper than downloading it.
Q8_PADDING = 4 << 20


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A started, empty fake hub; HF_ENDPOINT points at it and huggingface_hub's home is empty."""
    hub = FakeHub().start()
    try:
        isolate_huggingface_hub(monkeypatch, tmp_path / "hf-home", hub.url)
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def hub_with_models(fake_hub: FakeHub, gguf_files: GgufFiles) -> FakeHub:
    """The fake hub with a realistic GGUF repo and a few others to search, sort and page through.

    - acme/Tiny-Chat-GGUF: tiny-chat.Q4_K_M.gguf, tiny-chat.Q8_0.gguf (bigger), a model
      split in two (big-00001-of-00002.gguf, big-00002-of-00002.gguf), a vision
      projector (mmproj-tiny-f16.gguf) and a README.
    - bob/tiny-llama-GGUF, carol/Gated-Tiny-GGUF (gated), acme/Other-GGUF: more GGUF repos.
    - dave/tiny-safetensors: no GGUF files, so a GGUF search never shows it.
    """
    q4 = gguf_files.tiny("tiny-chat.Q4_K_M.gguf").read_bytes()
    q8 = gguf_files.tiny("tiny-chat.Q8_0.gguf", seed=1).read_bytes()
    big = gguf_files.tiny("big.gguf", layers=3).read_bytes()
    mmproj = gguf_files.tiny("mmproj.gguf", layers=1).read_bytes()
    fake_hub.add_model(
        TINY_REPO,
        {
            "tiny-chat.Q4_K_M.gguf": q4,
            "tiny-chat.Q8_0.gguf": q8 + b"\0" * Q8_PADDING,
            "big-00001-of-00002.gguf": big,
            "big-00002-of-00002.gguf": big[::-1],
            "mmproj-tiny-f16.gguf": mmproj,
        },
        downloads=5000,
        likes=40,
        trending=30,
        last_modified="2026-02-01T10:00:00.000Z",
        gguf={"total": 170_000, "architecture": "llama", "context_length": 2048},
        readme=TINY_README,
        tags=["llama", "conversational"],
    )
    fake_hub.add_model(
        "bob/tiny-llama-GGUF",
        {"tiny-llama.Q4_0.gguf": q4},
        downloads=900,
        likes=60,
        trending=5,
        last_modified="2026-03-01T00:00:00.000Z",
        gguf={"total": 170_000, "architecture": "llama", "context_length": 4096},
    )
    fake_hub.add_model(
        "carol/Gated-Tiny-GGUF",
        {"gated-tiny.Q4_K_M.gguf": q4},
        downloads=300,
        likes=7,
        trending=90,
        last_modified="2025-12-01T00:00:00.000Z",
        gated=True,
    )
    fake_hub.add_model(
        "acme/Other-GGUF",
        {"other-model.IQ4_XS.gguf": q4},
        downloads=100,
        likes=500,
        trending=1,
        last_modified="2025-01-01T00:00:00.000Z",
    )
    fake_hub.add_model(
        "dave/tiny-safetensors",
        {"model.safetensors": b"{}"},
        downloads=99_999,
        tags=["safetensors"],
    )
    return fake_hub
