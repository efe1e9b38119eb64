"""The hub cache: the last answer for a key, with when it was fetched."""

from __future__ import annotations

from app.store import Store


def test_hub_cache_keeps_the_last_answer_with_its_time(store: Store) -> None:
    assert store.cache_get("search:qwen") is None
    store.cache_put("search:qwen", [{"id": "Qwen/Qwen3-0.6B-GGUF"}])
    payload, fetched_at = store.cache_get("search:qwen") or (None, 0.0)
    assert payload == [{"id": "Qwen/Qwen3-0.6B-GGUF"}] and fetched_at > 0
