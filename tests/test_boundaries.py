"""The architecture's import rules, checked in a fresh interpreter each: app/ never
imports Qt; taking a cancel flag, downloading or indexing never loads llama.cpp; and the
command line parses its arguments before loading what a command needs."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize(
    "module",
    [
        "app.cancel",
        "app.models.downloads",
        "app.models.download_queue",
        "app.models.hub",
        "app.models.library",
        "app.documents.ingest",
        "app.chat.export",
        "app.chat.presets",
        "app.chat.params",
        "app.chat.history",
        "app.cli.chats",
        "app.cli.settings",
        "app.cli.models",
        "app.context",
    ],
)
def test_light_work_does_not_load_llama_cpp(module: str) -> None:
    assert "llama_cpp" not in modules_after(f"import {module}")


def test_the_command_line_parses_arguments_with_the_standard_library_only() -> None:
    """`hearth --version` and `--help` build the whole parser: nothing beyond the standard
    library and Hearth's own light modules may load for that."""
    loaded = modules_after(
        "from app.cli.main import main\nfrom app.cli.parser import build_parser\nbuild_parser()"
    )
    third_party = (
        loaded - set(sys.stdlib_module_names) - {"app", "__editable___hearth_desktop_0_1_0_finder"}
    )
    assert {m for m in third_party if not m.startswith("_")} <= {"platformdirs"}


def test_every_handler_the_parser_names_exists() -> None:
    from app.cli.parser import build_parser, resolve_handler

    names: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        names.add(parser.get_default("handler"))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    names.discard(None)
    assert len(names) > 20
    for name in names:
        assert callable(resolve_handler(name)), name


def test_listing_chats_loads_neither_numpy_nor_llama_cpp() -> None:
    """`hearth chats list` opens the data home and reads SQLite: NumPy (a third of the
    start-up) and llama.cpp stay unloaded; NumPy still imports normally afterwards."""
    loaded = modules_after("import app.cli.chats, app.context")
    assert "sqlite_utils" in loaded
    assert "numpy" not in loaded and "llama_cpp" not in loaded
    assert "numpy" in modules_after("import app.store\nimport numpy")


def test_no_app_module_imports_the_desktop() -> None:
    """The arrows point one way, ui -> app: not even a lazy import inside a function.
    The exceptions are the launcher (`hearth` with no command opens the desktop) and
    `hearth doctor --check`, which opens the window to prove an installation works."""
    root = Path(__file__).resolve().parent.parent / "app"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("ui", "PySide6", "shiboken6"):
                    offenders.append(f"{path.relative_to(root.parent)}: {name}")
    assert len(list(root.rglob("*.py"))) > 50
    assert offenders == ["app/cli/doctor.py: ui.self_check", "app/cli/main.py: ui.application"], (
        offenders
    )
