"""`hearth serve`: the library's models over HTTP, as OpenAI's and Anthropic's clients
expect them, on Starlette and uvicorn.

- ``GET /v1/models``, ``POST /v1/chat/completions`` (streamed as server-sent events
  or not; ``response_format`` JSON held to by a grammar), ``POST /v1/completions``
  (raw prompt text continued, no chat template) and ``POST /v1/embeddings``
  (the embedding model) in OpenAI's shape; ``POST /v1/messages`` (streamed events or not) in
  Anthropic's. Sampling fields, ``stop``, ``max_tokens``, ``seed``; usage reported.
- Errors in each API's own shape with the status codes their clients act on: 401 a
  missing or wrong key, 403 a web page, 404 an unknown model, 400 malformed JSON or a
  prompt longer than the context, 408 a body still arriving after ``body_seconds``,
  413 a body over the limit, 503 with Retry-After when the queue is full. Never a
  stack trace (a bug is logged and answered 500 in words).
- One answer at a time through a ``ModelHost``; a client that hangs up (mid-stream,
  or waiting for a whole answer) stops its generation within a token, or before it
  starts.
- Loopback by default; another address only with an API key (compared in constant
  time). CORS closed unless origins are allowed; web pages refused. Bodies limited in
  size and time; the rest of a refused body is dropped up to four times the limit (so
  the client hears why), past that the connection is closed and nothing more read.
- Each request is recorded (``RecentRequests``) when it has been answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import ipaddress
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.api.host import ModelHost, ModelNotLoaded, QueueFull, UnknownModel
from app.api.recent import RecentRequests, RequestRecord
from app.cancel import CancelToken
from app.engine.chat_format import Turn
from app.engine.events import (
    ContextTooSmall,
    ContextTrimmed,
    Event,
    GenerationDone,
    Sampling,
    TextDelta,
)
from app.errors import HearthError
from app.store import ModelEntry

log = logging.getLogger(__name__)

Dialect = Literal["openai", "anthropic"]
MAX_BODY_BYTES = 4 << 20
RETRY_AFTER_SECONDS = 5
BODY_SECONDS = 60.0  # a body still arriving after this is cut off (a client trickling it)
COMPLETION_MAX_TOKENS = 16  # /v1/completions without max_tokens writes this many, as OpenAI's


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


def _error_response(error: ApiError, dialect: Dialect) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if error.status == 503 else None
    if dialect == "anthropic":
        kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                 403: "permission_error", 413: "request_too_large", 503: "overloaded_error",
                 500: "api_error"}  # fmt: skip
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": kinds.get(error.status, "api_error"), "message": error.message},
        }
    else:
        body = {"error": {"message": error.message, "type": error.kind, "param": None,
                          "code": error.code}}  # fmt: skip
    return JSONResponse(body, status_code=error.status, headers=headers)


@dataclass
class ServerOptions:
    api_key: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    max_body_bytes: int = MAX_BODY_BYTES
    body_seconds: float = BODY_SECONDS
    recent: RecentRequests | None = None  # where each answered request is recorded


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _host_name(header: str) -> str:
    """The name in a Host header, without its port or an IPv6 address's brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0].rstrip(".")


def check_bind(host: str, api_key: str | None) -> None:
    """Loopback needs nothing; any other address is an explicit choice that needs a key."""
    if not _is_loopback(host) and not api_key:
        raise HearthError(
            f"Serving on {host} lets other computers use your models: give an API key "
            "(--api-key KEY) to do that, or serve on 127.0.0.1."
        )


# ------------------------------------------------------------------ one answer
Writer = Callable[[CancelToken], Generator[Event, None, None]]


