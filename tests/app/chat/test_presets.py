"""Presets in ``<data home>/presets.json``: saved, replaced, removed, read back by another
process, a damaged file reported in words, and a write that fails leaving the old file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.chat.presets import PRESETS_FILE, Preset, Presets, load_presets, save_presets
from app.errors import HearthError


def test_a_preset_is_saved_to_a_versioned_file_and_read_back(tmp_path: Path) -> None:
    presets = Presets(tmp_path / "home")
    saved = presets.add(
        "  French ", system_prompt="Answer in French.", overrides={"temperature": 0.1}, stop=["FIN"]
    )
    assert saved == Preset("French", "Answer in French.", {"temperature": 0.1, "stop": ["FIN"]})
    assert presets.path == tmp_path / "home" / PRESETS_FILE
    data = json.loads(presets.path.read_text(encoding="utf-8"))
    assert data == {
        "version": 1,
        "presets": {
            "French": {
                "system_prompt": "Answer in French.",
                "params": {"temperature": 0.1, "stop": ["FIN"]},
            }
        },
    }
    assert Presets(tmp_path / "home").get("French") == saved
    assert not list(presets.path.parent.glob("*.part")), "no partial file left behind"


def test_presets_are_listed_by_name_and_one_name_replaces_the_old(tmp_path: Path) -> None:
    presets = Presets(tmp_path)
    presets.add("zeta", system_prompt="z")
    presets.add("Alpha", system_prompt="a")
    presets.add("beta")
    presets.add("zeta", system_prompt="newer")
    assert [p.name for p in presets.all()] == ["Alpha", "beta", "zeta"]
    assert presets.get("zeta") == Preset("zeta", "newer", {})


def test_a_preset_without_a_name_or_with_a_bad_override_is_refused(tmp_path: Path) -> None:
    presets = Presets(tmp_path)
    with pytest.raises(HearthError, match="Give the preset a name first"):
        presets.add("   ", overrides={"top_k": "lots"})
    with pytest.raises(HearthError):
        presets.add("Bad", overrides={"top_k": "lots"})
    assert presets.all() == []
    assert not presets.path.exists()


def test_removing_a_preset_keeps_the_others(tmp_path: Path) -> None:
    presets = Presets(tmp_path)
    presets.add("one")
    presets.add("two")
    assert presets.remove("one") is True
    assert presets.remove("one") is False
    assert [p.name for p in presets.all()] == ["two"]


def test_no_file_yet_means_no_presets(tmp_path: Path) -> None:
    assert load_presets(tmp_path / PRESETS_FILE) == {}
    assert Presets(tmp_path).all() == []


@pytest.mark.parametrize("text", ["{not json", "[]", '{"presets": {"x": 3}}', "{}"])
def test_a_damaged_presets_file_is_reported_in_words(tmp_path: Path, text: str) -> None:
    path = tmp_path / PRESETS_FILE
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HearthError, match=r"presets file .* cannot be read"):
        Presets(tmp_path).all()


def test_a_write_that_fails_says_so_and_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / PRESETS_FILE
    save_presets(path, {"kept": Preset("kept", "old")})
    before = path.read_bytes()
    (tmp_path / (PRESETS_FILE + ".part")).mkdir()  # the partial file cannot be written
    with pytest.raises(HearthError, match="could not be saved"):
        save_presets(path, {"new": Preset("new")})
    assert path.read_bytes() == before
