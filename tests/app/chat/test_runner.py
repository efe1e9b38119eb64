"""Chats over the store and the engine: saved while streaming, branches, stop, overflow, export."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.cancel import CancelToken
from app.chat.export import export_chat
from app.chat.runner import ChatRunner, ChatTitled, MessageSaved, load_options_for, sampling_for
from app.chat.titles import BlankMessageError
from app.engine.engine import Engine
from app.engine.events import GenerationDone, LoadOptions, Sampling, TextDelta
from app.store import Store

FAST = Sampling(temperature=0.0, max_tokens=12, seed=3)


@pytest.fixture
def runner(store: Store, tiny_model: Path) -> Iterator[ChatRunner]:
    engine = Engine(state_cache_bytes=32 << 20)
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    yield ChatRunner(store, engine, flush_seconds=0.0)
    engine.unload()


def done_of(events: Sequence[object]) -> GenerationDone:
    return next(e for e in events if isinstance(e, GenerationDone))


def test_send_saves_question_and_answer_with_stats(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat("Hello", system_prompt="Be brief.")
    events = list(runner.send(chat.id, "Hi there", sampling=FAST))
    saved = [e.message for e in events if isinstance(e, MessageSaved)]
    assert [m.role for m in saved] == ["user", "assistant", "assistant"]
    thread = store.thread(chat.id)
    assert [m.role for m in thread] == ["user", "assistant"]
    answer = thread[-1]
    assert answer.content == done_of(events).answer and answer.status == "done"
    assert answer.model == "tiny-llama"
    assert answer.stats.completion_tokens == done_of(events).stats.completion_tokens > 0
    assert answer.stats.ttft_ms is not None and answer.stats.tokens_per_second is not None
    assert answer.stats.stop_reason in ("max_tokens", "eos")
    assert answer.meta["chat_format"] == "model"


def test_answer_is_in_the_database_while_it_streams(
    runner: ChatRunner, store: Store, tmp_path: Path
) -> None:
    chat = store.create_chat()
    other = Store.open(store.path)  # what a crash-restarted app would read
    seen_mid_stream: list[str] = []
    streamed = ""
    for event in runner.send(chat.id, "Tell me", sampling=Sampling(max_tokens=40, seed=1)):
        if isinstance(event, TextDelta) and event.kind == "answer":
            streamed += event.text
            if len(streamed) > 10 and not seen_mid_stream:
                answer = other.thread(chat.id)[-1]
                seen_mid_stream.append(answer.content)
                assert answer.status == "streaming"
    other.close()
    assert seen_mid_stream and len(seen_mid_stream[0]) >= 10
    assert streamed.startswith(seen_mid_stream[0])


def test_stop_keeps_the_partial_answer_marked_stopped(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat()
    token = CancelToken()
    text = ""
    for event in runner.send(chat.id, "Go", sampling=Sampling(max_tokens=400), cancel=token):
        if isinstance(event, TextDelta):
            text += event.text
            token.cancel()
    answer = store.thread(chat.id)[-1]
    assert answer.status == "stopped" and answer.stats.stop_reason == "user"
    assert answer.content and answer.content == text


def test_abandoned_stream_still_saves_what_it_had(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat()
    stream = runner.send(chat.id, "Go", sampling=Sampling(max_tokens=200))
    for event in stream:
        if isinstance(event, TextDelta):
            break
    stream.close()  # e.g. the window closed mid-answer
    answer = store.thread(chat.id)[-1]
    assert answer.status == "stopped"
    assert answer.content
    assert isinstance(runner.engine, Engine) and not runner.engine.busy


def test_regenerate_and_edit_make_branches(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat()
    list(runner.send(chat.id, "First question", sampling=FAST))
    question, first_answer = store.thread(chat.id)
    list(runner.regenerate(first_answer.id, sampling=Sampling(temperature=1.0, seed=9)))
    second_answer = store.thread(chat.id)[-1]
    assert second_answer.id != first_answer.id
    assert [m.id for m in store.siblings(second_answer.id)] == [first_answer.id, second_answer.id]

    list(runner.edit(question.id, "Better question", sampling=FAST))
    edited_q, edited_a = store.thread(chat.id)
    assert edited_q.content == "Better question" and edited_a.role == "assistant"
    assert len(store.siblings(edited_q.id)) == 2
    # The old branch is intact and can be shown again.
    assert store.select_branch(question.id)[-1].id == second_answer.id


def test_continue_extends_an_answer_in_place(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat()
    list(runner.send(chat.id, "Start", sampling=Sampling(temperature=0, max_tokens=5)))
    answer = store.thread(chat.id)[-1]
    list(runner.continue_answer(answer.id, sampling=Sampling(temperature=0, max_tokens=5)))
    extended = store.get_message(answer.id)
    assert extended.content.startswith(answer.content)
    assert len(extended.content) > len(answer.content)
    assert store.message_count(chat.id) == 2


def test_overflow_is_recorded_on_the_answer(store: Store, tiny_model: Path) -> None:
    engine = Engine(state_cache_bytes=0)
    engine.load(tiny_model, LoadOptions(n_ctx=256))
    runner = ChatRunner(store, engine)
    chat = store.create_chat(system_prompt="SYSTEM")
    for i in range(4):
        store.append_message(chat.id, "user", f"question {i} " + "q" * 40)
        store.append_message(chat.id, "assistant", f"answer {i} " + "a" * 40)
    first_ids = [m.id for m in store.thread(chat.id)][:2]
    list(runner.send(chat.id, "now", sampling=Sampling(max_tokens=32, temperature=0)))
    answer = store.thread(chat.id)[-1]
    dropped = answer.meta["dropped_message_ids"]
    assert dropped[:2] == first_ids
    markdown = export_chat(store, chat.id, "md")
    assert f"{len(dropped)} older messages left out to fit the context" in markdown
    engine.unload()


def test_chat_parameters_override_settings(store: Store) -> None:
    store.set_setting("temperature", 0.5)
    store.set_setting("max_tokens", 99)
    chat = store.create_chat(params={"temperature": 0.1, "stop": ["END"]})
    sampling = sampling_for(store, chat, {"seed": 7})
    assert (sampling.temperature, sampling.max_tokens, sampling.seed) == (0.1, 99, 7)
    assert sampling.stop == ("END",)


def test_export_markdown_and_json_with_every_branch(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat("Export me", system_prompt="Be nice.")
    list(runner.send(chat.id, "Question *one*", sampling=FAST))
    answer = store.thread(chat.id)[-1]
    list(runner.regenerate(answer.id, sampling=FAST))
    markdown = export_chat(store, chat.id, "md")
    assert markdown.startswith("# Export me")
    assert "**System:** Be nice." in markdown and "## You\n\nQuestion *one*" in markdown
    assert "## Assistant" in markdown and "tokens" in markdown
    data = json.loads(export_chat(store, chat.id, "json"))
    assert data["format"] == "hearth-chat" and data["chat"]["title"] == "Export me"
    assert len(data["messages"]) == 3  # the question and both answers
    assert data["current_thread"] == [m.id for m in store.thread(chat.id)]


def test_recover_interrupted_marks_streaming_answers_stopped(store: Store) -> None:
    chat = store.create_chat()
    store.append_message(chat.id, "user", "q")
    other = Store.open(store.path)  # another Hearth on this data home, writing an answer
    answer = other.append_message(chat.id, "assistant", "partial", status="streaming")
    assert store.recover_interrupted() == 0  # it is still being written: left alone
    assert store.get_message(answer.id).status == "streaming"
    other.close()  # that Hearth ends without finishing the answer (as a crash would)
    assert store.recover_interrupted() == 1
    recovered = store.get_message(answer.id)
    assert recovered.status == "stopped" and recovered.content == "partial"
    assert recovered.stats.stop_reason == "interrupted"


def test_load_options_layer_settings_model_chat_and_flags(store: Store) -> None:
    store.set_setting("context_length", 8192)
    store.set_setting("threads", 3)
    model = store.add_model(
        "/m/x.gguf", "x", 1, chat_format="chatml", overrides={"gpu_layers": 10, "threads": 6}
    )
    chat = store.create_chat(params={"context_length": 2048})
    options = load_options_for(store, model=model, chat=chat, overrides={"n_threads": None})
    assert (options.n_ctx, options.n_threads, options.n_gpu_layers) == (2048, 6, 10)
    assert options.chat_format == "chatml"
    assert load_options_for(store, overrides={"n_ctx": 512}).n_ctx == 512
    assert load_options_for(store).n_gpu_layers == -1  # the setting's default: automatic


def test_a_json_export_imports_back_with_every_branch(runner: ChatRunner, store: Store) -> None:
    from app.chat.export import import_json
    from app.errors import HearthError

    chat = store.create_chat("Round trip", system_prompt="Be nice.")
    list(runner.send(chat.id, "Question", sampling=FAST))
    answer = store.thread(chat.id)[-1]
    list(runner.regenerate(answer.id, sampling=FAST))
    store.select_branch(answer.id)
    exported = json.loads(export_chat(store, chat.id, "json"))
    copy = import_json(store, exported)
    assert copy.id != chat.id and copy.title == "Round trip" and copy.system_prompt == "Be nice."
    assert [m.content for m in store.thread(copy.id)] == [m.content for m in store.thread(chat.id)]
    assert store.message_count(copy.id) == 3
    reply = store.thread(copy.id)[-1]
    assert reply.stats.completion_tokens == answer.stats.completion_tokens
    assert len(store.siblings(reply.id)) == 2
    with pytest.raises(HearthError, match="not a Hearth chat export"):
        import_json(store, {"hello": "world"})


def test_first_message_names_an_untitled_chat(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat()
    events = list(runner.send(chat.id, "Why is the sea salty?", sampling=FAST))
    titled = [e for e in events if isinstance(e, ChatTitled)]
    assert titled == [ChatTitled(chat.id, "Why is the sea salty?")]
    again = list(runner.send(chat.id, "And the rivers?", sampling=FAST))
    assert not any(isinstance(e, ChatTitled) for e in again)
    assert store.get_chat(chat.id).title == "Why is the sea salty?"


def test_blank_message_is_refused_and_nothing_is_saved(runner: ChatRunner, store: Store) -> None:
    chat = store.create_chat()
    with pytest.raises(BlankMessageError):
        list(runner.send(chat.id, "  \n ", sampling=FAST))
    assert store.thread(chat.id) == []
