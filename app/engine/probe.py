"""A first load of each model file in a child process, so a file llama.cpp cannot survive
(it aborts or crashes on some damaged headers that still look whole: an unknown key it
looks up, a tensor shape it asserts on) is refused in words instead of taking the app
down. What llama.cpp does at load depends only on the header (weights are mapped, not
read) and the file's size, so the verdict is kept for this run by the header's hash and
the size: only the first load of a file pays for it (about as long as a load, mostly
process start), and copies of a model do not pay again."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from app.engine.events import ModelLoadError
from app.engine.gguf_file import read_header

TIMEOUT = 300.0  # seconds; a load that takes longer is not a crash, it is a huge model

# The child loads the file the way the app does (Hearth's own Engine, so every llama.cpp
# call a load makes, such as reading the end-of-text token, is made) and tokenizes a line.
_CHILD = """
import sys
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.errors import HearthError
engine = Engine(state_cache_bytes=0)
try:
    engine.load(sys.argv[1], LoadOptions(n_ctx=64, n_batch=64, n_threads=1))
    engine.tokenize_prompt("Hello, how are you?")
except HearthError:
    pass  # refused in words: the load in the app explains it
"""
CHILD_ENV = "HEARTH_PROBING"  # set in the child: it loads without probing again

_survived: set[tuple[str, int]] = set()
_lock = threading.Lock()


def _key(path: Path) -> tuple[str, int]:
    header = read_header(path).header_bytes
    with path.open("rb") as file:
        digest = hashlib.sha256(file.read(header)).hexdigest()
    return digest, path.stat().st_size


def ensure_survivable(path: Path) -> None:
    """Raise ModelLoadError if llama.cpp crashes loading ``path`` (in a child process)."""
    if os.environ.get(CHILD_ENV):
        return
    key = _key(path)
    with _lock:
        if key in _survived:
            return
    root = str(Path(__file__).resolve().parents[2])  # Hearth's own code, installed or not
    env = {**os.environ, CHILD_ENV: "1", "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
    try:
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True, timeout=TIMEOUT, check=False, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return  # slow, not broken: the load in the app shows its progress
    if child.returncode < 0 or child.returncode == 134:  # killed by a signal, or abort()
        code = -child.returncode if child.returncode < 0 else signal.SIGABRT
        try:
            how = signal.Signals(code).name
        except ValueError:
            how = f"signal {code}"
        raise ModelLoadError(
            f"{path.name} is damaged or not a model this llama.cpp can read: llama.cpp "
            f"crashed ({how}) while loading it, so Hearth did not load it. Download it again."
        )
    with _lock:
        _survived.add(key)
