"""The architecture's import rules, checked in a fresh interpreter each: app/ never
imports Qt, and taking a cancel flag, downloading or indexing never loads llama.cpp."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_after(code: str) -> set[str]:
    """The top-level packages loaded after running ``code`` in a new interpreter."""
    script = (
        f"{code}\nimport sys\nprint('\\n'.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(done.stdout.split())


def test_no_app_module_imports_qt() -> None:
    loaded = modules_after(
        "import importlib, pkgutil, app\n"
        "for m in pkgutil.walk_packages(app.__path__, 'app.'):\n"
        "    if m.name != 'app.__main__':\n"
        "        importlib.import_module(m.name)"
    )
    assert "app" in loaded and "llama_cpp" in loaded, "every module was imported"
    assert "PySide6" not in loaded and "shiboken6" not in loaded


@pytest.mark.parametrize("module", ["app.cancel", "app.models.downloads", "app.documents.ingest"])
def test_light_work_does_not_load_llama_cpp(module: str) -> None:
    assert "llama_cpp" not in modules_after(f"import {module}")
