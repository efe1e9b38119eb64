"""The file dialogs Hearth opens, in one place so they look and behave alike."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


def choose_model_files(parent: QWidget) -> list[Path]:
    """.gguf files the user picks to import (none when cancelled)."""
    paths, _ = QFileDialog.getOpenFileNames(
        parent, "Import GGUF models", str(Path.home()), "GGUF models (*.gguf)"
    )
    return [Path(p) for p in paths]
