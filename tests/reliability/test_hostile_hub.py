"""Hostile hub data: file names that climb out of the models folder, sizes and checksums
that lie, answers that never end or are not the JSON they claim, and redirects to other
hosts are refused in words within a bounded time; nothing is written outside the models
folder, no bad file is listed as a model, and the hub token never goes to another host.

`hearth` runs as users run it, against the stand-in hub (a real HTTP server on loopback)
whose answers the test makes hostile."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.app.conftest import fake_hub  # noqa: F401 (fixture)
from tests.reliability.killing import read_only
from tests.reliability.scale import count
from tests.support.fake_hub import FakeHub
from tests.support.gguf_builder import write_tiny_model

HEARTH = str(Path(sys.executable).parent / "hearth")
TOKEN = "hf_tokenForTheHubOnly"
REPO = "acme/Hostile-GGUF"
FILE = "hostile.Q4_K_M.gguf"


class Cli:
    def __init__(self, hub: FakeHub, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"),
                    "HF_TOKEN": TOKEN, "HEARTH_NO_STARTER": "1"}  # fmt: skip

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run([HEARTH, "--home", str(self.home), *args], capture_output=True,
                                text=True, timeout=timeout, check=False, env=self.env)  # fmt: skip
        self.seconds = time.monotonic() - started
        assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, (
            result.stderr
        )
        return result

    def models(self) -> list[str]:
        listed = self("models", "list", "--json", "--local")
        return [Path(m["path"]).name for m in json.loads(listed.stdout)]


@pytest.fixture
def cli(fake_hub: FakeHub, tmp_path: Path) -> Cli:  # noqa: F811
    return Cli(fake_hub, tmp_path)


Answer = Callable[[BaseHTTPRequestHandler], None]


def answer_with(status: int, body: bytes, content_type: str = "application/json",
                headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return answer


def never_ending(h: BaseHTTPRequestHandler) -> None:
    """Headers, the start of a JSON list, then a trickle that never finishes."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.end_headers()
    h.wfile.write(b"[")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            h.wfile.write(b" ")
            h.wfile.flush()
        except OSError:
            return
        time.sleep(0.5)


