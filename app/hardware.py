"""What this machine has: CPU model and features, physical cores, RAM, disk space."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psutil

# Instruction-set extensions that decide which llama.cpp kernels can run.
INTERESTING_FLAGS = (
    "sse3", "ssse3", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni",
    "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
    "amx_tile", "amx_int8", "amx_bf16",
    "neon", "asimd", "asimddp", "sve", "i8mm",
)  # fmt: skip


@dataclass(frozen=True)
class CpuInfo:
    model: str
    architecture: str
    physical_cores: int
    logical_cores: int
    features: tuple[str, ...]


@dataclass(frozen=True)
class MemoryInfo:
    total_bytes: int
    available_bytes: int


@cache
def cpu_info() -> CpuInfo:
    model, flags = _cpu_model_and_flags()
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    features = tuple(f for f in INTERESTING_FLAGS if f in flags)
    return CpuInfo(model, platform.machine(), physical, logical, features)


def physical_cores() -> int:
    """The thread count llama.cpp runs best with: one per physical core."""
    return cpu_info().physical_cores


def memory() -> MemoryInfo:
    vm = psutil.virtual_memory()
    return MemoryInfo(vm.total, vm.available)


def process_memory() -> int:
    """Resident memory of this process (the app and any loaded model), in bytes."""
    return int(psutil.Process().memory_info().rss)


def free_disk_bytes(path: Path) -> int:
    """Free space on the disk holding ``path`` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return psutil.disk_usage(str(probe)).free


def _cpu_model_and_flags() -> tuple[str, set[str]]:
    system = platform.system()
    if system == "Linux":
        try:
            text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        model, flags = "", set[str]()
        for line in text.splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("model name", "hardware", "cpu model") and not model:
                model = value.strip()
            elif key in ("flags", "features") and not flags:
                flags = set(value.split())
        if "pni" in flags:  # Linux calls SSE3 "pni"
            flags.add("sse3")
        return model or platform.processor() or "unknown", flags
    if system == "Darwin":
        model = _sysctl("machdep.cpu.brand_string") or platform.processor() or "unknown"
        flags = set(_sysctl("machdep.cpu.features").lower().split())
        flags |= {
            f.lower().replace(".", "_") for f in _sysctl("machdep.cpu.leaf7_features").split()
        }
        if platform.machine() == "arm64":
            flags |= {"neon", "asimd"}
        return model, flags
    return platform.processor() or "unknown", set()


def _sysctl(name: str) -> str:
    try:
        result = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()
