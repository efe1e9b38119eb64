"""Remote models: another machine's OpenAI-compatible server (a real `hearth serve` in a
second process) used by chats exactly like a local model, and every way it can fail
told in words with the answer so far kept."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from app.cancel import CancelToken
from app.chat.runner import ChatRunner, MessageSaved, SourcesUsed
from app.documents.grounding import Grounder
from app.engine.events import GenerationDone, Sampling, TextDelta
from app.errors import HearthError
from app.remote.client import RemoteEngine, RemoteModel
from app.remote.servers import RemoteServers
from app.secrets import Secrets
from app.store import Store
from tests.app.cli.test_chat import HEARTH, hearth
from tests.app.documents.test_grounding import index_into_chat
from tests.support.documents import make_pdf
from tests.support.serve_process import ServeProcess, free_port

KEY = "sk-remote-test-5d1f0c"
LONG = Sampling(temperature=0.0, seed=7, max_tokens=400)
SHORT = Sampling(temperature=0.0, seed=7, max_tokens=8)


@pytest.fixture(scope="module")
def bigbox(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[ServeProcess]:
    """The other machine: its own data home and a key."""
    server = ServeProcess(tmp_path_factory.mktemp("bigbox"), tiny_model, api_key=KEY, context=2048)
    yield server
    server.stop()


@pytest.fixture
def servers(store: Store, tmp_path: Path, bigbox: ServeProcess) -> RemoteServers:
    servers = RemoteServers(store, Secrets(tmp_path))
    servers.add("bigbox", bigbox.url, KEY)
    return servers


def hearth_input(home: Path, given: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEARTH, "--home", str(home), *args], input=given + "\n",
        capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ),
    )  # fmt: skip


def answer_of(events: Sequence[object]) -> GenerationDone:
    return next(e for e in events if isinstance(e, GenerationDone))


def final_of(events: Sequence[object]) -> MessageSaved:
    return next(e for e in events if isinstance(e, MessageSaved) and e.final)


def test_added_servers_list_their_models_and_keep_the_key_out_of_the_database(
    servers: RemoteServers, store: Store, tmp_path: Path
) -> None:
    [answer] = servers.list_models()
    assert answer.problem is None
    assert [m.name for m in answer.models] == ["bigbox/tiny-llama"]
    assert servers.has_key("bigbox")
    secrets = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    database = b"".join(p.read_bytes() for p in Path(store.path).parent.glob("*.db*"))
    assert b"bigbox" in database and KEY.encode() not in database
    servers.remove("bigbox")
    assert servers.endpoints() == [] and KEY not in secrets.read_text()


def test_a_remote_chat_streams_is_saved_and_branches_like_a_local_one(
    servers: RemoteServers, store: Store
) -> None:
    engine = servers.engine_for("bigbox/tiny-llama")
    runner = ChatRunner(store, engine, flush_seconds=0.0)
    chat = store.create_chat()
    events = list(runner.send(chat.id, "Hello there", sampling=SHORT))
    pieces = [e.text for e in events if isinstance(e, TextDelta) and e.kind == "answer"]
    done, final = answer_of(events), final_of(events).message
    assert done.error is None and len(pieces) > 1
    assert final.content == "".join(pieces) == done.answer
    assert final.model == "bigbox/tiny-llama" and final.status == "done"
    assert final.stats is not None and final.stats.completion_tokens == 8
    assert (final.stats.prompt_tokens or 0) > 0 and final.stats.stop_reason == "max_tokens"
    assert store.get_chat(chat.id).title == "Hello there"

    again = final_of(list(runner.regenerate(final.id, sampling=SHORT))).message
    assert again.id != final.id and again.parent_id == final.parent_id
    assert again.content == final.content  # same seed, same server, same answer
    assert [m.id for m in store.thread(chat.id)][-1] == again.id


def test_stop_keeps_what_the_remote_model_wrote(servers: RemoteServers, store: Store) -> None:
    runner = ChatRunner(store, servers.engine_for("bigbox/tiny-llama"), flush_seconds=0.0)
    chat = store.create_chat()
    token = CancelToken()
    events: list[object] = []
    for event in runner.send(chat.id, "Tell me a long story", sampling=LONG, cancel=token):
        events.append(event)
        if isinstance(event, TextDelta):
            token.cancel()
    final = final_of(events).message
    assert final.status == "stopped" and final.content
    assert answer_of(events).stats.completion_tokens < 400


def test_documents_ground_remote_answers_with_their_sources(
    servers: RemoteServers, store: Store, tmp_path: Path
) -> None:
    pages = ["The Riverside bakery opened in 1998.", "Its oven was replaced in June."]
    chat_id = index_into_chat(store, [make_pdf(tmp_path / "bakery.pdf", pages)])
    plain = store.create_chat()
    engine = servers.engine_for("bigbox/tiny-llama")
    runner = ChatRunner(store, engine, grounder=Grounder(store), flush_seconds=0.0)
    grounded = list(runner.send(chat_id, "When was the oven replaced?", sampling=SHORT))
    ungrounded = list(runner.send(plain.id, "When was the oven replaced?", sampling=SHORT))
    used = next(e for e in grounded if isinstance(e, SourcesUsed))
    assert used.mode == "whole" and [s.page for s in used.sources] == [1, 2]
    answer = final_of(grounded).message
    assert [s.page for s in store.message_sources(answer.id)] == [1, 2]
    # The server was given the pages: its own count of the prompt says so.
    assert answer_of(grounded).stats.prompt_tokens > answer_of(ungrounded).stats.prompt_tokens + 10


def test_a_wrong_key_is_said_plainly_and_nothing_is_lost(
    servers: RemoteServers, store: Store, bigbox: ServeProcess
) -> None:
    chat = store.create_chat()
    runner = ChatRunner(store, servers.engine_for("bigbox/tiny-llama"), flush_seconds=0.0)
    list(runner.send(chat.id, "First", sampling=SHORT))
    servers.add("bigbox", bigbox.url, "sk-wrong")
    with pytest.raises(HearthError, match="refused the API key"):
        servers.engine_for("bigbox/tiny-llama")
    stale = ChatRunner(store, RemoteEngine(servers.client("bigbox"), runner.engine.loaded))  # type: ignore[arg-type]
    events = list(stale.send(chat.id, "Second", sampling=SHORT))
    done, final = answer_of(events), final_of(events).message
    assert done.error is not None and "refused the API key (HTTP 401" in done.error
    assert final.status == "error" and final.error == done.error
    assert [m.content for m in store.thread(chat.id)][:3][0] == "First"
    assert len(store.thread(chat.id)) == 4  # first exchange, the question, the failed answer


def test_an_unreachable_server_is_said_plainly(store: Store, tmp_path: Path) -> None:
    servers = RemoteServers(store, Secrets(tmp_path))
    servers.add("gone", f"http://127.0.0.1:{free_port()}")
    [answer] = servers.list_models()
    assert answer.problem is not None and "Can't reach gone at" in answer.problem
    with pytest.raises(HearthError, match="Check that the server is running"):
        servers.engine_for("gone/anything")


def test_a_server_that_dies_mid_answer_leaves_the_partial_answer_and_says_so(
    store: Store, tmp_path: Path, tiny_model: Path
) -> None:
    dying = ServeProcess(tmp_path / "dying", tiny_model)
    try:
        servers = RemoteServers(store, Secrets(tmp_path))
        servers.add("dying", dying.url)
        runner = ChatRunner(store, servers.engine_for("dying/tiny-llama"), flush_seconds=0.0)
        chat = store.create_chat()
        events: list[object] = []
        for event in runner.send(chat.id, "Go on and on", sampling=LONG):
            events.append(event)
            if isinstance(event, TextDelta) and dying.process.poll() is None:
                dying.kill()
    finally:
        dying.stop()
    done, final = answer_of(events), final_of(events).message
    assert done.error is not None and "broke mid-answer" in done.error
    assert final.status == "error" and final.content and final.content == done.answer


def test_the_cli_lists_remote_models_and_chats_with_them(
    tmp_path: Path, bigbox: ServeProcess
) -> None:
    home = tmp_path / "home"
    added = hearth_input(home, KEY, "remote", "add", "bigbox", bigbox.url, "--key-stdin")
    assert added.returncode == 0, added.stderr
    assert "It offers 1 model: bigbox/tiny-llama" in added.stdout
    listed = hearth(home, "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert "bigbox/tiny-llama" in listed.stdout and "remote" in listed.stdout
    reply = hearth(home, "chat", "bigbox/tiny-llama", "Hi", "--max-tokens", "4", "--json")
    assert reply.returncode == 0, reply.stderr
    record = json.loads(reply.stdout)
    assert record["model"] == "bigbox/tiny-llama" and record["answer"]
    assert record["stats"]["completion_tokens"] == 4
    chats = json.loads(hearth(home, "chats", "list", "--json").stdout)
    assert chats[0]["model"] == "bigbox/tiny-llama"
    exported = hearth(home, "chats", "export", str(chats[0]["id"]), "--format", "json")
    everything = exported.stdout + "".join(
        p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()
        and p.name != "secrets.json"
    )  # fmt: skip
    assert KEY not in everything  # not in the database, the log or an export

    assert hearth(home, "settings", "set", "offline", "true").returncode == 0
    offline = hearth(home, "chat", "bigbox/tiny-llama", "Hi")
    assert offline.returncode == 1 and "Offline mode is on" in offline.stderr
    assert "offline mode" in hearth(home, "models", "list").stderr


def test_stop_returns_while_the_server_is_silent(store: Store, tmp_path: Path) -> None:
    """A server that sends a piece and then thinks for a long time: Stop must not wait
    for its next piece (the connection is closed under the read)."""
    release = threading.Event()

    async def chat(_request: Request) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            piece = {"choices": [{"index": 0, "delta": {"content": "Thinking"}}]}
            yield f"data: {json.dumps(piece)}\n\n".encode()
            while not release.is_set():  # silent until the test ends
                await asyncio.sleep(0.05)

        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        servers = RemoteServers(store, Secrets(tmp_path))
        servers.add("slow", f"http://127.0.0.1:{port}")
        engine = RemoteEngine(servers.client("slow"), RemoteModel("slow", "m"))
        token = CancelToken()
        events: list[object] = []
        for event in engine.generate([{"role": "user", "content": "Hi"}], LONG, cancel=token):
            events.append(event)
            if isinstance(event, TextDelta):
                token.cancel()
        assert not release.is_set()  # it returned while the server was still silent
        done = answer_of(events)
        assert done.answer == "Thinking" and done.stats.stop_reason == "user"
        assert done.error is None
    finally:
        release.set()
        server.should_exit = True
        thread.join(10)