def test_file_names_that_climb_out_are_refused(
    cli: Cli,
    fake_hub: FakeHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    model = write_tiny_model(tmp_path / "m.gguf").read_bytes()
    names = ["../../evil.gguf", "/etc/evil.gguf", "a/../../b.gguf", "..\\evil.gguf",
             "C:/evil.gguf", "ok/\x01evil.gguf", "x" * 300 + ".gguf"]  # fmt: skip
    fake_hub.add_model(REPO, dict.fromkeys(names, model))
    before = set(tmp_path.rglob("*"))
    listing = cli("models", "files", REPO)
    assert listing.returncode in (0, 1)
    for name in names:
        pulled = cli("models", "pull", REPO, name)
        assert pulled.returncode != 0, name
        assert "Refusing to download" in pulled.stderr or "name" in pulled.stderr.lower(), (
            name, pulled.stderr)  # fmt: skip
    written = set(tmp_path.rglob("*")) - before
    models = cli.home / "models"
    assert all(models in p.parents or p == models or cli.home in p.parents or p == cli.home
               or (tmp_path / "hf") in p.parents or p == tmp_path / "hf"
               for p in written), written  # fmt: skip
    assert not list(tmp_path.rglob("*evil*"))
    assert cli.models() == []


def test_sizes_and_checksums_that_lie_are_refused(
    cli: Cli,
    fake_hub: FakeHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    model = write_tiny_model(tmp_path / "m.gguf").read_bytes() + random.randbytes(1 << 20)
    fake_hub.add_model(REPO, {FILE: model, "short.gguf": model, "more.gguf": model})
    fake_hub.corrupt.add(f"{REPO}/{FILE}")  # the bytes do not match the sha256 it lists
    lied = cli("models", "pull", REPO, FILE)
    assert lied.returncode != 0 and "sha256 does not match" in lied.stderr
    fake_hub.cut_after[f"{REPO}/short.gguf"] = 5000  # ends far short of the size it said
    short = cli("models", "pull", REPO, "short.gguf")  # the rest is asked for with a Range
    assert short.returncode == 0
    assert fake_hub.resolve_requests(f"{REPO}/short.gguf")[-1]["range"] == "bytes=5000-"
    # Says 1 MB in the listing and Content-Length, then sends ten times more in chunks.
    body = f"/{REPO}/resolve/{fake_hub.commit(REPO)}/more.gguf"  # where the bytes come from
    fake_hub.hostile[body] = flood_past(len(model), fake_hub)
    more = cli("models", "pull", REPO, "more.gguf")
    assert more.returncode != 0
    assert "sent more of more.gguf than the" in more.stderr
    assert not list(cli.home.rglob("*.part"))  # the bytes of another file are thrown away
    assert cli.models() == ["short.gguf"]
    rows = read_only(cli.home / "hearth.db", "SELECT filename, status FROM downloads")
    assert ("hostile.Q4_K_M.gguf", "done") not in rows and ("more.gguf", "done") not in rows


def flood_past(size: int, hub: FakeHub) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("X-Repo-Commit", hub.commit(REPO))
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        if h.command == "HEAD":
            return
        chunk = b"\0" * 65536
        try:
            for _ in range(10 * size // len(chunk)):
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        answer_with(200, b"{not json"),
        answer_with(200, b'{"models": "a dict, not a list"}'),
        answer_with(200, b'[{"id": 5, "downloads": "many", "siblings": 7}]'),
        answer_with(200, b"[" + b'{"id": "x/y", "downloads": 1e999},' * 3 + b"{}]"),
        answer_with(200, b"<html><body>Welcome to the captive portal</body></html>", "text/html"),
        answer_with(502, b"<html>Bad gateway</html>", "text/html"),
        never_ending,
    ],
    ids=["broken", "wrong-shape", "wrong-types", "huge-numbers", "html", "502", "never-ends"],
)
def test_search_answers_that_are_not_what_they_claim(
    answer: Callable[[BaseHTTPRequestHandler], None],
    cli: Cli,
    fake_hub: FakeHub,  # noqa: F811
) -> None:
    fake_hub.hostile["/api/models"] = answer
    searched = cli("models", "search", "qwen", timeout=180)
    assert searched.returncode in (0, 1)
    said = searched.stdout + searched.stderr
    assert said.strip(), "nothing was said"
    assert cli.seconds < 90  # bounded: the hub client gives up, in words


class OtherHost:
    """Another server (another origin: its own port), recording the headers it is sent."""

    def __init__(self, body: bytes) -> None:
        self.seen: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other_host(tmp_path: Path) -> Iterator[OtherHost]:
    host = OtherHost(write_tiny_model(tmp_path / "other.gguf").read_bytes())
    yield host
    host.stop()


def test_redirects_to_other_hosts_never_carry_the_token(
    cli: Cli,
    fake_hub: FakeHub,  # noqa: F811
    other_host: OtherHost,
    tmp_path: Path,
) -> None:
    data = write_tiny_model(tmp_path / "other.gguf").read_bytes()
    fake_hub.add_model(REPO, {FILE: data, "loop.gguf": data, "file.gguf": data})
    where = {"Location": f"{other_host.url}/cdn/{FILE}"}
    fake_hub.hostile[f"/{REPO}/resolve/main/{FILE}"] = answer_with(302, b"", headers=where)
    moved = cli("models", "pull", REPO, FILE)
    assert other_host.seen, "the redirect was not followed"
    assert all("authorization" not in headers for headers in other_host.seen)
    assert TOKEN not in json.dumps(other_host.seen)
    assert moved.returncode in (0, 1)
    loop = {"Location": f"{fake_hub.url}/{REPO}/resolve/main/loop.gguf"}
    fake_hub.hostile[f"/{REPO}/resolve/main/loop.gguf"] = answer_with(302, b"", headers=loop)
    looped = cli("models", "pull", REPO, "loop.gguf")
    assert looped.returncode != 0 and "redirect" in looped.stderr.lower()
    local = {"Location": "file:///etc/passwd"}
    fake_hub.hostile[f"/{REPO}/resolve/main/file.gguf"] = answer_with(302, b"", headers=local)
    to_file = cli("models", "pull", REPO, "file.gguf")
    assert to_file.returncode != 0
    assert not [p for p in cli.home.rglob("*") if p.is_file() and b"root:" in p.read_bytes()]
    assert "loop.gguf" not in cli.models() and "file.gguf" not in cli.models()


def test_fuzzed_hub_answers_are_decoded_or_refused(
    cli: Cli,
    fake_hub: FakeHub,  # noqa: F811
) -> None:
    rng = random.Random(15)
    found = {"id": "acme/Tiny-GGUF", "downloads": 5, "likes": 1, "tags": ["gguf"],
             "lastModified": "2026-01-01T00:00:00.000Z"}  # fmt: skip
    valid = json.dumps([found]).encode()
    for _ in range(count(full=60, quick=6)):
        damaged = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        fake_hub.hostile["/api/models"] = answer_with(200, bytes(damaged))
        searched = cli("models", "search", "tiny")
        assert searched.returncode in (0, 1)
