"""Which CPU kernels llama.cpp runs: a variant chosen at start, or one built-in set."""

from __future__ import annotations

from pathlib import Path

from app.engine.build import llama_build, loaded_cpu_variant, shipped_cpu_variants


def test_the_loaded_variant_is_read_from_the_mapped_libraries() -> None:
    maps = (
        "7f1c000-7f1d000 r-xp 00000000 08:01 123 /opt/hearth/_internal/llama_cpp/lib/libllama.so\n"
        "7f2c000-7f2d000 r-xp 00000000 08:01 124 "
        "/opt/hearth/_internal/llama_cpp/lib/libggml-cpu-skylakex.so\n"
    )
    assert loaded_cpu_variant(maps) == "skylakex"
    assert loaded_cpu_variant("7f1c000-7f1d000 r-xp 00000000 08:01 123 /x/libggml-cpu.so\n") is None


def test_shipped_variants_are_the_variant_libraries_beside_libllama(tmp_path: Path) -> None:
    for name in ("libllama.so", "libggml-cpu.so", "libggml-cpu-haswell.so", "libggml-cpu-zen4.so"):
        (tmp_path / name).write_bytes(b"")
    assert shipped_cpu_variants(tmp_path) == ("haswell", "zen4")


def test_the_source_build_has_its_cpu_kernels_built_in() -> None:
    build = llama_build()
    assert build.available and "CPU" in build.backends
    assert build.cpu_variants == () and build.cpu_variant is None
