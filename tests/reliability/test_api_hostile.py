"""The local API under attack, on real uvicorn servers on loopback (in a thread, a real
``hearth serve`` process, and the desktop's background server) answering with a real
tiny model, through real HTTP clients and raw sockets: it listens on loopback unless a
key is given, the key is enforced on every endpoint, bodies are bounded in size and in
time before they are read, web pages cannot use it (CORS closed, foreign origins and
rebound host names refused), a client that hangs up stops its answer, and a flood of
bounded requests leaves it answering and the desktop's own chat working."""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil
import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from starlette.applications import Starlette

from app.api.background import ApiConfig, DesktopApi
from app.api.host import ModelHost
from app.api.recent import RequestRecord
from app.api.server import BODY_SECONDS, ServerOptions, check_bind
from app.chat.runner import ChatRunner, MessageSaved
from app.cli.parser import build_parser
from app.context import Context
from app.engine.engine import Engine
from app.engine.events import GenerationDone, LoadOptions, TextDelta
from app.errors import HearthError
from app.models.library import Library
from app.store import Store
from tests.app.api.test_server import Served
from tests.app.cli.test_chat import hearth
from tests.reliability.scale import count
from tests.support.minilm import minilm_path
from tests.support.serve_process import ServeProcess
from ui.application import build_window, create_application

KEY = "sk-hearth-reliability"
FLOOD = count(full=500, quick=60)
MODEL = "tiny-llama"  # the name the library gives the test model (checked below)
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
ENDPOINTS = [
    ("GET", "/v1/models", None),
    ("POST", "/v1/chat/completions", CHAT),
    ("POST", "/v1/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 2}),
    ("POST", "/v1/embeddings", {"model": "all-MiniLM-L6-v2-f16", "input": "Hi"}),
    ("POST", "/v1/messages", {**CHAT, "max_tokens": 2}),
]


@pytest.fixture
def host(store: Store, tiny_model: Path, tmp_path: Path) -> Iterator[ModelHost]:
    assert Library(store, tmp_path / "models").register(tiny_model).name == MODEL
    store.set_setting("context_length", 512)
    host = ModelHost(store, max_waiting=4)
    yield host
    host.close()


@pytest.fixture
def keyed(host: ModelHost) -> Iterator[Served]:
    server = Served(host, ServerOptions(api_key=KEY, max_body_bytes=64_000))
    yield server
    server.stop()


@pytest.fixture
def open_loopback(host: ModelHost) -> Iterator[Served]:
    server = Served(host, ServerOptions(max_body_bytes=64_000, body_seconds=1.0))
    yield server
    server.stop()


class Serving:
    """A real ``hearth serve`` process with a key; what it writes to stderr is kept (read
    as it comes, so a chatty server never blocks on a full pipe)."""

    def __init__(self, home: Path, model: Path) -> None:
        self.served = ServeProcess(home, model, api_key=KEY, quiet=True)
        self.url = self.served.url.removesuffix("/v1")
        self.process = psutil.Process(self.served.process.pid)
        self.stderr: list[str] = []
        stream = self.served.process.stderr
        assert stream is not None
        self._reader = threading.Thread(target=lambda: self.stderr.extend(stream), daemon=True)
        self._reader.start()

    def stop(self) -> None:
        self.served.stop()
        self._reader.join(10)


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[Serving]:
    server = Serving(tmp_path_factory.mktemp("serve-home"), tiny_model)
    yield server
    server.stop()


# ------------------------------------------------------------------ loopback by default
@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "my-pc.local"])
def test_any_address_but_loopback_needs_a_key(address: str) -> None:
    with pytest.raises(HearthError, match="give an API key"):
        check_bind(address, None)
    with pytest.raises(HearthError, match="give an API key"):
        check_bind(address, "")  # `--api-key "$UNSET"` is no key
    check_bind(address, KEY)  # an explicit choice, with a key


