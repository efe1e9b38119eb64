"""Full-precision (F32) working copies of small models.

On the CPUs Hearth runs on, llama.cpp multiplies F32 weights through its tuned SGEMM
kernels, while F16 and 8-bit weights go through slower paths: an embedding model ran
1.5 to 1.8 times as fast from an F32 copy as from its F16 file (bench/results/embedding.md).
The copy holds the same weights widened to 32 bits, so its vectors match the original
file's. It is made once with llama.cpp's own converter, kept in the data home's cache,
named after the source's size and modification time (a changed file gets a new copy),
and only for models small enough that the copy costs little disk.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path

import llama_cpp

from app.engine.engine import route_llama_log
from app.engine.gguf_file import GGUFError, validate_file
from app.hardware import free_disk_bytes

log = logging.getLogger(__name__)

MAX_COPY_BYTES = 1 << 30  # a larger model's copy costs too much disk for what it saves
KEEP = 2  # copies kept (of different models); the least recently used goes first
SUFFIX = ".f32.gguf"


def copy_name(source: Path) -> str:
    stat = source.stat()
    return f"{source.stem}-{stat.st_size}-{stat.st_mtime_ns}{SUFFIX}"


def full_precision_copy(source: Path, folder: Path) -> Path | None:
    """An F32 copy of ``source`` in ``folder`` (made now if missing), or None when the file
    is F32 already, too large, damaged, or the disk is short: the caller then uses
    ``source`` itself. Never raises for a copy that cannot be made."""
    try:
        header = validate_file(source)
        target = folder / copy_name(source)
        if target.is_file():
            os.utime(target)  # recently used: kept over older copies
            return target
        if header.file_type_name == "F32":
            return None
        size = header.parameter_count * 4
        if size > MAX_COPY_BYTES:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        if free_disk_bytes(folder) < 2 * size:
            log.info("not enough free disk for an F32 copy of %s", source.name)
            return None
        _convert(source, target)
        _evict(folder, keep=target)
        return target
    except (OSError, GGUFError, RuntimeError) as exc:
        log.warning("no F32 copy of %s (%s): using the file as it is", source.name, exc)
        return None


def _convert(source: Path, target: Path) -> None:
    """llama.cpp's quantizer writing every tensor as F32, into a temporary file renamed
    into place whole (a crash leaves no half copy under the final name)."""
    route_llama_log()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    params.nthread = max(1, min(4, os.cpu_count() or 1))
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(partial).encode(), ctypes.byref(params)
        )
        if status != 0:
            raise RuntimeError(f"llama.cpp could not convert it (status {status})")
        validate_file(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    log.info("made an F32 working copy of %s: %s", source.name, target)


def _evict(folder: Path, *, keep: Path) -> None:
    copies = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in copies if p != keep][KEEP - 1 :]:
        old.unlink(missing_ok=True)
