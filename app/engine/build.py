"""What the installed llama.cpp build can do: version, compiled CPU features, backends, devices."""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

_DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel", 4: "meta"}


@dataclass(frozen=True)
class Device:
    name: str
    description: str
    kind: str  # cpu, gpu, igpu, accel
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class LlamaBuild:
    available: bool
    version: str = ""
    system_info: str = ""
    gpu_offload: bool = False
    devices: tuple[Device, ...] = field(default_factory=tuple)
    error: str = ""

    @property
    def backends(self) -> list[str]:
        """Backend names (CPU, CUDA0, Metal, ...) in the order llama.cpp lists them."""
        return [d.name for d in self.devices]

    @property
    def gpu_devices(self) -> list[Device]:
        return [d for d in self.devices if d.kind in ("gpu", "igpu")]


@cache
def llama_build() -> LlamaBuild:
    """Inspect the llama-cpp-python build; never raises (an import error is reported instead)."""
    try:
        import llama_cpp
    except Exception as exc:  # a broken native library must not take the caller down
        log.exception("llama_cpp failed to import")
        return LlamaBuild(available=False, error=f"{type(exc).__name__}: {exc}")
    info = llama_cpp.llama_print_system_info()
    system_info = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    try:
        devices = _devices(Path(llama_cpp.__file__).parent / "lib")
    except (OSError, AttributeError) as exc:
        log.warning("could not list ggml devices: %s", exc)
        devices = ()
    return LlamaBuild(
        available=True,
        version=str(llama_cpp.__version__),
        system_info=system_info.strip().rstrip("|").strip(),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        devices=devices,
    )


def _devices(lib_dir: Path) -> tuple[Device, ...]:
    """Ask ggml's backend registry (not wrapped by the binding) for its devices."""
    candidates = sorted(lib_dir.glob("libggml.so*")) + sorted(lib_dir.glob("libggml*.dylib"))
    candidates += sorted(lib_dir.glob("ggml.dll"))
    if not candidates:
        raise OSError(f"no ggml library in {lib_dir}")
    ggml = ctypes.CDLL(str(candidates[0]))
    ggml.ggml_backend_dev_count.restype = ctypes.c_size_t
    ggml.ggml_backend_dev_get.restype = ctypes.c_void_p
    ggml.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    for name in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(ggml, name).restype = ctypes.c_char_p
        getattr(ggml, name).argtypes = [ctypes.c_void_p]
    ggml.ggml_backend_dev_type.restype = ctypes.c_int
    ggml.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    ggml.ggml_backend_dev_memory.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    devices = []
    for index in range(ggml.ggml_backend_dev_count()):
        dev = ggml.ggml_backend_dev_get(index)
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        ggml.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        devices.append(
            Device(
                name=(ggml.ggml_backend_dev_name(dev) or b"").decode(errors="replace"),
                description=(ggml.ggml_backend_dev_description(dev) or b"").decode(
                    errors="replace"
                ),
                kind=_DEVICE_TYPES.get(ggml.ggml_backend_dev_type(dev), "unknown"),
                free_bytes=free.value,
                total_bytes=total.value,
            )
        )
    return tuple(devices)
