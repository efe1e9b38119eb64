"""Where Hearth keeps the user's data: one data home holding the database, logs and models."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.errors import HearthError

HOME_ENV = "HEARTH_HOME"
APP_NAME = "Hearth"


def default_home() -> Path:
    """The per-user data folder the OS expects (e.g. ~/.local/share/Hearth on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data home: ``--home`` wins, then ``HEARTH_HOME``, then the OS default."""
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get(HOME_ENV):
        chosen = Path(os.environ[HOME_ENV])
    else:
        chosen = default_home()
    return chosen.expanduser().resolve()


@dataclass(frozen=True)
class DataPaths:
    """The fixed layout inside a data home."""

    home: Path

    @property
    def database(self) -> Path:
        return self.home / "hearth.db"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "hearth.log"

    @property
    def default_models(self) -> Path:
        return self.home / "models"

    def ensure(self) -> DataPaths:
        """Create the folders, or explain in words why the home cannot be used."""
        for folder in (self.home, self.logs):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise HearthError(f"Data folder {folder} is a file, not a folder") from None
            except OSError as exc:
                raise HearthError(
                    f"Cannot create the data folder {folder}: {exc.strerror or exc}"
                ) from exc
        if not os.access(self.home, os.W_OK):
            raise HearthError(f"The data folder {self.home} is not writable")
        return self


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, text: str, *, private: bool = False) -> None:
    """Write ``text`` to ``path`` so that a crash leaves the old file whole (a ``.part``
    beside it, then renamed over it); ``private`` makes it readable by the user only.
    Raises OSError."""
    partial = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(
        os.open(partial, flags, 0o600 if private else 0o666), "w", encoding="utf-8"
    ) as out:
        out.write(text)
    if private:
        partial.chmod(0o600)  # a .part left by an older run may have had other modes
    partial.replace(path)
