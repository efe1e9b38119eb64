"""The remote servers a data home knows: added and removed by name, their keys kept
in ``Secrets``, their models listed, and a ``RemoteEngine`` for a ``SERVER/MODEL`` name."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.errors import HearthError
from app.remote.client import RemoteClient, RemoteEngine, RemoteError, RemoteModel, split_reference
from app.secrets import Secrets
from app.store import RemoteEndpoint, Store


@dataclass(frozen=True)
class ServerModels:
    """One server's answer to "which models do you have": its models, or why not."""

    endpoint: RemoteEndpoint
    models: list[RemoteModel] = field(default_factory=list)
    problem: str | None = None


def _secret_name(server: str) -> str:
    return f"remote:{server}"


class RemoteServers:
    def __init__(self, store: Store, secrets: Secrets) -> None:
        self.store = store
        self.secrets = secrets

    def add(self, name: str, base_url: str, key: str | None = None) -> RemoteEndpoint:
        """Add a server (or change one); ``key`` None keeps the key it has, "" drops it."""
        endpoint = self.store.add_endpoint(name, base_url)
        if key is not None:
            if key.strip():
                self.secrets.set(_secret_name(endpoint.name), key.strip())
            else:
                self.secrets.delete(_secret_name(endpoint.name))
        return endpoint

    def remove(self, name: str) -> None:
        self.store.remove_endpoint(name)
        self.secrets.delete(_secret_name(name))

    def endpoints(self) -> list[RemoteEndpoint]:
        return self.store.list_endpoints()

    def has_key(self, name: str) -> bool:
        return self.secrets.get(_secret_name(name)) is not None

    def client(self, name: str) -> RemoteClient:
        self._require_online()
        return RemoteClient(self.store.get_endpoint(name), self.secrets.get(_secret_name(name)))

    def list_models(self, *, timeout: float = 5.0) -> list[ServerModels]:
        """Every server's models (an unreachable server says so, the others still list)."""
        self._require_online()
        answers = []
        for endpoint in self.endpoints():
            client = RemoteClient(endpoint, self.secrets.get(_secret_name(endpoint.name)))
            try:
                answers.append(ServerModels(endpoint, client.models(timeout=timeout)))
            except RemoteError as exc:
                answers.append(ServerModels(endpoint, problem=str(exc)))
        return answers

    def engine_for(self, reference: str) -> RemoteEngine:
        """The backend for ``SERVER/MODEL`` (the server is asked for its model list, so a
        wrong name is said now rather than mid-chat)."""
        parts = split_reference(reference)
        if parts is None:
            raise HearthError(f"{reference!r} is not a remote model (write it SERVER/MODEL).")
        server, model = parts
        client = self.client(server)
        listed = {m.model: m for m in client.models()}
        if model not in listed:
            known = ", ".join(sorted(listed)) or "none"
            raise RemoteError(f"{server} has no model {model!r} (it lists: {known}).")
        return RemoteEngine(client, listed[model])

    def is_remote(self, reference: str) -> bool:
        """Whether ``reference`` names a model on one of the added servers."""
        parts = split_reference(reference)
        return parts is not None and parts[0] in {e.name for e in self.endpoints()}

    def _require_online(self) -> None:
        if bool(self.store.get_setting("offline")):
            raise HearthError(
                "Offline mode is on, so remote servers are not contacted. Turn it off "
                "(`hearth settings set offline false`, or in Settings) to use them."
            )
