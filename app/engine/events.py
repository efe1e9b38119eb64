"""What goes into the engine and what comes out: load options and sampling, the loaded
model, the events a generation yields, and the engine's errors.

Plain data with no llama.cpp, so a front end can name them without loading the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.engine.gguf_file import GGUFHeader
from app.engine.memory import MemoryEstimate
from app.errors import HearthError

StopReason = Literal["eos", "stop_string", "max_tokens", "context_full", "user", "error"]


class EngineBusy(HearthError):
    """The model is already answering; one generation at a time."""


class LoadCancelled(HearthError):
    """The user cancelled loading."""


class ModelLoadError(HearthError):
    """llama.cpp could not load a file that passed our checks."""


class NoModelLoaded(HearthError):
    """A generation was asked for with no model loaded."""


class ContextTooSmall(HearthError):
    """Even the newest message alone does not fit in the context."""


@dataclass(frozen=True)
class LoadOptions:
    n_ctx: int = 4096
    n_threads: int = 0  # 0: one per physical core
    n_gpu_layers: int = -1  # -1: all when llama.cpp has a GPU backend, else 0
    chat_format: str | None = None  # a NAMED_FORMATS name to override the model's template
    embedding: bool = False
    ignore_memory_check: bool = False
    n_batch: int = 512
    flash_attn: bool = True  # faster and smaller on every llama.cpp backend we ship
    # Where n_ctx came from, in the user's words (None: the app-wide default, "up to"),
    # and whether a value beyond the model's training length is refused (else lowered).
    ctx_source: str | None = None
    ctx_strict: bool = False


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.8
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    seed: int = -1
    max_tokens: int = 2048
    stop: tuple[str, ...] = ()
    grammar: str | None = None  # GBNF the answer must follow (JSON output for the API)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Sampling:
        """Build from settings/chat params, ignoring unrelated keys."""
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if "stop" in known:
            known["stop"] = tuple(known["stop"] or ())
        return cls(**known)


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    name: str
    header: GGUFHeader
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    chat_source: str  # "model" or the named format in use
    load_seconds: float
    estimate: MemoryEstimate
    context_note: str | None = None  # the asked-for context was lowered to the model's limit


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int = 0  # the whole prompt
    prompt_evaluated: int = 0  # of which llama.cpp had to evaluate (the rest came from the cache)
    completion_tokens: int = 0
    ttft_ms: float = 0.0
    prompt_tokens_per_second: float = 0.0
    tokens_per_second: float = 0.0
    total_ms: float = 0.0
    stop_reason: StopReason = "eos"


@dataclass(frozen=True)
class TextDelta:
    kind: Literal["answer", "reasoning"]
    text: str


@dataclass(frozen=True)
class ContextTrimmed:
    """Oldest turns left out so the conversation fits; indices into the turns given."""

    dropped: tuple[int, ...]
    prompt_tokens: int
    n_ctx: int


@dataclass(frozen=True)
class ContextUsed:
    """How much of the context the answer's prompt (with any documents) and the tokens
    written so far take: once the prompt is ready, then as the answer grows."""

    tokens: int
    n_ctx: int


@dataclass(frozen=True)
class GenerationDone:
    answer: str
    reasoning: str
    stats: GenerationStats
    dropped: tuple[int, ...] = ()
    error: str | None = None


Event = TextDelta | ContextTrimmed | ContextUsed | GenerationDone
