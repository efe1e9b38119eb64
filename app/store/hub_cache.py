"""The hub_cache table: the hub's last answers, kept for browsing offline."""

from __future__ import annotations

import json
import time
from typing import Any

from app.store.db import StoreBase, locked


class HubCacheStore(StoreBase):
    """Hub answers by key, with when they were fetched."""

    @locked
    def cache_put(self, key: str, payload: Any) -> None:
        self.db.execute(
            """INSERT INTO hub_cache(key, payload, fetched_at) VALUES (?, ?, ?)
               ON CONFLICT(key) DO UPDATE SET payload = excluded.payload,
                                              fetched_at = excluded.fetched_at""",
            [key, json.dumps(payload), time.time()],
        )

    @locked
    def cache_get(self, key: str) -> tuple[Any, float] | None:
        """The cached payload and when it was fetched (epoch seconds), or None."""
        row = self._one("SELECT payload, fetched_at FROM hub_cache WHERE key = ?", [key])
        return (json.loads(row["payload"]), float(row["fetched_at"])) if row else None
