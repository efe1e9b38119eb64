"""The remote_endpoints table: OpenAI-compatible servers the user added by name. Their
API keys are not here (see app/secrets.py)."""

from __future__ import annotations

import re
import time

from app.errors import HearthError, NotFoundError
from app.store.db import StoreBase, locked
from app.store.records import RemoteEndpoint

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def check_endpoint_name(name: str) -> str:
    """A name that can lead a model reference (``NAME/model``): letters, digits, ``.-_``."""
    name = name.strip()
    if not _NAME.match(name):
        raise HearthError(
            f"{name!r} can't name a server: use up to 40 letters, digits, dots, dashes or "
            "underscores (it goes before the model, as in bigbox/llama-3)."
        )
    return name


def check_base_url(url: str) -> str:
    """An http(s) base URL without a trailing slash (``/v1`` is added when missing)."""
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise HearthError(
            f"{url!r} is not a server address: give one like http://192.168.1.20:8080/v1."
        )
    if not re.search(r"/v\d+$", url):
        url += "/v1"
    return url


class RemoteStore(StoreBase):
    @locked
    def add_endpoint(self, name: str, base_url: str) -> RemoteEndpoint:
        """Add a server, or change the address of one with that name."""
        name, base_url = check_endpoint_name(name), check_base_url(base_url)
        self.db.execute(
            """INSERT INTO remote_endpoints(name, base_url, added_at) VALUES (?, ?, ?)
               ON CONFLICT(name) DO UPDATE SET base_url = excluded.base_url""",
            [name, base_url, time.time()],
        )
        row = self._one("SELECT * FROM remote_endpoints WHERE name = ?", [name])
        assert row is not None
        return RemoteEndpoint(**row)

    @locked
    def list_endpoints(self) -> list[RemoteEndpoint]:
        return [
            RemoteEndpoint(**row)
            for row in self._all("SELECT * FROM remote_endpoints ORDER BY name COLLATE NOCASE")
        ]

    @locked
    def get_endpoint(self, name: str) -> RemoteEndpoint:
        row = self._one("SELECT * FROM remote_endpoints WHERE name = ?", [name])
        if row is None:
            raise NotFoundError(f"There is no server called {name!r} (see `hearth remote list`).")
        return RemoteEndpoint(**row)

    @locked
    def remove_endpoint(self, name: str) -> None:
        if not self.db.execute("DELETE FROM remote_endpoints WHERE name = ?", [name]).rowcount:
            raise NotFoundError(f"There is no server called {name!r} (see `hearth remote list`).")
