"""Documents and collections: a document belongs to one chat or one collection."""

from __future__ import annotations

import pytest

from app.errors import StoreError
from app.store import Store


def test_a_document_belongs_to_one_chat_or_one_collection(store: Store) -> None:
    chat = store.create_chat()
    collection = store.create_collection("Taxes")
    with pytest.raises(StoreError):
        store.add_document("/a", "a", "text")
    with pytest.raises(StoreError):
        store.add_document("/a", "a", "text", chat_id=chat.id, collection_id=collection.id)
    assert store.create_collection(" Taxes ") == collection  # same name, same collection
    store.add_document("/a", "a", "text", collection_id=collection.id)
    store.delete_collection(collection.id)
    assert store.list_documents() == []  # its documents go with it
