"""Talking to one OpenAI-compatible server: its model list, and answers streamed from
``/chat/completions`` as the engine's events, every failure said in words.

A remote model is named ``SERVER/MODEL`` (``bigbox/llama-3.1-70b``): the server's name
as the user added it, then the model id the server lists.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Generator, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2

from app.cancel import CancelToken
from app.engine.chat_format import Turn
from app.engine.events import (
    Event,
    GenerationDone,
    GenerationStats,
    Sampling,
    StopReason,
    TextDelta,
)
from app.errors import HearthError
from app.store import RemoteEndpoint

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 8192  # when the server does not say how long its context is
CONNECT_SECONDS = 5.0
READ_SECONDS = 300.0  # a big model on a busy server may think for a long while


class RemoteError(HearthError):
    """A remote server could not be reached or refused, in words."""


def split_reference(name: str) -> tuple[str, str] | None:
    """``SERVER/MODEL`` as (server, model id); None when ``name`` has no server part."""
    server, sep, model = name.partition("/")
    return (server, model) if sep and server and model else None


@dataclass(frozen=True)
class RemoteModel:
    """A model one server lists (``ModelFacts`` for the chat that uses it)."""

    server: str
    model: str
    n_ctx: int = DEFAULT_CONTEXT
    chat_source: str = "remote"

    @property
    def name(self) -> str:
        return f"{self.server}/{self.model}"


def _context_of(item: dict[str, Any]) -> int:
    """The context length a model entry states (vLLM, llama-server), else the default."""
    meta: dict[str, Any] = item["meta"] if isinstance(item.get("meta"), dict) else {}
    # The context the server runs with first; a model's training length last.
    for value in (item.get("context_length"), item.get("max_model_len"), meta.get("n_ctx"),
                  meta.get("n_ctx_train")):  # fmt: skip
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_CONTEXT


def _message_of(response: httpx2.Response) -> str:
    """The error message in a server's JSON answer (OpenAI's shape or a plain detail)."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if body.get("detail") or body.get("message"):
            return str(body.get("detail") or body.get("message"))
    return response.reason_phrase


