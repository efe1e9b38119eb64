"""The model services every front end uses, built once and wired together.

The hub client, the library and the downloader share one store and one models folder,
and a finished download joins the library (``Library.register_download``). The CLI, the
desktop's models controller and the local API all take them from here, so each front
end wires them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.models.downloads import Downloader
from app.models.hub import HubClient
from app.models.library import Library
from app.store import Download, ModelEntry, Store


@dataclass
class ModelServices:
    hub: HubClient
    library: Library
    downloader: Downloader

    @classmethod
    def build(
        cls,
        store: Store,
        models_dir: Path,
        *,
        offline: bool,
        hub_timeout: float = 15.0,
        retries: int = 5,
        backoff_seconds: float = 1.0,
        on_registered: Callable[[ModelEntry], None] | None = None,
    ) -> ModelServices:
        """``on_registered`` is called (on the download's thread) when a download has
        joined the library."""
        library = Library(store, Path(models_dir))

        def register(download: Download, path: Path) -> None:
            entry = library.register_download(download, path)
            if entry is not None and on_registered is not None:
                on_registered(entry)

        downloader = Downloader(
            store,
            library.models_dir,
            offline=offline,
            retries=retries,
            backoff_seconds=backoff_seconds,
            on_complete=register,
        )
        return cls(HubClient(store, offline=offline, timeout=hub_timeout), library, downloader)
