"""Fixtures for the models tests: no sha256 helper thread outlives a download test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.support.downloading import FILE, REPO, MiB, random_bytes
from tests.support.fake_hub import FakeHub


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    """Every run stops its sha256 helper thread, however it ends."""
    yield
    assert not [t for t in threading.enumerate() if t.name == "hearth-sha256"]


@pytest.fixture
def big(fake_hub: FakeHub) -> bytes:
    """A 3 MiB file on the fake hub: a dozen chunks, so cuts and resumes land mid-file."""
    data = random_bytes(3 * MiB)
    fake_hub.add_model(REPO, {FILE: data})
    return data
