"""Hostile model files: a valid tiny GGUF damaged at random in its header (counts, sizes,
types, strings, offsets) is refused in words or loads; it never takes the process down.
Hearth's own reader refuses most; a file llama.cpp itself would abort on is first loaded
in a child process (app.engine.probe) and refused when that child dies."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from app.engine import probe
from app.engine.engine import Engine
from app.engine.events import LoadOptions, ModelLoadError
from app.engine.gguf_file import read_header
from app.errors import HearthError
from tests.reliability.scale import count
from tests.support.gguf_builder import TinyModelSpec, write_tiny_model

FILES = count(full=400, quick=20)


def test_randomly_damaged_models_are_refused_in_words_or_load(tmp_path: Path) -> None:
    source = write_tiny_model(tmp_path / "tiny.gguf")
    data = source.read_bytes()
    header = read_header(source).header_bytes
    rng = random.Random(16)
    engine = Engine(state_cache_bytes=0)
    outcomes = {"refused": 0, "loaded": 0}
    try:
        for index in range(FILES):
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 6)):
                damaged[rng.randint(0, header + 64)] = rng.randint(0, 255)
            path = tmp_path / f"damaged-{index}.gguf"
            path.write_bytes(bytes(damaged))
            try:
                engine.load(path, LoadOptions(n_ctx=128))
                outcomes["loaded"] += 1
            except HearthError as refused:
                assert path.name in str(refused) or str(refused), "refused in words"
                assert "Traceback" not in str(refused)
                outcomes["refused"] += 1
            path.unlink()
    finally:
        engine.close()
    assert sum(outcomes.values()) == FILES  # the process is still here for every file
    assert outcomes["refused"] > 0


def test_a_file_llama_cpp_aborts_on_is_refused_and_the_app_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = write_tiny_model(tmp_path / "aborts.gguf")
    # Stand in for llama.cpp's own abort() on a damaged file: the child dies the same way.
    monkeypatch.setattr(probe, "_CHILD", "import os\nos.abort()")
    monkeypatch.setattr(probe, "_survived", set())  # verdicts of earlier tests set aside
    engine = Engine(state_cache_bytes=0)
    try:
        with pytest.raises(ModelLoadError, match=r"crashed \(SIGABRT\).*did not load it"):
            engine.load(model, LoadOptions(n_ctx=128))
        assert engine.loaded is None and not engine.busy
    finally:
        engine.close()


def test_a_file_that_survived_is_not_probed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = write_tiny_model(tmp_path / "fine.gguf")
    monkeypatch.setattr(probe, "_survived", set())
    probe.ensure_survivable(model)
    monkeypatch.setattr(probe, "_CHILD", "import os\nos.abort()")
    probe.ensure_survivable(model)  # known to survive: no child this time
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(model.read_bytes())
    probe.ensure_survivable(copy)  # the same header and size: the same verdict
    other = write_tiny_model(tmp_path / "other.gguf", TinyModelSpec(name="another"))
    with pytest.raises(ModelLoadError):
        probe.ensure_survivable(other)  # another header: probed
