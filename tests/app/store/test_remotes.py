"""Remote servers as the user adds them: names that can lead a model name, addresses
normalised to the API root, changed in place, removed by name."""

from __future__ import annotations

import pytest

from app.errors import HearthError, NotFoundError
from app.store import Store


def test_servers_are_added_normalised_changed_and_removed(store: Store) -> None:
    added = store.add_endpoint("bigbox", "http://192.168.1.20:8080/")
    assert added.base_url == "http://192.168.1.20:8080/v1"
    assert store.add_endpoint("vllm", "https://gpu.example.org/v1").base_url.endswith(".org/v1")
    store.add_endpoint("bigbox", "http://10.0.0.5:8080/v1")
    assert [(e.name, e.base_url) for e in store.list_endpoints()] == [
        ("bigbox", "http://10.0.0.5:8080/v1"),
        ("vllm", "https://gpu.example.org/v1"),
    ]
    store.remove_endpoint("vllm")
    with pytest.raises(NotFoundError, match="no server called 'vllm'"):
        store.get_endpoint("vllm")


@pytest.mark.parametrize("name", ["", "two words", "a/b", "-lead", "x" * 41])
def test_names_that_cannot_lead_a_model_name_are_refused(store: Store, name: str) -> None:
    with pytest.raises(HearthError, match="can't name a server"):
        store.add_endpoint(name, "http://127.0.0.1:8080")


@pytest.mark.parametrize("url", ["192.168.1.20:8080", "ftp://host/v1", "http://", "bigbox"])
def test_addresses_that_are_not_http_are_refused(store: Store, url: str) -> None:
    with pytest.raises(HearthError, match="not a server address"):
        store.add_endpoint("bigbox", url)
    assert store.list_endpoints() == []
