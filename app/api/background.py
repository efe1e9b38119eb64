"""The desktop's own API server: the same app as `hearth serve`, on uvicorn in a
background thread, serving the model the desktop has loaded (see ``ModelHost``'s
desktop mode). Started and stopped while the app runs; loopback only.

``DesktopApi`` turns the settings (on/off, port, CORS origins) into a running server
or none, and says in words what went wrong (a port already in use).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.api.host import ModelHost
from app.api.recent import RecentRequests
from app.api.server import ServerOptions, build_app
from app.errors import HearthError
from app.store import Store

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

log = logging.getLogger(__name__)

BIND = "127.0.0.1"  # the desktop serves this computer only
SHUTDOWN_SECONDS = 3.0  # answers still being written are stopped; this is for the rest


class PortInUse(HearthError):
    """Another program already listens on the port."""


@dataclass(frozen=True)
class ApiConfig:
    enabled: bool
    port: int
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_store(cls, store: Store) -> ApiConfig:
        """The API settings (api_server, api_port, api_cors_origins)."""
        cors = str(store.get_setting("api_cors_origins") or "")
        origins = tuple(o for o in cors.replace(",", " ").split() if o)
        port = store.get_setting("api_port")
        return cls(bool(store.get_setting("api_server")), int(port), origins)


class BackgroundServer:
    """One uvicorn server on its own thread. ``start`` binds the port at once (so a port in
    use is refused here, in words) and returns; connections wait in the socket's backlog
    until the server's loop accepts them. ``stop`` cancels answers being written and
    waits for the thread to end."""

    def __init__(self, host: ModelHost, options: ServerOptions, port: int) -> None:
        self.host, self.options, self.port = host, options, port
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._app: Starlette | None = None
        self.url: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if os.name != "nt":  # rebinding after a stop; Linux still refuses a second listener
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((BIND, self.port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(
                    f"Hearth could not serve its API on port {self.port}: another program "
                    "(perhaps `hearth serve`) is using it. Choose another port in Settings "
                    "→ API, or stop that program."
                ) from None
            raise HearthError(
                f"Hearth could not serve its API on port {self.port}: {exc}."
            ) from None
        port = sock.getsockname()[1]
        app = build_app(self.host, self.options)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=int(SHUTDOWN_SECONDS))  # fmt: skip
        server = uvicorn.Server(config)

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException:
                log.exception("the desktop's API server stopped with an error")
            finally:
                sock.close()

        self._app, self._server = app, server
        self._thread = threading.Thread(target=run, name="hearth-api-server", daemon=True)
        self._thread.start()
        self.url = f"http://{BIND}:{port}/v1"
        log.info("API serving at %s", self.url)
        return self.url

    def stop(self) -> None:
        thread, server, app = self._thread, self._server, self._app
        self._thread = self._server = self._app = None
        self.url = None
        if thread is None or server is None or app is None:
            return
        for run in list(app.state.running):
            run.cancel()
        server.should_exit = True
        thread.join(SHUTDOWN_SECONDS + 5)
        if thread.is_alive():
            log.warning("the API server's thread did not end in time")
        log.info("API server stopped")


class DesktopApi:
    """The API the desktop serves, following its settings: ``apply`` starts, stops or
    moves it; ``url`` is where it listens (None: off); ``problem`` says why it is off
    although switched on. Requests are recorded in ``recent`` across restarts."""

    def __init__(self, host: ModelHost, recent: RecentRequests | None = None) -> None:
        self.host = host
        self.recent = recent or RecentRequests()
        self._server: BackgroundServer | None = None
        self._config: ApiConfig | None = None
        self.problem: str | None = None

    @property
    def url(self) -> str | None:
        return self._server.url if self._server is not None else None

    def apply(self, config: ApiConfig) -> str | None:
        """Make the server match ``config``; the URL it serves at, or None. A port in use
        leaves it off with ``problem`` set (and raised, for the caller to show)."""
        if config == self._config and (self._server is not None) == config.enabled:
            return self.url
        self.stop()
        self._config = config
        self.problem = None
        if not config.enabled:
            return None
        options = ServerOptions(cors_origins=list(config.cors_origins), recent=self.recent)
        server = BackgroundServer(self.host, options, config.port)
        try:
            url = server.start()
        except HearthError as exc:
            self.problem = str(exc)
            raise
        self._server = server
        return url

    def stop(self) -> None:
        server, self._server = self._server, None
        self._config = None
        if server is not None:
            server.stop()