class RemoteClient:
    """One server, with its key (sent as ``Authorization: Bearer``, never logged)."""

    def __init__(self, endpoint: RemoteEndpoint, key: str | None = None) -> None:
        self.endpoint = endpoint
        self._key = key

    @property
    def name(self) -> str:
        return self.endpoint.name

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _timeout(self, read: float = READ_SECONDS) -> httpx2.Timeout:
        return httpx2.Timeout(read, connect=CONNECT_SECONDS)

    def _refusal(self, response: httpx2.Response, model: str | None = None) -> RemoteError:
        status, message = response.status_code, _message_of(response)
        where = f"{self.name} ({self.endpoint.base_url})"
        if status in (401, 403):
            return RemoteError(
                f"{where} refused the API key (HTTP {status}: {message}). Check the key "
                f"with `hearth remote add {self.name} URL --key-stdin` or in Settings."
            )
        if status == 404 and model is not None:
            return RemoteError(f"{where} has no model {model!r} (HTTP 404: {message}).")
        if status >= 500:
            return RemoteError(f"{where} failed (HTTP {status}): {message}")
        return RemoteError(f"{where} refused the request (HTTP {status}): {message}")

    def _unreachable(self, exc: Exception) -> RemoteError:
        return RemoteError(
            f"Can't reach {self.name} at {self.endpoint.base_url} ({type(exc).__name__}: "
            f"{exc}). Check that the server is running and the address is right."
        )

    def models(self, *, timeout: float = 10.0) -> list[RemoteModel]:
        """The models the server lists."""
        try:
            response = httpx2.get(
                self.endpoint.base_url + "/models",
                headers=self._headers(),
                timeout=httpx2.Timeout(timeout, connect=min(timeout, CONNECT_SECONDS)),
            )
        except httpx2.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, list):
            raise RemoteError(
                f"{self.name} at {self.endpoint.base_url} did not answer with a model list: is "
                "it an OpenAI-compatible server (the address usually ends in /v1)?"
            )
        return [
            RemoteModel(self.name, str(item["id"]), _context_of(item))
            for item in data
            if isinstance(item, dict) and item.get("id")
        ]

    def request_body(
        self, model: str, turns: Sequence[Turn], sampling: Sampling, continue_text: str
    ) -> dict[str, Any]:
        messages: list[dict[str, str]] = [dict(t) for t in turns]
        if continue_text:  # servers that allow it (llama-server) go on from this text
            messages.append({"role": "assistant", "content": continue_text})
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.seed >= 0:
            body["seed"] = sampling.seed
        if sampling.stop:
            body["stop"] = list(sampling.stop)[:4]  # OpenAI's limit; servers allow it too
        host = urlsplit(self.endpoint.base_url).hostname or ""
        if not host.endswith("openai.com"):  # OpenAI itself refuses fields it lacks
            body.update(top_k=sampling.top_k, min_p=sampling.min_p,
                        repeat_penalty=sampling.repeat_penalty)  # fmt: skip
        return body

    def stream(
        self,
        model: str,
        turns: Sequence[Turn],
        sampling: Sampling,
        *,
        continue_text: str = "",
        cancel: CancelToken | None = None,
    ) -> Generator[Event, None, None]:
        """Text as it arrives, then one GenerationDone (its ``error`` in words when the
        server could not be reached, refused, failed or dropped the stream)."""
        token = cancel or CancelToken()
        started = time.perf_counter()
        answer: list[str] = []
        reasoning: list[str] = []
        pieces = 0
        first_at = last_at = 0.0
        usage: dict[str, Any] = {}
        stop_reason: StopReason = "eos"
        error: str | None = None
        finished = threading.Event()
        body = self.request_body(model, turns, sampling, continue_text)
        try:
            url = self.endpoint.base_url + "/chat/completions"
            with (
                httpx2.Client(timeout=self._timeout()) as client,
                client.stream("POST", url, json=body, headers=self._headers()) as response,
            ):
                _close_when_cancelled(response, token, finished)
                if response.status_code != 200:
                    response.read()
                    raise self._refusal(response, model)
                for data in _events(response):
                    if token.cancelled:
                        stop_reason = "user"
                        break
                    if isinstance(data.get("error"), dict | str):
                        raise RemoteError(f"{self.name} failed mid-answer: "
                                              f"{_stream_error(data['error'])}")  # fmt: skip
                    if isinstance(data.get("usage"), dict):
                        usage = data["usage"]
                    for choice in data.get("choices") or []:
                        delta = choice.get("delta") or {}
                        thought = delta.get("reasoning_content") or delta.get("reasoning")
                        text = delta.get("content")
                        for kind, piece in (("reasoning", thought), ("answer", text)):
                            if isinstance(piece, str) and piece:
                                now = time.perf_counter()
                                pieces += 1
                                first_at = first_at or now
                                last_at = now
                                (reasoning if kind == "reasoning" else answer).append(piece)
                                yield TextDelta(kind, piece)  # type: ignore[arg-type]
                        reason = choice.get("finish_reason")
                        if reason == "length":
                            stop_reason = "max_tokens"
                        elif reason == "stop" and stop_reason != "max_tokens":
                            stop_reason = "eos"
        except RemoteError as exc:
            stop_reason, error = "error", str(exc)
        except httpx2.HTTPError as exc:
            if token.cancelled:
                stop_reason = "user"
            elif isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout) and not pieces:
                stop_reason, error = "error", str(self._unreachable(exc))
            else:
                stop_reason = "error"
                error = (
                    f"The connection to {self.name} broke mid-answer ({type(exc).__name__}"
                    f"{': ' + str(exc) if str(exc) else ''}); what arrived is kept — "
                    "regenerate or continue to try again."
                )
        finally:
            finished.set()
        if error:
            log.warning("remote answer from %s failed: %s", self.name, error)
        completion = int(usage.get("completion_tokens") or pieces)
        gen_seconds = last_at - first_at
        stats = GenerationStats(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            prompt_evaluated=int(usage.get("prompt_tokens") or 0),
            completion_tokens=completion,
            ttft_ms=(first_at - started) * 1000 if first_at else 0.0,
            tokens_per_second=(completion - 1) / gen_seconds if completion > 1 and gen_seconds
            else 0.0,
            total_ms=(time.perf_counter() - started) * 1000,
            stop_reason=stop_reason,
        )  # fmt: skip
        yield GenerationDone("".join(answer), "".join(reasoning), stats, (), error)


def _stream_error(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _events(response: httpx2.Response) -> Iterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream, up to ``[DONE]``."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            data = json.loads(payload)
        except json.JSONDecodeError:
            continue  # a keep-alive or a line some server adds; not an answer
        if isinstance(data, dict):
            yield data


def _close_when_cancelled(
    response: httpx2.Response, token: CancelToken, finished: threading.Event
) -> None:
    """Stop pressed while the server is silent (thinking, or stalled): close the
    connection so the read returns at once instead of at the next piece."""

    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None

    def watch() -> None:
        while not finished.is_set():
            if token.wait(0.1):
                if not finished.is_set() and sock is not None:
                    with contextlib.suppress(OSError):  # already closed: nothing to wake
                        sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns now
                return

    threading.Thread(target=watch, name="hearth-remote-stop", daemon=True).start()


class RemoteEngine:
    """A remote model as a chat ``Backend``: nothing to load, nothing in memory here."""

    def __init__(self, client: RemoteClient, model: RemoteModel) -> None:
        self.client = client
        self.model = model

    @property
    def loaded(self) -> RemoteModel:
        return self.model

    def count_tokens(self, text: str) -> int:
        """An estimate (the server holds the tokenizer): about 3.5 characters a token,
        rounded up so documents given whole are not squeezed past the context."""
        return -(-len(text) * 2 // 7)

    def generate(
        self,
        turns: Sequence[Turn],
        sampling: Sampling | None = None,
        *,
        session: Hashable | None = None,
        continue_text: str = "",
        cancel: CancelToken | None = None,
    ) -> Generator[Event, None, None]:
        return self.client.stream(
            self.model.model,
            turns,
            sampling or Sampling(),
            continue_text=continue_text,
            cancel=cancel,
        )
