"""The frozen records the store hands to the rest of the app, one per kind of row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
MessageStatus = Literal["done", "streaming", "stopped", "error"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    created_at: float
    updated_at: float
    model: str | None
    system_prompt: str
    params: dict[str, Any]
    current_leaf_id: int | None
    auto_title: bool = False  # the title is still automatic: the first message sets it


@dataclass(frozen=True)
class MessageStats:
    """What the engine measured for one answer."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    tokens_per_second: float | None = None
    stop_reason: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    chat_id: int
    parent_id: int | None
    role: Role
    content: str
    reasoning: str
    status: MessageStatus
    error: str | None
    model: str | None
    created_at: float
    stats: MessageStats
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    chat_id: int
    chat_title: str
    message_id: int
    role: Role
    snippet: str


@dataclass(frozen=True)
class ModelEntry:
    id: int
    path: str
    name: str
    size_bytes: int
    sha256: str | None = None
    repo_id: str | None = None
    filename: str | None = None
    architecture: str | None = None
    parameters: int | None = None
    quantization: str | None = None
    context_length: int | None = None
    chat_format: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    read_only: bool = False
    added_at: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)


DownloadStatus = Literal["queued", "running", "paused", "verifying", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class Download:
    """A file being fetched from the hub: everything needed to resume it after a restart."""

    id: int
    repo_id: str
    filename: str
    revision: str
    url: str | None
    dest_path: str
    part_path: str
    total_bytes: int | None
    downloaded_bytes: int
    sha256: str | None
    etag: str | None
    status: DownloadStatus
    error: str | None
    attempts: int
    created_at: float
    updated_at: float


DocumentStatus = Literal["queued", "indexing", "ready", "failed"]


@dataclass(frozen=True)
class Document:
    """A file added to a chat or a collection, and how far its indexing got."""

    id: int
    chat_id: int | None
    collection_id: int | None
    path: str
    name: str
    kind: str
    size_bytes: int | None
    sha256: str | None
    pages: int | None
    status: DocumentStatus
    error: str | None
    progress: int  # chunks stored so far: where an interrupted indexing run resumes
    added_at: float
    updated_at: float
    embedding_model: str | None = None


@dataclass(frozen=True)
class Chunk:
    """One passage of a document, with where it came from."""

    id: int
    document_id: int
    ordinal: int
    text: str
    page: int | None
    heading: str | None
    start_char: int | None
    end_char: int | None


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    created_at: float


@dataclass(frozen=True)
class SourceRecord:
    """A passage an answer was given, numbered as the prompt numbered it."""

    number: int
    name: str
    path: str
    text: str
    page: int | None = None
    heading: str | None = None
    chunk_id: int | None = None
    document_id: int | None = None
    score: float | None = None


@dataclass(frozen=True)
class RemoteEndpoint:
    """An OpenAI-compatible server the user added (llama-server, vLLM, Ollama, ...)."""

    name: str
    base_url: str
    added_at: float = 0.0
