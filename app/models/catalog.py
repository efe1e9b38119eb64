"""A few small, well-known models to suggest: chat models on first launch, by what fits this
machine, and embedding models for searching documents by meaning."""

from __future__ import annotations

from dataclasses import dataclass

from app.models.fit import Machine, fit


@dataclass(frozen=True)
class Starter:
    repo_id: str
    filename: str
    label: str
    approx_bytes: int  # to judge the fit before the hub is asked; the repo page shows exact sizes


# Smallest first. Chosen for good chat quality at their size and permissive licences.
STARTERS: tuple[Starter, ...] = (
    Starter("Qwen/Qwen3-0.6B-GGUF", "Qwen3-0.6B-Q8_0.gguf", "Qwen3 0.6B", 639_000_000),
    Starter("unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf", "Gemma 3 1B", 806_000_000),
    Starter(
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        "Llama 3.2 3B",
        2_020_000_000,
    ),
    Starter(
        "Qwen/Qwen2.5-7B-Instruct-GGUF",
        "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf",
        "Qwen2.5 7B",
        4_680_000_000,
    ),
)


# Small GGUF sentence-embedding models llama.cpp runs, smallest first. Any one lets
# documents be searched by meaning as well as by keywords.
EMBEDDING_STARTERS: tuple[Starter, ...] = (
    Starter(
        "CompendiumLabs/bge-small-en-v1.5-gguf",
        "bge-small-en-v1.5-q8_0.gguf",
        "BGE small (English)",
        36_000_000,
    ),
    Starter(
        "nomic-ai/nomic-embed-text-v1.5-GGUF",
        "nomic-embed-text-v1.5.Q8_0.gguf",
        "Nomic Embed v1.5",
        146_000_000,
    ),
    Starter(
        "CompendiumLabs/bge-m3-gguf",
        "bge-m3-q8_0.gguf",
        "BGE-M3 (many languages)",
        635_000_000,
    ),
)

# Small GGUF rerankers (cross-encoders run with llama.cpp's rank pooling). Optional: with
# one, the passages search finds are read again with the question and the best go first.
RERANKER_STARTERS: tuple[Starter, ...] = (
    Starter(
        "gpustack/jina-reranker-v1-tiny-en-GGUF",
        "jina-reranker-v1-tiny-en-Q8_0.gguf",
        "Jina reranker tiny (English)",
        36_700_000,
    ),
)

# Architectures that only embed (llama.cpp names); a model of these cannot chat.
EMBEDDING_ARCHITECTURES = frozenset(
    {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "t5encoder",
     "modern-bert", "neo-bert"}
)  # fmt: skip


def is_embedding_model(architecture: str | None) -> bool:
    return (architecture or "").lower() in EMBEDDING_ARCHITECTURES


def recommended_starter(machine: Machine, n_ctx: int = 4096) -> Starter | None:
    """The largest starter that fits comfortably (not only after closing other apps)."""
    fitting = [
        s
        for s in STARTERS
        if (verdict := fit(s.approx_bytes, machine, n_ctx=n_ctx)).kind == "fits"
        and not verdict.tight
    ]
    return fitting[-1] if fitting else None


def chat_suggestions(machine: Machine, n_ctx: int = 4096) -> tuple[Starter, ...]:
    """Chat models to suggest on the Models page: the starters that fit this machine
    (the smallest one when none does, so there is always somewhere to begin)."""
    fitting = tuple(s for s in STARTERS if fit(s.approx_bytes, machine, n_ctx=n_ctx).kind == "fits")
    return fitting or STARTERS[:1]


@dataclass(frozen=True)
class FirstLaunch:
    """What the empty window says and offers."""

    title: str
    body: str
    offer_hub: bool  # search the hub / download the starter
    starter: Starter | None
    offer_retry: bool = False  # the hub could not be reached: check again
    checking: bool = False  # whether the hub can be reached is not known yet


IMPORT_HOW = (
    "bring one over (from a USB drive or another folder) and import it: choose Import a "
    ".gguf file, or drop the file on this window."
)


STARTER_READY = (
    "A tiny starter model is ready, so you can chat right away, even offline. Its answers "
    "are simple: for real ones, get a model that fits this computer."
)


def first_launch(
    offline: bool,
    machine: Machine,
    n_ctx: int = 4096,
    *,
    reachable: bool | None = True,
    starter_ready: bool = False,
) -> FirstLaunch:
    """The first-launch advice. ``reachable``: whether the Hugging Face Hub answered (None
    while that is being checked); a download is only offered when it can work.
    ``starter_ready``: the library holds only Hearth's starter model, so the advice says
    it can be used now and still recommends a real model."""
    advice = _first_launch(offline, machine, n_ctx, reachable=reachable)
    if not starter_ready:
        return advice
    body = STARTER_READY
    if offline:
        body += f" You are offline: to add a real model, {IMPORT_HOW}"
    elif reachable is False:
        body += (
            f" The Hugging Face Hub can't be reached right now: to add a real model, {IMPORT_HOW}"
        )
    return FirstLaunch(
        "Welcome to Hearth: you can chat now",
        body,
        offer_hub=advice.offer_hub,
        starter=advice.starter,
        offer_retry=advice.offer_retry,
        checking=advice.checking,
    )


def _first_launch(
    offline: bool, machine: Machine, n_ctx: int, *, reachable: bool | None
) -> FirstLaunch:
    if offline:
        return FirstLaunch(
            "You need a model file to start",
            "Hearth runs language models stored as .gguf files on this computer. You are "
            f"offline, so {IMPORT_HOW}",
            offer_hub=False,
            starter=None,
        )
    if reachable is False:
        return FirstLaunch(
            "You need a model file to start",
            "Hearth runs language models stored as .gguf files on this computer. It can't "
            "reach the Hugging Face Hub right now (no network?), so it can't download one: "
            f"{IMPORT_HOW}",
            offer_hub=False,
            starter=None,
            offer_retry=True,
        )
    body = (
        "Hearth runs open language models on this computer: private, and offline once a "
        "model is downloaded. Get a model to start chatting."
    )
    if reachable is None:
        return FirstLaunch("Welcome to Hearth", body, offer_hub=False, starter=None, checking=True)
    starter = recommended_starter(machine, n_ctx)
    if starter is None:
        body += " This computer has little free memory; close other apps for the best choice."
    return FirstLaunch("Welcome to Hearth", body, offer_hub=True, starter=starter)
