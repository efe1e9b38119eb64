"""Stored settings: defaults until set, refused values never written."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import SettingError
from app.store import Store


def test_settings_default_until_set_then_persist(tmp_path: Path) -> None:
    with Store.open(tmp_path / "hearth.db") as store:
        assert store.get_setting("context_length") == 4096
        assert store.set_setting("context_length", "8192") == 8192
    with Store.open(tmp_path / "hearth.db") as store:
        assert store.get_setting("context_length") == 8192
        assert store.stored_settings() == {"context_length": 8192}
        store.reset_setting("context_length")
        assert store.get_setting("context_length") == 4096


def test_a_refused_setting_is_never_stored(store: Store) -> None:
    store.set_setting("top_k", 20)
    with pytest.raises(SettingError):
        store.set_setting("top_k", -5)
    with pytest.raises(SettingError):
        store.set_setting("no_such_setting", 1)
    assert store.get_setting("top_k") == 20
    assert store.stored_settings() == {"top_k": 20}
