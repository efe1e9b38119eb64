"""The models library table: add, refresh, find, remove."""

from __future__ import annotations

import pytest

from app.errors import NotFoundError, StoreError
from app.store import Store


def test_models_library_add_refresh_find_remove(store: Store) -> None:
    assert store.list_models() == []
    entry = store.add_model(
        "/m/qwen.gguf", "qwen", 1000, quantization="Q4_K_M", metadata={"arch": "qwen2"}
    )
    assert store.find_model("qwen") == entry
    refreshed = store.add_model("/m/qwen.gguf", "qwen", 2000)
    assert refreshed.id == entry.id and refreshed.size_bytes == 2000
    assert refreshed.added_at == entry.added_at
    assert len(store.list_models()) == 1
    store.remove_model(entry.id)
    with pytest.raises(NotFoundError, match="no model called 'qwen'"):
        store.find_model("qwen")
    with pytest.raises(StoreError, match="Unknown model fields"):
        store.add_model("/m/x.gguf", "x", 1, colour="red")
