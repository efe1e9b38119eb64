"""The downloads table: each file fetched from the hub, with all it takes to resume."""

from __future__ import annotations

import time
from typing import Any, cast

from app.errors import NotFoundError, StoreError
from app.store.db import StoreBase, locked
from app.store.records import Download, DownloadStatus


class DownloadStore(StoreBase):
    """Downloads: one row per repository, revision and file name."""

    @locked
    def upsert_download(
        self,
        repo_id: str,
        filename: str,
        revision: str,
        dest_path: str,
        part_path: str,
        **fields: Any,
    ) -> Download:
        """The download of this file at this revision: created if new, else its fields updated."""
        existing = self._one(
            "SELECT id FROM downloads WHERE repo_id = ? AND revision = ? AND filename = ?",
            [repo_id, revision, filename],
        )
        now = time.time()
        if existing is None:
            record = {
                "repo_id": repo_id, "filename": filename, "revision": revision,
                "dest_path": dest_path, "part_path": part_path, "created_at": now,
                "updated_at": now, **fields,
            }  # fmt: skip
            download_id = cast(int, self.db.table("downloads").insert(record).last_pk)
        else:
            download_id = int(existing["id"])
            self.update_download(download_id, dest_path=dest_path, part_path=part_path, **fields)
        return self.get_download(download_id)

    @locked
    def update_download(self, download_id: int, **fields: Any) -> Download:
        unknown = set(fields) - set(Download.__dataclass_fields__)
        if unknown or "id" in fields:
            raise StoreError(f"Unknown download fields: {', '.join(sorted(unknown))}")
        self.get_download(download_id)
        self.db.table("downloads").update(download_id, {**fields, "updated_at": time.time()})
        return self.get_download(download_id)

    @locked
    def get_download(self, download_id: int) -> Download:
        row = self._one("SELECT * FROM downloads WHERE id = ?", [download_id])
        if row is None:
            raise NotFoundError(f"There is no download with id {download_id}")
        return Download(**row)

    @locked
    def find_download(self, repo_id: str, filename: str, revision: str = "main") -> Download | None:
        row = self._one(
            "SELECT * FROM downloads WHERE repo_id = ? AND revision = ? AND filename = ?",
            [repo_id, revision, filename],
        )
        return Download(**row) if row else None

    @locked
    def list_downloads(self, *statuses: DownloadStatus) -> list[Download]:
        sql = "SELECT * FROM downloads"
        params: list[Any] = list(statuses)
        if statuses:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        return [Download(**r) for r in self._all(sql + " ORDER BY id", params)]

    @locked
    def delete_download(self, download_id: int) -> None:
        self.db.execute("DELETE FROM downloads WHERE id = ?", [download_id])
