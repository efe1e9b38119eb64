"""How much memory a model needs at a given context length, from its GGUF header alone."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.gguf_file import GGUFHeader
from app.errors import HearthError
from app.units import format_bytes

# llama.cpp keeps K and V in F16 unless asked otherwise.
KV_BYTES_PER_VALUE = 2
# Runtime overhead that does not scale with the model: CPU buffers, scratch, Python.
FIXED_OVERHEAD = 64 * 2**20


class InsufficientMemory(HearthError):
    """The model will clearly not fit in the memory that is free."""


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.compute_bytes

    def describe(self) -> str:
        total, weights = format_bytes(self.total_bytes), format_bytes(self.weights_bytes)
        context, work = format_bytes(self.kv_cache_bytes), format_bytes(self.compute_bytes)
        return f"about {total} (weights {weights} + context {context} + working memory {work})"


def _int(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def estimate_memory(header: GGUFHeader, n_ctx: int, *, n_batch: int = 512) -> MemoryEstimate:
    """Weights + KV cache for ``n_ctx`` tokens + llama.cpp's compute buffers (an estimate)."""
    layers = header.block_count or 0
    n_embd = header.embedding_length or 0
    heads = max(header.head_count or 1, 1)
    kv_heads = header.head_count_kv or heads
    key_len = _int(header.arch_value("attention.key_length"), n_embd // heads)
    value_len = _int(header.arch_value("attention.value_length"), key_len)
    context = min(n_ctx, header.context_length or n_ctx)
    kv_cache = layers * context * kv_heads * (key_len + value_len) * KV_BYTES_PER_VALUE
    vocab = header.vocab_size or 0
    batch = min(n_batch, context)
    # Attention scores for one layer at a time, the output logits, activations.
    compute = 4 * (context * batch * heads + vocab * batch + 8 * n_embd * batch)
    return MemoryEstimate(header.tensor_data_bytes, kv_cache, compute + FIXED_OVERHEAD)


def check_fits(name: str, estimate: MemoryEstimate, available_bytes: int) -> None:
    """Refuse, with the numbers, when the model clearly won't fit in ``available_bytes``."""
    if estimate.total_bytes > available_bytes:
        raise InsufficientMemory(
            f"{name} needs {estimate.describe()}, but only {format_bytes(available_bytes)} "
            "of memory is free. Close other apps, choose a shorter context or a smaller "
            "quantization, or load it anyway."
        )
