"""Full-precision working copies: made once from a real F16 embedding model, giving the
same vectors, renewed when the file changes, bounded in number, never fatal."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from app.engine import precision
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.engine.gguf_file import read_header
from app.engine.precision import full_precision_copy
from tests.conftest import GgufFiles
from tests.support.minilm import minilm_path

SENTENCES = [
    "A cat sat on the warm windowsill",
    "Steps to recover a forgotten login credential",
    "The reservoir was at 71% of capacity in March",
]


def vectors(path: Path) -> np.ndarray:
    engine = Engine(state_cache_bytes=0)
    try:
        engine.load(path, LoadOptions(embedding=True, n_ctx=512))
        return np.asarray(engine.embed(SENTENCES), dtype=np.float32)
    finally:
        engine.close()


@pytest.fixture
def f16_model(tmp_path: Path) -> Path:
    """The real all-MiniLM-L6-v2 F16 GGUF, linked into this test's folder (its mtime is
    the test's to change)."""
    target = tmp_path / "models" / "minilm-f16.gguf"
    target.parent.mkdir()
    target.write_bytes(minilm_path().read_bytes())
    return target


def test_an_f16_model_gets_an_f32_copy_with_the_same_vectors(
    f16_model: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "copies"
    copy = full_precision_copy(f16_model, folder)
    assert copy is not None and copy.parent == folder
    assert read_header(f16_model).file_type_name == "F16"
    assert read_header(copy).file_type_name == "F32"
    assert {t.type_name for t in read_header(copy).tensors} == {"F32"}
    cosines = np.sum(vectors(f16_model) * vectors(copy), axis=1)
    assert cosines.min() > 0.999  # the same model: only the arithmetic is wider
    assert [p.name for p in folder.iterdir()] == [copy.name]  # no temporary file left


def test_the_copy_is_reused_and_renewed_when_the_model_file_changes(
    f16_model: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "copies"
    first = full_precision_copy(f16_model, folder)
    assert first is not None
    inode = first.stat().st_ino
    again = full_precision_copy(f16_model, folder)
    assert again == first and again.stat().st_ino == inode  # not made twice
    later = f16_model.stat().st_mtime_ns + 5_000_000_000
    os.utime(f16_model, ns=(later, later))  # the user replaced the file
    renewed = full_precision_copy(f16_model, folder)
    assert renewed is not None and renewed != first


def test_at_most_two_copies_are_kept(f16_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    made = []
    for step in range(3):
        stamp = f16_model.stat().st_mtime_ns + (step + 1) * 1_000_000_000
        os.utime(f16_model, ns=(stamp, stamp))
        copy = full_precision_copy(f16_model, folder)
        assert copy is not None
        made.append(copy)
    assert sorted(folder.iterdir()) == sorted(made[1:])


def test_no_copy_for_f32_large_or_damaged_files(
    gguf_files: GgufFiles, f16_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "copies"
    tiny = gguf_files.tiny()
    assert read_header(tiny).file_type_name == "F32"
    assert full_precision_copy(tiny, folder) is None
    assert full_precision_copy(gguf_files.truncated(), folder) is None  # refused, not raised
    monkeypatch.setattr(precision, "MAX_COPY_BYTES", 1 << 20)
    assert full_precision_copy(f16_model, folder) is None
    assert not folder.exists() or not any(folder.iterdir())
