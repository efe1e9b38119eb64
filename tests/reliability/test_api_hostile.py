"""The local API under attack, on a real uvicorn server on loopback answering with a
real tiny model: the key is enforced on every endpoint, bodies are bounded before they
are read, web pages cannot use it (CORS closed, foreign origins and rebound host names
refused), and a flood of bounded requests leaves it answering."""

from __future__ import annotations

import hmac
import json
import random
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from app.api.host import ModelHost
from app.api.server import ServerOptions
from app.models.library import Library
from app.store import Store
from tests.app.api.test_server import Served
from tests.reliability.scale import count

KEY = "sk-hearth-reliability"
FLOOD = count(full=500, quick=60)
MODEL = "tiny-llama"  # the name the library gives the test model (checked below)
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
ENDPOINTS = [
    ("GET", "/v1/models", None),
    ("POST", "/v1/chat/completions", CHAT),
    ("POST", "/v1/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 2}),
    ("POST", "/v1/embeddings", {"model": MODEL, "input": "Hi"}),
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
    server = Served(host, ServerOptions(max_body_bytes=64_000))
    yield server
    server.stop()


def test_the_key_is_enforced_on_every_endpoint(
    keyed: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append(a)
        return real(a, b)

    monkeypatch.setattr("app.api.server.hmac.compare_digest", spy)
    wrong = [{}, {"Authorization": "Bearer sk-hearth-reliabilitx"},
             {"Authorization": "Bearer sk-hearth"}, {"Authorization": KEY},
             {"Authorization": "Basic " + KEY}, {"x-api-key": KEY[:-1]}]  # fmt: skip
    for method, path, body in ENDPOINTS:
        for headers in wrong:
            refused = httpx.request(method, keyed.url + path, json=body, headers=headers)
            assert refused.status_code == 401, (path, headers)
            assert "error" in refused.json() and "Traceback" not in refused.text
        in_query = httpx.request(method, f"{keyed.url}{path}?api_key={KEY}", json=body)
        assert in_query.status_code == 401  # a key in the URL ends up in logs: not taken
    assert all(isinstance(a, bytes) for a in compared) and len(compared) >= 5 * len(wrong)
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"x-api-key": KEY}):
        assert httpx.get(keyed.url + "/v1/models", headers=headers).status_code == 200


def raw_request(url: str, head: str, body: bytes = b"", read: int = 4096) -> bytes:
    """Send bytes as they are (a lying Content-Length, a body that never ends) and return
    the start of what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        return sock.recv(read)


def test_bodies_over_the_limit_are_refused_before_they_are_read(open_loopback: Served) -> None:
    url = open_loopback.url
    claims_a_gigabyte = raw_request(
        url, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000000000\r\n", b"{"
    )  # fmt: skip
    assert claims_a_gigabyte.startswith(b"HTTP/1.1 413")
    big = httpx.post(url + "/v1/chat/completions", content=b"[" + b"1," * 200_000 + b"1]")
    assert big.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked, and over the limit
        for _ in range(100):
            yield b" " * 10_000

    chunked = httpx.post(url + "/v1/chat/completions", content=chunks())
    assert chunked.status_code == 413
    assert httpx.get(url + "/v1/models").status_code == 200


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
    rebound = httpx.post(url, json=CHAT, headers={"Host": "evil.example"})
    assert rebound.status_code == 403
    assert httpx.post(url, json=CHAT, headers={"Host": "localhost"}).status_code == 200
    allowed = Served(host, ServerOptions(cors_origins=["http://localhost:3000"]))
    try:
        page = httpx.post(allowed.url + "/v1/chat/completions", json=CHAT,
                          headers={"Origin": "http://localhost:3000"})  # fmt: skip
        assert page.status_code == 200
        assert page.headers["access-control-allow-origin"] == "http://localhost:3000"
    finally:
        allowed.stop()


def test_a_flood_of_requests_leaves_it_answering(keyed: Served) -> None:
    url = keyed.url
    auth = {"Authorization": f"Bearer {KEY}"}
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def one(i: int) -> None:
        kind = random.Random(i).choice(["chat", "stream", "bad-json", "too-big", "no-key",
                                        "hang-up"])  # fmt: skip
        with httpx.Client(base_url=url, timeout=120) as client:
            if kind == "chat":
                status = client.post("/v1/chat/completions", json=CHAT, headers=auth).status_code
            elif kind == "stream":
                streamed = {**CHAT, "stream": True, "max_tokens": 8}
                with client.stream("POST", "/v1/chat/completions", headers=auth,
                                   json=streamed) as r:  # fmt: skip
                    status = r.status_code
                    for _ in r.iter_bytes():
                        pass
            elif kind == "bad-json":
                status = client.post("/v1/chat/completions", content=b"{nope",
                                     headers=auth).status_code  # fmt: skip
            elif kind == "too-big":
                status = client.post("/v1/chat/completions", content=b"x" * 70_000,
                                     headers=auth).status_code  # fmt: skip
            elif kind == "no-key":
                status = client.post("/v1/chat/completions", json=CHAT).status_code
            else:  # starts a streamed answer and hangs up after the first bytes
                long = {**CHAT, "stream": True, "max_tokens": 64}
                with client.stream("POST", "/v1/chat/completions", headers=auth,
                                   json=long) as r:  # fmt: skip
                    status = r.status_code
                    next(r.iter_bytes(), None)
        with lock:
            statuses[status] += 1

    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(one, range(FLOOD)))
    assert sum(statuses.values()) == FLOOD
    assert set(statuses) <= {200, 400, 401, 413, 503}, statuses  # never a 500
    assert statuses[200] > 0 and statuses[503] > 0  # answered, and shed what it couldn't
    after = httpx.post(url + "/v1/chat/completions", json=CHAT, headers=auth, timeout=60)
    assert after.status_code == 200
    assert isinstance(after.json()["choices"][0]["message"]["content"], str)
