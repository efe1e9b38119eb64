"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face Hub, for tests.

It speaks the part of the hub's API that huggingface_hub 2.x calls for models:
search (``GET /api/models``, cursor pages in a ``Link`` header), model info
(``/api/models/{id}[/revision/{rev}]``, with ``blobs=true`` sizes), the file tree
(``/api/models/{id}/tree/{rev}[/{path}]``, paginated), ``paths-info``, and file
bytes (``HEAD``/``GET /{id}/resolve/{rev}/{path}``, with ``Range``, ETags, the LFS
headers, gating and the hub's ``X-Error-Code`` errors). Tests can make it drop a
connection mid-file, answer errors, serve corrupt bytes, and read what it was asked.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest

_CHUNK = 64 * 1024
_LFS_SUFFIXES = (".gguf",)
_LIST_FIELDS = (  # what /api/models returns for each model when no `expand` is given
    "_id", "id", "likes", "trendingScore", "private", "downloads", "tags",
    "pipeline_tag", "library_name", "createdAt", "modelId",
)  # fmt: skip
_SORT_KEYS = {"downloads", "likes", "trendingScore", "lastModified", "createdAt"}
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookups (keys are stored lower-cased)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class _File:
    path: str
    data: bytes
    lfs: bool
    sha256: str
    git_oid: str  # sha1 of the git blob: the file itself, or its LFS pointer
    pointer_size: int

    @classmethod
    def make(cls, path: str, data: bytes) -> _File:
        sha256 = hashlib.sha256(data).hexdigest()
        lfs = path.endswith(_LFS_SUFFIXES)
        pointer = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n"
        ).encode()
        blob = pointer if lfs else data
        git_oid = hashlib.sha1(b"blob %d\0" % len(blob) + blob).hexdigest()
        return cls(path, data, lfs, sha256, git_oid, len(pointer))

    def entry(self, *, sibling: bool = False) -> dict[str, Any]:
        """This file as the tree / paths-info endpoints list it (or as a blobs=true sibling)."""
        if sibling:
            out: dict[str, Any] = {"rfilename": self.path, "blobId": self.git_oid}
            out["size"] = len(self.data)
            if self.lfs:
                out["lfs"] = {
                    "sha256": self.sha256,
                    "size": len(self.data),
                    "pointerSize": self.pointer_size,
                }
            return out
        out = {"type": "file", "oid": self.git_oid, "size": len(self.data), "path": self.path}
        if self.lfs:
            out["lfs"] = {
                "oid": self.sha256,
                "size": len(self.data),
                "pointerSize": self.pointer_size,
            }
        return out


