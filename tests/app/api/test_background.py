"""The desktop's own API server: started and stopped in the background, serving the one
model the desktop has loaded, taking turns with the desktop's own answers; real uvicorn on
127.0.0.1 and a tiny real model."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx  # the HTTP client openai uses here
import openai
import pytest

from app.api.background import ApiConfig, DesktopApi, PortInUse
from app.api.host import ModelHost
from app.chat.runner import ChatRunner, MessageSaved
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.models.library import Library
from app.store import Store

ON = ApiConfig(enabled=True, port=0)


@pytest.fixture
def engine() -> Iterator[Engine]:
    eng = Engine(state_cache_bytes=64 << 20)
    yield eng
    eng.close()


@pytest.fixture
def host(store: Store, engine: Engine, tiny_model: Path, tmp_path: Path) -> ModelHost:
    Library(store, tmp_path / "models").register(tiny_model)
    store.set_setting("max_tokens", 24)
    return ModelHost(store, engine=engine, desktop=True)


@pytest.fixture
def api(host: ModelHost) -> Iterator[DesktopApi]:
    served = DesktopApi(host)
    yield served
    served.stop()


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)


def test_the_desktop_serves_only_the_model_it_has_loaded(
    api: DesktopApi, host: ModelHost, engine: Engine, tiny_model: Path
) -> None:
    url = api.apply(ON)
    assert url is not None and url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    oa = client(url)
    assert oa.models.list().data == []
    with pytest.raises(openai.BadRequestError, match="Load a model in the Hearth app") as none:
        oa.chat.completions.create(model="tiny-llama", messages=[{"role": "user", "content": "Hi"}])
    assert none.value.code == "model_not_loaded"
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    assert [m.id for m in oa.models.list().data] == ["tiny-llama"]
    with pytest.raises(openai.NotFoundError, match="serves the model it has loaded, 'tiny-llama'"):
        oa.completions.create(model="gpt-4", prompt="Hi")
    reply = oa.completions.create(model="tiny-llama", prompt="Once upon", max_tokens=5)
    assert reply.usage is not None and reply.usage.completion_tokens == 5
    chat = oa.chat.completions.create(messages=[{"role": "user", "content": "Hi"}], model="")
    assert chat.model == "tiny-llama", "no model named: the loaded one"
    records = api.recent.records()
    assert [(r.endpoint, r.status) for r in records] == [
        ("/v1/models", 200), ("/v1/chat/completions", 400), ("/v1/models", 200),
        ("/v1/completions", 404), ("/v1/completions", 200), ("/v1/chat/completions", 200),
    ]  # fmt: skip
    done = records[4]
    assert done.model == "tiny-llama" and done.completion_tokens == 5 and done.prompt_tokens > 0
    assert done.client.startswith("127.0.0.1:") and done.duration_ms > 0
    assert "POST /v1/completions 200 tiny-llama" in done.line()
    assert engine.loaded is not None, "the API never unloads the desktop's model"


def test_switching_off_closes_the_port_and_on_again_serves(
    api: DesktopApi, host: ModelHost
) -> None:
    url = api.apply(ON)
    assert url is not None
    assert httpx.get(url + "/models").status_code == 200
    assert api.apply(ApiConfig(enabled=False, port=0)) is None and api.url is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models")
    again = api.apply(ON)
    assert again is not None and httpx.get(again + "/models").status_code == 200
    assert api.apply(ON) == again, "the same settings leave the running server alone"


def test_a_port_in_use_is_refused_in_words_and_the_api_stays_off(api: DesktopApi) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port}: another program"):
            api.apply(ApiConfig(enabled=True, port=port))
        assert api.url is None and api.problem is not None and "Settings" in api.problem
    assert api.apply(ApiConfig(enabled=True, port=port)) == f"http://127.0.0.1:{port}/v1"


def test_a_desktop_answer_and_an_api_request_take_turns_and_both_finish(
    api: DesktopApi, host: ModelHost, engine: Engine, store: Store, tiny_model: Path
) -> None:
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    url = api.apply(ON)
    assert url is not None
    runner = ChatRunner(store, engine, flush_seconds=0.0)
    chat = store.create_chat()
    replies: list[object] = []

    def ask() -> None:
        try:
            replies.append(client(url).chat.completions.create(
                model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=8,
            ))  # fmt: skip
        except Exception as exc:  # reported below
            replies.append(exc)

    # The desktop's answer has the model (its job holds a turn, as on the engine thread)
    # when an API request arrives: the request waits in line, then is answered.
    with host.turn(always=True):
        answer = runner.send(chat.id, "Hello")
        first = next(answer)
        asking = threading.Thread(target=ask)
        asking.start()
        assert host.wait_queued(2, timeout=30), "the API request waits for its turn"
        events = [first, *answer]
    asking.join(60)
    saved = [e for e in events if isinstance(e, MessageSaved) and e.final]
    assert saved and saved[-1].message.role == "assistant" and saved[-1].message.content
    assert saved[-1].message.status == "done"
    reply = replies[0]
    assert isinstance(reply, openai.types.chat.ChatCompletion), reply
    assert reply.choices[0].message.content and reply.usage
    assert 1 <= reply.usage.completion_tokens <= 8  # sampled: the model may end it sooner
    assert host.queued() == 0


def test_settings_give_the_api_config(store: Store) -> None:
    assert ApiConfig.from_store(store) == ApiConfig(enabled=False, port=8766)
    store.set_setting("api_server", True)
    store.set_setting("api_port", 9001)
    store.set_setting("api_cors_origins", "http://localhost:3000, https://example.org")
    assert ApiConfig.from_store(store) == ApiConfig(
        True, 9001, ("http://localhost:3000", "https://example.org")
    )
