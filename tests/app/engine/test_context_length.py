"""Context length against the model's training length (app/context_length.py), through
the engine, the library and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.context_length import ContextTooLong, choose_context
from app.engine.engine import Engine
from app.engine.events import ContextTooSmall, LoadOptions, Sampling
from app.models.library import Library
from app.store import Store
from tests.app.cli.test_chat import hearth


def test_within_the_models_limit_the_asked_context_is_used() -> None:
    assert choose_context("m", 2048, 1024, source="--ctx", strict=True).n_ctx == 1024
    assert choose_context("m", None, 100_000, source="--ctx", strict=True).n_ctx == 100_000


def test_the_app_default_is_lowered_to_the_models_limit_quietly() -> None:
    assert choose_context("m", 2048, 4096) == choose_context("m", 2048, 2048)


def test_a_stored_value_past_the_limit_is_lowered_with_a_notice() -> None:
    choice = choose_context("tiny", 2048, 16384, source="this chat's settings")
    assert choice.n_ctx == 2048
    assert choice.note is not None
    assert "2,048 tokens, the most tiny was trained for" in choice.note
    assert "this chat's settings asked for 16,384" in choice.note


def test_an_explicit_value_past_the_limit_is_refused_naming_the_limit() -> None:
    with pytest.raises(ContextTooLong, match=r"trained for at most 2,048 tokens.*--ctx 16,384"):
        choose_context("tiny", 2048, 16384, source="--ctx", strict=True)


def test_the_engine_says_when_it_lowered_a_chats_context(tiny_model: Path) -> None:
    engine = Engine(state_cache_bytes=0)
    try:
        quiet = engine.load(tiny_model, LoadOptions(n_ctx=4096))
        assert (quiet.n_ctx, quiet.context_note) == (2048, None)
        lowered = engine.load(
            tiny_model, LoadOptions(n_ctx=16384, ctx_source="this chat's settings")
        )
        assert lowered.n_ctx == 2048
        assert lowered.context_note is not None and "16,384" in lowered.context_note
        with pytest.raises(ContextTooLong):
            engine.load(tiny_model, LoadOptions(n_ctx=16384, ctx_source="--ctx", ctx_strict=True))
    finally:
        engine.unload()


def test_at_the_models_limit_a_long_message_is_not_told_to_raise_the_context(
    tiny_model: Path,
) -> None:
    engine = Engine(state_cache_bytes=0)
    try:
        engine.load(tiny_model, LoadOptions(n_ctx=4096))  # lowered to the model's 2,048
        long_text = "word " * 3000
        with pytest.raises(ContextTooSmall) as refused:
            list(engine.generate([{"role": "user", "content": long_text}], Sampling()))
        assert "raise the context" not in str(refused.value)
        assert "2,048 tokens is the most tiny-llama can take" in str(refused.value)
    finally:
        engine.unload()


def test_a_models_own_context_past_its_limit_is_refused(
    store: Store, tiny_model: Path, tmp_path: Path
) -> None:
    library = Library(store, tmp_path / "models")
    entry = library.import_file(tiny_model)
    with pytest.raises(ContextTooLong, match="2,048"):
        library.configure(entry.name, {"context_length": 16384})
    assert library.configure(entry.name, {"context_length": 1024}).overrides == {
        "context_length": 1024
    }


def test_cli_refuses_a_ctx_past_the_models_limit(tmp_path: Path, tiny_model: Path) -> None:
    chat = hearth(tmp_path, "chat", str(tiny_model), "--ctx", "16384", "hi")
    assert chat.returncode == 1
    assert "tiny-llama was trained for at most 2,048 tokens of context" in chat.stderr
    assert "--ctx 16,384" in chat.stderr
    info = hearth(tmp_path, "models", "info", str(tiny_model), "--ctx", "16384")
    assert info.returncode == 1 and "at most 2,048 tokens" in info.stderr
    fine = hearth(tmp_path, "chat", str(tiny_model), "--ctx", "1024", "--max-tokens", "2", "hi")
    assert fine.returncode == 0, fine.stderr
