"""The documents, chunks, collections and message_sources tables: files added to chats
and collections, their passages (keyword and embedding retrieval), and the passages each
answer was given."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, cast

from app.errors import NotFoundError, StoreError
from app.store.chats import ChatStore
from app.store.db import locked
from app.store.records import Chunk, Collection, Document, DocumentStatus, SourceRecord

# Best keyword matches looked at before a chat's scope is applied (see keyword_chunks).
_KEYWORD_POOL = 2000


class DocumentStore(ChatStore):
    """Documents and their passages, collections (attached to chats), answer sources.

    Built on the chats: a document or an attached collection belongs to a chat.
    """

    @locked
    def add_document(
        self,
        path: str,
        name: str,
        kind: str,
        *,
        chat_id: int | None = None,
        collection_id: int | None = None,
        **fields: Any,
    ) -> Document:
        if (chat_id is None) == (collection_id is None):
            raise StoreError("A document belongs to exactly one chat or one collection")
        now = time.time()
        record = {
            "path": path, "name": name, "kind": kind, "chat_id": chat_id,
            "collection_id": collection_id, "added_at": now, "updated_at": now, **fields,
        }  # fmt: skip
        document_id = cast(int, self.db.table("documents").insert(record).last_pk)
        return self.get_document(document_id)

    @locked
    def get_document(self, document_id: int) -> Document:
        row = self._one("SELECT * FROM documents WHERE id = ?", [document_id])
        if row is None:
            raise NotFoundError(f"There is no document with id {document_id}")
        return Document(**row)

    @locked
    def find_document(
        self, path: str, *, chat_id: int | None = None, collection_id: int | None = None
    ) -> Document | None:
        row = self._one(
            "SELECT * FROM documents WHERE path = ? AND chat_id IS ? AND collection_id IS ?",
            [path, chat_id, collection_id],
        )
        return Document(**row) if row else None

    @locked
    def list_documents(
        self,
        *,
        chat_id: int | None = None,
        collection_id: int | None = None,
        statuses: tuple[DocumentStatus, ...] = (),
    ) -> list[Document]:
        """Documents of one chat (its own only), of one collection, or all of them."""
        clauses: list[str] = []
        params: list[Any] = []
        if chat_id is not None:
            clauses.append("chat_id = ?")
            params.append(chat_id)
        if collection_id is not None:
            clauses.append("collection_id = ?")
            params.append(collection_id)
        if statuses:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._all(f"SELECT * FROM documents{where} ORDER BY id", params)
        return [Document(**r) for r in rows]

    @locked
    def chat_documents(self, chat_id: int) -> list[Document]:
        """What a chat can draw on: its own documents and those of attached collections."""
        rows = self._all(
            """SELECT * FROM documents WHERE chat_id = ?
               OR collection_id IN (SELECT collection_id FROM chat_collections WHERE chat_id = ?)
               ORDER BY id""",
            [chat_id, chat_id],
        )
        return [Document(**r) for r in rows]

    @locked
    def update_document(self, document_id: int, **fields: Any) -> Document:
        unknown = set(fields) - set(Document.__dataclass_fields__)
        if unknown or "id" in fields:
            raise StoreError(f"Unknown document fields: {', '.join(sorted(unknown))}")
        self.get_document(document_id)
        self.db.table("documents").update(document_id, {**fields, "updated_at": time.time()})
        return self.get_document(document_id)

    @locked
    def restart_document(self, document_id: int, **fields: Any) -> Document:
        """Forget a document's passages so it is indexed again from the start."""
        with self._atomic():
            self.db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])
            return self.update_document(
                document_id, status="queued", error=None, progress=0, embedding_model=None,
                **fields,
            )  # fmt: skip

    @locked
    def delete_document(self, document_id: int) -> None:
        with self._atomic():
            self.db.execute("DELETE FROM documents WHERE id = ?", [document_id])

    @locked
    def add_chunks(self, document_id: int, chunks: list[dict[str, Any]], *, progress: int) -> None:
        """Store passages and the new resume point in one transaction (an interrupted run
        never leaves passages stored beyond its recorded progress)."""
        with self._atomic():
            self.db.table("chunks").insert_all(
                [{"document_id": document_id, **c} for c in chunks], replace=True
            )
            self.db.execute(
                "UPDATE documents SET progress = ?, updated_at = ? WHERE id = ?",
                [progress, time.time(), document_id],
            )

    @locked
    def drop_chunks_from(self, document_id: int, ordinal: int) -> None:
        """Remove passages at or after ``ordinal`` (left over past the recorded progress)."""
        self.db.execute(
            "DELETE FROM chunks WHERE document_id = ? AND ordinal >= ?", [document_id, ordinal]
        )

    @locked
    def document_chunks(self, document_id: int) -> list[Chunk]:
        rows = self._all(
            "SELECT id, document_id, ordinal, text, page, heading, start_char, end_char "
            "FROM chunks WHERE document_id = ? ORDER BY ordinal",
            [document_id],
        )
        return [Chunk(**r) for r in rows]

    @locked
    def chunk_count(self, document_ids: list[int]) -> int:
        if not document_ids:
            return 0
        marks = ", ".join("?" * len(document_ids))
        row = self.db.execute(
            f"SELECT count(*) FROM chunks WHERE document_id IN ({marks})", document_ids
        ).fetchone()
        return int(row[0])

    @locked
    def embedded_count(self, document_id: int) -> int:
        """Passages of this document that have a vector."""
        row = self.db.execute(
            "SELECT count(*) FROM chunks WHERE document_id = ? AND embedding IS NOT NULL",
            [document_id],
        ).fetchone()
        return int(row[0])

    @locked
    def chunk_headings(self, document_id: int) -> list[str | None]:
        """The distinct heading paths of this document's passages."""
        rows = self.db.execute(
            "SELECT DISTINCT heading FROM chunks WHERE document_id = ?", [document_id]
        ).fetchall()
        return [r[0] for r in rows]

    @locked
    def chunk_chars(self, document_ids: list[int]) -> int:
        """Characters in all passages of these documents (overlaps counted twice)."""
        if not document_ids:
            return 0
        marks = ", ".join("?" * len(document_ids))
        row = self.db.execute(
            f"SELECT coalesce(sum(length(text)), 0) FROM chunks WHERE document_id IN ({marks})",
            document_ids,
        ).fetchone()
        return int(row[0])

    @locked
    def get_chunks(self, chunk_ids: list[int]) -> list[Chunk]:
        """Passages by id, in the order asked for (missing ones left out)."""
        if not chunk_ids:
            return []
        marks = ", ".join("?" * len(chunk_ids))
        rows = self._all(
            "SELECT id, document_id, ordinal, text, page, heading, start_char, end_char "
            f"FROM chunks WHERE id IN ({marks})",
            list(chunk_ids),
        )
        by_id = {int(r["id"]): Chunk(**r) for r in rows}
        return [by_id[i] for i in chunk_ids if i in by_id]

    @locked
    def keyword_chunks(
        self, match: str, document_ids: list[int] | None, limit: int, context_weight: float = 1.0
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score: lower is better) for an FTS5 ``match`` expression; words in a
        passage's context (file name, headings) count ``context_weight`` as much as its text."""
        if not match or document_ids == []:
            return []
        if context_weight <= 0:  # the passage text alone
            match = f"text : ({match})"
        ranked = (
            "SELECT rowid, bm25(chunks_fts, 1.0, ?) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score"
        )
        if document_ids is None:
            found = self.db.execute(ranked + " LIMIT ?", [context_weight, match, limit])
            return [(int(r[0]), float(r[1])) for r in found.fetchall()]
        # Rank first, then keep the passages in scope: looking up the document of every
        # match costs more than the ranking on a large index. A small scope in a large
        # index may keep too few of the best ones; then every match is looked up.
        marks = ", ".join("?" * len(document_ids))
        rows: list[Any] = []
        for pool in (_KEYWORD_POOL, None):
            inner = ranked + (f" LIMIT {pool}" if pool else "")
            rows = self.db.execute(
                f"SELECT r.rowid, r.score FROM ({inner}) r JOIN chunks c ON c.id = r.rowid "
                f"WHERE c.document_id IN ({marks}) ORDER BY r.score LIMIT ?",
                [context_weight, match, *document_ids, limit],
            ).fetchall()
            if len(rows) >= limit or pool is None:
                break
        return [(int(r[0]), float(r[1])) for r in rows]

    @locked
    def passage_frequencies(self, terms: list[str]) -> tuple[int, list[int]]:
        """(passages in all, passages matching each FTS5 term) over every document."""
        total = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        counts = [
            int(
                self.db.execute(
                    "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [term]
                ).fetchone()[0]
            )
            for term in terms
        ]
        return total, counts

    @locked
    def chunks_without_embedding(self, document_id: int, limit: int) -> list[Chunk]:
        rows = self._all(
            "SELECT id, document_id, ordinal, text, page, heading, start_char, end_char "
            "FROM chunks WHERE document_id = ? AND embedding IS NULL ORDER BY ordinal LIMIT ?",
            [document_id, limit],
        )
        return [Chunk(**r) for r in rows]

    @locked
    def set_embeddings(self, vectors: list[tuple[int, bytes]]) -> None:
        with self._atomic():
            self.db.conn.executemany(
                "UPDATE chunks SET embedding = ? WHERE id = ?", [(v, i) for i, v in vectors]
            )

    @locked
    def clear_embeddings(self, document_id: int) -> None:
        with self._atomic():
            self.db.execute(
                "UPDATE chunks SET embedding = NULL WHERE document_id = ?", [document_id]
            )
            self.update_document(document_id, embedding_model=None)

    @locked
    def chunk_embeddings(self, document_ids: list[int]) -> list[tuple[int, bytes]]:
        """(chunk id, vector bytes) for every embedded passage of these documents."""
        if not document_ids:
            return []
        marks = ", ".join("?" * len(document_ids))
        rows = self.db.execute(
            f"SELECT id, embedding FROM chunks WHERE document_id IN ({marks}) "
            "AND embedding IS NOT NULL ORDER BY id",
            document_ids,
        ).fetchall()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    # ------------------------------------------------------------ collections
    @locked
    def create_collection(self, name: str) -> Collection:
        name = name.strip()
        if not name:
            raise StoreError("A collection needs a name")
        existing = self.find_collection(name)
        if existing is not None:
            return existing
        pk = self.db.table("collections").insert({"name": name, "created_at": time.time()}).last_pk
        return self.get_collection(cast(int, pk))

    @locked
    def get_collection(self, collection_id: int) -> Collection:
        row = self._one("SELECT * FROM collections WHERE id = ?", [collection_id])
        if row is None:
            raise NotFoundError(f"There is no collection with id {collection_id}")
        return Collection(**row)

    @locked
    def find_collection(self, name: str) -> Collection | None:
        row = self._one("SELECT * FROM collections WHERE name = ?", [name.strip()])
        return Collection(**row) if row else None

    @locked
    def list_collections(self) -> list[Collection]:
        return [Collection(**r) for r in self._all("SELECT * FROM collections ORDER BY name")]

    @locked
    def delete_collection(self, collection_id: int) -> None:
        with self._atomic():
            self.db.execute("DELETE FROM collections WHERE id = ?", [collection_id])

    @locked
    def attach_collection(self, chat_id: int, collection_id: int) -> None:
        self.get_chat(chat_id)
        self.get_collection(collection_id)
        self.db.execute(
            "INSERT OR IGNORE INTO chat_collections(chat_id, collection_id) VALUES (?, ?)",
            [chat_id, collection_id],
        )

    @locked
    def detach_collection(self, chat_id: int, collection_id: int) -> None:
        self.db.execute(
            "DELETE FROM chat_collections WHERE chat_id = ? AND collection_id = ?",
            [chat_id, collection_id],
        )

    @locked
    def chat_collections(self, chat_id: int) -> list[Collection]:
        rows = self._all(
            "SELECT c.* FROM collections c JOIN chat_collections cc ON cc.collection_id = c.id "
            "WHERE cc.chat_id = ? ORDER BY c.name",
            [chat_id],
        )
        return [Collection(**r) for r in rows]

    # -------------------------------------------------------- answer sources
    @locked
    def save_sources(self, message_id: int, sources: list[SourceRecord]) -> None:
        """The passages an answer was given (replacing any saved before)."""
        with self._atomic():
            self.db.execute("DELETE FROM message_sources WHERE message_id = ?", [message_id])
            self.db.table("message_sources").insert_all(
                [{"message_id": message_id, **dataclasses.asdict(s)} for s in sources]
            )

    @locked
    def message_sources(self, message_id: int) -> list[SourceRecord]:
        rows = self._all(
            "SELECT number, name, path, text, page, heading, chunk_id, document_id, score "
            "FROM message_sources WHERE message_id = ? ORDER BY number",
            [message_id],
        )
        return [SourceRecord(**r) for r in rows]
