"""The Hugging Face Hub for Hearth: GGUF search, a repository's GGUF files, remote GGUF headers.

Everything goes through huggingface_hub. Search pages and file listings are kept in
the store, so they are still shown (marked as saved) when the hub can't be reached or
Hearth is in offline mode; in offline mode nothing touches the network at all.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from itertools import islice
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import httpx2
from huggingface_hub import HfApi, HfFileSystem, constants, get_token
from huggingface_hub.errors import (
    HfHubHTTPError,
    HfUriError,
    HFValidationError,
)
from huggingface_hub.hf_api import ExpandModelProperty_T, ModelInfo, ModelSort_T

# Public and documented; its package builds __all__ at run time, which mypy can't read.
from huggingface_hub.utils import validate_repo_id  # type: ignore[attr-defined]

from app import __version__
from app.engine.gguf_file import GGUFError, GGUFHeader, GGUFIncomplete, parse_header
from app.errors import HearthError
from app.models.errors import HubError, OfflineError, hub_refusal
from app.models.files import is_projector_name, split_part
from app.store import Store
from app.units import format_bytes

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ENDPOINT = "https://huggingface.co"

# Hearth's sort names -> huggingface_hub's (sent to the hub as downloads, likes,
# trendingScore, lastModified; always most first).
SORTS: dict[str, ModelSort_T] = {
    "downloads": "downloads",
    "likes": "likes",
    "trending": "trending_score",
    "updated": "last_modified",
}
_SEARCH_EXPAND: list[ExpandModelProperty_T] = [
    "author", "downloads", "likes", "lastModified", "gguf", "gated",
]  # fmt: skip

README_MAX_BYTES = 200_000
_FIRST_HEADER_READ = 1 << 20
_PROBE_TIMEOUT = 5.0

# Quantization names as they appear in GGUF file names (llama.cpp's types, plus the
# "_L"/"_XL" variants some uploaders publish with larger embedding/output tensors).
QUANTIZATIONS: tuple[str, ...] = (
    "F32", "F16", "BF16",
    "Q8_0", "Q6_K", "Q5_0", "Q5_1", "Q5_K", "Q5_K_S", "Q5_K_M", "Q4_0", "Q4_1",
    "Q4_K", "Q4_K_S", "Q4_K_M", "Q3_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q2_K", "Q2_K_S",
    "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M",
    "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "IQ4_XS", "IQ4_NL",
    "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "MXFP4", "MXFP4_MOE", "NVFP4", "Q1_0",
    "Q2_K_L", "Q2_K_XL", "Q3_K_XL", "Q4_K_L", "Q4_K_XL", "Q5_K_L", "Q5_K_XL",
    "Q6_K_L", "Q6_K_XL", "Q8_K_XL",
)  # fmt: skip
_QUANT_ALIASES = {"FP16": "F16", "FP32": "F32"}
_QUANT_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])("
    + "|".join(
        re.escape(q) for q in sorted([*QUANTIZATIONS, *_QUANT_ALIASES], key=len, reverse=True)
    )
    + r")(?![A-Za-z0-9])",
    re.IGNORECASE | re.ASCII,
)


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class HubModel:
    """One search result: a repository and the GGUF summary the hub keeps for it."""

    repo_id: str
    author: str
    downloads: int
    likes: int
    last_modified: str | None  # ISO 8601
    architecture: str | None
    parameters: int | None
    context_length: int | None
    gated: bool


@dataclass(frozen=True)
class SearchPage:
    models: list[HubModel]
    page: int
    has_more: bool
    from_cache: bool
    fetched_at: float  # epoch seconds
    notice: str | None = None  # why saved results are shown, in words; None when live


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str | None  # the LFS object id, None for files kept in git itself
    quantization: str | None
    is_projector: bool


@dataclass(frozen=True)
class GGUFEntry:
    """One model to download: a single .gguf file, or every shard of a split one, in order."""

    name: str
    files: list[HubFile]
    total_size: int
    quantization: str | None
    is_projector: bool
    split_count: int


@dataclass(frozen=True)
class RepoListing:
    repo_id: str
    revision: str  # the commit the listing describes
    entries: list[GGUFEntry]
    readme: str | None
    from_cache: bool
    fetched_at: float
    notice: str | None = None


# ------------------------------------------------------------------ file names
def quantization_from_name(name: str) -> str | None:
    """The quantization a GGUF file name states ("model.Q4_K_M.gguf" -> "Q4_K_M"), or None.

    Case-insensitive; when a name holds several, the last one counts (it is the
    closest to the extension, where uploaders put it).
    """
    found = _QUANT_PATTERN.findall(name)
    if not found:
        return None
    quant = str(found[-1]).upper()
    return _QUANT_ALIASES.get(quant, quant)


def group_gguf_files(files: list[HubFile]) -> list[GGUFEntry]:
    """One entry per model: split shards (``-00001-of-00003.gguf``) together, in order.

    Entries come smallest first, projectors last.
    """
    groups: dict[tuple[str, int], list[tuple[int, HubFile]]] = {}
    for file in files:
        split = split_part(file.path)
        if split:
            stem, number, count = split
            groups.setdefault((stem, count), []).append((number, file))
        else:
            stem = file.path[: -len(".gguf")] if file.path.lower().endswith(".gguf") else file.path
            groups.setdefault((stem, 0), []).append((1, file))
    entries = []
    for (stem, count), numbered in groups.items():
        shards = [f for _, f in sorted(numbered, key=lambda pair: pair[0])]
        first = shards[0]
        entries.append(
            GGUFEntry(
                name=stem,
                files=shards,
                total_size=sum(f.size for f in shards),
                quantization=first.quantization,
                is_projector=first.is_projector,
                split_count=max(count, 1),
            )
        )
    entries.sort(key=lambda e: (e.is_projector, e.total_size, e.name))
    return entries


def _hub_file(path: str, size: int | None, sha256: str | None) -> HubFile:
    return HubFile(
        path, int(size or 0), sha256, quantization_from_name(path), is_projector_name(path)
    )


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def hub_model(info: ModelInfo) -> HubModel:
    """A search result from the hub's answer, tolerating missing or odd fields."""
    gguf = info.gguf if isinstance(info.gguf, dict) else {}
    architecture = gguf.get("architecture")
    modified = info.last_modified
    return HubModel(
        repo_id=info.id,
        author=info.author if isinstance(info.author, str) else info.id.split("/", 1)[0],
        downloads=_whole(info.downloads) or 0,
        likes=_whole(info.likes) or 0,
        last_modified=modified.isoformat() if modified is not None else None,
        architecture=architecture if isinstance(architecture, str) else None,
        parameters=_whole(gguf.get("total")),
        context_length=_whole(gguf.get("context_length")),
        gated=bool(info.gated),
    )


