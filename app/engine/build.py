"""What the installed llama.cpp build can do: version, compiled CPU features, backends,
devices, and which CPU kernels it runs.

Two kinds of build exist. The source set-up's wheel links one portable CPU backend
into libggml. The bundle's llama.cpp (packaging/build_llama.sh) is built with
``GGML_BACKEND_DL`` and every CPU variant: each is a ``libggml-cpu-<level>.so`` that
ggml scores against this CPU, loading the best. ggml looks for them beside the
executable; Hearth's sit beside libllama, so ``ensure_backends`` loads them from there.
"""

from __future__ import annotations

import ctypes
import logging
import re
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
    # The CPU kernels in use: a variant's name ("haswell", "skylakex", ...) when they
    # are chosen at run time, None when one portable set is built in.
    cpu_variant: str | None = None
    cpu_variants: tuple[str, ...] = ()  # the variants this build ships

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
    lib = Path(llama_cpp.__file__).parent / "lib"
    try:
        ensure_backends(lib)
    except OSError as exc:
        log.warning("could not load llama.cpp's backends: %s", exc)
    info = llama_cpp.llama_print_system_info()
    system_info = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    try:
        devices = _devices(lib)
    except (OSError, AttributeError) as exc:
        log.warning("could not list ggml devices: %s", exc)
        devices = ()
    return LlamaBuild(
        available=True,
        version=str(llama_cpp.__version__),
        system_info=system_info.strip().rstrip("|").strip(),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        devices=devices,
        cpu_variant=loaded_cpu_variant(),
        cpu_variants=shipped_cpu_variants(lib),
    )


_VARIANT = re.compile(r"libggml-cpu-([A-Za-z0-9_]+)\.(?:so|dylib)\b")


def shipped_cpu_variants(lib_dir: Path) -> tuple[str, ...]:
    """The CPU variant libraries beside libllama (none in a build with one CPU backend)."""
    return tuple(
        sorted({m[1] for p in lib_dir.glob("*ggml-cpu-*") if (m := _VARIANT.search(p.name))})
    )


def loaded_cpu_variant(maps: str | None = None) -> str | None:
    """The CPU variant this process loaded, from the libraries it has mapped (Linux's
    /proc/self/maps; ``maps`` for a test); None with a built-in CPU backend or elsewhere."""
    if maps is None:
        try:
            maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    found = _VARIANT.search(maps)
    return found[1] if found else None


@cache
def ensure_backends(lib_dir: Path) -> int:
    """Load llama.cpp's backends from ``lib_dir`` when the build loads them on demand
    and none is loaded yet; the number of backends registered afterwards. A no-op for
    a build whose CPU backend is linked in. Call before the first model load."""
    ggml = _ggml(lib_dir)
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    if ggml.ggml_backend_reg_count() == 0 and hasattr(ggml, "ggml_backend_load_all_from_path"):
        ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load_all_from_path(str(lib_dir).encode())
        log.info("llama.cpp backends loaded from %s: CPU variant %s", lib_dir, loaded_cpu_variant())
    return int(ggml.ggml_backend_reg_count())


def _ggml(lib_dir: Path) -> ctypes.CDLL:
    candidates = sorted(lib_dir.glob("libggml.so*")) + sorted(lib_dir.glob("libggml*.dylib"))
    candidates += sorted(lib_dir.glob("ggml.dll"))
    if not candidates:
        raise OSError(f"no ggml library in {lib_dir}")
    return ctypes.CDLL(str(candidates[0]))


def _devices(lib_dir: Path) -> tuple[Device, ...]:
    """Ask ggml's backend registry (not wrapped by the binding) for its devices."""
    ggml = _ggml(lib_dir)
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
