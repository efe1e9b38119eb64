"""Will a model fit on this computer? A verdict in words, and which quantization to download.

Memory needed = weights + KV cache for the context + working memory. With the model's
GGUF header the KV cache and working memory come from ``model_memory.estimate_memory``;
with only a file size they are a documented, deliberately generous allowance.

Verdicts (``Fit.kind``):

- ``"fits"``: on a GPU build, the whole model fits in free video memory (fastest);
  on a CPU-only build (or with no usable GPU), it fits in free RAM with
  ``RAM_HEADROOM`` to spare. ``tight`` marks a CPU fit that needs more than is free
  now but no more than the computer's RAM: it runs once other apps are closed.
- ``"partial_offload"``: GPU build; too big for free video memory, but video memory
  holds a useful share (at least ``MIN_USEFUL_OFFLOAD``) and RAM holds the rest
  (``tight`` again when RAM has room only after closing apps). Slower than "fits".
- ``"cpu_only"``: GPU build, but too little video memory is free to help; the model
  runs from RAM on the CPU (``tight`` as above).
- ``"too_large"``: needs more than the computer's memory (RAM, plus free video
  memory on a GPU build) even with everything else closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.engine.build import llama_build
from app.engine.gguf_file import GGUFHeader
from app.engine.memory import FIXED_OVERHEAD, estimate_memory
from app.hardware import memory
from app.units import format_bytes

if TYPE_CHECKING:  # only the type: judging files needs no huggingface_hub import
    from app.models.hub import GGUFEntry

FitKind = Literal["fits", "partial_offload", "cpu_only", "too_large"]

# Free RAM kept back for the system and Hearth itself when judging a CPU fit.
RAM_HEADROOM = 512 * 2**20
# Free video memory kept back for the GPU driver's own buffers.
VRAM_HEADROOM = 512 * 2**20
# Below this share of the model in video memory, offloading is not worth calling a GPU run.
MIN_USEFUL_OFFLOAD = 0.10
# Without a header: the KV cache is guessed as weights × n_ctx / KV_GUESS_CONTEXT, i.e.
# 12.5% of the weights at 4,096 tokens. Models with grouped-query attention (most of
# those published since 2024) need less; older full-attention ones can need more.
KV_GUESS_CONTEXT = 32_768
# Without a header: working memory (compute buffers, logits) as a share of the weights.
COMPUTE_GUESS_SHARE = 0.10

# Rough bits per weight of each quantization, to rank them by quality.
_BITS_PER_WEIGHT: dict[str, float] = {
    "Q8_0": 8.5, "Q8_K_XL": 8.6, "Q6_K": 6.56, "Q6_K_L": 6.6, "Q6_K_XL": 6.7,
    "Q5_1": 6.0, "Q5_K_M": 5.69, "Q5_K_L": 5.8, "Q5_K_XL": 5.9, "Q5_K": 5.69,
    "Q5_K_S": 5.54, "Q5_0": 5.5, "Q4_1": 5.0, "Q4_K_M": 4.89, "Q4_K_L": 5.0,
    "Q4_K_XL": 5.1, "Q4_K": 4.89, "Q4_K_S": 4.58, "Q4_0": 4.5, "Q4_0_4_4": 4.5,
    "Q4_0_4_8": 4.5, "Q4_0_8_8": 4.5, "IQ4_NL": 4.5, "IQ4_XS": 4.25, "MXFP4": 4.25,
    "MXFP4_MOE": 4.25, "NVFP4": 4.5, "Q3_K_L": 4.27, "Q3_K_XL": 4.3, "Q3_K_M": 3.91,
    "Q3_K": 3.91, "IQ3_M": 3.66, "Q3_K_S": 3.5, "IQ3_S": 3.44, "Q2_K_XL": 3.4,
    "Q2_K_L": 3.4, "Q2_K": 3.35, "IQ3_XS": 3.3, "IQ3_XXS": 3.06, "Q2_K_S": 2.96,
    "IQ2_M": 2.7, "IQ2_S": 2.5, "IQ2_XS": 2.31, "IQ2_XXS": 2.06, "TQ2_0": 2.06,
    "IQ1_M": 1.75, "TQ1_0": 1.69, "IQ1_S": 1.56, "Q1_0": 1.1,
}  # fmt: skip
# Full precision: no better in use than Q8_0 but twice its size or more, so recommended
# only when no quantized file fits.
_FULL_PRECISION = frozenset({"F32", "F16", "BF16"})


@dataclass(frozen=True)
class Machine:
    """Memory as llama.cpp will see it, in bytes (video memory summed over GPUs)."""

    total_ram: int
    available_ram: int
    gpu_offload: bool  # the llama.cpp build can offload to a GPU
    vram_total: int
    vram_free: int

    @classmethod
    def detect(cls) -> Machine:
        ram = memory()
        build = llama_build()
        gpus = build.gpu_devices if build.gpu_offload else []
        return cls(
            total_ram=ram.total_bytes,
            available_ram=ram.available_bytes,
            gpu_offload=build.gpu_offload,
            vram_total=sum(d.total_bytes for d in gpus),
            vram_free=sum(d.free_bytes for d in gpus),
        )

    @property
    def uses_gpu(self) -> bool:
        return self.gpu_offload and self.vram_total > 0


@dataclass(frozen=True)
class Fit:
    kind: FitKind
    needed_bytes: int  # weights + KV cache + working memory
    weights_bytes: int
    kv_cache_bytes: int
    context: int  # tokens of context the estimate is for
    summary: str  # the verdict in words, with the numbers
    tight: bool = False  # runs only once other apps free memory


def fit(
    size_bytes: int, machine: Machine, *, header: GGUFHeader | None = None, n_ctx: int = 4096
) -> Fit:
    """The verdict for a model of ``size_bytes`` (all shards) at ``n_ctx`` tokens of context.

    With ``header`` (the first shard's, for a split model) the KV cache and working
    memory are computed from the model's shape and the context is capped at the
    model's own. Without it the weights are the file size, the KV cache is
    weights × n_ctx / 32,768 and working memory 64 MiB + 10% of the weights.
    """
    if header is not None:
        estimate = estimate_memory(header, n_ctx)
        # A split model's first shard lists only its own tensors: the file size covers all.
        weights = max(estimate.weights_bytes, size_bytes - header.data_offset)
        kv_cache, compute = estimate.kv_cache_bytes, estimate.compute_bytes
        context = min(n_ctx, header.context_length or n_ctx)
    else:
        weights = size_bytes
        kv_cache = weights * n_ctx // KV_GUESS_CONTEXT
        compute = FIXED_OVERHEAD + int(weights * COMPUTE_GUESS_SHARE)
        context = n_ctx
    needed = weights + kv_cache + compute
    kind, tight, summary = _verdict(needed, context, machine)
    return Fit(kind, needed, weights, kv_cache, context, summary, tight)


def _verdict(needed: int, context: int, m: Machine) -> tuple[FitKind, bool, str]:
    """(kind, tight, summary) for ``needed`` bytes on ``m``; see the module docstring."""
    need = f"needs about {format_bytes(needed)}"
    at = f" ({context:,} tokens of context)"
    free_ram = max(0, m.available_ram - RAM_HEADROOM)
    ram = f"{format_bytes(m.available_ram)} of {format_bytes(m.total_ram)} memory is free"
    if not m.uses_gpu:
        if needed <= free_ram:
            return "fits", False, f"Fits: {need} of {format_bytes(m.available_ram)} free memory{at}"
        if needed <= m.total_ram:
            return "fits", True, f"Fits only if you close other apps: {need}; {ram}{at}"
        return "too_large", False, _too_large(need, m) + at

    free_vram = max(0, m.vram_free - VRAM_HEADROOM)
    vram = f"{format_bytes(m.vram_free)} free video memory"
    if needed <= free_vram:
        return "fits", False, f"Fits on the GPU: {need} of {vram}{at}"
    if free_vram >= needed * MIN_USEFUL_OFFLOAD:
        rest = needed - free_vram
        split = f"{format_bytes(free_vram)} in video memory, {format_bytes(rest)} in RAM"
        if rest <= free_ram:
            return "partial_offload", False, f"Runs partly on the GPU (slower): {need}; {split}{at}"
        if rest <= m.total_ram:
            summary = f"Runs partly on the GPU if you close other apps: {need}; {split}, and {ram}"
            return "partial_offload", True, summary + at
        return "too_large", False, _too_large(need, m) + at
    if needed <= free_ram:
        summary = f"Runs on the CPU only (slower): {need}, more than the {vram}; {ram}"
        return "cpu_only", False, summary + at
    if needed <= m.total_ram:
        return "cpu_only", True, f"Runs on the CPU only, if you close other apps: {need}; {ram}{at}"
    return "too_large", False, _too_large(need, m) + at


def _too_large(need: str, m: Machine) -> str:
    memory_words = f"its {format_bytes(m.total_ram)} of memory"
    if m.uses_gpu:
        memory_words += f" and {format_bytes(m.vram_free)} of free video memory"
    return f"Too large for this computer: {need}, more than {memory_words}"


def recommend(
    entries: list[GGUFEntry],
    machine: Machine,
    n_ctx: int = 4096,
    *,
    header: GGUFHeader | None = None,
) -> GGUFEntry | None:
    """The one file (or split set) of a repository to download on this machine.

    The best quality among those that fit fully (no ``tight`` fits): the most bits per
    weight, so Q8_0 over Q6_K over Q4_K_M whenever they fit; full precision (F16, BF16,
    F32) only when no quantized file fits. If nothing fits fully, the smallest that runs
    at all (partly on the GPU, on the CPU, or after closing apps). Never a vision
    projector; None when nothing runs. ``header``: one file's header (the quantizations
    of a repo share their shape), for exact KV-cache figures.
    """
    judged = [
        (entry, fit(entry.total_size, machine, header=header, n_ctx=n_ctx))
        for entry in entries
        if not entry.is_projector and entry.files
    ]
    whole = [e for e, verdict in judged if verdict.kind == "fits" and not verdict.tight]
    quantized = [e for e in whole if e.quantization not in _FULL_PRECISION]
    if quantized:
        return max(
            quantized, key=lambda e: (_BITS_PER_WEIGHT.get(e.quantization or "", 0.0), e.total_size)
        )
    if whole:
        return min(whole, key=lambda e: e.total_size)
    runs = [e for e, verdict in judged if verdict.kind != "too_large"]
    return min(runs, key=lambda e: e.total_size) if runs else None
