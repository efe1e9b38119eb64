"""Where the data home is, and what happens when it cannot be used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import HearthError
from app.paths import DataPaths, default_home, resolve_home


def test_explicit_home_wins_over_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "from-env"))
    assert resolve_home(tmp_path / "explicit") == (tmp_path / "explicit").resolve()
    assert resolve_home() == (tmp_path / "from-env").resolve()


def test_without_overrides_the_os_data_folder_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARTH_HOME", raising=False)
    assert resolve_home() == default_home().resolve()
    assert default_home().name == "Hearth"


def test_layout_inside_the_home(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path).ensure()
    assert paths.database == tmp_path / "hearth.db"
    assert paths.default_models == tmp_path / "models"
    assert paths.logs.is_dir()


def test_a_file_in_place_of_the_home_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    with pytest.raises(HearthError, match=r"is a file, not a folder|Cannot create"):
        DataPaths(blocker).ensure()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_home_is_explained(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(HearthError, match=r"not writable|Cannot create"):
            DataPaths(locked / "home").ensure()
    finally:
        locked.chmod(0o700)
