"""The engine with real llama.cpp: tiny generated models for behaviour, gemma-3-270m for reality."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cancel import CancelToken
from app.engine import engine as engine_module
from app.engine.chat_format import TemplateError
from app.engine.engine import Engine
from app.engine.events import (
    ContextTooSmall,
    ContextTrimmed,
    EngineBusy,
    Event,
    GenerationDone,
    LoadCancelled,
    LoadOptions,
    ModelLoadError,
    NoModelLoaded,
    Sampling,
    TextDelta,
)
from app.engine.gguf_file import GGUFError
from app.engine.memory import InsufficientMemory
from app.hardware import MemoryInfo, physical_cores
from tests.conftest import GgufFiles

GREEDY = Sampling(temperature=0.0, max_tokens=24, seed=1)


@pytest.fixture
def engine() -> Iterator[Engine]:
    eng = Engine(state_cache_bytes=64 << 20)
    yield eng
    if eng.loaded is not None and not eng.busy:
        eng.unload()


def finish(events: Iterator[Event]) -> tuple[list[Event], GenerationDone]:
    seen = list(events)
    done = seen[-1]
    assert isinstance(done, GenerationDone)
    return seen, done


# ------------------------------------------------------------------ loading


@pytest.mark.parametrize(
    "writer", ["wrong_magic", "truncated", "absurd_metadata", "huge_string", "future_version"]
)
def test_damaged_files_are_refused_before_llama_cpp_sees_them(
    engine: Engine, gguf_files: GgufFiles, writer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("llama.cpp was asked to load a damaged file")

    monkeypatch.setattr("app.engine.engine.llama_cpp.Llama", never)
    with pytest.raises(GGUFError):
        engine.load(getattr(gguf_files, writer)())
    assert engine.loaded is None


@pytest.mark.slow  # not slow, but it checks the real thread default (see conftest)
def test_load_reports_progress_and_uses_physical_cores(engine: Engine, tiny_model: Path) -> None:
    progress: list[float] = []
    loaded = engine.load(tiny_model, LoadOptions(n_ctx=512), on_progress=progress.append)
    assert progress and progress[-1] == pytest.approx(1.0)
    assert progress == sorted(progress)
    assert loaded.n_threads == physical_cores()
    assert loaded.n_gpu_layers == 0  # CPU-only build: -1 means none
    assert loaded.n_ctx == 512
    assert loaded.chat_source == "model"


def test_cancelled_load_leaves_no_model(engine: Engine, tiny_model: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(LoadCancelled):
        engine.load(tiny_model, cancel=token)
    assert engine.loaded is None
    with pytest.raises(NoModelLoaded):
        list(engine.generate([{"role": "user", "content": "hi"}]))


def test_model_that_will_not_fit_is_refused_with_numbers_unless_forced(
    engine: Engine, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "memory", lambda: MemoryInfo(8 << 30, 1 << 20))
    with pytest.raises(InsufficientMemory) as caught:
        engine.load(tiny_model)
    message = str(caught.value)
    assert "tiny-chat.gguf needs about" in message and "1.0 MB of memory is free" in message
    assert "weights" in message and "context" in message
    assert engine.load(tiny_model, LoadOptions(ignore_memory_check=True)).name == "tiny-llama"


def test_idle_model_is_unloaded(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=256))
    assert not engine.unload_if_idle(0)  # 0 means never
    assert not engine.unload_if_idle(60)
    time.sleep(0.05)
    assert engine.unload_if_idle(0.01)
    assert engine.loaded is None


# ---------------------------------------------------------------- templates


def test_template_from_the_file_is_used(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=256))
    text = engine.render(
        [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]
    )
    assert text == (
        "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_model_without_template_gets_a_named_format_the_user_can_change(
    engine: Engine, gguf_files: GgufFiles
) -> None:
    loaded = engine.load(gguf_files.without_template(), LoadOptions(n_ctx=256))
    assert loaded.chat_source == "plain"
    assert engine.render([{"role": "user", "content": "Hi"}]) == "User: Hi\nAssistant:"
    assert engine.set_chat_format("chatml") == "chatml"
    assert engine.render([{"role": "user", "content": "Hi"}]).startswith("<|im_start|>user")
    with pytest.raises(Exception, match="Unknown chat format 'klingon'"):
        engine.set_chat_format("klingon")


def test_a_template_that_raises_gives_a_clear_error(engine: Engine, gguf_files: GgufFiles) -> None:
    broken = "{{ raise_exception('Conversation roles must alternate') }}"
    engine.load(gguf_files.tiny(chat_template=broken), LoadOptions(n_ctx=256))
    with pytest.raises(TemplateError, match="model's chat template: Conversation roles must"):
        list(engine.generate([{"role": "user", "content": "Hi"}], GREEDY))
    assert not engine.busy


def test_template_refusing_a_system_role_keeps_the_system_prompt(
    engine: Engine, gguf_files: GgufFiles
) -> None:
    strict = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported')"
        " }}{% endif %}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    )
    engine.load(gguf_files.tiny(chat_template=strict), LoadOptions(n_ctx=256))
    text = engine.render(
        [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hi"}]
    )
    assert text == "<user>Answer in French.\n\nHi"


# ---------------------------------------------------------------- streaming


def test_answer_streams_in_pieces_and_stats_are_measured(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    events, done = finish(engine.generate([{"role": "user", "content": "Hello"}], GREEDY))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1
    assert "".join(d.text for d in deltas if d.kind == "answer") == done.answer
    stats = done.stats
    assert stats.prompt_tokens == stats.prompt_evaluated > 0
    assert 0 < stats.completion_tokens <= GREEDY.max_tokens
    assert stats.stop_reason in ("max_tokens", "eos")
    assert stats.ttft_ms > 0 and stats.tokens_per_second > 0 and stats.total_ms >= stats.ttft_ms


def test_same_seed_gives_the_same_answer(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    turns = [{"role": "user", "content": "Tell me something"}]
    sampling = Sampling(temperature=1.0, seed=42, max_tokens=16)
    first = finish(engine.generate(turns, sampling))[1].answer
    second = finish(engine.generate(turns, sampling))[1].answer
    assert first == second


def test_stop_takes_effect_before_the_next_token_and_keeps_the_partial_answer(
    engine: Engine, tiny_model: Path
) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=2048))
    token = CancelToken()
    stream = engine.generate(
        [{"role": "user", "content": "Go on"}],
        Sampling(temperature=0.0, max_tokens=1500),
        cancel=token,
    )
    pieces: list[str] = []
    done: GenerationDone | None = None
    for event in stream:
        if isinstance(event, TextDelta):
            pieces.append(event.text)
            if len(pieces) == 3:
                token.cancel()
        elif isinstance(event, GenerationDone):
            done = event
    assert done is not None and done.stats.stop_reason == "user"
    assert len(pieces) == 3, "no text arrives after the stop"
    assert done.answer == "".join(pieces), "the partial answer is kept whole"
    assert done.stats.completion_tokens is not None and done.stats.completion_tokens <= 4
    assert not engine.busy


def test_stop_strings_end_the_answer_without_showing_the_stop_text(
    engine: Engine, tiny_model: Path
) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    full = finish(engine.generate([{"role": "user", "content": "Hello"}], GREEDY))[1].answer
    stop = full[4:6]
    assert len(stop) == 2
    cut = finish(
        engine.generate(
            [{"role": "user", "content": "Hello"}],
            Sampling(temperature=0.0, max_tokens=24, seed=1, stop=(stop,)),
        )
    )[1]
    assert cut.stats.stop_reason == "stop_string"
    assert cut.answer == full[: full.index(stop)]


def test_a_second_generation_while_busy_is_refused_not_deadlocked(
    engine: Engine, tiny_model: Path
) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    first = engine.generate([{"role": "user", "content": "one"}], GREEDY)
    next(first)
    assert engine.busy
    with pytest.raises(EngineBusy, match="still answering"):
        next(engine.generate([{"role": "user", "content": "two"}], GREEDY))
    with pytest.raises(EngineBusy):
        engine.load(tiny_model)
    first.close()
    assert not engine.busy
    assert finish(engine.generate([{"role": "user", "content": "three"}], GREEDY))[1].answer


def test_generation_in_another_thread_reports_busy_here(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=2048))
    token = CancelToken()
    started = threading.Event()

    def run() -> None:
        for event in engine.generate(
            [{"role": "user", "content": "x"}],
            Sampling(temperature=0, max_tokens=1800),
            cancel=token,
        ):
            if isinstance(event, TextDelta):
                started.set()

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(10)
    with pytest.raises(EngineBusy):
        list(engine.generate([{"role": "user", "content": "y"}]))
    token.cancel()
    worker.join(10)
    assert not engine.busy


def test_a_raw_prompt_is_continued_without_the_chat_template(
    engine: Engine, tiny_model: Path
) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    prompt = "Once upon a time"
    events, done = finish(engine.complete(prompt, GREEDY))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == done.answer
    assert all(e.kind == "answer" for e in events if isinstance(e, TextDelta))
    assert done.answer and done.reasoning == ""
    raw = engine.tokenize_prompt(prompt)  # with the BOS, and no template around it
    templated = engine.tokenize_prompt(engine.render([{"role": "user", "content": prompt}]))
    assert done.stats.prompt_tokens == len(raw) < len(templated)
    assert finish(engine.complete(prompt, GREEDY))[1].answer == done.answer, "greedy: the same"
    stop = done.answer[3:5]
    cut = finish(engine.complete(prompt, Sampling(temperature=0.0, max_tokens=24, stop=(stop,))))
    assert cut[1].stats.stop_reason == "stop_string"
    assert cut[1].answer == done.answer[: done.answer.index(stop)]
    assert not engine.busy


def test_a_raw_prompt_longer_than_the_context_is_refused(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=256))
    with pytest.raises(ContextTooSmall, match="context holds 256"):
        list(engine.complete("x " * 1000, GREEDY))
    assert not engine.busy
    short = finish(engine.complete("x " * 40, Sampling(temperature=0.0, max_tokens=1000)))[1]
    assert short.stats.stop_reason in ("context_full", "eos")
    assert short.stats.prompt_tokens + short.stats.completion_tokens <= 256


# ----------------------------------------------------------------- overflow


def test_overflow_drops_oldest_turns_never_the_system_prompt(
    engine: Engine, tiny_model: Path
) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=256))
    turns = [{"role": "system", "content": "SYS"}]
    for i in range(6):
        turns.append({"role": "user", "content": f"question {i} " + "q" * 30})
        turns.append({"role": "assistant", "content": f"answer {i} " + "a" * 30})
    turns.append({"role": "user", "content": "last question"})
    events, done = finish(engine.generate(turns, Sampling(max_tokens=32, temperature=0)))
    trimmed = [e for e in events if isinstance(e, ContextTrimmed)]
    assert len(trimmed) == 1
    dropped = trimmed[0].dropped
    assert dropped == done.dropped
    assert 0 not in dropped and len(turns) - 1 not in dropped
    assert list(dropped) == list(range(1, len(dropped) + 1)), "oldest first, whole exchanges"
    assert turns[max(dropped) + 1]["role"] == "user"
    assert done.stats.prompt_tokens + 32 <= 256


def test_a_message_too_long_for_the_context_is_explained(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=256))
    with pytest.raises(ContextTooSmall, match="context holds 256"):
        list(engine.generate([{"role": "user", "content": "x" * 1000}], GREEDY))
    assert not engine.busy


# --------------------------------------------------------------- embeddings


def test_embeddings_are_normalised_and_stable(engine: Engine, tiny_model: Path) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=256, embedding=True))
    texts = ["a cat", "a dog", "the stock market", "a cat"]
    vectors = engine.embed(texts)
    assert len(vectors) == 4 and all(len(v) == 64 for v in vectors)
    for v in vectors:
        assert sum(x * x for x in v) == pytest.approx(1.0, rel=1e-3)
    assert vectors[0] == pytest.approx(vectors[3], abs=1e-6)
    assert vectors[0] != pytest.approx(vectors[2], abs=1e-3)
    assert engine.embed(texts[:1])[0] == pytest.approx(vectors[0], abs=1e-6)


# --------------------------------------------------------------- real model


@pytest.mark.slow
def test_gemma_answers_and_follow_up_reuses_the_kv_cache(engine: Engine, gemma_model: Path) -> None:
    loaded = engine.load(gemma_model, LoadOptions(n_ctx=1024))
    assert loaded.chat_source == "gemma"  # no template in the file: Gemma's format
    turns = [{"role": "user", "content": "Continue the list: Monday, Tuesday, Wednesday,"}]
    _, first = finish(engine.generate(turns, Sampling(temperature=0, max_tokens=24), session=1))
    assert first.answer.strip()
    assert first.stats.prompt_evaluated == first.stats.prompt_tokens
    turns += [
        {"role": "assistant", "content": first.answer},
        {"role": "user", "content": "And the months?"},
    ]
    _, second = finish(engine.generate(turns, Sampling(temperature=0, max_tokens=8), session=1))
    new_tokens = second.stats.prompt_tokens - first.stats.prompt_tokens
    assert second.stats.prompt_evaluated < second.stats.prompt_tokens / 2
    assert second.stats.prompt_evaluated <= new_tokens + first.stats.completion_tokens + 2

    # Another chat, then back: the first chat's cache is restored, not recomputed.
    other = [{"role": "user", "content": "Name a colour."}]
    finish(engine.generate(other, Sampling(temperature=0, max_tokens=4), session=2))
    turns += [
        {"role": "assistant", "content": second.answer},
        {"role": "user", "content": "Thanks"},
    ]
    _, back = finish(engine.generate(turns, Sampling(temperature=0, max_tokens=4), session=1))
    assert back.stats.prompt_evaluated < back.stats.prompt_tokens / 2


def test_stop_interrupts_a_long_prompt_evaluation(
    engine: Engine, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ggml asks the engine's abort callback before every graph node while a prompt is
    # evaluated. The stop comes from inside that evaluation (at the 60th node, early in
    # the second of several batches), and llama.cpp must give up at that very node
    # rather than finish the prompt: counted in nodes, not timed.
    token = CancelToken()
    asked = 0
    original = Engine._should_abort

    def should_abort(self: Engine, data: Any) -> bool:
        nonlocal asked
        asked += 1
        if asked == 60:
            token.cancel()
        return original(self, data)

    monkeypatch.setattr(Engine, "_should_abort", should_abort)
    engine.load(tiny_model, LoadOptions(n_ctx=2048, n_batch=512))
    long_text = " ".join(
        f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(22)
    )
    _, done = finish(
        engine.generate([{"role": "user", "content": long_text}], GREEDY, cancel=token)
    )
    assert done.stats.prompt_tokens > 3 * 512, "several batches of prompt"
    assert done.stats.stop_reason == "user"
    assert done.stats.completion_tokens == 0
    assert asked == 60, f"llama.cpp went on for {asked - 60} more nodes after the stop"
    # The engine is usable again afterwards, with a clean cache.
    _, after = finish(engine.generate([{"role": "user", "content": "Hi"}], GREEDY))
    assert after.stats.prompt_evaluated == after.stats.prompt_tokens


def test_repeat_penalty_still_shapes_the_answer(engine: Engine, tiny_model: Path) -> None:
    # Hearth orders the sampler chain top-k first; the penalty must still apply.
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    turns = [{"role": "user", "content": "Repeat after me"}]
    plain = finish(engine.generate(turns, Sampling(temperature=0, max_tokens=40)))[1].answer
    penalised = finish(
        engine.generate(turns, Sampling(temperature=0, max_tokens=40, repeat_penalty=2.5))
    )[1].answer
    assert plain != penalised


# ---------------------------------------------------------------- refused by llama.cpp
def test_a_model_llama_cpp_refuses_says_why_and_the_engine_stays_usable(
    engine: Engine, gguf_files: GgufFiles, tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = gguf_files.tiny("foo.gguf", architecture="foo")
    with pytest.raises(ModelLoadError) as refused:
        engine.load(unknown, LoadOptions(n_ctx=256))
    message = str(refused.value)
    assert message.startswith("llama.cpp could not load foo.gguf: ")
    assert "does not support the architecture 'foo'" in message and "update Hearth" in message
    assert any("unknown model architecture: 'foo'" in r.getMessage() for r in caplog.records)

    incomplete = gguf_files.tiny("incomplete.gguf", omit_tensors=("output_norm.weight",))
    with pytest.raises(ModelLoadError, match=r"lacks part of the model.*'output_norm.weight'"):
        engine.load(incomplete, LoadOptions(n_ctx=256))
    assert engine.loaded is None
    assert engine.load(tiny_model, LoadOptions(n_ctx=256)).name == "tiny-llama"