class Run:
    """One answer generated on its own thread during the request's turn by ``write`` (the
    engine's generate or complete); its events are read from the event loop.
    ``cancel()`` stops it within a token."""

    _END = object()

    def __init__(self, host: ModelHost, entry: ModelEntry, write: Writer,
                 running: set[Run] | None = None):  # fmt: skip
        self.host, self.entry, self.write = host, entry, write
        self.token = CancelToken()
        self.done: GenerationDone | None = None
        self._running = running if running is not None else set()
        # Events cross to the event loop without a thread-pool hop per token.
        self.events: asyncio.Queue[object] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self.thread = threading.Thread(target=self._work, name="hearth-api-answer", daemon=True)

    def start(self) -> None:
        self._running.add(self)
        self.thread.start()

    async def begin(self) -> object:
        """Start the answer and wait for its first event (a failure before it is raised:
        the request is answered with an error, not a stream)."""
        self.start()
        first = await self.next()
        if isinstance(first, BaseException):
            raise first
        return first

    def _put(self, item: object) -> None:
        # RuntimeError: the server stopped and its loop is closed; nobody reads.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self.events.put_nowait, item)

    def cancel(self) -> None:
        self.token.cancel()

    def _work(self) -> None:
        try:
            with self.host.turn():
                if self.token.cancelled:
                    return
                self.host.ready(self.entry)
                answer = self.write(self.token)
                try:
                    for event in answer:
                        if isinstance(event, ContextTrimmed):  # an API answers all it was sent
                            raise ApiError(
                                400,
                                f"The messages take {event.prompt_tokens:,} tokens, more than "
                                f"the model's context of {event.n_ctx:,}. Send fewer or "
                                "shorter ones.",
                                "invalid_request_error",
                                "context_length_exceeded",
                            )
                        if isinstance(event, GenerationDone):
                            self.done = event
                        self._put(event)
                finally:
                    answer.close()
        except BaseException as exc:  # handed to the request, which answers in words
            self._put(exc)
        finally:
            self._running.discard(self)
            self._put(self._END)

    async def next(self) -> object:
        return await self.events.get()

    def next_now(self) -> object | None:
        """An event already waiting, or None (to send what has arrived in one piece)."""
        try:
            return self.events.get_nowait()
        except asyncio.QueueEmpty:
            return None


def _as_api_error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, QueueFull):
        return ApiError(503, str(exc), "server_error", "queue_full")
    if isinstance(exc, UnknownModel):
        return ApiError(404, str(exc), "invalid_request_error", "model_not_found")
    if isinstance(exc, ModelNotLoaded):
        return ApiError(400, str(exc), "invalid_request_error", "model_not_loaded")
    if isinstance(exc, ContextTooSmall):
        return ApiError(400, str(exc), "invalid_request_error", "context_length_exceeded")
    if isinstance(exc, HearthError):
        return ApiError(400, str(exc), "invalid_request_error")
    log.error("the API failed on a request", exc_info=exc)
    return ApiError(500, f"Hearth failed to answer ({type(exc).__name__}); see its log.",
                    "server_error")  # fmt: skip


