"""Running a GGUF model with llama.cpp: checked loading, streaming generation with prompt
reuse and instant stop, per-chat KV snapshots, measured stats, and embeddings.

Plain Python with no Qt: ``generate`` is a generator the CLI iterates directly and
the desktop runs in a worker thread. One generation per loaded model at a time.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import ctypes
import functools
import logging
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Generator, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jinja2
import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import numpy as np

from app.cancel import CancelToken
from app.engine.build import llama_build
from app.engine.chat_format import NAMED_FORMATS, ChatPrompt, Turn, default_format
from app.engine.context_length import choose_context
from app.engine.events import (
    ContextTooSmall,
    ContextTrimmed,
    ContextUsed,
    EngineBusy,
    Event,
    GenerationDone,
    GenerationStats,
    LoadCancelled,
    LoadedModel,
    LoadOptions,
    ModelLoadError,
    NoModelLoaded,
    Sampling,
    StopReason,
    TextDelta,
)
from app.engine.gguf_file import validate_file
from app.engine.kv_disk import KVDisk, SavedState, model_identity
from app.engine.load_errors import explain_load_failure
from app.engine.memory import check_fits, estimate_memory
from app.engine.probe import ensure_survivable
from app.engine.reasoning import ReasoningSplitter, partial_suffix_length
from app.engine.threads import ThreadGovernor
from app.errors import HearthError
from app.hardware import memory, physical_cores

log = logging.getLogger(__name__)
llama_log = logging.getLogger("llama.cpp")


@dataclass
class _Snapshot:
    """A chat's KV state: llama.cpp's state bytes and the tokens they hold. Without the
    binding's LlamaState logits copy, which holds a row per batch token over the whole
    vocabulary (537 MB for gemma-3's 262k tokens at the default batch of 512) and which
    nothing needs: the next prompt's last token is always evaluated again."""

    saved: SavedState

    @property
    def size(self) -> int:
        return len(self.saved.state) + self.saved.tokens.nbytes


def _capture(llm: llama_cpp.Llama) -> _Snapshot:
    ctx = llm.ctx
    size = llama_lib.llama_state_get_size(ctx)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_lib.llama_state_get_data(ctx, buffer, size)
    tokens = np.array(llm.input_ids[: llm.n_tokens], dtype=np.intc)
    return _Snapshot(SavedState(tokens, ctypes.string_at(buffer, written)))


def _restore(llm: llama_cpp.Llama, saved: SavedState) -> bool:
    """Put a saved state back; False (and an empty cache) when llama.cpp refuses it."""
    n = len(saved.tokens)
    if n > llm.n_ctx():
        return False
    buffer = (ctypes.c_uint8 * len(saved.state)).from_buffer_copy(saved.state)
    if llama_lib.llama_state_set_data(llm.ctx, buffer, len(saved.state)) != len(saved.state):
        cast(Any, llm._ctx).kv_cache_clear()
        llm.n_tokens = 0
        return False
    llm.input_ids[:n] = saved.tokens
    llm.n_tokens = n
    return True


@dataclass
class _StateCache:
    """Recently used chats' KV snapshots, least recently used dropped past a byte budget."""

    budget: int
    entries: OrderedDict[Hashable, _Snapshot] = field(default_factory=OrderedDict)

    def put(self, key: Hashable, snapshot: _Snapshot) -> None:
        self.entries.pop(key, None)
        if snapshot.size > self.budget:
            return
        self.entries[key] = snapshot
        while sum(s.size for s in self.entries.values()) > self.budget:
            self.entries.popitem(last=False)

    def take(self, key: Hashable) -> _Snapshot | None:
        snapshot = self.entries.get(key)
        if snapshot is not None:
            self.entries.move_to_end(key)
        return snapshot

    def clear(self) -> None:
        self.entries.clear()


_load_lock = threading.Lock()
_log_callback_ref: Any = None
_load_errors: list[str] | None = None  # llama.cpp's error lines while a model loads
_ggml_base: Any = None
_live_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@atexit.register
def _release_native_callbacks() -> None:
    """Before Python tears itself down: free models and unhook our callbacks.

    Otherwise a model freed during interpreter shutdown can call into a ctypes
    callback that has already been collected, corrupting memory.
    """
    for engine in list(_live_engines):
        engine._release()
    if _log_callback_ref is not None:
        no_callback = llama_lib.llama_log_callback(0)  # a NULL function pointer
        llama_lib.llama_log_set(no_callback, ctypes.c_void_p(0))
        if _ggml_base is not None:
            _ggml_base.ggml_log_set(no_callback, None)


def route_llama_log() -> None:
    """Send llama.cpp's own log lines to our log instead of stderr."""
    global _log_callback_ref, _ggml_base
    if _log_callback_ref is not None:
        return

    @llama_lib.llama_log_callback  # type: ignore[untyped-decorator]
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace").rstrip()
        if message:
            # ggml levels: 1 debug, 2 info, 3 warn, 4 error, 5 continuation.
            python_level = {4: logging.ERROR, 3: logging.INFO}.get(level, logging.DEBUG)
            llama_log.log(python_level, "%s", message)
            captured = _load_errors
            if captured is not None and level == 4:
                captured.append(message)

    _log_callback_ref = forward
    llama_lib.llama_log_set(forward, ctypes.c_void_p(0))
    # ggml (the compute library under llama.cpp) has a logger of its own.
    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    for candidate in sorted(lib_dir.glob("*ggml-base*")):
        try:
            ggml_base = ctypes.CDLL(str(candidate))
            ggml_base.ggml_log_set.argtypes = [llama_lib.llama_log_callback, ctypes.c_void_p]
            ggml_base.ggml_log_set(forward, None)
            _ggml_base = ggml_base
            break
        except (OSError, AttributeError):
            continue


def _shorten_advice(loaded: LoadedModel) -> str:
    trained = loaded.header.context_length
    if trained and loaded.n_ctx >= trained:
        return f"Shorten it: {trained:,} tokens is the most {loaded.name} can take."
    return "Shorten it, or raise the context length."


@contextlib.contextmanager
def _capturing_load_errors() -> Iterator[list[str]]:
    """Collect the error lines llama.cpp logs during one load (loads are serialised)."""
    global _load_errors
    captured: list[str] = []
    _load_errors = captured
    try:
        yield captured
    finally:
        _load_errors = None


@contextlib.contextmanager
def _progress_hook(callback: Callable[[float], bool]) -> Iterator[None]:
    """Give llama.cpp's model loader a progress callback.

    The binding does not expose one, so for the duration of one load the default
    model parameters it starts from carry ours. Loads are serialised by a lock.
    """
    c_callback = llama_lib.llama_progress_callback(lambda p, _data: bool(callback(float(p))))
    original = llama_lib.llama_model_default_params

    def with_progress() -> Any:
        params = original()
        params.progress_callback = c_callback
        return params

    with _load_lock:
        llama_lib.llama_model_default_params = with_progress
        try:
            yield
        finally:
            llama_lib.llama_model_default_params = original


def _sampler_chain(llm: llama_cpp.Llama, **params: Any) -> Any:
    """llama-cpp-python's sampler chain with top-k moved first.

    Its own chain runs the repeat penalty over the whole vocabulary before top-k:
    with a 262k-token vocabulary (Gemma 3) that alone cost ~2 ms a token, 8% of
    generation speed. Penalties only lower scores, so cutting to the top-k first
    keeps the same choices for any realistic k.
    """
    from llama_cpp import _internals

    internals: Any = _internals
    top_k = int(params.get("top_k", 40))
    temp = float(params.get("temp", 0.8))
    sampler: Any = internals.LlamaSampler()
    grammar = params.get("grammar")
    if grammar is not None:  # first: later steps must only see tokens the grammar allows
        sampler.add_grammar(cast(Any, llm)._model, grammar)
    if top_k > 0:
        sampler.add_top_k(top_k)
    sampler.add_penalties(
        n_vocab=llm.n_vocab(),
        penalty_last_n=llm.last_n_tokens_size,
        penalty_repeat=float(params.get("repeat_penalty", 1.0)),
        penalty_freq=float(params.get("frequency_penalty", 0.0)),
        penalty_present=float(params.get("presence_penalty", 0.0)),
    )
    if temp == 0.0:
        sampler.add_greedy()
    else:
        sampler.add_top_p(float(params.get("top_p", 1.0)), 1)
        sampler.add_min_p(float(params.get("min_p", 0.0)), 1)
        sampler.add_temp(temp)
        sampler.add_dist(cast(Any, llm)._seed)
    return sampler


def _grammar(text: str | None) -> Any:
    """A fresh llama.cpp grammar (it keeps state while sampling); HearthError when bad."""
    if text is None:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        return LlamaGrammar.from_string(text, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise HearthError(f"The output format could not be understood ({exc}).") from exc


def resolve_gpu_layers(requested: int, block_count: int | None) -> int:
    """-1 means every layer on a GPU build and none on a CPU-only build."""
    if requested >= 0:
        return requested
    return (block_count or 0) + 1 if llama_build().gpu_offload else 0


class Engine:
    """One loaded model and the controls around it. Thread-safe."""

    def __init__(
        self, *, state_cache_bytes: int | None = None, kv_disk: KVDisk | None = None
    ) -> None:
        route_llama_log()  # first: loading the CPU kernels below logs which one it took
        llama_build()  # a build that loads its CPU kernels on demand loads them now
        self._llm: llama_cpp.Llama | None = None
        self._prompt: ChatPrompt | None = None
        self.loaded: LoadedModel | None = None
        self._lock = threading.Lock()
        self._busy = False
        self._cancel: CancelToken | None = None
        self._session: Hashable | None = None
        # Chooses the thread count from the machine's load; None: the user fixed it.
        self._governor: ThreadGovernor | None = None
        budget = state_cache_bytes
        if budget is None:
            budget = min(1 << 30, memory().total_bytes // 10)
        self._states = _StateCache(budget)
        # Chats' states on disk, for a warm start after a restart (None: memory only).
        self._kv_disk = kv_disk
        self._kv_id: str | None = None  # what the loaded model's states depend on
        self._last_used = time.monotonic()
        self._abort_ref: Any = None
        _live_engines.add(self)

    # ----------------------------------------------------------------- state
    @property
    def busy(self) -> bool:
        return self._busy

    def idle_seconds(self) -> float:
        return 0.0 if self._busy else time.monotonic() - self._last_used

    def unload_if_idle(self, max_idle_seconds: float) -> bool:
        """Free the model after ``max_idle_seconds`` without use (0 never unloads)."""
        if max_idle_seconds <= 0 or self.loaded is None or self._busy:
            return False
        if self.idle_seconds() < max_idle_seconds:
            return False
        log.info("unloading %s after %.0f s idle", self.loaded.name, self.idle_seconds())
        self.unload()
        return True

    @contextlib.contextmanager
    def _exclusive(self, action: str) -> Iterator[None]:
        with self._lock:
            if self._busy:
                raise EngineBusy(f"The model is still answering; stop it before {action}.")
            self._busy = True
        try:
            yield
        finally:
            self._busy = False
            self._last_used = time.monotonic()

    # --------------------------------------------------------------- loading
    def load(
        self,
        path: Path,
        options: LoadOptions | None = None,
        *,
        on_progress: Callable[[float], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> LoadedModel:
        """Check the file, estimate memory, then load it with llama.cpp (progress 0..1)."""
        options = options or LoadOptions()
        path = Path(path)
        header = validate_file(path)  # a damaged file never reaches llama.cpp
        ensure_survivable(path)  # nor one whose damage only llama.cpp itself would trip on
        context = choose_context(
            header.name or path.stem,
            header.context_length,
            options.n_ctx,
            source=options.ctx_source,
            strict=options.ctx_strict,
        )
        n_ctx = context.n_ctx
        if context.note is not None:
            log.warning("%s", context.note)
        estimate = estimate_memory(header, n_ctx, n_batch=options.n_batch)
        if not options.ignore_memory_check:
            check_fits(path.name, estimate, memory().available_bytes)
        n_threads = options.n_threads or physical_cores()
        n_gpu_layers = resolve_gpu_layers(options.n_gpu_layers, header.block_count)
        with self._exclusive("loading another model"):
            self._unload_locked()
            started = time.perf_counter()
            token = cancel or CancelToken()

            def progress(fraction: float) -> bool:
                if on_progress is not None:
                    on_progress(fraction)
                return not token.cancelled

            kwargs: dict[str, Any] = {
                "n_ctx": n_ctx,
                "n_threads": n_threads,
                "n_threads_batch": n_threads,
                "n_gpu_layers": n_gpu_layers,
                "n_batch": min(options.n_batch, n_ctx),
                "flash_attn": options.flash_attn,
                "verbose": False,
            }
            if options.embedding:
                kwargs["embedding"] = True
                if header.arch_value("pooling_type") is None:
                    kwargs["pooling_type"] = llama_lib.LLAMA_POOLING_TYPE_MEAN
            try:
                with _progress_hook(progress), _capturing_load_errors() as logged:
                    llm = llama_cpp.Llama(str(path), **kwargs)
            except jinja2.TemplateError as exc:  # the binding compiles the file's template
                raise ModelLoadError(
                    f"{path.name} carries a chat template that is not valid Jinja ({exc}); the "
                    "file may be damaged. Download it again, or pick a chat format for it."
                ) from exc
            except (ValueError, RuntimeError, OSError) as exc:
                if token.cancelled:
                    raise LoadCancelled(f"Loading {path.name} was cancelled") from None
                message = explain_load_failure(path.name, logged, str(exc))
                log.error("%s (llama.cpp said: %s)", message, " | ".join(logged) or exc)
                raise ModelLoadError(message) from exc
            self._llm = llm
            self._governor = ThreadGovernor(n_threads) if not options.n_threads else None
            self._kv_id = None
            if self._kv_disk is not None and not options.embedding:
                self._kv_id = model_identity(
                    path, n_ctx=n_ctx, n_batch=kwargs["n_batch"], flash_attn=options.flash_attn,
                    n_gpu_layers=n_gpu_layers,
                )  # fmt: skip
            cast(Any, llm)._init_sampler = functools.partial(_sampler_chain, llm)
            self._abort_ref = llama_lib.ggml_abort_callback(self._should_abort)
            eos = self._token_text(llm, llm.token_eos())
            bos = self._token_text(llm, llm.token_bos())
            specials = [
                s for s in ("<|im_start|>", "<|start_header_id|>", "[INST]") if self._is_special(s)
            ]
            self._prompt = ChatPrompt.for_model(
                header.chat_template,
                format_name=options.chat_format,
                fallback=default_format(header.architecture, specials),
                bos_token=bos,
                eos_token=eos,
            )
            self.loaded = LoadedModel(
                path=path,
                name=header.name or path.stem,
                header=header,
                n_ctx=llm.n_ctx(),
                n_threads=n_threads,
                n_gpu_layers=n_gpu_layers,
                chat_source=self._prompt.source,
                load_seconds=time.perf_counter() - started,
                estimate=estimate,
                context_note=context.note,
            )
            log.info(
                "loaded %s in %.2f s (ctx %d, %d threads, %d GPU layers, chat format: %s)",
                path.name,
                self.loaded.load_seconds,
                self.loaded.n_ctx,
                n_threads,
                n_gpu_layers,
                self._prompt.source,
            )
            return self.loaded

    def set_chat_format(self, name: str | None) -> str:
        """Switch the loaded model to a named format (None: back to its own template)."""
        if self._llm is None or self.loaded is None or self._prompt is None:
            raise NoModelLoaded("No model is loaded")
        header = self.loaded.header
        if name is not None and name not in NAMED_FORMATS:
            raise HearthError(
                f"Unknown chat format {name!r} (choose from {', '.join(NAMED_FORMATS)})"
            )
        self._prompt = ChatPrompt.for_model(
            header.chat_template,
            format_name=name,
            fallback=default_format(header.architecture),
            bos_token=self._prompt.bos_token,
            eos_token=self._prompt.eos_token,
        )
        self.loaded = LoadedModel(**{**self.loaded.__dict__, "chat_source": self._prompt.source})
        return self._prompt.source

    def forget_cache(self) -> None:
        """Drop every cached prompt (the next generation evaluates its whole prompt)."""
        with self._exclusive("clearing the cache"):
            if self._llm is not None:
                cast(Any, self._llm._ctx).kv_cache_clear()
                self._llm.n_tokens = 0
            self._session = None
            self._states.clear()

    def unload(self) -> None:
        with self._exclusive("unloading the model"):
            self._unload_locked()

    def close(self) -> None:
        """Free the model whatever the state (on shutdown); a running generation must be stopped.
        Chats' states still being written to disk are finished first."""
        with self._lock:
            self._unload_locked()
        if self._kv_disk is not None:
            self._kv_disk.flush()

    def _unload_locked(self) -> None:
        self._release()
        self._llm = None
        self._prompt = None
        self.loaded = None
        self._session = None
        self._states.clear()

    def _release(self) -> None:
        """Free the native model and context, unhooking the abort callback first."""
        llm, self._llm = self._llm, None
        if llm is not None:
            self._abortable(llm, False)
            llm.close()

    def _fit_threads(self, llm: llama_cpp.Llama, *, starting: bool = False) -> None:
        """Run one thread fewer for each core other processes keep busy (app.engine.threads):
        at the start of a job, then whenever the machine's load changes during it."""
        governor = self._governor
        if governor is None:
            return
        threads = governor.start() if starting else governor.tick()
        if threads is not None and threads != llama_lib.llama_n_threads(cast(Any, llm)._ctx.ctx):
            llama_lib.llama_set_n_threads(cast(Any, llm)._ctx.ctx, threads, threads)

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        return self._cancel is not None and self._cancel.cancelled

    def _abortable(self, llm: llama_cpp.Llama, on: bool) -> None:
        """Let a stop interrupt llama.cpp mid-batch, while a prompt is evaluated.

        ggml asks the callback before every graph node (hundreds per token), so it
        is only installed for the prompt; during generation the token loop checks
        the stop between tokens, which is soon enough and costs nothing.
        """
        callback = self._abort_ref if on else llama_lib.ggml_abort_callback(0)
        llama_lib.llama_set_abort_callback(llm.ctx, callback, ctypes.c_void_p(0))

    @staticmethod
    def _token_text(llm: llama_cpp.Llama, token: int) -> str:
        if token < 0:
            return ""
        return llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _is_special(self, text: str) -> bool:
        assert self._llm is not None
        return len(self._llm.tokenize(text.encode(), add_bos=False, special=True)) == 1

    # ------------------------------------------------------------- prompting
    def _require(self) -> tuple[llama_cpp.Llama, ChatPrompt, LoadedModel]:
        if self._llm is None or self._prompt is None or self.loaded is None:
            raise NoModelLoaded("No model is loaded. Load one first.")
        return self._llm, self._prompt, self.loaded

    def tokenize_prompt(self, text: str) -> list[int]:
        llm, prompt, _ = self._require()
        # The template may write the BOS itself; llama.cpp would then add a second one.
        wrote_bos = bool(prompt.bos_token) and text.startswith(prompt.bos_token)
        tokens: list[int] = llm.tokenize(text.encode("utf-8"), add_bos=not wrote_bos, special=True)
        return tokens

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize_prompt(text))

    def render(self, turns: Sequence[Turn], *, add_generation_prompt: bool = True) -> str:
        _, prompt, _ = self._require()
        return prompt.render(turns, add_generation_prompt=add_generation_prompt)

    def fit_turns(
        self, turns: Sequence[Turn], reserve: int, *, prefix: str = ""
    ) -> tuple[list[int], tuple[int, ...], str]:
        """Prompt tokens for the turns that fit in the context with ``reserve`` left for the answer.

        Drops the oldest turns first, never a system prompt and never the newest
        message; returns (tokens, dropped turn indices, prompt text).
        """
        _, _, loaded = self._require()
        keep = list(range(len(turns)))
        dropped: list[int] = []
        while True:
            text = self.render([turns[i] for i in keep]) + prefix
            tokens = self.tokenize_prompt(text)
            if len(tokens) + reserve <= loaded.n_ctx:
                return tokens, tuple(dropped), text
            droppable = [i for i in keep if turns[i]["role"] != "system"][:-1]
            if not droppable:
                raise ContextTooSmall(
                    f"The message is too long for this model's context: the prompt needs "
                    f"{len(tokens)} tokens plus {reserve} for the answer, but the context holds "
                    f"{loaded.n_ctx}. " + _shorten_advice(loaded)
                )
            # Drop a whole exchange: the oldest message and any replies up to the next user turn.
            first = droppable[0]
            keep.remove(first)
            dropped.append(first)
            while True:
                rest = [i for i in keep if turns[i]["role"] != "system"]
                if len(rest) <= 1 or turns[rest[0]]["role"] == "user":
                    break
                keep.remove(rest[0])
                dropped.append(rest[0])

    # ------------------------------------------------------------ generating
    def generate(
        self,
        turns: Sequence[Turn],
        sampling: Sampling | None = None,
        *,
        session: Hashable | None = None,
        continue_text: str = "",
        cancel: CancelToken | None = None,
    ) -> Generator[Event, None, None]:
        """Stream an answer: TextDelta pieces, maybe a ContextTrimmed, then GenerationDone.

        ``session`` names the conversation (a chat id) so its KV cache is kept when
        switching between chats. ``continue_text`` is a partial answer to extend.
        Raises EngineBusy at once if another generation is running.
        """
        yield from self._one_at_a_time(
            self._generate(turns, sampling or Sampling(), session, continue_text, cancel)
        )

    def complete(
        self,
        prompt: str,
        sampling: Sampling | None = None,
        *,
        session: Hashable | None = None,
        cancel: CancelToken | None = None,
    ) -> Generator[Event, None, None]:
        """Stream a continuation of raw ``prompt`` text (no chat template, BOS added as the
        model asks, special tokens written in it understood): TextDelta pieces of kind
        "answer", then GenerationDone. Only ``sampling.stop`` strings stop it, besides the
        end-of-generation token. ContextTooSmall when the prompt leaves no room to write.
        Raises EngineBusy at once if another generation is running."""
        yield from self._one_at_a_time(
            self._complete(prompt, sampling or Sampling(), session, cancel)
        )

    def _one_at_a_time(self, events: Iterator[Event]) -> Generator[Event, None, None]:
        with self._lock:
            if self._busy:
                raise EngineBusy("The model is still answering; stop it or wait for it to finish.")
            self._busy = True
        try:
            yield from events
        finally:
            self._cancel = None
            self._busy = False
            self._last_used = time.monotonic()

    def _generate(
        self,
        turns: Sequence[Turn],
        sampling: Sampling,
        session: Hashable | None,
        continue_text: str,
        cancel: CancelToken | None,
    ) -> Iterator[Event]:
        llm, prompt, loaded = self._require()
        token = cancel or CancelToken()
        self._cancel = token
        started = time.perf_counter()
        reserve = max(1, min(sampling.max_tokens, loaded.n_ctx // 4))
        tokens, dropped, prompt_text = self.fit_turns(turns, reserve, prefix=continue_text)
        if dropped:
            yield ContextTrimmed(dropped, len(tokens), loaded.n_ctx)
        yield ContextUsed(len(tokens), loaded.n_ctx)
        self._switch_session(llm, session)
        splitter = ReasoningSplitter(
            prompt.reasoning_markers,
            start_in_reasoning=prompt.opens_in_reasoning(prompt_text),
        )
        stops = tuple(s for s in (*prompt.stop, *sampling.stop) if s)
        yield from self._write(llm, loaded, tokens, sampling, stops, splitter, token, started,
                               dropped)  # fmt: skip
        self._keep_on_disk(llm, session)

    def _complete(
        self,
        text: str,
        sampling: Sampling,
        session: Hashable | None,
        cancel: CancelToken | None,
    ) -> Iterator[Event]:
        llm, _, loaded = self._require()
        token = cancel or CancelToken()
        self._cancel = token
        started = time.perf_counter()
        tokens = self.tokenize_prompt(text)
        if not tokens:
            raise HearthError("The prompt is empty: give some text to continue.")
        if len(tokens) >= loaded.n_ctx:
            raise ContextTooSmall(
                f"The prompt is too long for this model's context: it takes {len(tokens)} "
                f"tokens, and the context holds {loaded.n_ctx} for the prompt and the answer "
                "together. " + _shorten_advice(loaded)
            )
        yield ContextUsed(len(tokens), loaded.n_ctx)
        self._switch_session(llm, session)
        stops = tuple(s for s in sampling.stop if s)
        yield from self._write(llm, loaded, tokens, sampling, stops, ReasoningSplitter(()),
                               token, started, ())  # fmt: skip
        self._keep_on_disk(llm, session)

    def _write(
        self,
        llm: llama_cpp.Llama,
        loaded: LoadedModel,
        tokens: list[int],
        sampling: Sampling,
        stops: tuple[str, ...],
        splitter: ReasoningSplitter,
        token: CancelToken,
        started: float,
        dropped: tuple[int, ...],
    ) -> Iterator[Event]:
        """The generation loop ``generate`` and ``complete`` share: sample after ``tokens``
        until the end token, a stop string, ``max_tokens``, a full context or a stop."""
        max_tokens = min(sampling.max_tokens, loaded.n_ctx - len(tokens))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        held = ""  # text held back while it could be the start of a stop string
        answer: list[str] = []
        reasoning: list[str] = []
        generated = 0
        first_at = last_at = 0.0
        stop_reason: StopReason = (
            "max_tokens" if max_tokens == sampling.max_tokens else "context_full"
        )
        error: str | None = None

        llm.set_seed(sampling.seed if sampling.seed >= 0 else random.randrange(2**31))
        evaluated = len(tokens) - _cached_prefix(llm, tokens)

        def emit(text: str) -> Iterator[TextDelta]:
            for kind, piece in splitter.feed(text):
                (reasoning if kind == "reasoning" else answer).append(piece)
                yield TextDelta(kind, piece)

        try:
            if max_tokens <= 0:
                stop_reason = "context_full"
            else:
                stream = llm.generate(
                    tokens,
                    grammar=_grammar(sampling.grammar),
                    top_k=sampling.top_k,
                    top_p=sampling.top_p,
                    min_p=sampling.min_p,
                    temp=sampling.temperature,
                    repeat_penalty=sampling.repeat_penalty,
                )
                self._abortable(llm, True)
                self._fit_threads(llm, starting=True)
                for tok in stream:
                    if generated == 0:
                        self._abortable(llm, False)  # the prompt is done
                    self._fit_threads(llm)
                    now = time.perf_counter()
                    if token.cancelled:
                        stop_reason = "user"
                        break
                    if llama_lib.llama_vocab_is_eog(llm._model.vocab, tok):
                        stop_reason = "eos"
                        break
                    generated += 1
                    if generated == 1:
                        first_at = now
                    last_at = now
                    held += decoder.decode(llm.detokenize([tok], special=True))
                    cut = _find_stop(held, stops)
                    if cut is not None:
                        held = held[:cut]
                        stop_reason = "stop_string"
                        break
                    safe = len(held) - partial_suffix_length(held, stops)
                    if safe > 0:
                        yield from emit(held[:safe])
                        held = held[safe:]
                        yield ContextUsed(len(tokens) + generated, loaded.n_ctx)
                    if generated >= max_tokens:
                        break
                    if token.cancelled:
                        stop_reason = "user"
                        break
                stream.close()
        except RuntimeError as exc:
            # llama_decode aborted by a stop during a long prompt, or failed outright.
            self._abortable(llm, False)
            cast(Any, llm._ctx).kv_cache_clear()
            llm.n_tokens = 0
            if token.cancelled:
                stop_reason = "user"
            else:
                stop_reason, error = "error", f"llama.cpp failed while generating: {exc}"
                log.exception("generation failed")
        held += decoder.decode(b"", final=True)
        if held:
            yield from emit(held)
        for kind, piece in splitter.flush():
            (reasoning if kind == "reasoning" else answer).append(piece)
            yield TextDelta(kind, piece)

        finished = time.perf_counter()
        gen_seconds = last_at - first_at
        prefill_seconds = first_at - started if generated else 0.0
        stats = GenerationStats(
            prompt_tokens=len(tokens),
            prompt_evaluated=evaluated,
            completion_tokens=generated,
            ttft_ms=prefill_seconds * 1000,
            prompt_tokens_per_second=evaluated / prefill_seconds if prefill_seconds else 0.0,
            tokens_per_second=(generated - 1) / gen_seconds
            if generated > 1 and gen_seconds
            else 0.0,
            total_ms=(finished - started) * 1000,
            stop_reason=stop_reason,
        )
        yield GenerationDone("".join(answer), "".join(reasoning), stats, dropped, error)

    def _switch_session(self, llm: llama_cpp.Llama, session: Hashable | None) -> None:
        """Keep the outgoing chat's KV cache and restore the incoming one's, from memory,
        else from disk (a chat last answered before the app restarted)."""
        if session is None or session == self._session:
            self._session = session if session is not None else self._session
            return
        if self._session is not None and llm.n_tokens > 0:
            self._states.put(self._session, _capture(llm))
        snapshot = self._states.take(session)
        saved = snapshot.saved if snapshot is not None else None
        if saved is None and self._kv_disk is not None and self._kv_id is not None:
            saved = self._kv_disk.load(self._kv_id, session)
        if saved is not None and not _restore(llm, saved):
            log.warning("a saved state of chat %r did not fit this model; evaluating it", session)
        self._session = session

    def _keep_on_disk(self, llm: llama_cpp.Llama, session: Hashable | None) -> None:
        """After an answer, hand the chat's state to the disk store (written meanwhile)."""
        if session is None or self._kv_disk is None or self._kv_id is None or not llm.n_tokens:
            return
        self._kv_disk.save(self._kv_id, session, _capture(llm).saved)

    # ------------------------------------------------------------ embeddings
    def embed(
        self, texts: Sequence[str], *, cancel: CancelToken | None = None
    ) -> list[list[float]]:
        """Normalised embeddings for ``texts``, one text per llama.cpp call: texts packed
        into one batch attend over the whole batch (llama.cpp masks the rest), which
        measured slower than one at a time (bench/results/embedding.md)."""
        llm, _, _ = self._require()
        if not llm.context_params.embeddings:
            raise HearthError("This model was not loaded for embeddings")
        vectors: list[list[float]] = []
        with self._exclusive("embedding"):
            self._fit_threads(llm, starting=True)
            for text in texts:
                if cancel is not None and cancel.cancelled:
                    raise LoadCancelled("Embedding was cancelled")
                self._fit_threads(llm)
                result = llm.embed([text], normalize=True, truncate=True)
                vectors.append([float(x) for x in result[0]])
        return vectors

    def rank(
        self, query: str, documents: Sequence[str], *, cancel: CancelToken | None = None
    ) -> list[float]:
        """How well each document answers ``query``, by a reranker model (llama.cpp's rank
        pooling: a cross-encoder reads the query and the document together). Higher is
        better. The pair is laid out as llama.cpp's server does: the model's own "rerank"
        template when it has one, else [BOS] query [EOS] [SEP] document [EOS]."""
        llm, _, _ = self._require()
        raw: Any = llm  # the binding's batch and context helpers are untyped
        if int(raw.pooling_type()) != llama_lib.LLAMA_POOLING_TYPE_RANK:
            name = self.loaded.name if self.loaded else "This model"
            raise HearthError(f"{name} is not a reranker")
        scores: list[float] = []
        with self._exclusive("ranking"):
            for document in documents:
                if cancel is not None and cancel.cancelled:
                    raise LoadCancelled("Ranking was cancelled")
                tokens = _rank_tokens(llm, query, document)
                raw._batch.reset()
                raw._batch.add_sequence(tokens, 0, True)
                raw._ctx.kv_cache_clear()
                raw._ctx.decode(raw._batch)
                scores.append(float(llama_lib.llama_get_embeddings_seq(raw._ctx.ctx, 0)[0]))
            raw._ctx.kv_cache_clear()
            raw.reset()
        return scores


def _rank_tokens(llm: llama_cpp.Llama, query: str, document: str) -> list[int]:
    """The tokens of one (query, document) pair for a reranker, cut to fit its batch."""
    limit = llm.n_batch
    template = llama_lib.llama_model_chat_template(llm.model, b"rerank")
    if template:
        prompt = template.decode("utf-8", errors="replace")
        prompt = prompt.replace("{query}", query).replace("{document}", document)
        return llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)[:limit]
    vocab = llama_lib.llama_model_get_vocab(llm.model)
    eos = llama_lib.llama_vocab_eos(vocab)
    if eos == llama_lib.LLAMA_TOKEN_NULL:
        eos = llama_lib.llama_vocab_sep(vocab)
    head: list[int] = []
    if llama_lib.llama_vocab_get_add_bos(vocab):
        head.append(llama_lib.llama_vocab_bos(vocab))
    head += llm.tokenize(query.encode("utf-8"), add_bos=False)[: limit // 4]
    if llama_lib.llama_vocab_get_add_eos(vocab):
        head.append(eos)
    if llama_lib.llama_vocab_get_add_sep(vocab):
        head.append(llama_lib.llama_vocab_sep(vocab))
    tail = [eos] if llama_lib.llama_vocab_get_add_eos(vocab) else []
    room = limit - len(head) - len(tail)
    return head + llm.tokenize(document.encode("utf-8"), add_bos=False)[:room] + tail


def _cached_prefix(llm: llama_cpp.Llama, tokens: Sequence[int]) -> int:
    """How many prompt tokens llama-cpp-python will take from the KV cache (its Llama.generate
    keeps the longest common prefix, re-evaluating the last prompt token when all match)."""
    cached = 0
    for have, want in zip(llm.input_ids[: llm.n_tokens].tolist(), tokens, strict=False):
        if have != want:
            break
        cached += 1
    if cached and cached == len(tokens):
        cached -= 1
    return cached


def _find_stop(text: str, stops: Sequence[str]) -> int | None:
    positions = [text.find(s) for s in stops]
    found = [p for p in positions if p >= 0]
    return min(found) if found else None