# ------------------------------------------------------------------ the client
class HubClient:
    """Search the hub, list a repository's GGUF files and read remote GGUF headers.

    ``endpoint`` defaults to ``$HF_ENDPOINT`` (read at each call) or huggingface.co;
    ``token`` to the one huggingface_hub saved (``hearth models login``). Each network
    step gives up after ``timeout`` seconds, whatever huggingface_hub's own retries do.
    """

    def __init__(
        self,
        store: Store,
        *,
        offline: bool = False,
        endpoint: str | None = None,
        token: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.store = store
        self.offline = offline
        self.timeout = timeout
        self._endpoint = endpoint
        self._token = token

    @property
    def endpoint(self) -> str:
        chosen = self._endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        return chosen.rstrip("/")

    def _offline_mode(self) -> bool:
        return self.offline or constants.is_offline_mode()

    def reachable(self) -> bool:
        """Whether the hub takes a bare connection now (False in offline mode, which tries
        nothing). A quick check, made before offering downloads that could not work."""
        if self._offline_mode():
            return False
        try:
            self._probe()
        except OSError:
            return False
        return True

    def _token_now(self) -> str | None:
        return self._token if self._token is not None else get_token()

    def _api(self) -> HfApi:
        return HfApi(
            endpoint=self.endpoint,
            token=self._token_now() or False,
            library_name="hearth",
            library_version=__version__,
        )

    def _key(self, kind: str, *parts: object) -> str:
        return f"hub:{kind}:" + json.dumps([self.endpoint, *parts])

    # -------------------------------------------------------------- search
    def search(
        self, query: str, *, sort: str = "downloads", page: int = 0, page_size: int = 20
    ) -> SearchPage:
        """One page of GGUF repositories matching ``query``, most ``sort`` first.

        Live results are saved; when the hub can't be reached, or in offline mode, the
        saved page is returned with ``from_cache=True``, else OfflineError is raised.
        """
        if sort not in SORTS:
            raise HubError(f"Unknown sort order {sort!r}: use one of {', '.join(SORTS)}")
        if page < 0 or page_size < 1:
            raise HubError("The page must be 0 or more and hold at least one result")
        query = query.strip()
        key = self._key("search", query.casefold(), sort, page, page_size)
        if self._offline_mode():
            return self._saved_search(key, query, page, reason=None)
        try:
            models, has_more = self._call(
                partial(self._fetch_search, query, SORTS[sort], page, page_size)
            )
        except OfflineError as unreachable:
            return self._saved_search(key, query, page, reason=unreachable.reason)
        self.store.cache_put(key, {"models": [asdict(m) for m in models], "has_more": has_more})
        return SearchPage(models, page, has_more, from_cache=False, fetched_at=time.time())

    def _fetch_search(
        self, query: str, sort: ModelSort_T, page: int, page_size: int
    ) -> tuple[list[HubModel], bool]:
        start = page * page_size
        found = self._api().list_models(
            search=query or None,
            filter="gguf",
            sort=sort,
            limit=start + page_size + 1,  # one more tells whether another page exists
            expand=_SEARCH_EXPAND,
        )
        models = [hub_model(info) for info in islice(found, start, start + page_size + 1)]
        return models[:page_size], len(models) > page_size

    def _saved_search(self, key: str, query: str, page: int, *, reason: str | None) -> SearchPage:
        saved = self.store.cache_get(key)
        decoded = _decode_search(saved[0]) if saved else None
        if saved is None or decoded is None:
            what = f"for “{query}”" if query else "for this search"
            if reason is None:
                raise OfflineError(
                    f"Hearth is in offline mode and has no saved results {what}."
                    " Turn offline mode off to search the Hugging Face Hub."
                )
            raise OfflineError(
                f"Can't reach the Hugging Face Hub ({reason}), and no results {what} are saved."
                " Check your internet connection and try again.",
                reason=reason,
            )
        models, has_more = decoded
        return SearchPage(
            models, page, has_more, from_cache=True, fetched_at=saved[1],
            notice=_saved_notice(reason, saved[1], "results"),
        )  # fmt: skip

    # -------------------------------------------------------------- files
    def files(self, repo_id: str, revision: str = "main") -> RepoListing:
        """Every GGUF model in a repository (size, sha256, split shards grouped) and its README.

        Saved like search results, and shown from the store when the hub can't be reached.
        """
        repo_id = _checked_repo_id(repo_id)
        key = self._key("files", repo_id, revision)
        if self._offline_mode():
            return self._saved_listing(key, repo_id, reason=None)
        try:
            info = self._call(
                partial(self._model_info, repo_id, revision), repo_id=repo_id, revision=revision
            )
        except OfflineError as unreachable:
            return self._saved_listing(key, repo_id, reason=unreachable.reason)

        try:
            commit = info.sha or revision
            siblings = info.siblings or []
            gguf = [
                _hub_file(s.rfilename, s.size, s.lfs.sha256 if s.lfs else None)
                for s in siblings
                if s.rfilename.lower().endswith(".gguf")
            ]
            card = next((s for s in siblings if s.rfilename.lower() == "readme.md"), None)
        except (ValueError, TypeError, KeyError, AttributeError) as unreadable:
            raise unreadable_answer(unreadable) from None
        readme = None
        if card is not None and (card.size or 0) < README_MAX_BYTES:
            readme = self._readme(repo_id, card.rfilename, commit, card.size)
        listing = RepoListing(
            repo_id,
            commit,
            group_gguf_files(gguf),
            readme,
            from_cache=False,
            fetched_at=time.time(),
        )
        payload = asdict(listing)
        for transient in ("from_cache", "fetched_at", "notice"):
            payload.pop(transient)
        self.store.cache_put(key, payload)
        return listing

    def _model_info(self, repo_id: str, revision: str) -> ModelInfo:
        return self._api().model_info(
            repo_id, revision=revision, files_metadata=True, timeout=self.timeout
        )

    def _readme(self, repo_id: str, path: str, revision: str, size: int | None) -> str | None:
        """The README's text, or None when it can't be read (gated repos keep it too)."""
        try:
            data = self._call(
                partial(self._read_prefix, f"{repo_id}/{path}", revision, size or README_MAX_BYTES),
                probe=False,
                repo_id=repo_id,
                revision=revision,
                path=path,
            )
        except HubError as problem:
            log.info("no README for %s: %s", repo_id, problem)
            return None
        return data.decode("utf-8", errors="replace")

    def _saved_listing(self, key: str, repo_id: str, *, reason: str | None) -> RepoListing:
        saved = self.store.cache_get(key)
        listing = _decode_listing(saved[0]) if saved else None
        if saved is None or listing is None:
            if reason is None:
                raise OfflineError(
                    f"Hearth is in offline mode and has not saved the files of {repo_id}."
                    " Turn offline mode off to look them up on the Hugging Face Hub."
                )
            raise OfflineError(
                f"Can't reach the Hugging Face Hub ({reason}), and the files of {repo_id}"
                " are not saved. Check your internet connection and try again.",
                reason=reason,
            )
        return RepoListing(
            listing.repo_id, listing.revision, listing.entries, listing.readme,
            from_cache=True, fetched_at=saved[1],
            notice=_saved_notice(reason, saved[1], f"list of files of {repo_id}"),
        )  # fmt: skip

    # -------------------------------------------------------------- headers
    def remote_header(
        self, repo_id: str, path: str, revision: str = "main", *, max_bytes: int = 16 << 20
    ) -> GGUFHeader:
        """Read the GGUF header of a file on the hub with HTTP Range requests, not the file.

        Starts with 1 MiB and reads more only as far as the header needs, up to
        ``max_bytes``. Nothing is cached.
        """
        repo_id = _checked_repo_id(repo_id)
        source = f"{repo_id}/{path}"
        if self._offline_mode():
            raise OfflineError(f"Hearth is in offline mode, so it can't read {source} on the hub.")
        where: dict[str, Any] = {"repo_id": repo_id, "revision": revision, "path": path}
        try:
            handle = self._call(partial(self._open_remote, source, revision), **where)
        except OfflineError as unreachable:
            raise OfflineError(
                f"Can't reach the Hugging Face Hub ({unreachable.reason}) to read {source}.",
                reason=unreachable.reason,
            ) from None
        try:
            size = int(handle.size)
            data = b""
            want = min(size, max_bytes, _FIRST_HEADER_READ)
            while True:
                more = self._call(partial(handle.read, want - len(data)), probe=False, **where)
                if not more and want > len(data):
                    raise HubError(f"The hub stopped sending {source} after {len(data)} bytes.")
                data += more
                try:
                    return parse_header(data, source=source)
                except GGUFIncomplete as incomplete:
                    if len(data) >= size:
                        raise GGUFError(
                            f"{source} ends inside its header ({format_bytes(size)} in all);"
                            " the file on the hub is damaged"
                        ) from None
                    if len(data) >= max_bytes:
                        raise HubError(
                            f"The header of {source} is larger than {format_bytes(max_bytes)};"
                            " Hearth stops reading there."
                        ) from None
                    want = min(size, max_bytes, max(incomplete.needed, 2 * len(data)))
        finally:
            handle.close()

    def _open_remote(self, source: str, revision: str, block_size: int = _FIRST_HEADER_READ) -> Any:
        """An fsspec file reading ``source`` ("owner/name/path") with one Range request per read."""
        # A private HfFileSystem: by default instances (and what they learnt about
        # repositories) are cached process-wide.
        fs = HfFileSystem(
            endpoint=self.endpoint, token=self._token_now() or False, skip_instance_cache=True
        )
        return fs.open(source, "rb", revision=revision, cache_type="none", block_size=block_size)

    def _read_prefix(self, source: str, revision: str, n: int) -> bytes:
        with self._open_remote(source, revision, block_size=n) as handle:
            return bytes(handle.read(n))

    # -------------------------------------------------------------- network
    def _call(
        self,
        step: Callable[[], T],
        *,
        probe: bool = True,
        repo_id: str | None = None,
        revision: str | None = None,
        path: str | None = None,
    ) -> T:
        """Run one network step on a helper thread and wait at most ``timeout`` seconds.

        huggingface_hub retries failed connections for about 23 seconds and some of its
        calls take no timeout, so the wait is bounded here. ``probe`` first opens a bare
        TCP connection to the hub, which answers "offline" at once when there is no
        network. Errors come back as HubError / OfflineError in words.
        """
        outcome: _Outcome[T] = _Outcome()

        def run() -> None:
            try:
                if probe:
                    self._probe()
                outcome.value = step()
                outcome.ok = True
            except BaseException as exc:  # handed to the waiting thread
                outcome.error = exc
            finally:
                outcome.done.set()

        threading.Thread(target=run, name="hearth-hub", daemon=True).start()
        if not outcome.done.wait(self.timeout):
            reason = f"no answer within {self.timeout:g} seconds"
            raise OfflineError(f"Can't reach the Hugging Face Hub ({reason}).", reason=reason)
        if outcome.ok:
            return cast(T, outcome.value)
        error = outcome.error
        assert error is not None
        translated = self._translate(error, repo_id, revision, path)
        if translated is error:
            raise error
        raise translated from error

    def _probe(self) -> None:
        parts = urlsplit(self.endpoint)
        host = parts.hostname
        if not host:
            return
        proxies = getproxies()
        if (parts.scheme in proxies or "all" in proxies) and not proxy_bypass(host):
            return  # only the proxy knows whether the hub is reachable
        port = parts.port or (443 if parts.scheme == "https" else 80)
        socket.create_connection((host, port), timeout=min(self.timeout, _PROBE_TIMEOUT)).close()

    def _translate(
        self, error: BaseException, repo_id: str | None, revision: str | None, path: str | None
    ) -> BaseException:
        """The HearthError a failure means for the user; unexpected errors stay as they are."""
        if isinstance(error, HearthError):
            return error
        cause = _library_cause(error) if isinstance(error, FileNotFoundError) else error
        refusal = hub_refusal(
            cause, endpoint=self.endpoint, repo_id=repo_id, revision=revision, path=path,
            logged_in=bool(self._token_now()),
        )  # fmt: skip
        if refusal is not None:
            if refusal.kind in ("offline", "busy"):
                return OfflineError(refusal.message, reason=refusal.reason)
            return HubError(refusal.message)
        if isinstance(cause, httpx2.HTTPError | OSError):
            reason = _network_reason(cause, urlsplit(self.endpoint).hostname or "the hub")
            return OfflineError(f"Can't reach the Hugging Face Hub ({reason}).", reason=reason)
        if isinstance(cause, ValueError | TypeError | KeyError | AttributeError | IndexError):
            return unreadable_answer(cause)  # not JSON, or not the JSON the hub sends
        return error


def unreadable_answer(cause: BaseException) -> HubError:
    """A hub answer Hearth cannot read: broken JSON, the wrong shape, a captive portal."""
    log.warning("unreadable answer from the hub: %r", cause)
    return HubError(
        "The Hugging Face Hub sent an answer Hearth cannot read (it is not the JSON the hub "
        "sends; a proxy or a Wi-Fi login page may be in the way). Try again later."
    )


class _Outcome(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: T | None = None
        self.error: BaseException | None = None


def _checked_repo_id(repo_id: str) -> str:
    """``repo_id`` without stray spaces or slashes, or HubError when it can't be one."""
    repo_id = repo_id.strip().strip("/")
    try:
        validate_repo_id(repo_id)
        valid = repo_id.count("/") == 1
    except HFValidationError:
        valid = False
    if not valid:
        raise HubError(f"“{repo_id}” is not a repository name: it looks like owner/model-name.")
    return repo_id


def _library_cause(error: BaseException) -> BaseException:
    """HfFileSystem wraps hub errors in FileNotFoundError; the hub error, if there is one."""
    link: BaseException | None = error
    for _ in range(5):  # a short chain; bounded in case of a cycle
        if link is None:
            break
        link = link.__cause__ or link.__context__
        if isinstance(link, HfHubHTTPError | HFValidationError | HfUriError):
            return link
    return error


def _network_reason(error: BaseException, host: str) -> str:
    for exc in (error, error.__cause__, error.__context__):
        if isinstance(exc, socket.gaierror):
            return f"the address of {host} could not be found"
        if isinstance(exc, ConnectionRefusedError):
            return "the connection was refused"
        if isinstance(exc, TimeoutError | httpx2.TimeoutException):
            return "no answer in time"
    if isinstance(error, httpx2.ConnectError):
        text = str(error).lower()
        if "refused" in text:
            return "the connection was refused"
        if "name" in text and ("resolution" in text or "known" in text):
            return f"the address of {host} could not be found"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


def _saved_notice(reason: str | None, fetched_at: float, what: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(fetched_at))
    if reason is None:
        return f"Offline mode: showing the {what} saved on {when}."
    return f"Can't reach the Hugging Face Hub ({reason}). Showing the {what} saved on {when}."


# ------------------------------------------------------------------ cache payloads
def _decode_search(payload: Any) -> tuple[list[HubModel], bool] | None:
    try:
        return [HubModel(**m) for m in payload["models"]], bool(payload["has_more"])
    except (KeyError, TypeError):
        return None  # saved by another version of Hearth: treat as not saved


def _decode_listing(payload: Any) -> RepoListing | None:
    try:
        entries = [
            GGUFEntry(**{**e, "files": [HubFile(**f) for f in e["files"]]})
            for e in payload["entries"]
        ]
        return RepoListing(
            payload["repo_id"], payload["revision"], entries, payload["readme"],
            from_cache=True, fetched_at=0.0,
        )  # fmt: skip
    except (KeyError, TypeError):
        return None