# ------------------------------------------------------------------ requests
def _text(content: Any, where: str) -> str:
    """A message's content: a string, or a list of text blocks (both APIs allow it)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            else:
                raise ApiError(400, f"{where}: only text content is supported.",
                               "invalid_request_error")  # fmt: skip
        return "".join(parts)
    raise ApiError(400, f"{where}: content must be text.", "invalid_request_error")


def _turns(messages: Any, system: str | None = None) -> list[Turn]:
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list.", "invalid_request_error")
    turns: list[Turn] = [{"role": "system", "content": system}] if system else []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in (
            "system", "developer", "user", "assistant",
        ):  # fmt: skip
            raise ApiError(400, f"messages[{index}] needs a role of system, user or assistant.",
                           "invalid_request_error")  # fmt: skip
        role = "system" if message["role"] == "developer" else str(message["role"])
        turns.append({"role": role, "content": _text(message.get("content"), f"messages[{index}]")})
    return turns


def _number(body: dict[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{name} must be a number.", "invalid_request_error")
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}.", "invalid_request_error")
    return kind(value)


def _sampling(host: ModelHost, body: dict[str, Any], *, stop_key: str, tokens_key: str,
              max_tokens: int | None = None) -> Sampling:  # fmt: skip
    """Sampling from the request, else the settings (``max_tokens``: the default length
    instead of the setting's)."""
    values: dict[str, Any] = {
        name: host.store.get_setting(name)
        for name in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed",
                     "max_tokens")
    }  # fmt: skip
    if max_tokens is not None:
        values["max_tokens"] = max_tokens
    bounds = (("temperature", float, 0, 5), ("top_p", float, 0, 1), ("min_p", float, 0, 1),
              ("top_k", int, 0, 100_000), ("repeat_penalty", float, 0.5, 2.5),
              ("seed", int, -1, 2**32 - 1))  # fmt: skip
    for name, kind, low, high in bounds:
        value = _number(body, name, kind, low, high)
        if value is not None:
            values[name] = value
    tokens = _number(body, tokens_key, int, 1, 1_048_576)
    if tokens is None:
        tokens = _number(body, "max_completion_tokens", int, 1, 1_048_576)
    if tokens is not None:
        values["max_tokens"] = tokens
    stop = body.get(stop_key)
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise ApiError(400, f"{stop_key} must be a string or a list of strings.",
                       "invalid_request_error")  # fmt: skip
    values["stop"] = tuple(stop or ())
    return Sampling.from_values(values)


def _output_grammar(fmt: Any) -> str | None:
    """The grammar a ``response_format`` asks for: any JSON object, or JSON following a
    schema; llama.cpp then only samples tokens that keep the output valid."""
    from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return str(JSON_GBNF)
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ApiError(400, "response_format json_schema needs json_schema.schema, an "
                           "object.", "invalid_request_error")  # fmt: skip
        try:
            return str(json_schema_to_gbnf(json.dumps(schema)))
        except Exception as exc:  # the converter raises what it likes on odd schemas
            raise ApiError(400, f"The JSON schema can't be followed ({exc}).",
                           "invalid_request_error") from None  # fmt: skip
    raise ApiError(400, "response_format type must be text, json_object or json_schema.",
                   "invalid_request_error")  # fmt: skip


def _finish(done: GenerationDone, dialect: Dialect) -> str:
    reason = done.stats.stop_reason
    if dialect == "anthropic":
        return {"max_tokens": "max_tokens", "context_full": "max_tokens",
                "stop_string": "stop_sequence"}.get(reason, "end_turn")  # fmt: skip
    return "length" if reason in ("max_tokens", "context_full") else "stop"


# ------------------------------------------------------------------ the app
@dataclass
class _Note:
    """What a request's record needs to know, filled in as it is answered."""

    model: str = ""
    run: Run | None = None
    prompt_tokens: int = 0

    def tokens(self) -> tuple[int, int]:
        done = self.run.done if self.run is not None else None
        if done is not None:
            return done.stats.prompt_tokens, done.stats.completion_tokens
        return self.prompt_tokens, 0


