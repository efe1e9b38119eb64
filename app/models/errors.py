"""What can go wrong between Hearth and the Hugging Face Hub, in one family and one wording.

Browsing (``hub``) and downloading (``downloads``) meet the same refusals: a gated
repository, a missing file, a bad name, offline mode. ``hub_refusal`` turns
huggingface_hub's exception into one plain-words message, and each side raises the
class it documents. Retrying on network trouble and server errors stays with each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HfUriError,
    HFValidationError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from app.errors import HearthError


class HubError(HearthError):
    """The hub answered, but not with what was asked for (no such repo, gated, refused)."""


class DownloadError(HearthError):
    """A download cannot go on; the message says why and what to do."""


class OfflineError(HubError, DownloadError):
    """The hub can't be reached, or Hearth is in offline mode: nothing was fetched.

    ``reason`` is the cause in a few words ("the connection was refused"), when known.
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class GatedModelError(DownloadError):
    """The hub refused access (401/403): a gated or private repository."""


class NotOnHubError(DownloadError):
    """The repository, revision or file does not exist on the hub (404)."""


class NoNetworkError(DownloadError):
    """The hub cannot be reached (connection refused, dropped, timed out); paused."""


class HubUnavailableError(DownloadError):
    """The hub kept answering with server errors (5xx, 429) after every retry; paused."""


class DiskFullError(DownloadError):
    """Not enough free space for the rest of the file."""


class ChecksumError(DownloadError):
    """The bytes received do not match the sha256 (or size) the hub published."""


class UnsafePathError(DownloadError):
    """A hub file name (or repository id) that would write outside the models folder."""


RefusalKind = Literal["gated", "not_found", "invalid", "offline", "busy", "refused"]


@dataclass(frozen=True)
class HubRefusal:
    """What a hub failure means: its kind, and the message shown to the user."""

    kind: RefusalKind
    message: str
    reason: str = ""  # for "offline" and "busy": the cause in a few words


def hub_refusal(
    cause: BaseException,
    *,
    endpoint: str,
    repo_id: str | None,
    revision: str | None = None,
    path: str | None = None,
    logged_in: bool = False,
) -> HubRefusal | None:
    """The refusal ``cause`` (a huggingface_hub error) stands for; None for anything else."""
    repo = repo_id or "the repository"
    page = f"{endpoint}/{repo}"
    status = 0
    if isinstance(cause, HfHubHTTPError) and cause.response is not None:
        status = cause.response.status_code
    refused_access = status in (401, 403) and not isinstance(cause, RepositoryNotFoundError)
    if isinstance(cause, GatedRepoError) or refused_access:
        if status == 403 or logged_in:
            return HubRefusal("gated", (
                f"Your Hugging Face account has no access to {repo} yet. Open {page}, accept"
                " the terms its authors ask for (some approve each request by hand), and"
                " check that your token is valid and its account has access"
                " (`hearth models login`)."
            ))  # fmt: skip
        return HubRefusal("gated", (
            f"{repo} is gated or private: its authors ask you to accept their terms first."
            f" Open {page}, accept them, then add your token with `hearth models login`."
        ))  # fmt: skip
    if isinstance(cause, RepositoryNotFoundError):
        return HubRefusal("not_found", (
            f"No repository called {repo} on the Hugging Face Hub (or it is private)."
            " Check the name: it looks like owner/model-name."
        ))  # fmt: skip
    if isinstance(cause, RevisionNotFoundError):
        return HubRefusal(
            "not_found",
            f"{repo} has no branch, tag or commit called {revision} on the Hugging Face Hub.",
        )
    if isinstance(cause, RemoteEntryNotFoundError | FileNotFoundError):  # HfFileSystem's
        return HubRefusal("not_found", f"{repo} has no file called {path} on the Hugging Face Hub.")
    if isinstance(cause, HFValidationError | HfUriError):
        return HubRefusal("invalid", f"“{path or repo}” can't be looked up on the hub ({cause})")
    if isinstance(cause, OfflineModeIsEnabled):
        reason = "huggingface_hub's offline mode (HF_HUB_OFFLINE) is on"
        return HubRefusal("offline", f"Can't reach the Hugging Face Hub ({reason}).", reason)
    if isinstance(cause, HfHubHTTPError):
        if status >= 500 or status == 429:
            reason = "it is busy" if status == 429 else f"it answered with error {status}"
            return HubRefusal("busy", f"Can't reach the Hugging Face Hub ({reason}).", reason)
        what = f"{repo}/{path}" if path else "the request"
        detail = f": {cause.server_message}" if cause.server_message else ""
        return HubRefusal(
            "refused", f"The Hugging Face Hub refused {what} (error {status}){detail}"
        )
    return None
