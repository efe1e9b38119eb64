"""The models and model_folders tables: the library of model files and the extra
read-only folders it scans."""

from __future__ import annotations

import json
import time
from typing import Any

from app.errors import NotFoundError, StoreError
from app.store.db import StoreBase, locked
from app.store.records import ModelEntry


class LibraryStore(StoreBase):
    """The models library: one entry per file path, with the user's per-model settings."""

    @locked
    def add_model(self, path: str, name: str, size_bytes: int, **fields: Any) -> ModelEntry:
        """Add a model file to the library, or refresh the entry for the same path."""
        allowed = set(ModelEntry.__dataclass_fields__) - {"id", "path", "name", "size_bytes"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"Unknown model fields: {', '.join(sorted(unknown))}")
        record: dict[str, Any] = {"path": path, "name": name, "size_bytes": size_bytes}
        record.update(fields)
        for key in ("overrides", "metadata"):
            record[key] = json.dumps(record.get(key) or {})
        record["read_only"] = int(bool(record.get("read_only", False)))
        record.setdefault("added_at", time.time())
        columns = list(record)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "added_at")
        self.db.execute(
            f"INSERT INTO models({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT(path) DO UPDATE SET {updates}",
            [record[c] for c in columns],
        )
        row = self._one("SELECT * FROM models WHERE path = ?", [path])
        assert row is not None
        return self._model(row)

    @locked
    def list_models(self) -> list[ModelEntry]:
        rows = self._all("SELECT * FROM models ORDER BY name COLLATE NOCASE")
        return [self._model(r) for r in rows]

    @locked
    def find_model(self, name_or_path: str) -> ModelEntry:
        """A library model by its name or path."""
        row = self._one(
            "SELECT * FROM models WHERE name = ? OR path = ? ORDER BY id LIMIT 1",
            [name_or_path, name_or_path],
        )
        if row is None:
            raise NotFoundError(f"There is no model called {name_or_path!r} in the library")
        return self._model(row)

    @locked
    def configure_model(
        self, model_id: int, *, overrides: dict[str, Any], chat_format: str | None
    ) -> ModelEntry:
        """Set a model's own load settings (threads, gpu_layers, context_length) and chat format."""
        self.db.table("models").update(
            model_id, {"overrides": json.dumps(overrides), "chat_format": chat_format}
        )
        row = self._one("SELECT * FROM models WHERE id = ?", [model_id])
        if row is None:
            raise NotFoundError(f"There is no model with id {model_id}")
        return self._model(row)

    @locked
    def remove_model(self, model_id: int) -> None:
        if self.db.execute("DELETE FROM models WHERE id = ?", [model_id]).rowcount == 0:
            raise NotFoundError(f"There is no model with id {model_id}")

    def _model(self, row: dict[str, Any]) -> ModelEntry:
        return ModelEntry(
            **{
                **row,
                "overrides": json.loads(row["overrides"]),
                "metadata": json.loads(row["metadata"]),
                "read_only": bool(row["read_only"]),
            }
        )

    # --------------------------------------------------------- model folders
    @locked
    def add_model_folder(self, path: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO model_folders(path, added_at) VALUES (?, ?)", [path, time.time()]
        )

    @locked
    def list_model_folders(self) -> list[str]:
        return [r["path"] for r in self._all("SELECT path FROM model_folders ORDER BY added_at")]

    @locked
    def remove_model_folder(self, path: str) -> None:
        if self.db.execute("DELETE FROM model_folders WHERE path = ?", [path]).rowcount == 0:
            raise NotFoundError(f"{path} is not one of the library's extra folders")