def build_app(host: ModelHost, options: ServerOptions | None = None) -> Starlette:
    """The API's app. ``app.state.running`` holds the answers being written (stopping a
    server cancels them)."""
    options = options or ServerOptions()
    running: set[Run] = set()

    key = options.api_key or None  # an empty key (an unset variable) is no key
    too_big = f"The request body is over {options.max_body_bytes:,} bytes."

    async def body_of(request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > options.max_body_bytes:
            raise ApiError(413, too_big, "invalid_request_error")
        raw = bytearray()
        try:
            async with asyncio.timeout(options.body_seconds):
                while not getattr(request.state, "body_read", False):
                    message = await request.receive()
                    if message["type"] == "http.disconnect":
                        raise ApiError(400, "The client hung up before sending its whole "
                                       "request.", "invalid_request_error")  # fmt: skip
                    raw += message.get("body", b"")
                    request.state.body_read = not message.get("more_body", False)
                    if len(raw) > options.max_body_bytes:
                        raise ApiError(413, too_big, "invalid_request_error")
        except TimeoutError:
            raise ApiError(408, f"The request body was still arriving after "
                           f"{options.body_seconds:g} s; send it at once.",
                           "invalid_request_error") from None  # fmt: skip
        try:
            body = json.loads(bytes(raw))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"The request body is not valid JSON ({exc}).",
                           "invalid_request_error") from None  # fmt: skip
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.", "invalid_request_error")
        return body

    async def dropped(request: Request) -> bool:
        """Read and drop the rest of a refused request's body, so that the client, still
        sending it, hears why (closing on unread data resets the connection, and the
        answer is lost with it). False when it is too much (over four times the limit),
        too slow or gone: then the connection is closed instead."""
        budget = 4 * options.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > budget:
            return False
        try:
            async with asyncio.timeout(options.body_seconds):
                while True:
                    message = await request.receive()
                    budget -= len(message.get("body", b""))
                    if message["type"] == "http.disconnect" or budget < 0:
                        return False
                    if not message.get("more_body", False):
                        return True
        except TimeoutError:
            return False

    def guard_browsers(request: Request) -> None:
        """Web pages the user visits must not use their models. A browser names the page's
        origin on every cross-site request: only origins the user allowed get in (CORS
        alone stops a page reading the answer, not sending the request). Without a key the
        server is loopback only, so a Host other than loopback is a page that rebound its
        own name to 127.0.0.1 (DNS rebinding) and is refused too."""
        origin = request.headers.get("origin")
        if origin is not None and not {origin, "*"} & set(options.cors_origins):
            raise ApiError(403, f"Requests from web pages ({origin}) are refused; allow that "
                           "origin in the API settings (CORS) to use it.",
                           "permission_error")  # fmt: skip
        if key is None:
            name = _host_name(request.headers.get("host", ""))
            if not _is_loopback(name):
                raise ApiError(403, f"Requests addressed to {name or 'no host'} are refused: "
                               "without an API key this server answers only loopback "
                               "(127.0.0.1, localhost).", "permission_error")  # fmt: skip

    def authorize(request: Request) -> None:
        if key is None:
            return
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise ApiError(401, "A valid API key is needed (Authorization: Bearer KEY).",
                           "invalid_request_error", "invalid_api_key")  # fmt: skip

    def record(request: Request, note: _Note, at: float, started: float, status: int) -> None:
        if options.recent is None:
            return
        client = request.client
        prompt, completion = note.tokens()
        options.recent.add(RequestRecord(
            at=at, client=f"{client.host}:{client.port}" if client else "", method=request.method,
            endpoint=request.url.path, model=note.model, prompt_tokens=prompt,
            completion_tokens=completion, duration_ms=(time.perf_counter() - started) * 1000,
            status=status,
        ))  # fmt: skip

    def endpoint(dialect: Dialect, handler: Callable[[Request], Any]) -> Callable[..., Any]:
        async def run(request: Request) -> Response:
            at, started = time.time(), time.perf_counter()
            note = request.state.note = _Note()
            try:
                guard_browsers(request)
                authorize(request)
                result: Response = await handler(request)
            except BaseException as exc:  # every failure answers in the API's words
                if isinstance(exc, asyncio.CancelledError):
                    raise
                result = _error_response(_as_api_error(exc), dialect)
            # Refused before the body was read: past what is worth dropping, closing stops
            # uvicorn reading (and dropping) the rest for as long as it comes.
            sent_body = {"content-length", "transfer-encoding"} & set(request.headers.keys())
            unread = sent_body and not getattr(request.state, "body_read", False)
            if unread and (result.status_code == 408 or not await dropped(request)):
                result.headers["connection"] = "close"
            if isinstance(result, StreamingResponse):
                body = result.body_iterator

                async def recorded() -> AsyncIterator[Any]:
                    try:
                        async for piece in body:
                            yield piece
                    finally:
                        record(request, note, at, started, result.status_code)

                result.body_iterator = recorded()
            else:
                record(request, note, at, started, result.status_code)
            return result

        return run

    async def models(_request: Request) -> Response:
        data = [{"id": m.name, "object": "model", "created": int(m.added_at),
                 "owned_by": "hearth", "context_length": host.context_length(m)}
                for m in host.served_models()]  # fmt: skip
        return JSONResponse({"object": "list", "data": data})

    async def answer(request: Request, dialect: Dialect) -> Response:
        body = await body_of(request)
        name = body.get("model")
        request.state.note.model = str(name or "")  # what was asked, until a model answers
        entry = host.find(str(name)) if name else host.default_model()
        request.state.note.model = entry.name
        if dialect == "openai":
            turns = _turns(body.get("messages"))
            sampling = _sampling(host, body, stop_key="stop", tokens_key="max_tokens")
            grammar = _output_grammar(body.get("response_format"))
            if grammar is not None:
                sampling = dataclasses.replace(sampling, grammar=grammar)
        else:
            if not isinstance(body.get("max_tokens"), int):
                raise ApiError(400, "max_tokens is required.", "invalid_request_error")
            system = body.get("system")
            turns = _turns(body.get("messages"), _text(system, "system") if system else None)
            sampling = _sampling(host, body, stop_key="stop_sequences", tokens_key="max_tokens")
        run = Run(host, entry, _generating(host, turns, sampling), running)
        request.state.note.run = run
        ident = f"{'chatcmpl' if dialect == 'openai' else 'msg'}-{uuid.uuid4().hex[:24]}"
        async with _stopped_on_hang_up(request, run):
            first = await run.begin()
            if body.get("stream"):
                events = _openai_stream if dialect == "openai" else _anthropic_stream
                return StreamingResponse(
                    events(run, first, ident, entry.name), media_type="text/event-stream",
                    headers={"Cache-Control": "no-cache"},
                )  # fmt: skip
            text, done = await _collect(run, first)
        if dialect == "openai":
            return JSONResponse({
                "id": ident, "object": "chat.completion", "created": int(time.time()),
                "model": entry.name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": _finish(done, dialect)}],
                "usage": _usage(done),
            })  # fmt: skip
        return JSONResponse({
            "id": ident, "type": "message", "role": "assistant", "model": entry.name,
            "content": [{"type": "text", "text": text}],
            "stop_reason": _finish(done, dialect), "stop_sequence": None,
            "usage": {"input_tokens": done.stats.prompt_tokens,
                      "output_tokens": done.stats.completion_tokens},
        })  # fmt: skip

    async def embeddings(request: Request) -> Response:
        body = await body_of(request)
        given = body.get("input")
        texts = [given] if isinstance(given, str) else given
        if not (isinstance(texts, list) and texts and all(isinstance(x, str) for x in texts)):
            raise ApiError(400, "input must be a string or a non-empty list of strings.",
                           "invalid_request_error")  # fmt: skip
        name = body.get("model")
        request.state.note.model = str(name or "")  # what was asked, until a model answers
        entry = host.embedding_model(str(name) if name else None)
        request.state.note.model = entry.name

        def work() -> tuple[list[list[float]], int]:
            with host.turn():
                return host.embed(entry, texts)

        vectors, tokens = await asyncio.to_thread(work)
        request.state.note.prompt_tokens = tokens
        return JSONResponse({
            "object": "list", "model": entry.name,
            "data": [{"object": "embedding", "index": i, "embedding": v}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })  # fmt: skip

    async def completions(request: Request) -> Response:
        body = await body_of(request)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1:
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise ApiError(400, "prompt must be a string (or a list of one string).",
                           "invalid_request_error")  # fmt: skip
        for many in ("n", "best_of"):
            if body.get(many) not in (None, 1):
                raise ApiError(400, f"{many}: Hearth writes one completion per request.",
                               "invalid_request_error")  # fmt: skip
        if body.get("logprobs") is not None:
            raise ApiError(400, "logprobs are not supported.", "invalid_request_error")
        if body.get("suffix"):
            raise ApiError(400, "suffix (fill in the middle) is not supported.",
                           "invalid_request_error")  # fmt: skip
        name = body.get("model")
        request.state.note.model = str(name or "")  # what was asked, until a model answers
        entry = host.find(str(name)) if name else host.default_model()
        request.state.note.model = entry.name
        sampling = _sampling(host, body, stop_key="stop", tokens_key="max_tokens",
                             max_tokens=COMPLETION_MAX_TOKENS)  # fmt: skip
        echo = prompt if body.get("echo") else ""

        def write(token: CancelToken) -> Generator[Event, None, None]:
            return host.engine.complete(prompt, sampling, session=host.session, cancel=token)

        run = Run(host, entry, write, running)
        request.state.note.run = run
        ident = f"cmpl-{uuid.uuid4().hex[:24]}"
        async with _stopped_on_hang_up(request, run):
            first = await run.begin()
            if body.get("stream"):
                return StreamingResponse(
                    _completion_stream(run, first, ident, entry.name, echo),
                    media_type="text/event-stream", headers={"Cache-Control": "no-cache"},
                )  # fmt: skip
            text, done = await _collect(run, first)
        return JSONResponse({
            "id": ident, "object": "text_completion", "created": int(time.time()),
            "model": entry.name,
            "choices": [{"text": echo + text, "index": 0, "logprobs": None,
                         "finish_reason": _finish(done, "openai")}],
            "usage": _usage(done),
        })  # fmt: skip

    async def openai_chat(request: Request) -> Response:
        return await answer(request, "openai")

    async def anthropic_messages(request: Request) -> Response:
        return await answer(request, "anthropic")

    routes = [
        Route("/v1/models", endpoint("openai", models), methods=["GET"]),
        Route("/v1/chat/completions", endpoint("openai", openai_chat), methods=["POST"]),
        Route("/v1/completions", endpoint("openai", completions), methods=["POST"]),
        Route("/v1/embeddings", endpoint("openai", embeddings), methods=["POST"]),
        Route("/v1/messages", endpoint("anthropic", anthropic_messages), methods=["POST"]),
    ]
    middleware = []
    if options.cors_origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=options.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-api-key", "anthropic-version"],
        ))  # fmt: skip
    app = Starlette(routes=routes, middleware=middleware)
    app.state.running = running
    return app


