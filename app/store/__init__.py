"""The one place Hearth talks SQL: schema, migrations and every read and write of hearth.db.

Everything else calls ``Store``'s methods and gets the records below back. The database
is opened in WAL mode with foreign keys on; a ``Store`` may be shared between threads
(calls are serialised by a lock). Inside the package, ``db`` holds the shared plumbing,
``migrations`` the schema, and one module per table group holds that group's methods.
"""

from __future__ import annotations

import app.store._sqlite_utils  # noqa: F401  (first: sqlite-utils without NumPy)
from app.store.chats import ChatStore
from app.store.documents import DocumentStore
from app.store.downloads import DownloadStore
from app.store.hub_cache import HubCacheStore
from app.store.library import LibraryStore
from app.store.migrations import MIGRATIONS, SCHEMA_NAMES, SCHEMA_VERSION
from app.store.records import (
    ROLES,
    Chat,
    Chunk,
    Collection,
    Document,
    DocumentStatus,
    Download,
    DownloadStatus,
    Message,
    MessageStats,
    MessageStatus,
    ModelEntry,
    RemoteEndpoint,
    Role,
    SearchHit,
    SourceRecord,
)
from app.store.remotes import RemoteStore
from app.store.settings import SettingStore

__all__ = [
    "MIGRATIONS",
    "ROLES",
    "SCHEMA_NAMES",
    "SCHEMA_VERSION",
    "Chat",
    "Chunk",
    "Collection",
    "Document",
    "DocumentStatus",
    "Download",
    "DownloadStatus",
    "Message",
    "MessageStats",
    "MessageStatus",
    "ModelEntry",
    "RemoteEndpoint",
    "Role",
    "SearchHit",
    "SourceRecord",
    "Store",
]


class Store(
    SettingStore,
    DocumentStore,
    ChatStore,
    LibraryStore,
    DownloadStore,
    HubCacheStore,
    RemoteStore,
):
    """An open hearth.db. Use ``Store.open(path)``; close it when done."""