@dataclass
class _Repo:
    repo_id: str
    files: dict[str, _File]
    downloads: int
    likes: int
    trending: int
    last_modified: str
    gguf: dict[str, object] | None
    gated: bool
    tags: list[str]
    sha: str = ""
    created_at: str = "2025-06-01T00:00:00.000Z"
    extra: dict[str, Any] = field(default_factory=dict)

    def info(self, *, blobs: bool = False) -> dict[str, Any]:
        author = self.repo_id.split("/", 1)[0]
        out: dict[str, Any] = {
            "_id": hashlib.md5(self.repo_id.encode()).hexdigest()[:24],
            "id": self.repo_id,
            "modelId": self.repo_id,
            "author": author,
            "sha": self.sha,
            "lastModified": self.last_modified,
            "createdAt": self.created_at,
            "private": False,
            "gated": "auto" if self.gated else False,
            "disabled": False,
            "downloads": self.downloads,
            "likes": self.likes,
            "trendingScore": self.trending,
            "library_name": "gguf" if "gguf" in self.tags else None,
            "tags": list(self.tags),
            "pipeline_tag": "text-generation",
            "cardData": {"tags": list(self.tags)},
            "siblings": [
                f.entry(sibling=True) if blobs else {"rfilename": f.path}
                for f in sorted(self.files.values(), key=lambda f: f.path)
            ],
            "spaces": [],
            "usedStorage": sum(len(f.data) for f in self.files.values()),
        }
        if self.gguf is not None:
            out["gguf"] = dict(self.gguf)
        return out

    def folders(self) -> set[str]:
        names: set[str] = set()
        for path in self.files:
            parts = path.split("/")[:-1]
            names.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return names

    def folder_entry(self, path: str) -> dict[str, Any]:
        oid = hashlib.sha1(f"tree {self.repo_id} {path}".encode()).hexdigest()
        return {"type": "directory", "oid": oid, "path": path}

    def children(self, folder: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = f"{folder}/" if folder else ""
        out: list[dict[str, Any]] = []
        for name in sorted(self.folders()):
            if name.startswith(prefix) and (recursive or "/" not in name[len(prefix) :]):
                out.append(self.folder_entry(name))
        for path in sorted(self.files):
            if path.startswith(prefix) and (recursive or "/" not in path[len(prefix) :]):
                out.append(self.files[path].entry())
        return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    hub: FakeHub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real hub; every answer has a length
    disable_nagle_algorithm = True  # no 40 ms wait (Nagle + delayed ACK) on every answer
    timeout = 30  # an idle kept-alive connection ends after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.hub._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.hub._closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.hub._handle(self, "GET")

    def do_HEAD(self) -> None:
        self.server.hub._handle(self, "HEAD")

    def do_POST(self) -> None:
        self.server.hub._handle(self, "POST")


class FakeHub:
    """A Hugging Face Hub stand-in on 127.0.0.1, started with ``start()`` or ``with``."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._bytes_served: dict[str, int] = {}
        self.cut_after: dict[str, int] = {}
        self.fail_next: dict[str, list[int]] = {}
        self.corrupt: set[str] = set()
        self.token: str | None = None
        self.delay = 0.0  # seconds to wait before answering each request (a slow hub)
        self.pace = 0.0  # seconds to wait after each 64 KiB of a file's body (a slow line)
        # Path prefix -> a function that answers those requests itself (hostile answers).
        self.hostile: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.held = 0  # requests that have waited for release_answers() so far
        self._answering = threading.Event()
        self._answering.set()
        # The hub's page sizes (1000 models or tree entries); lower them to test paging.
        self.models_page_size = 1000
        self.tree_page_size = 1000
        self._repos: dict[str, _Repo] = {}
        self._lock = threading.Lock()
        # Requests being answered right now: what the hub served is read once they are done.
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------ set-up
    def add_model(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        downloads: int = 0,
        likes: int = 0,
        trending: int = 0,
        last_modified: str = "2026-01-01T00:00:00.000Z",
        gguf: dict[str, object] | None = None,
        gated: bool = False,
        readme: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Add (or replace) a model repository; ``README.md`` is added when ``readme`` is given."""
        contents = dict(files)
        if readme is not None:
            contents["README.md"] = readme.encode()
        all_tags = list(tags or [])
        if any(p.endswith(".gguf") for p in contents) and "gguf" not in all_tags:
            all_tags.insert(0, "gguf")  # the hub tags repos holding GGUF files itself
        repo = _Repo(
            repo_id=repo_id,
            files={p: _File.make(p, data) for p, data in contents.items()},
            downloads=downloads,
            likes=likes,
            trending=trending,
            last_modified=last_modified,
            gguf=gguf,
            gated=gated,
            tags=all_tags,
            sha=hashlib.sha1(f"commit {repo_id}".encode()).hexdigest(),
        )
        with self._lock:
            self._repos[repo_id] = repo

    @property
    def bytes_served(self) -> dict[str, int]:
        """Body bytes sent per ``"repo_id/filename"``, once no request is being answered.

        A client has the last bytes of a response before the handler thread that wrote
        them has counted them, so this waits for every handler to finish (at most ten
        seconds) rather than read a count that is still moving.
        """
        self.wait_idle()
        with self._lock:
            return dict(self._bytes_served)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being answered (AssertionError after ``timeout``)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout):
                raise AssertionError(
                    f"the fake hub was still answering {self._in_flight} request(s) "
                    f"after {timeout} s"
                )

    def hold_answers(self) -> None:
        """Requests from now on wait, unanswered, until ``release_answers()`` (or 30 s):
        a hub that does not answer, for as long as a test needs, with no timing guess."""
        self._answering.clear()

    def release_answers(self) -> None:
        self._answering.set()

    def commit(self, repo_id: str) -> str:
        """The fixed commit sha the repository's ``main`` points at."""
        return self._repos[repo_id].sha

    def content(self, repo_filename: str) -> bytes:
        """The true bytes of ``"repo_id/filename"`` (what the advertised sha256 is of)."""
        repo_id, path = self._split_key(repo_filename)
        return self._repos[repo_id].files[path].data

    def sha256(self, repo_filename: str) -> str:
        repo_id, path = self._split_key(repo_filename)
        return self._repos[repo_id].files[path].sha256

    def resolve_requests(self, repo_filename: str) -> list[dict[str, str]]:
        """Headers of every GET of that file's ``/resolve/`` URL, in order."""
        repo_id, path = self._split_key(repo_filename)
        out = []
        with self._lock:
            logged = list(self.requests)
        for method, target, headers in logged:
            parsed = _parse_resolve(urlsplit(target).path)
            if method == "GET" and parsed is not None and parsed[::2] == (repo_id, path):
                out.append(headers)
        return out

    def _split_key(self, repo_filename: str) -> tuple[str, str]:
        owner, name, path = repo_filename.split("/", 2)
        return f"{owner}/{name}", path

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeHub:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.hub = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (kept-alive ones too)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._answering.set()  # held requests end now
        server.shutdown()
        server.server_close()
        with self._lock:
            open_now = list(self._connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    # ------------------------------------------------------------ routing
    def _handle(self, h: _Handler, method: str) -> None:
        with self._lock:
            self._in_flight += 1
        try:
            self._route(h, method)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _route(self, h: _Handler, method: str) -> None:
        headers = Headers(h.headers.items())
        with self._lock:
            self.requests.append((method, h.path, headers))
            holding = not self._answering.is_set()
            if holding:
                self.held += 1
        if holding:
            self._answering.wait(timeout=30)
        if self.delay:
            time.sleep(self.delay)
        split = urlsplit(h.path)
        query = parse_qs(split.query, keep_blank_values=True)
        body = b""
        if method == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            body = h.rfile.read(length) if length else b""
        parts = split.path.split("/")
        try:
            for prefix, answer in list(self.hostile.items()):
                if split.path.startswith(prefix):
                    answer(h)  # the test's own (hostile) answer for these paths
                    return
            if split.path.startswith("/api/models"):
                if method == "HEAD":
                    self._error(h, 405, "Method not allowed")
                    return
                self._api(h, method, parts[3:], query, body, headers)
                return
            resolve = _parse_resolve(split.path)
            if resolve is not None and method in ("GET", "HEAD"):
                self._resolve(h, method, *resolve, headers)
                return
            self._error(h, 404, "Not found")
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _api(
        self,
        h: _Handler,
        method: str,
        parts: list[str],
        query: dict[str, list[str]],
        body: bytes,
        headers: Headers,
    ) -> None:
        if not parts or parts == [""]:
            if method != "GET":
                self._error(h, 405, "Method not allowed")
                return
            self._list_models(h, query)
            return
        if len(parts) < 2:
            self._error(h, 404, "Not found")
            return
        repo = self._repos.get(f"{unquote(parts[0])}/{unquote(parts[1])}")
        if repo is None:
            self._error(h, 404, "Repository not found", code="RepoNotFound")
            return
        rest = parts[2:]
        if method == "GET" and not rest:
            self._model_info(h, repo, "main", query)
            return
        if method == "GET" and len(rest) == 2 and rest[0] == "revision":
            self._model_info(h, repo, unquote(rest[1]), query)
            return
        if method == "GET" and len(rest) >= 2 and rest[0] == "tree":
            path = unquote("/".join(rest[2:])).strip("/")
            self._tree(h, repo, unquote(rest[1]), path, query)
            return
        if method == "POST" and len(rest) == 2 and rest[0] == "paths-info":
            self._paths_info(h, repo, unquote(rest[1]), body, headers)
            return
        self._error(h, 404, "Not found")

    # ------------------------------------------------------------ API answers
    def _list_models(self, h: _Handler, query: dict[str, list[str]]) -> None:
        search = _one(query, "search").lower()
        tags = query.get("filter", []) + query.get("filter[]", [])
        author = _one(query, "author")
        sort = _one(query, "sort") or "trendingScore"
        if sort not in _SORT_KEYS:
            self._error(h, 400, f"Invalid sort parameter: {sort}")
            return
        descending = _one(query, "direction") != "1"
        expand = query.get("expand", []) + query.get("expand[]", [])
        try:
            limit = int(_one(query, "limit") or self.models_page_size)
            offset = _cursor_offset(_one(query, "cursor"))
        except ValueError:
            self._error(h, 400, "Invalid limit or cursor")
            return
        page_size = max(1, min(limit, self.models_page_size))

        with self._lock:
            repos = list(self._repos.values())
        matches = [
            r.info()
            for r in repos
            if search in r.repo_id.lower()
            and all(t in r.tags for t in tags)
            and (not author or r.repo_id.split("/")[0] == author)
        ]
        matches.sort(key=lambda m: m["id"])
        matches.sort(key=lambda m: m[sort], reverse=descending)
        page = matches[offset : offset + page_size]
        wanted = ("_id", "id", *expand) if expand else _LIST_FIELDS
        models = [{k: m[k] for k in wanted if k in m} for m in page]

        extra: dict[str, str] = {}
        if offset + page_size < len(matches):
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(("cursor", _make_cursor(offset + page_size)))
            extra["Link"] = f'<{self.url}/api/models?{urlencode(params)}>; rel="next"'
        self._json(h, 200, models, extra)

    def _model_info(
        self, h: _Handler, repo: _Repo, revision: str, query: dict[str, list[str]]
    ) -> None:
        if not self._known_revision(h, repo, revision):
            return
        info = repo.info(blobs=_true(_one(query, "blobs")))
        expand = query.get("expand", []) + query.get("expand[]", [])
        if expand:
            info = {k: info[k] for k in ("_id", "id", *expand) if k in info}
        self._json(h, 200, info)

    def _tree(
        self, h: _Handler, repo: _Repo, revision: str, path: str, query: dict[str, list[str]]
    ) -> None:
        if not self._known_revision(h, repo, revision):
            return
        if path and path not in repo.folders():
            if path in repo.files:  # the hub lists a file path as that one entry
                entries = [repo.files[path].entry()]
            else:
                self._error(h, 404, f"Entry not found: {path}", code="EntryNotFound")
                return
        else:
            entries = repo.children(path, _true(_one(query, "recursive")))
        if _true(_one(query, "expand")):
            entries = [self._expanded(repo, e) for e in entries]
        page_size = self.tree_page_size
        try:
            offset = _cursor_offset(_one(query, "cursor"))
        except ValueError:
            self._error(h, 400, "Invalid cursor")
            return
        extra: dict[str, str] = {}
        if offset + page_size < len(entries):
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(("cursor", _make_cursor(offset + page_size)))
            base = urlsplit(h.path).path
            extra["Link"] = f'<{self.url}{base}?{urlencode(params)}>; rel="next"'
        self._json(h, 200, entries[offset : offset + page_size], extra)

    def _paths_info(
        self, h: _Handler, repo: _Repo, revision: str, body: bytes, headers: Headers
    ) -> None:
        if not self._known_revision(h, repo, revision):
            return
        paths: list[str]
        expand = False
        if "json" in headers.get("content-type", ""):
            data = json.loads(body or b"{}")
            paths = list(data.get("paths", []))
            expand = bool(data.get("expand", False))
        else:
            form = parse_qs(body.decode(), keep_blank_values=True)
            paths = form.get("paths", []) + form.get("paths[]", [])
            expand = _true(_one(form, "expand"))
        folders = repo.folders()
        entries: list[dict[str, Any]] = []
        for path in paths:
            path = path.strip("/")
            if path in repo.files:
                entries.append(repo.files[path].entry())
            elif path in folders:
                entries.append(repo.folder_entry(path))
        if expand:
            entries = [self._expanded(repo, e) for e in entries]
        self._json(h, 200, entries)

    def _expanded(self, repo: _Repo, entry: dict[str, Any]) -> dict[str, Any]:
        commit = {"id": repo.sha, "title": "Upload files", "date": repo.last_modified}
        return {**entry, "lastCommit": commit}

    def _known_revision(self, h: _Handler, repo: _Repo, revision: str) -> bool:
        if revision in ("main", repo.sha):
            return True
        self._error(h, 404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return False

    # ------------------------------------------------------------ file bytes
    def _resolve(
        self, h: _Handler, method: str, repo_id: str, revision: str, path: str, headers: Headers
    ) -> None:
        key = f"{repo_id}/{path}"
        with self._lock:
            queued = self.fail_next.get(key)
            status = queued.pop(0) if queued else None
            if queued is not None and not queued:
                del self.fail_next[key]
        if status is not None:
            self._error(h, status, f"Injected error {status}", head=method == "HEAD")
            return
        repo = self._repos.get(repo_id)
        if repo is None:
            self._error(h, 404, "Repository not found", code="RepoNotFound", head=method == "HEAD")
            return
        if revision not in ("main", repo.sha):
            self._error(
                h,
                404,
                f"Invalid rev id: {revision}",
                code="RevisionNotFound",
                head=method == "HEAD",
            )
            return
        commit = {"X-Repo-Commit": repo.sha}
        if repo.gated and not self._allowed(h, repo, headers, head=method == "HEAD"):
            return
        file = repo.files.get(path)
        if file is None:
            self._error(
                h, 404, "Entry not found", code="EntryNotFound", extra=commit, head=method == "HEAD"
            )
            return

        data = file.data
        if key in self.corrupt and data:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
        size = len(data)
        out = {
            **commit,
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
            "ETag": f'"{file.sha256 if file.lfs else file.git_oid}"',
        }
        if file.lfs:
            out["X-Linked-Etag"] = f'"{file.sha256}"'
            out["X-Linked-Size"] = str(size)

        start, end = 0, size  # end exclusive
        status = 200
        wanted = headers.get("range")
        if wanted:
            match = _RANGE.match(wanted)
            if match is None or not (match[1] or match[2]):
                self._error(h, 416, "Invalid range", head=method == "HEAD", range_of=size)
                return
            if match[1]:
                start = int(match[1])
                end = min(size, int(match[2]) + 1) if match[2] else size
            else:  # a suffix: the last N bytes
                start = max(0, size - int(match[2]))
            if start >= size or start >= end:
                self._error(h, 416, "Range Not Satisfiable", head=method == "HEAD", range_of=size)
                return
            status = 206
            out["Content-Range"] = f"bytes {start}-{end - 1}/{size}"

        h.send_response(status)
        for name, value in out.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(end - start))
        h.end_headers()
        if method == "HEAD":
            return
        with self._lock:
            cut = self.cut_after.pop(key, None)
        self._send_body(h, key, memoryview(data)[start:end], cut)

    def _allowed(self, h: _Handler, repo: _Repo, headers: Headers, *, head: bool) -> bool:
        auth = headers.get("authorization", "")
        if not auth:
            self._error(
                h,
                401,
                f"Access to model {repo.repo_id} is restricted. You must have access to it"
                " and be authenticated to access it. Please log in.",
                code="GatedRepo",
                head=head,
            )
            return False
        if self.token is None or auth != f"Bearer {self.token}":
            self._error(
                h,
                403,
                f"Access to model {repo.repo_id} is restricted and you are not in the authorized"
                f" list. Visit {self.url}/{repo.repo_id} to ask for access.",
                code="GatedRepo",
                head=head,
            )
            return False
        return True

    def _send_body(self, h: _Handler, key: str, body: memoryview, cut: int | None) -> None:
        limit = len(body) if cut is None else min(cut, len(body))
        sent = 0
        try:
            while sent < limit:
                step = min(_CHUNK, limit - sent)
                h.wfile.write(body[sent : sent + step])
                sent += step
                if self.pace:
                    time.sleep(self.pace)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True
        finally:
            with self._lock:
                self._bytes_served[key] = self._bytes_served.get(key, 0) + sent
        if cut is not None:  # end the connection short of the promised length
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------ helpers
    def _json(
        self, h: _Handler, status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)

    def _error(
        self,
        h: _Handler,
        status: int,
        message: str,
        *,
        code: str | None = None,
        extra: dict[str, str] | None = None,
        head: bool = False,
        range_of: int | None = None,
    ) -> None:
        body = json.dumps({"error": message}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("X-Error-Message", message)
        if code is not None:
            h.send_header("X-Error-Code", code)
        if range_of is not None:
            h.send_header("Content-Range", f"bytes */{range_of}")
        for name, value in (extra or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)


def _parse_resolve(path: str) -> tuple[str, str, str] | None:
    """``/{owner}/{name}/resolve/{rev}/{file}`` -> (repo_id, revision, file), else None."""
    parts = path.split("/")
    if len(parts) < 6 or parts[0] != "" or parts[3] != "resolve":
        return None
    filename = unquote("/".join(parts[5:]))
    if not filename:
        return None
    return f"{unquote(parts[1])}/{unquote(parts[2])}", unquote(parts[4]), filename


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[0] if values else ""


def _true(value: str) -> bool:
    return value.lower() in ("1", "true", "yes")


def _make_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _cursor_offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(cursor) from exc
    if offset < 0:
        raise ValueError(cursor)
    return offset


def isolate_huggingface_hub(monkeypatch: pytest.MonkeyPatch, home: Path, endpoint: str) -> None:
    """Point huggingface_hub at ``endpoint`` with an empty home: no real token, cache or telemetry.

    huggingface_hub reads its paths when it is imported, so the module constants are
    patched as well as the environment: its default endpoint too, so code that forgets
    to pass ``endpoint=`` still reaches this server rather than huggingface.co.
    """
    from huggingface_hub import constants

    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(
        constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        endpoint + "/{repo_id}/resolve/{revision}/{filename}",
    )
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