def _generating(host: ModelHost, turns: list[Turn], sampling: Sampling) -> Writer:
    def write(token: CancelToken) -> Generator[Event, None, None]:
        return host.engine.generate(turns, sampling, session=host.session, cancel=token)

    return write


@contextlib.asynccontextmanager
async def _stopped_on_hang_up(request: Request, run: Run) -> AsyncIterator[None]:
    """While a request waits for its turn or its whole answer, a client that hangs up
    cancels the answer (one still waiting never starts); a stream's own end does that
    once it is sent."""

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        run.cancel()

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()


def _usage(done: GenerationDone) -> dict[str, int]:
    prompt, completion = done.stats.prompt_tokens, done.stats.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}  # fmt: skip


async def _events(run: Run, first: object) -> AsyncIterator[object]:
    """The run's events from ``first`` on, answer text that arrived together joined into
    one piece (fewer, larger chunks when the client reads slower than the model writes);
    a failure mid-answer is raised."""
    event: object = first
    while event is not Run._END:
        if isinstance(event, BaseException):
            raise event
        following: object | None = None
        if isinstance(event, TextDelta):
            text = [event.text]
            while (following := run.next_now()) is not None:
                if not (isinstance(following, TextDelta) and following.kind == event.kind):
                    break
                text.append(following.text)
                following = None
            event = TextDelta(event.kind, "".join(text))
        yield event
        event = following if following is not None else await run.next()


