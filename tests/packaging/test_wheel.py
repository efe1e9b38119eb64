"""The built wheel: resources ship inside it and are found from an installed copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy, so that no build/ or egg-info folder lands in the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("app", "ui", "resources"):
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (built,) = out.glob("hearth_desktop-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_code_resources_and_the_hearth_command(wheel: Path) -> None:
    assert wheel.name.startswith(f"hearth_desktop-{__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("app/cli/main.py", "app/engine/engine.py", "ui/chat/page.py",
                     "resources/icons/hearth.svg", "resources/styles/light.qss",
                     "resources/styles/dark.qss"):  # fmt: skip
        assert expected in names
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "hearth = app.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.slow
def test_installed_wheel_finds_its_resources_and_runs(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    probe = (
        "import app, resources; "
        "print(app.__file__); "
        "print(resources.resource_path('icons/hearth.svg')); "
        "print(len(resources.resource_text('styles/dark.qss')))"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    app_file, icon, qss_length = result.stdout.split()
    assert app_file.startswith(str(target)), "imported the installed copy, not the checkout"
    assert icon.startswith(str(target)) and Path(icon).is_file()
    assert int(qss_length) > 100
    version = subprocess.run(
        [sys.executable, "-m", "app", "--version"], cwd=tmp_path, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert version.stdout.strip() == f"hearth {__version__}"