def test_hearth_serve_listens_on_loopback_and_refuses_other_addresses_without_a_key(
    serving: Serving, tmp_path: Path
) -> None:
    for address in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        check_bind(address, None)
    serve = build_parser().parse_args(["serve"])
    assert serve.host == "127.0.0.1" and serve.api_key is None
    # The running `hearth serve` listens on loopback and nowhere else.
    listening = [c.laddr for c in serving.process.net_connections() if c.status == "LISTEN"]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    for argv in (["--host", "::"], ["--host", "0.0.0.0", "--api-key", ""]):
        refused = hearth(tmp_path, "serve", *argv)
        assert refused.returncode == 1, argv
        assert "give an API key" in refused.stderr and "Traceback" not in refused.stderr


# ------------------------------------------------------------------ the key
def test_the_key_is_enforced_on_every_endpoint(
    keyed: Served, host: ModelHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Library(host.store, tmp_path / "models").import_file(minilm_path(), "link")
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("app.api.server.hmac.compare_digest", spy)
    wrong: list[dict[str, Any]] = [
        {}, {"Authorization": "Bearer sk-hearth-reliabilitx"},  # same length, one byte off
        {"Authorization": "Bearer sk-hearth"}, {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": KEY}, {"Authorization": "Basic " + KEY}, {"Authorization": "Bearer"},
        {"x-api-key": KEY[:-1]}, {"Authorization": b"Bearer \xff\xfe"},
    ]  # fmt: skip
    requests = 0
    client = httpx.Client(base_url=keyed.url, timeout=60)
    for method, path, body in ENDPOINTS:
        for headers in wrong:
            refused = client.request(method, path, json=body, headers=headers)
            requests += 1
            assert refused.status_code == 401, (path, headers)
            error = refused.json()
            if path == "/v1/messages":  # Anthropic's shape
                assert error["type"] == "error"
                assert error["error"]["type"] == "authentication_error"
            else:
                assert error["error"]["code"] == "invalid_api_key"
            assert "API key" in refused.text and "Traceback" not in refused.text
        in_query = client.request(method, f"{path}?api_key={KEY}", json=body)
        requests += 1
        assert in_query.status_code == 401  # a key in the URL ends up in logs: not taken
        good = {"x-api-key": KEY} if path == "/v1/messages" else {"Authorization": f"Bearer {KEY}"}
        answered = client.request(method, path, json=body, headers=good)
        requests += 1
        assert answered.status_code == 200, (path, answered.text)
    client.close()
    # Every request, refused or not, was decided by one constant-time comparison.
    assert len(compared) == requests
    assert all(isinstance(a, bytes) and b == KEY.encode() for a, b in compared)


# ------------------------------------------------------------------ bodies
def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (30 s at most)."""
    reply = b""
    while piece := sock.recv(65536):
        reply += piece
    return reply


def test_bodies_over_the_limit_are_refused_before_they_are_read(
    serving: Serving, open_loopback: Served
) -> None:
    url, auth = serving.url, {"Authorization": f"Bearer {KEY}"}
    before = serving.process.memory_info().rss
    with connect(url) as sock:  # claims a gigabyte and sends one byte of it
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + KEY.encode() + b"\r\n"
                     b"Content-Length: 1000000000\r\n\r\n{")  # fmt: skip
        head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
        # The server hung up: the rest of the gigabyte is not read (and dropped) for as
        # long as the client goes on sending it.
        with pytest.raises(OSError):
            for _ in range(256):
                sock.sendall(b" " * (1 << 20))
    few_mb = httpx.post(url + "/v1/chat/completions", content=b"x" * (6 << 20), headers=auth)
    assert few_mb.status_code == 413 and "4,194,304 bytes" in few_mb.json()["error"]["message"]
    sent = 0

    def chunks(total: int) -> Iterator[bytes]:  # no Content-Length: chunked
        nonlocal sent
        sent = 0
        while sent < total:
            sent += 1 << 16
            yield b" " * (1 << 16)

    chunked = httpx.post(url + "/v1/chat/completions", content=chunks(6 << 20), headers=auth)
    assert chunked.status_code == 413
    try:  # a gigabyte: the server stops reading it, the client may or may not hear why
        endless = httpx.post(url + "/v1/chat/completions", content=chunks(1 << 30),
                             headers=auth).status_code  # fmt: skip
    except httpx.TransportError:
        endless = None
    assert endless in (413, None) and sent < 64 << 20, (endless, sent)
    assert serving.process.memory_info().rss - before < 64 << 20
    assert httpx.get(url + "/v1/models", headers=auth).status_code == 200
    # The same on the in-thread server with a smaller limit.
    small = httpx.post(open_loopback.url + "/v1/messages", content=b"[" + b"1," * 40_000 + b"1]")
    assert small.status_code == 413 and small.json()["type"] == "error"


def test_a_body_that_never_ends_is_cut_off(open_loopback: Served) -> None:
    """Slowloris: a body trickled a byte at a time, or one that stops halfway, is answered
    408 and the connection closed once ``body_seconds`` (here 1 s) have passed."""
    assert BODY_SECONDS <= 120  # `hearth serve` and the desktop cut one off within 2 minutes
    heads = {
        "trickled": b"Content-Length: 1000\r\n\r\n{",
        "chunked": b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
        "stalled": b'Content-Length: 100\r\n\r\n{"model": ',
    }

    def slow_client(name: str) -> bytes:
        with connect(open_loopback.url) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + heads[name])
            started = time.monotonic()
            sock.settimeout(0.2)
            reply = b""
            while time.monotonic() - started < 30:
                try:
                    piece = sock.recv(65536)
                except TimeoutError:  # nothing yet: trickle another byte
                    if name != "stalled":
                        try:
                            sock.sendall(b" " if name == "trickled" else b"1\r\n \r\n")
                        except (BrokenPipeError, ConnectionResetError):
                            break  # the server closed it: what it said is in ``reply``
                    continue
                except ConnectionResetError:  # closed while a trickled byte was in flight
                    break
                if not piece:
                    break
                reply += piece
            return reply

    with ThreadPoolExecutor(max_workers=len(heads)) as pool:
        replies = dict(zip(heads, pool.map(slow_client, heads), strict=True))
    for name, reply in replies.items():
        assert reply.startswith(b"HTTP/1.1 408"), (name, reply)
        assert b"still arriving after 1 s" in reply and b"connection: close" in reply.lower()
    assert httpx.get(open_loopback.url + "/v1/models").status_code == 200


# ------------------------------------------------------------------ web pages
def test_web_pages_cannot_use_the_models(open_loopback: Served, host: ModelHost) -> None:
    url = open_loopback.url + "/v1/chat/completions"
    preflight = httpx.options(url, headers={"Origin": "http://evil.example",
                                            "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert "access-control-allow-origin" not in preflight.headers
    # A "simple" cross-site POST needs no preflight: CORS would only hide the answer.
    simple = httpx.post(url, content=json.dumps(CHAT).encode(),
                        headers={"Origin": "http://evil.example",
                                 "Content-Type": "text/plain"})  # fmt: skip
    assert simple.status_code == 403 and "access-control-allow-origin" not in simple.headers
    assert "evil.example" in simple.json()["error"]["message"]
    # DNS rebinding: the page's own name, now pointing at 127.0.0.1, reaches the port.
    for rebound in ("evil.example", "evil.example:8765", "192.168.1.20"):
        refused = httpx.post(url, json=CHAT, headers={"Host": rebound})
        assert refused.status_code == 403 and "answers only loopback" in refused.text, rebound
        listing = httpx.get(open_loopback.url + "/v1/models", headers={"Host": rebound})
        assert listing.status_code == 403
    for loopback in ("localhost", "LOCALHOST:8765", "127.0.0.1:1", "[::1]", "[::1]:8765"):
        assert httpx.post(url, json=CHAT, headers={"Host": loopback}).status_code == 200, loopback
    allowed = Served(host, ServerOptions(cors_origins=["http://localhost:3000"]))
    anyone = Served(host, ServerOptions(cors_origins=["*"]))
    empty_key = Served(host, ServerOptions(api_key=""))  # `--api-key "$UNSET"`: no key
    try:
        page = httpx.post(allowed.url + "/v1/chat/completions", json=CHAT,
                          headers={"Origin": "http://localhost:3000"})  # fmt: skip
        assert page.status_code == 200
        assert page.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = httpx.options(allowed.url + "/v1/chat/completions",
                              headers={"Origin": "http://evil.example",
                                       "Access-Control-Request-Method": "POST"})  # fmt: skip
        assert other.headers.get("access-control-allow-origin") != "http://evil.example"
        foreign = httpx.post(allowed.url + "/v1/chat/completions", json=CHAT,
                             headers={"Origin": "http://evil.example"})  # fmt: skip
        assert foreign.status_code == 403
        # "*" (the user opened CORS to every page) lets any origin in.
        star = httpx.post(anyone.url + "/v1/chat/completions", json=CHAT,
                          headers={"Origin": "http://evil.example"})  # fmt: skip
        assert star.status_code == 200 and star.headers["access-control-allow-origin"] == "*"
        unkeyed = httpx.get(empty_key.url + "/v1/models", headers={"Host": "evil.example"})
        assert unkeyed.status_code == 403
    finally:
        allowed.stop()
        anyone.stop()
        empty_key.stop()


# ------------------------------------------------------------------ hanging up
def test_a_client_that_hangs_up_before_its_whole_answer_stops_it(
    open_loopback: Served, host: ModelHost
) -> None:
    finished: list[GenerationDone] = []
    writing = threading.Event()
    generate = host.engine.generate

    def recording(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for event in generate(*args, **kwargs):  # type: ignore[arg-type]
            if isinstance(event, TextDelta):
                writing.set()
            if isinstance(event, GenerationDone):
                finished.append(event)
            yield event

    host.engine.generate = recording  # type: ignore[method-assign]
    long = json.dumps({**CHAT, "max_tokens": 1500, "temperature": 0.0}).encode()
    request = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (len(long), long))  # fmt: skip
    # Waiting in line (the model is busy) when it hangs up: its answer never starts.
    app = open_loopback.server.config.app
    assert isinstance(app, Starlette)
    running = app.state.running  # the answers under way
    with host.turn():
        with connect(open_loopback.url) as sock:
            sock.sendall(request)
            assert host.wait_queued(2, timeout=30)
        for _ in range(3000):  # the server notices the hang-up while the request waits
            if running and all(run.token.cancelled for run in running):
                break
            threading.Event().wait(0.01)
        assert running and all(run.token.cancelled for run in running)
    for _ in range(3000):
        if host.queued() == 0:
            break
        threading.Event().wait(0.01)
    assert host.queued() == 0 and finished == [], "its turn came and went without an answer"
    # Hangs up while the whole (not streamed) answer is being written: it stops.
    with connect(open_loopback.url) as sock:
        sock.sendall(request)
        assert writing.wait(30)
    for _ in range(3000):
        if finished:
            break
        threading.Event().wait(0.01)
    assert len(finished) == 1 and finished[0].stats.stop_reason == "user"
    assert finished[0].stats.completion_tokens < 1500
    assert host.queued() == 0


# ------------------------------------------------------------------ floods
CHATTY = ("chat", "messages", "completion", "hang-up")  # take a turn with the model


async def one_request(client: httpx.AsyncClient, kind: str, auth: dict[str, str]) -> int:
    """One of the flood's requests; its status, having checked that the answer is well
    formed (a JSON body in the API's shape, or a stream, and Retry-After on a 503)."""
    post = "/v1/chat/completions"
    headers: dict[str, str] = dict(auth)
    body: dict[str, Any] | None = CHAT
    content: bytes | None = None
    if kind == "messages":
        post, headers = "/v1/messages", {"x-api-key": auth["Authorization"][7:]} if auth else {}
    elif kind == "completion":
        post, body = "/v1/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 2}
    elif kind == "bad-json":
        body, content = None, b'{"model": "tiny-llama", "messages": [{'
    elif kind == "too-big":
        body, content = None, TOO_BIG
    elif kind == "no-key":
        headers = {"Authorization": "Bearer wrong"} if auth else {"Origin": "http://evil.example"}
    elif kind == "rebound":
        headers = {**auth, "Host": "evil.example"}
    if kind == "hang-up":  # starts a streamed answer and hangs up after its first bytes
        streamed = {**CHAT, "stream": True, "max_tokens": 64}
        async with client.stream("POST", post, json=streamed, headers=headers) as reply:
            if reply.status_code == 200:
                assert reply.headers["content-type"].startswith("text/event-stream")
                async for _ in reply.aiter_bytes():
                    break
            else:
                await reply.aread()
                check_error(reply)
            return reply.status_code
    reply = await client.post(post, json=body, content=content, headers=headers)
    if reply.status_code == 200:
        answer = reply.json()
        assert answer["usage"], answer
    else:
        check_error(reply)
    return reply.status_code


TOO_BIG = b"x" * ((4 << 20) + 1)  # one byte over `hearth serve`'s limit


def check_error(reply: httpx.Response) -> None:
    error = reply.json()
    message = error["error"]["message"]
    assert isinstance(message, str) and message and "Traceback" not in reply.text
    if reply.status_code == 503:
        assert reply.headers["retry-after"].isdigit()


def flood(url: str, kinds: tuple[str, ...], auth: dict[str, str]) -> Counter[tuple[str, int]]:
    """``FLOOD`` requests of random kinds, all sent at once; (kind, status) counted."""
    picked = [random.Random(i).choice(kinds) for i in range(FLOOD)]

    async def run_all() -> list[int]:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
            return list(await asyncio.gather(*(one_request(client, k, auth) for k in picked)))

    return Counter(zip(picked, asyncio.run(run_all()), strict=True))


class PeakMemory:
    """The highest resident memory a process reaches while the block runs (sampled)."""

    def __init__(self, process: psutil.Process) -> None:
        self.process, self.peak = process, process.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(5)


def test_a_flood_of_requests_leaves_hearth_serve_answering(serving: Serving) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    kinds = (*CHATTY, "bad-json", "too-big", "no-key", "rebound")
    before = serving.process.memory_info().rss
    with PeakMemory(serving.process) as memory:
        outcomes = flood(serving.url, kinds, auth)
    statuses = Counter(status for (_, status), n in outcomes.items() for _ in range(n))
    assert sum(statuses.values()) == FLOOD
    assert set(statuses) <= {200, 400, 401, 413, 503}, outcomes  # never a 500
    for (kind, status), _ in outcomes.items():
        expected = {"bad-json": {400}, "too-big": {413}, "no-key": {401}}.get(kind, {200, 503})
        assert status in expected, (kind, status)
    assert statuses[200] > 0
    # Waiting requests are bounded (16 wait, the rest are told 503): memory stays flat.
    assert memory.peak - before < 256 << 20, (before >> 20, memory.peak >> 20)
    assert serving.served.process.poll() is None, "the server is still running"
    after = httpx.post(serving.url + "/v1/chat/completions", json=CHAT, headers=auth, timeout=30)
    assert after.status_code == 200
    assert isinstance(after.json()["choices"][0]["message"]["content"], str)
    logged = "".join(serving.stderr)
    assert "Traceback" not in logged and "ERROR" not in logged, logged[-3000:]


def test_a_flood_on_the_desktops_api_leaves_the_desktop_answering(
    store: Store, tiny_model: Path, tmp_path: Path
) -> None:
    """The desktop's background server shares the engine with the desktop's chat. While
    the desktop's own answer holds the model, the API's line fills and further requests
    are told 503 with Retry-After (never queued without bound); the desktop keeps
    answering during the flood, and afterwards the server stops and the chat answers."""
    Library(store, tmp_path / "models").register(tiny_model)
    store.set_setting("max_tokens", 8)
    engine = Engine(state_cache_bytes=64 << 20)
    engine.load(tiny_model, LoadOptions(n_ctx=512))
    host = ModelHost(store, engine=engine, desktop=True, max_waiting=2)
    api = DesktopApi(host)
    shed = threading.Event()

    def watch(record: RequestRecord) -> None:
        if record.status == 503:
            shed.set()

    api.recent.listen(watch)
    runner = ChatRunner(store, engine, flush_seconds=0.0)
    chat = store.create_chat()
    answers: list[str] = []
    flooding = threading.Event()

    def desktop() -> None:
        """The desktop's chat, answering on its own thread as its engine thread does."""
        with host.turn(always=True):  # the first answer holds the model until one is shed
            answers.extend(answered(runner.send(chat.id, "Hello")))
            shed.wait(60)
        while flooding.is_set():
            with host.turn(always=True):
                answers.extend(answered(runner.send(chat.id, "And again")))

    try:
        url = api.apply(ApiConfig(enabled=True, port=0))
        assert url is not None
        flooding.set()
        chatting = threading.Thread(target=desktop)
        chatting.start()
        outcomes = flood(url.removesuffix("/v1"), (*CHATTY, "bad-json", "no-key", "rebound"), {})
        flooding.clear()
        chatting.join(60)
        statuses = Counter(status for (_, status), n in outcomes.items() for _ in range(n))
        assert set(statuses) <= {200, 400, 403, 503}, outcomes  # never a 500
        assert statuses[503] > 0 and shed.is_set(), "the line was full: the rest were shed"
        assert statuses[200] > 0
        assert len(answers) >= 1 and all(answers), "the desktop answered during the flood"
        assert api.recent.total == FLOOD and len(api.recent.records()) <= 100
        api.stop()
        assert api.url is None
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/models")
        assert host.queued() == 0
        final = answered(runner.send(chat.id, "Still there?"))
        assert final and final[0], "the desktop's chat answers after the flood"
    finally:
        api.stop()
        engine.close()


def answered(events: Iterator[object]) -> list[str]:
    """The finished answer of a desktop chat turn (one, or none if it did not finish)."""
    return [
        e.message.content
        for e in events
        if isinstance(e, MessageSaved) and e.final and e.message.status == "done"
    ]


def test_the_window_stays_responsive_and_answers_while_its_api_is_flooded(
    ctx: Context, qtbot: QtBot, tiny_model: Path
) -> None:
    """The desktop serves its API from a thread of the window's own process: during a
    flood the window's event loop keeps turning, and its own chat answers."""
    ctx.store.set_setting("max_tokens", 8)
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.engine.modelLoaded, timeout=10_000):
            window.engine.load(tiny_model, LoadOptions(n_ctx=512))
        ctx.store.set_setting("api_server", True)
        ctx.store.set_setting("api_port", 0)
        assert window.api.apply_settings() is None
        url = window.api.url
        assert url is not None
        failures: list[str] = []
        window.engine.failed.connect(failures.append)
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(20)
        outcomes: list[Counter[tuple[str, int]]] = []
        kinds = (*CHATTY, "bad-json", "no-key", "rebound")
        flooding = threading.Thread(
            target=lambda: outcomes.append(flood(url.removesuffix("/v1"), kinds, {}))
        )
        started = time.monotonic()
        flooding.start()
        chat = ctx.store.create_chat()
        with qtbot.waitSignal(window.engine.generationDone, timeout=60_000) as done:
            window.engine.send(chat.id, "Hello")
        qtbot.waitUntil(lambda: not flooding.is_alive(), timeout=120_000)
        ended = time.monotonic()
        timer.stop()
        during = [t for t in ticks if started <= t <= ended]
        gaps = [b - a for a, b in zip([started, *during], [*during, ended], strict=True)]
        assert during and max(gaps) < 10, f"the window's loop stalled {max(gaps):.1f} s"
        assert failures == [] and done.args[0].answer, "the window's own chat answered"
        assert {status for _, status in outcomes[0]} <= {200, 400, 403, 503}, outcomes
        assert window.isVisible()
    finally:
        window.shutdown()
