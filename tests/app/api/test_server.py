"""`hearth serve` through the official openai and anthropic clients, on a real uvicorn
server on loopback, answering with a tiny real model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx2 as httpx  # the HTTP client huggingface_hub and openai use here
import numpy as np
import openai
import pytest
import uvicorn

from app.api.host import ModelHost
from app.api.server import ServerOptions, build_app, check_bind
from app.engine.events import GenerationDone
from app.errors import HearthError
from app.models.library import Library
from app.store import Store
from tests.support.minilm import minilm_path

KEY = "sk-hearth-test"


class Served:
    def __init__(self, host: ModelHost, options: ServerOptions) -> None:
        config = uvicorn.Config(build_app(host, options), host="127.0.0.1", port=0,
                                log_level="warning", lifespan="off")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            self.thread.join(0.01)
        assert self.server.started, "the server did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def host(store: Store, tiny_model: Path, tmp_path: Path) -> Iterator[ModelHost]:
    Library(store, tmp_path / "models").register(tiny_model)
    store.set_setting("context_length", 512)
    host = ModelHost(store, max_waiting=4)
    yield host
    host.close()


@pytest.fixture
def served(host: ModelHost) -> Iterator[Served]:
    server = Served(host, ServerOptions(api_key=KEY, max_body_bytes=64_000))
    yield server
    server.stop()


def oa(served: Served, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=served.url + "/v1", api_key=key, max_retries=0, timeout=60)


def an(served: Served, key: str = KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key=key, max_retries=0, timeout=60)


def test_models_are_listed_and_a_chat_is_answered_with_usage(served: Served) -> None:
    client = oa(served)
    assert [m.id for m in client.models.list().data] == ["tiny-llama"]
    reply = client.chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "Hello"}],
        max_tokens=6, temperature=0.0, seed=1,
    )  # fmt: skip
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    assert reply.usage.prompt_tokens > 0
    again = client.chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "Hello"}],
        max_tokens=6, temperature=0.0, seed=1,
    )  # fmt: skip
    assert again.choices[0].message.content == reply.choices[0].message.content


def test_a_streamed_chat_arrives_in_pieces_that_make_the_whole_answer(served: Served) -> None:
    client = oa(served)
    ask = {"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}],
           "max_tokens": 64, "temperature": 0.0}  # fmt: skip
    whole = client.chat.completions.create(**ask).choices[0].message.content  # type: ignore[call-overload]
    pieces, finish = [], None
    for chunk in client.chat.completions.create(**ask, stream=True):  # type: ignore[call-overload]
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    assert len([p for p in pieces if p]) > 1
    assert "".join(pieces) == whole and finish == "length"


def test_a_raw_prompt_is_completed_streamed_and_not(served: Served, host: ModelHost) -> None:
    client = oa(served)
    reply = client.completions.create(model="tiny-llama", prompt="Once upon a time",
                                      temperature=0.0, seed=1)  # fmt: skip
    assert reply.object == "text_completion" and reply.model == "tiny-llama"
    choice = reply.choices[0]
    assert choice.text and choice.finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 16, "OpenAI's default"
    raw = host.engine.tokenize_prompt("Once upon a time")  # no chat template around it
    assert reply.usage.prompt_tokens == len(raw)
    pieces, finish, usage = [], None, None
    stream = client.completions.create(model="tiny-llama", prompt=["Once upon a time"],
                                       temperature=0.0, seed=1, stream=True)  # fmt: skip
    for chunk in stream:
        assert chunk.object == "text_completion"
        pieces.append(chunk.choices[0].text)
        finish = chunk.choices[0].finish_reason or finish
        usage = chunk.usage or usage
    assert len([p for p in pieces if p]) > 1
    assert "".join(pieces) == choice.text and finish == "length"
    assert usage is not None and usage.completion_tokens == 16
    stop = choice.text[2:4]
    cut = client.completions.create(model="tiny-llama", prompt="Once upon a time", stop=[stop],
                                    max_tokens=40, temperature=0.0)  # fmt: skip
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].text == choice.text[: choice.text.index(stop)]
    echoed = client.completions.create(model="tiny-llama", prompt="Once", echo=True,
                                       max_tokens=3, temperature=0.0)  # fmt: skip
    assert echoed.choices[0].text.startswith("Once")


def test_completion_errors_are_those_of_chat(served: Served) -> None:
    client = oa(served)
    with pytest.raises(openai.BadRequestError, match="prompt is too long") as long:
        client.completions.create(model="tiny-llama", prompt="word " * 3000)
    assert long.value.code == "context_length_exceeded"
    with pytest.raises(openai.NotFoundError, match="no chat model called 'davinci'"):
        client.completions.create(model="davinci", prompt="Hi")
    with pytest.raises(openai.BadRequestError, match="one completion per request"):
        client.completions.create(model="tiny-llama", prompt="Hi", n=2)
    with pytest.raises(openai.BadRequestError, match="prompt must be a string"):
        client.completions.create(model="tiny-llama", prompt=[1, 2, 3])


def test_json_schema_output_parses_and_follows_the_schema(served: Served) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    for seed in (1, 2, 3):
        reply = oa(served).chat.completions.create(
            model="tiny-llama", messages=[{"role": "user", "content": "Is it ok?"}],
            max_tokens=64, seed=seed,
            extra_body={"response_format": {
                "type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}},
        )  # fmt: skip
        answer = json.loads(reply.choices[0].message.content or "")
        assert set(answer) == {"ok"} and isinstance(answer["ok"], bool)
    anything = oa(served).chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "JSON please"}],
        max_tokens=200, seed=4, response_format={"type": "json_object"},
    )  # fmt: skip
    assert (
        anything.choices[0].finish_reason == "length"
        or json.loads(anything.choices[0].message.content or "") is not None
    )
    with pytest.raises(openai.BadRequestError, match="response_format type must be"):
        oa(served).chat.completions.create(
            model="tiny-llama",
            messages=[{"role": "user", "content": "Hi"}],
            extra_body={"response_format": {"type": "yaml"}},
        )


def test_embeddings_come_from_the_embedding_model(
    served: Served, host: ModelHost, tmp_path: Path
) -> None:
    with pytest.raises(openai.NotFoundError, match="no embedding model"):
        oa(served).embeddings.create(model="minilm", input="a cat")
    entry = Library(host.store, tmp_path / "models").import_file(minilm_path(), "link")
    result = oa(served).embeddings.create(
        model=entry.name,
        input=["A cat sat on the warm windowsill", "A kitten lay on the sunny ledge",
               "Quarterly tax filing deadlines"],
    )  # fmt: skip
    vectors = [np.asarray(d.embedding) for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2] and len(vectors[0]) == 384
    assert result.usage.prompt_tokens > 6
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2, (similar, unrelated)


def test_the_anthropic_client_gets_messages_streamed_and_not(served: Served) -> None:
    client = an(served)
    message = client.messages.create(
        model="tiny-llama", max_tokens=5, system="Be brief.", extra_body={"temperature": 0.0},
        messages=[{"role": "user", "content": "Hello"}],
    )  # fmt: skip
    assert message.role == "assistant" and message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5 and message.usage.input_tokens > 0
    text = message.content[0].text  # type: ignore[union-attr]
    with client.messages.stream(
        model="tiny-llama", max_tokens=5, system="Be brief.", extra_body={"temperature": 0.0},
        messages=[{"role": "user", "content": "Hello"}],
    ) as stream:  # fmt: skip
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == text and final.stop_reason == "max_tokens"


def test_errors_come_in_each_apis_shape_with_the_right_status(served: Served) -> None:
    with pytest.raises(openai.AuthenticationError):
        oa(served, key="wrong").models.list()
    with pytest.raises(anthropic.AuthenticationError):
        an(served, key="wrong").messages.create(
            model="tiny-llama", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
        )
    with pytest.raises(openai.NotFoundError, match="no chat model called 'gpt-9'"):
        oa(served).chat.completions.create(
            model="gpt-9", messages=[{"role": "user", "content": "Hi"}]
        )
    with pytest.raises(openai.BadRequestError, match="too long for this model's context") as long:
        oa(served).chat.completions.create(
            model="tiny-llama", messages=[{"role": "user", "content": "word " * 3000}]
        )
    assert long.value.code == "context_length_exceeded"
    auth = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    broken = httpx.post(served.url + "/v1/chat/completions", content=b"{not json", headers=auth)
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]
    huge = httpx.post(served.url + "/v1/messages", content=b"x" * 100_000, headers=auth)
    assert huge.status_code == 413 and huge.json()["type"] == "error"
    assert "Traceback" not in broken.text + huge.text


def test_a_full_queue_answers_503_with_retry_after(served: Served, host: ModelHost) -> None:
    release = threading.Event()

    def take_a_turn() -> None:
        with host.turn():
            release.wait(30)

    # One request holds the model and a full line waits behind it.
    others = [threading.Thread(target=take_a_turn) for _ in range(host.max_waiting + 1)]
    for other in others:
        other.start()
    try:
        for _ in range(1000):
            if host.queued() == host.max_waiting + 1:
                break
            release.wait(0.01)
        assert host.queued() == host.max_waiting + 1
        full = httpx.post(
            served.url + "/v1/chat/completions",
            json={"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
        )  # fmt: skip
        assert full.status_code == 503 and full.headers["retry-after"].isdigit()
        assert full.json()["error"]["code"] == "queue_full"
    finally:
        release.set()
        for other in others:
            other.join(10)
    assert host.queued() == 0


def test_a_client_that_disconnects_mid_stream_stops_its_answer(
    served: Served, host: ModelHost
) -> None:
    finished: list[GenerationDone] = []
    generate = host.engine.generate

    def recording(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for event in generate(*args, **kwargs):  # type: ignore[arg-type]
            if isinstance(event, GenerationDone):
                finished.append(event)
            yield event

    host.engine.generate = recording  # type: ignore[method-assign]
    ask = {"model": "tiny-llama", "messages": [{"role": "user", "content": "Go on"}],
           "max_tokens": 1500, "temperature": 0.0, "stream": True}  # fmt: skip
    headers = {"Authorization": f"Bearer {KEY}"}
    url = served.url + "/v1/chat/completions"
    with httpx.stream("POST", url, json=ask, headers=headers, timeout=30) as response:
        for line in response.iter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                break  # one piece of the answer arrived: hang up
    # The connection is closed: the answer stops at once instead of running 1,500 tokens.
    for _ in range(1000):
        if finished:
            break
        threading.Event().wait(0.01)
    assert finished and finished[0].stats.stop_reason == "user"
    assert finished[0].stats.completion_tokens < 1500


def test_other_addresses_need_a_key_and_cors_stays_closed(host: ModelHost) -> None:
    check_bind("127.0.0.1", None)
    with pytest.raises(HearthError, match="give an API key"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", KEY)
    closed = Served(host, ServerOptions())
    opened = Served(host, ServerOptions(cors_origins=["http://localhost:3000"]))
    try:
        preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
        denied = httpx.options(closed.url + "/v1/chat/completions", headers=preflight)
        assert "access-control-allow-origin" not in denied.headers
        allowed = httpx.options(opened.url + "/v1/chat/completions", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert httpx.get(closed.url + "/v1/models").status_code == 200, "no key, none needed"
    finally:
        closed.stop()
        opened.stop()
