"""The system report for bug reports: versions, data paths, CPU, RAM and the llama.cpp build."""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
from dataclasses import asdict
from importlib import metadata
from typing import Any

from app import __version__
from app.cli.main import has_display
from app.context import Context
from app.engine.build import llama_build
from app.hardware import cpu_info, free_disk_bytes, memory
from app.terminal import print_json

_PACKAGES = ("llama-cpp-python", "PySide6-Essentials", "huggingface_hub", "sqlite-utils", "psutil")


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def report(ctx: Context) -> dict[str, Any]:
    """Everything a bug report needs, as plain data."""
    cpu = cpu_info()
    mem = memory()
    build = llama_build()
    return {
        "hearth": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {name: _package_version(name) for name in _PACKAGES},
        "sqlite": sqlite3.sqlite_version,
        "paths": {
            "home": str(ctx.paths.home),
            "database": str(ctx.paths.database),
            "models": str(ctx.models_dir),
            "log": str(ctx.paths.log_file),
        },
        "schema_version": ctx.store.schema_version,
        "disk_free_bytes": free_disk_bytes(ctx.paths.home),
        "cpu": asdict(cpu),
        "memory": {"total_bytes": mem.total_bytes, "available_bytes": mem.available_bytes},
        "threads": ctx.threads,
        "llama_cpp": {
            "available": build.available,
            "version": build.version,
            "gpu_offload": build.gpu_offload,
            "backends": build.backends,
            "devices": [asdict(d) for d in build.devices],
            "system_info": build.system_info,
            "cpu_variant": build.cpu_variant,
            "cpu_variants": list(build.cpu_variants),
            "error": build.error,
        },
    }


def _kernels(llama: dict[str, Any]) -> str:
    """Which CPU kernels run: a variant picked at start from those shipped, or built in."""
    shipped = llama.get("cpu_variants") or []
    if not shipped:
        return "one portable set, built in (no run-time choice)"
    chosen = llama.get("cpu_variant") or "none loaded"
    return f"{chosen}, chosen for this CPU from {len(shipped)} variants ({', '.join(shipped)})"


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def format_report(data: dict[str, Any]) -> str:
    """The report as text to paste into an issue."""
    cpu, mem, llama = data["cpu"], data["memory"], data["llama_cpp"]
    lines = [
        f"Hearth {data['hearth']}  (Python {data['python']}, SQLite {data['sqlite']})",
        f"Platform: {data['platform']}",
        "Packages: " + ", ".join(f"{k} {v}" for k, v in data["packages"].items()),
        "",
        "Data",
        *(f"  {k:<9} {v}" for k, v in data["paths"].items()),
        f"  schema    v{data['schema_version']}",
        f"  disk free {_gib(data['disk_free_bytes'])}",
        "",
        "Machine",
        f"  CPU       {cpu['model']} ({cpu['architecture']})",
        f"  cores     {cpu['physical_cores']} physical, {cpu['logical_cores']} logical;"
        f" Hearth uses {data['threads']} threads",
        f"  features  {' '.join(cpu['features']) or 'none detected'}",
        f"  RAM       {_gib(mem['total_bytes'])} total, {_gib(mem['available_bytes'])} available",
        "",
        "llama.cpp",
    ]
    if not llama["available"]:
        lines.append(f"  NOT AVAILABLE: {llama['error']}")
    else:
        lines += [
            f"  binding   llama-cpp-python {llama['version']}",
            "  GPU       "
            + ("offload supported" if llama["gpu_offload"] else "none (CPU-only build)"),
            f"  backends  {', '.join(llama['backends']) or 'unknown'}",
            f"  CPU code  {_kernels(llama)}",
            *(
                f"  device    {d['name']}: {d['description']} ({d['kind']}, "
                f"{_gib(d['total_bytes'])})"
                for d in llama["devices"]
            ),
            f"  system    {llama['system_info']}",
        ]
    return "\n".join(lines)


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    if args.check:
        return _check(ctx, args.model)
    data = report(ctx)
    if args.json:
        print_json(data)
    else:
        print(format_report(data))
    return 0


def _check(ctx: Context, model: str | None) -> int:
    """The installation, end to end: window, model, one answer (see ui/self_check.py)."""
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a server, a container, CI
    from ui.self_check import run_check  # Qt loads only for the check

    print(f"Hearth {__version__}: checking this installation")
    return run_check(ctx, model, lambda line: print(f"  {line}", flush=True))
