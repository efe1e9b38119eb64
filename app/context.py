"""An opened data home: its paths, its database and the effective settings, for CLI, UI and API."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.hardware import physical_cores
from app.logs import setup_logging
from app.paths import DataPaths, resolve_home
from app.settings import SettingValue
from app.store import Store

if TYPE_CHECKING:
    from app.models.services import ModelServices
    from app.remote.servers import RemoteServers

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What every front end (CLI, desktop, API) works with: the paths, the store, the
    effective settings, and the services built on them (``model_services``)."""

    paths: DataPaths
    store: Store

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        verbose: bool = False,
        logging_to_file: bool = True,
    ) -> Context:
        paths = DataPaths(resolve_home(home)).ensure()
        if logging_to_file:
            setup_logging(paths.log_file, verbose=verbose)
        store = Store.open(paths.database)
        log.debug("opened data home %s (schema v%d)", paths.home, store.schema_version)
        return cls(paths, store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def setting(self, name: str) -> SettingValue:
        return self.store.get_setting(name)

    @property
    def models_dir(self) -> Path:
        """The models folder setting, resolved (a relative path is inside the data home)."""
        folder = Path(str(self.setting("models_dir"))).expanduser()
        return folder if folder.is_absolute() else self.paths.home / folder

    @property
    def threads(self) -> int:
        """Threads for llama.cpp: the setting, or one per physical core when it is 0."""
        value = int(self.setting("threads"))
        return value if value > 0 else physical_cores()

    def model_services(self, **options: Any) -> ModelServices:
        """Hub client, library and downloader on this data home, honouring offline mode
        (``options`` go to ``ModelServices.build``)."""
        from app.models.services import ModelServices  # huggingface_hub loads when used

        options.setdefault("offline", bool(self.setting("offline")))
        return ModelServices.build(self.store, self.models_dir, **options)

    def remote_servers(self) -> RemoteServers:
        """The OpenAI-compatible servers added to this data home, keys included."""
        from app.remote.servers import RemoteServers  # httpx loads when used
        from app.secrets import Secrets

        return RemoteServers(self.store, Secrets(self.paths.home))
