"""Whether a model fits this computer, and which quantization of a repo to recommend."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.build import Device, LlamaBuild
from app.engine.gguf_file import read_header
from app.engine.memory import estimate_memory
from app.hardware import MemoryInfo
from app.models import fit as fit_module
from app.models.files import is_projector_name
from app.models.fit import (
    KV_GUESS_CONTEXT,
    RAM_HEADROOM,
    VRAM_HEADROOM,
    Machine,
    fit,
    recommend,
)
from app.models.hub import (
    GGUFEntry,
    HubFile,
    group_gguf_files,
    quantization_from_name,
)

GB = 10**9
SIZE = 4 * GB


def cpu(available: int, total: int | None = None) -> Machine:
    return Machine(total or max(available, 64 * GB), available, False, 0, 0)


def gpu(vram_free: int, available: int = 32 * GB, total: int = 64 * GB) -> Machine:
    return Machine(total, available, True, max(vram_free, 24 * GB), vram_free)


def needed(size: int = SIZE, n_ctx: int = 4096) -> int:
    return fit(size, cpu(10**15), n_ctx=n_ctx).needed_bytes


# ------------------------------------------------------------------ CPU-only builds
def test_cpu_fits_with_the_ram_headroom_to_spare() -> None:
    verdict = fit(SIZE, cpu(needed() + RAM_HEADROOM))
    assert (verdict.kind, verdict.tight) == ("fits", False)
    assert verdict.summary.startswith("Fits: needs about")
    assert "free memory" in verdict.summary and "4,096 tokens of context" in verdict.summary


def test_cpu_fit_without_the_headroom_needs_other_apps_closed() -> None:
    verdict = fit(SIZE, cpu(needed() + RAM_HEADROOM - 1, total=32 * GB))
    assert (verdict.kind, verdict.tight) == ("fits", True)
    assert verdict.summary.startswith("Fits only if you close other apps")


def test_cpu_fit_up_to_exactly_the_total_ram_is_still_possible() -> None:
    verdict = fit(SIZE, cpu(1 * GB, total=needed()))
    assert (verdict.kind, verdict.tight) == ("fits", True)


def test_more_than_the_total_ram_is_too_large() -> None:
    verdict = fit(SIZE, cpu(1 * GB, total=needed() - 1))
    assert verdict.kind == "too_large"
    assert fit(SIZE, cpu(1 * GB, total=2 * GB)).summary == (
        "Too large for this computer: needs about 5.0 GB, more than its 2.0 GB of memory"
        " (4,096 tokens of context)"
    )


def test_a_gpu_build_without_gpu_memory_is_judged_like_a_cpu_build() -> None:
    machine = Machine(64 * GB, 32 * GB, True, 0, 0)
    assert fit(SIZE, machine).kind == "fits"


# ------------------------------------------------------------------ GPU builds
def test_gpu_fits_when_free_video_memory_holds_everything() -> None:
    verdict = fit(SIZE, gpu(needed() + VRAM_HEADROOM))
    assert (verdict.kind, verdict.tight) == ("fits", False)
    assert verdict.summary.startswith("Fits on the GPU: needs about")


def test_gpu_one_byte_short_offloads_part_of_the_model() -> None:
    verdict = fit(SIZE, gpu(needed() + VRAM_HEADROOM - 1))
    assert (verdict.kind, verdict.tight) == ("partial_offload", False)
    assert "in video memory" in verdict.summary and "in RAM" in verdict.summary


def test_partial_offload_with_little_free_ram_needs_other_apps_closed() -> None:
    verdict = fit(SIZE, gpu(VRAM_HEADROOM + GB, available=GB))
    assert (verdict.kind, verdict.tight) == ("partial_offload", True)


def test_too_little_video_memory_runs_on_the_cpu() -> None:
    useful = int(needed() * fit_module.MIN_USEFUL_OFFLOAD)
    just_useful = fit(SIZE, gpu(VRAM_HEADROOM + useful + 1))
    assert just_useful.kind == "partial_offload"
    too_little = fit(SIZE, gpu(VRAM_HEADROOM + useful - 1))
    assert (too_little.kind, too_little.tight) == ("cpu_only", False)
    assert too_little.summary.startswith("Runs on the CPU only")
    tight = fit(SIZE, gpu(VRAM_HEADROOM, available=GB))
    assert (tight.kind, tight.tight) == ("cpu_only", True)


def test_more_than_video_memory_and_ram_together_is_too_large() -> None:
    verdict = fit(100 * GB, gpu(8 * GB, total=16 * GB))
    assert verdict.kind == "too_large"
    assert "video memory" in verdict.summary


# ------------------------------------------------------------------ estimates
def test_without_a_header_the_kv_allowance_grows_with_the_context() -> None:
    short, long = fit(SIZE, cpu(64 * GB), n_ctx=4096), fit(SIZE, cpu(64 * GB), n_ctx=32_768)
    assert short.weights_bytes == long.weights_bytes == SIZE
    assert short.kv_cache_bytes == SIZE * 4096 // KV_GUESS_CONTEXT
    assert long.kv_cache_bytes == SIZE
    assert long.needed_bytes > short.needed_bytes
    assert (short.context, long.context) == (4096, 32_768)


def test_with_a_header_the_kv_cache_comes_from_the_models_shape(tiny_model: Path) -> None:
    header = read_header(tiny_model)
    size = tiny_model.stat().st_size
    exact = fit(size, cpu(64 * GB), header=header, n_ctx=4096)
    estimate = estimate_memory(header, 4096)
    assert exact.context == 2048  # capped at the model's own context length
    assert exact.kv_cache_bytes == estimate.kv_cache_bytes
    assert exact.weights_bytes == estimate.weights_bytes
    assert exact.needed_bytes == estimate.total_bytes
    guessed = fit(size, cpu(64 * GB), n_ctx=4096)
    assert guessed.kv_cache_bytes != exact.kv_cache_bytes


def test_a_split_models_weights_are_at_least_all_its_shards(tiny_model: Path) -> None:
    header = read_header(tiny_model)  # as if it were the first of several shards
    verdict = fit(10 * GB, cpu(64 * GB), header=header)
    assert verdict.weights_bytes == 10 * GB - header.data_offset


def test_machine_detect_sums_gpu_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    devices = (
        Device("CUDA0", "GPU 0", "gpu", 6 * GB, 8 * GB),
        Device("CUDA1", "GPU 1", "gpu", 10 * GB, 12 * GB),
        Device("CPU", "CPU", "cpu", 30 * GB, 32 * GB),
    )
    build = LlamaBuild(available=True, gpu_offload=True, devices=devices)
    monkeypatch.setattr(fit_module, "llama_build", lambda: build)
    monkeypatch.setattr(fit_module, "memory", lambda: MemoryInfo(32 * GB, 20 * GB))
    assert Machine.detect() == Machine(32 * GB, 20 * GB, True, 20 * GB, 16 * GB)


def test_machine_detect_on_this_computer_gives_plausible_numbers() -> None:
    machine = Machine.detect()
    assert 0 < machine.available_ram <= machine.total_ram
    assert 0 <= machine.vram_free <= machine.vram_total


# ------------------------------------------------------------------ recommend
def entries(**sizes_gb: float) -> list[GGUFEntry]:
    """Entries of a repo "model": ``Q4_K_M=4.9`` is model.Q4_K_M.gguf of 4.9 GB."""
    files = []
    for name, size in sizes_gb.items():
        path = f"mmproj-model-{name}.gguf" if name.startswith("mmproj") else f"model.{name}.gguf"
        quant = quantization_from_name(path)
        files.append(HubFile(path, int(size * GB), None, quant, is_projector_name(path)))
    return group_gguf_files(files)


REPO = entries(Q2_K=3.0, Q4_K_M=4.9, Q6_K=6.6, Q8_0=8.5, F16=16.1, mmproj_f16=0.6)


def pick(repo: list[GGUFEntry], machine: Machine) -> str | None:
    chosen = recommend(repo, machine)
    return chosen.quantization if chosen else None


def test_recommend_picks_the_best_quantization_that_fits_not_full_precision() -> None:
    assert pick(REPO, cpu(64 * GB)) == "Q8_0"
    assert pick(REPO, gpu(24 * GB)) == "Q8_0"


def test_recommend_steps_down_to_what_fits() -> None:
    assert pick(REPO, cpu(8 * GB)) == "Q4_K_M"
    assert pick(REPO, gpu(9 * GB)) == "Q6_K"


def test_recommend_falls_back_to_the_smallest_that_runs_at_all() -> None:
    assert pick(REPO, cpu(2 * GB, total=16 * GB)) == "Q2_K"  # fits once apps are closed
    assert pick(REPO, gpu(2 * GB, available=2 * GB, total=8 * GB)) == "Q2_K"


def test_recommend_gives_nothing_when_nothing_runs() -> None:
    assert recommend(REPO, cpu(1 * GB, total=2 * GB)) is None


def test_recommend_never_picks_a_projector() -> None:
    only_projector_fits = cpu(1 * GB, total=2 * GB)
    assert fit(int(0.6 * GB), only_projector_fits).kind == "fits"
    assert recommend(REPO, only_projector_fits) is None
    assert recommend(entries(mmproj_f16=0.6), cpu(64 * GB)) is None


def test_recommend_takes_full_precision_only_when_nothing_quantized_fits() -> None:
    assert pick(entries(F32=4.0, F16=2.0, BF16=2.0), cpu(64 * GB)) in ("F16", "BF16")
    assert pick(entries(F16=2.0, Q8_0=1.1), cpu(64 * GB)) == "Q8_0"


def test_recommend_prefers_a_named_quantization_over_an_unknown_bigger_file() -> None:
    repo = group_gguf_files(
        [
            HubFile("model.Q4_K_M.gguf", 4 * GB, None, "Q4_K_M", False),
            HubFile("other-00001-of-00002.gguf", 3 * GB, None, None, False),
            HubFile("other-00002-of-00002.gguf", 3 * GB, None, None, False),
        ]
    )
    assert pick(repo, cpu(64 * GB)) == "Q4_K_M"


def test_recommend_weighs_a_split_model_by_all_its_shards() -> None:
    repo = group_gguf_files(
        [
            HubFile("m-Q8_0-00001-of-00002.gguf", 5 * GB, None, "Q8_0", False),
            HubFile("m-Q8_0-00002-of-00002.gguf", 5 * GB, None, "Q8_0", False),
            HubFile("m-Q4_K_M.gguf", 6 * GB, None, "Q4_K_M", False),
        ]
    )
    assert pick(repo, cpu(9 * GB)) == "Q4_K_M"  # Q8_0 is 10 GB in all