async def _collect(run: Run, first: object) -> tuple[str, GenerationDone]:
    parts: list[str] = []
    done: GenerationDone | None = None
    async for event in _events(run, first):
        if isinstance(event, TextDelta) and event.kind == "answer":
            parts.append(event.text)
        elif isinstance(event, GenerationDone):
            done = event
    if done is None and run.token.cancelled:
        raise ApiError(503, "The answer was stopped before it began: the server is stopping, "
                       "or the client went away.", "server_error")  # fmt: skip
    if done is None:
        raise ApiError(500, "The answer ended without finishing.", "server_error")
    if done.error:
        raise ApiError(500, f"The answer failed: {done.error}", "server_error")
    return "".join(parts), done


def _sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def _openai_stream(run: Run, first: object, ident: str, model: str) -> AsyncIterator[bytes]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        return _sse({"id": ident, "object": "chat.completion.chunk", "created": created,
                     "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                     **extra})  # fmt: skip

    try:
        yield chunk({"role": "assistant", "content": ""})
        async for event in _events(run, first):
            if isinstance(event, TextDelta) and event.kind == "answer" and event.text:
                yield chunk({"content": event.text})
            elif isinstance(event, GenerationDone):
                yield chunk({}, _finish(event, "openai"), usage=_usage(event))
        yield b"data: [DONE]\n\n"
    except Exception as exc:  # headers are sent: the error goes in the stream
        error = _as_api_error(exc)
        yield _sse({"error": {"message": error.message, "type": error.kind, "code": error.code}})
    finally:
        run.cancel()  # a client that went away stops the answer within a token


async def _completion_stream(
    run: Run, first: object, ident: str, model: str, echo: str
) -> AsyncIterator[bytes]:
    created = int(time.time())

    def chunk(text: str, finish: str | None = None, **extra: Any) -> bytes:
        return _sse({"id": ident, "object": "text_completion", "created": created,
                     "model": model,
                     "choices": [{"text": text, "index": 0, "logprobs": None,
                                  "finish_reason": finish}], **extra})  # fmt: skip

    try:
        if echo:
            yield chunk(echo)
        async for event in _events(run, first):
            if isinstance(event, TextDelta) and event.text:
                yield chunk(event.text)
            elif isinstance(event, GenerationDone):
                yield chunk("", _finish(event, "openai"), usage=_usage(event))
        yield b"data: [DONE]\n\n"
    except Exception as exc:  # headers are sent: the error goes in the stream
        error = _as_api_error(exc)
        yield _sse({"error": {"message": error.message, "type": error.kind, "code": error.code}})
    finally:
        run.cancel()


async def _anthropic_stream(
    run: Run, first: object, ident: str, model: str
) -> AsyncIterator[bytes]:
    try:
        yield _sse({"type": "message_start", "message": {
            "id": ident, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0}}}, "message_start")  # fmt: skip
        block = {"type": "content_block_start", "index": 0,
                 "content_block": {"type": "text", "text": ""}}  # fmt: skip
        yield _sse(block, "content_block_start")
        async for event in _events(run, first):
            if isinstance(event, TextDelta) and event.kind == "answer" and event.text:
                yield _sse({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": event.text}},
                           "content_block_delta")  # fmt: skip
            elif isinstance(event, GenerationDone):
                yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
                yield _sse({"type": "message_delta",
                            "delta": {"stop_reason": _finish(event, "anthropic"),
                                      "stop_sequence": None},
                            "usage": {"input_tokens": event.stats.prompt_tokens,
                                      "output_tokens": event.stats.completion_tokens}},
                           "message_delta")  # fmt: skip
                yield _sse({"type": "message_stop"}, "message_stop")
    except Exception as exc:
        error = _as_api_error(exc)
        yield _sse({"type": "error", "error": {"type": "api_error", "message": error.message}},
                   "error")  # fmt: skip
    finally:
        run.cancel()


def serve(host: ModelHost, bind: str, port: int, options: ServerOptions,
          on_ready: Callable[[str], None] | None = None) -> None:  # fmt: skip
    """Run the server until interrupted (Ctrl+C)."""
    import uvicorn

    check_bind(bind, options.api_key)
    config = uvicorn.Config(build_app(host, options), host=bind, port=port, log_level="warning",
                            access_log=False, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(f"http://{bind}:{port}/v1")
    server.run()
