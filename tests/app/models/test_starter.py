"""The starter model: a working chat on a first launch with no download, never forced back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.engine.engine import Engine
from app.engine.events import LoadOptions, Sampling, TextDelta
from app.models.library import Library
from app.models.starter import (
    NO_STARTER_ENV,
    SOURCE_ENV,
    STARTER_FORMAT,
    STARTER_NAME,
    first_launch_starter,
    is_starter,
)
from app.store import Store
from tests.app.cli.test_chat import hearth


@pytest.fixture
def shipped(gemma_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The starter as a bundle ships it (a copy beside the program), and first launches on."""
    monkeypatch.setenv(SOURCE_ENV, str(gemma_model))
    monkeypatch.delenv(NO_STARTER_ENV, raising=False)
    return gemma_model


@pytest.mark.slow
def test_a_first_launch_gets_a_starter_that_answers(
    shipped: Path, store: Store, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    entry = first_launch_starter(store, models)
    assert entry is not None and is_starter(entry)
    assert entry.name == STARTER_NAME and entry.chat_format == STARTER_FORMAT
    assert Path(entry.path) == models / "starter" / "gemma-3-270m-q4_k_m.gguf"
    assert not list(models.rglob("*.part")), "the part file is gone once verified"
    engine = Engine()
    engine.load(Path(entry.path), LoadOptions(n_ctx=512, n_threads=1, chat_format=STARTER_FORMAT))
    text = "".join(
        e.text
        for e in engine.generate(
            [{"role": "user", "content": "What is the capital of France?"}],
            Sampling(temperature=0.0, max_tokens=12),
        )
        if isinstance(e, TextDelta) and e.kind == "answer"
    )
    engine.unload()
    assert "Paris" in text
    assert first_launch_starter(store, models) is None, "only an empty library gets one"


@pytest.mark.slow
def test_a_removed_starter_is_never_added_again(
    shipped: Path, store: Store, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    entry = first_launch_starter(store, models)
    assert entry is not None
    Library(store, models).delete(entry.name)
    assert not Path(entry.path).exists() and store.list_models() == []
    assert store.get_setting("starter_model") is False
    assert first_launch_starter(store, models) is None


def test_no_starter_is_added_when_the_set_up_said_no(
    shipped: Path, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NO_STARTER_ENV, "1")
    assert first_launch_starter(store, tmp_path / "models") is None
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_the_command_line_adds_it_and_lists_it_as_the_starter(
    shipped: Path, tmp_path: Path
) -> None:
    added = hearth(tmp_path, "models", "starter")
    assert added.returncode == 0, added.stderr
    assert "Gemma 3 270M (starter) is in the library" in added.stdout
    listing = hearth(tmp_path, "models", "list")
    assert "get a model that fits this computer (Models → Browse" in listing.stdout
    [entry] = json.loads(hearth(tmp_path, "models", "list", "--json").stdout)
    assert entry["metadata"]["starter"] is True
    hearth(tmp_path, "models", "rm", STARTER_NAME)
    again = hearth(tmp_path, "models", "starter")
    assert "The starter model is off" in again.stdout
    assert hearth(tmp_path, "models", "starter", "--force").returncode == 0
    assert len(json.loads(hearth(tmp_path, "models", "list", "--json").stdout)) == 1
