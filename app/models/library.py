"""The local model library: the models folder and extra read-only folders, scanned into the
database; importing, registering downloads and deleting models."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from app.engine.gguf_file import GGUFError, GGUFHeader, validate_file
from app.errors import HearthError, NotFoundError
from app.hardware import free_disk_bytes
from app.models.catalog import is_embedding_model
from app.models.files import is_projector_name, shard_names, split_part
from app.store import Download, ModelEntry, Store
from app.units import format_bytes

log = logging.getLogger(__name__)

ImportMode = Literal["copy", "move", "link"]


@dataclass
class ScanReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, what is wrong)


def is_projector(path: Path) -> bool:
    """Vision projector files (mmproj) load beside a model, not as one."""
    return is_projector_name(path.name)


def shards_of(first: Path) -> list[Path]:
    """All files of a split model, given its first shard (or the file itself)."""
    return [first.with_name(name) for name in shard_names(first.name)]


def model_files(folder: Path) -> Iterator[Path]:
    """Loadable model files under ``folder``: not partial downloads, projectors or later shards."""
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.lower().endswith(".gguf") or name.startswith("."):
                continue
            split = split_part(name)
            if is_projector(path) or (split and split[1] != 1):
                continue
            yield path


def is_embedding_entry(entry: ModelEntry) -> bool:
    """A model that cannot chat: an embedding model (it searches documents by meaning) or
    a reranker (it orders the passages found)."""
    marked = entry.metadata.get("embedding_only")
    return bool(marked) if marked is not None else is_embedding_model(entry.architecture)


def is_reranker_entry(entry: ModelEntry) -> bool:
    """A reranker: a cross-encoder that scores how well a passage answers a question."""
    return bool(entry.metadata.get("reranker"))


def is_reranker(header: GGUFHeader) -> bool:
    """llama.cpp runs a model as a reranker when its file asks for rank pooling."""
    return _whole_number(header.arch_value("pooling_type")) == RANK_POOLING


RANK_POOLING = 4  # llama.cpp's LLAMA_POOLING_TYPE_RANK, as GGUF files store it


def _whole_number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Library:
    """Models on this computer, as the database lists them."""

    def __init__(self, store: Store, models_dir: Path) -> None:
        self.store = store
        self.models_dir = models_dir
        self._split_lock = threading.Lock()  # the last shard of a split model registers it once

    def register_download(self, download: Download, path: Path) -> ModelEntry | None:
        """A verified download joins the library; a split model once all its parts are here.

        Returns the entry, or None for a vision projector (it loads beside a model, it is
        not one) and for a shard whose siblings are still on their way. Safe to call from
        several download threads at once.
        """
        if is_projector(path):
            return None
        parts = shards_of(path)
        with self._split_lock:
            if not all(p.is_file() for p in parts):
                return None
            try:
                return self.register(
                    parts[0],
                    repo_id=download.repo_id,
                    filename=PurePosixPath(download.filename).with_name(parts[0].name).as_posix(),
                    sha256=download.sha256 if len(parts) == 1 else None,
                )
            except HearthError as exc:  # the downloader reports it as this download's error
                raise HearthError(f"Downloaded, but Hearth can't use the file: {exc}") from exc

    # ------------------------------------------------------------- scanning
    def folders(self) -> list[tuple[Path, bool]]:
        """(folder, read_only) pairs: the models folder first, then the extra folders."""
        extra = [(Path(p), True) for p in self.store.list_model_folders()]
        return [(self.models_dir, False), *extra]

    def scan(self) -> ScanReport:
        """Bring the database in line with the folders: new files added, vanished ones removed."""
        report = ScanReport()
        known = {m.path: m for m in self.store.list_models()}
        seen: set[str] = set()
        for folder, read_only in self.folders():
            for path in model_files(folder):
                key = str(path)
                seen.add(key)
                entry = known.get(key)
                size = sum(p.stat().st_size for p in shards_of(path) if p.exists())
                if entry is not None and entry.size_bytes == size:
                    continue
                try:
                    added = self.register(path, read_only=read_only)
                except GGUFError as exc:
                    report.problems.append((key, str(exc)))
                    continue
                (report.updated if entry else report.added).append(added.name)
        for known_path, entry in known.items():
            if known_path not in seen and not Path(known_path).exists():
                self.store.remove_model(entry.id)
                report.removed.append(entry.name)
        if report.added or report.removed or report.problems:
            log.info(
                "library scan: %d added, %d updated, %d removed, %d problems",
                len(report.added), len(report.updated), len(report.removed), len(report.problems),
            )  # fmt: skip
        return report

    def register(
        self,
        path: Path,
        *,
        read_only: bool = False,
        repo_id: str | None = None,
        filename: str | None = None,
        sha256: str | None = None,
        name: str | None = None,
        starter: bool = False,
    ) -> ModelEntry:
        """Add (or refresh) one model file after checking it is a sound GGUF. ``name``
        instead of the file's own; ``starter`` marks Hearth's starter model (kept when
        the file is registered again)."""
        shards = shards_of(path)
        missing = [p.name for p in shards if not p.exists()]
        if missing:
            raise GGUFError(
                f"{path.name} is one part of a split model; missing {', '.join(missing)}"
            )
        header = validate_file(path)
        known = self.store.list_models()
        before = next((m for m in known if m.path == str(path)), None)
        if before is not None and before.metadata.get("starter"):
            starter, name = True, name or before.name
        name = name or header.name or path.stem
        taken = {m.name for m in known if m.path != str(path)}
        if name in taken:
            name = path.stem if path.stem not in taken else f"{path.stem} ({path.parent.name})"
        reranker = is_reranker(header)
        entry = self.store.add_model(
            str(path),
            name,
            sum(p.stat().st_size for p in shards),
            repo_id=repo_id,
            filename=filename,
            sha256=sha256,
            architecture=header.architecture,
            parameters=header.parameter_count,
            quantization=header.file_type_name,
            context_length=header.context_length,
            read_only=read_only,
            metadata={
                "chat_template": header.chat_template is not None,
                "split_count": len(shards),
                "layers": header.block_count,
                "embedding_only": is_embedding_model(header.architecture) or reranker,
                **({"reranker": True} if reranker else {}),
                **({"starter": True} if starter else {}),
            },
        )
        if reranker:
            if not self.store.get_setting("reranker_model"):
                # The first reranker the user gets orders the passages found.
                self.store.set_setting("reranker_model", entry.name)
                log.info("passages found in documents will be ranked by %s", entry.name)
        elif is_embedding_model(header.architecture) and not self.store.get_setting(
            "embedding_model"
        ):
            # The first embedding model the user gets is the one documents use.
            self.store.set_setting("embedding_model", entry.name)
            log.info("documents will be searched by meaning with %s", entry.name)
        return entry

    # ------------------------------------------------------------ importing
    def import_file(self, source: Path, mode: ImportMode = "copy") -> ModelEntry:
        """Bring a .gguf from anywhere into the library: copy or move it into the models
        folder, or link it in place (Hearth then never deletes it)."""
        source = source.expanduser().resolve()
        if not source.is_file():
            raise HearthError(f"{source} is not a file")
        if is_projector(source):
            raise HearthError(f"{source.name} is a vision projector (mmproj), not a model")
        validate_file(source)  # refuse a damaged file before copying gigabytes of it
        if mode == "link":
            return self.register(source, read_only=True)
        shards = shards_of(source)
        target_dir = self.models_dir / "imported"
        target_dir.mkdir(parents=True, exist_ok=True)
        needed = sum(p.stat().st_size for p in shards)
        free = free_disk_bytes(target_dir)
        if mode == "copy" and needed > free:
            raise HearthError(
                f"Not enough free space to copy {source.name}: needs {format_bytes(needed)}, "
                f"{format_bytes(free)} free. Link it in place instead (--link)."
            )
        for shard in shards:
            target = target_dir / shard.name
            if target.exists():
                raise HearthError(f"{target} already exists in the models folder")
            if mode == "move":
                shutil.move(str(shard), target)
            else:
                partial = target.with_name(target.name + ".importing")
                shutil.copyfile(shard, partial)
                partial.replace(target)
        return self.register(target_dir / source.name)

    # ------------------------------------------------------------- folders
    def add_folder(self, folder: Path) -> ScanReport:
        folder = folder.expanduser().resolve()
        if not folder.is_dir():
            raise HearthError(f"{folder} is not a folder")
        if folder == self.models_dir.resolve():
            raise HearthError(f"{folder} is already the models folder")
        self.store.add_model_folder(str(folder))
        return self.scan()

    def remove_folder(self, folder: Path) -> list[str]:
        """Stop listing a read-only folder; its files are left alone."""
        folder = folder.expanduser().resolve()
        self.store.remove_model_folder(str(folder))
        removed = []
        for entry in self.store.list_models():
            if entry.read_only and Path(entry.path).is_relative_to(folder):
                self.store.remove_model(entry.id)
                removed.append(entry.name)
        return removed

    # ------------------------------------------------------- per-model settings
    OVERRIDABLE = ("threads", "gpu_layers", "context_length")

    def configure(
        self,
        name_or_path: str,
        changes: dict[str, object],
        *,
        chat_format: str | Literal["keep"] | None = "keep",
    ) -> ModelEntry:
        """Give one model its own threads / GPU layers / context length (validated like the
        settings; None removes an override) and, optionally, a named chat format."""
        from app.engine.chat_format import NAMED_FORMATS
        from app.engine.context_length import check_context
        from app.settings import validate

        entry = self.find(name_or_path)
        overrides = dict(entry.overrides)
        for key, value in changes.items():
            if key not in self.OVERRIDABLE:
                raise HearthError(f"{key} cannot be set per model")
            if value is None:
                overrides.pop(key, None)
            else:
                overrides[key] = validate(key, value)
                if key == "context_length":
                    check_context(entry.name, entry.context_length, int(overrides[key]))
        fmt = entry.chat_format if chat_format == "keep" else chat_format
        if fmt is not None and fmt not in NAMED_FORMATS:
            raise HearthError(
                f"Unknown chat format {fmt!r} (choose from {', '.join(NAMED_FORMATS)})"
            )
        return self.store.configure_model(entry.id, overrides=overrides, chat_format=fmt)

    def model_to_reload(self, last_path: str | None) -> ModelEntry | None:
        """The chat model used last, to load again at start: None when the
        ``reload_last_model`` setting is off, or the model left the library or its file."""
        if not last_path or not self.store.get_setting("reload_last_model"):
            return None
        entry = next((m for m in self.store.list_models() if m.path == last_path), None)
        if entry is None or is_embedding_entry(entry) or not Path(entry.path).is_file():
            return None
        return entry

    # ------------------------------------------------------------- deleting
    def find(self, name_or_path: str) -> ModelEntry:
        try:
            return self.store.find_model(name_or_path)
        except NotFoundError:
            resolved = str(Path(name_or_path).expanduser().resolve())
            return self.store.find_model(resolved)

    def delete(self, name_or_path: str) -> ModelEntry:
        """Remove a model from the library and delete its files (all shards)."""
        entry = self.find(name_or_path)
        path = Path(entry.path)
        if entry.read_only:
            raise HearthError(
                f"{entry.name} is in a folder Hearth only reads ({path.parent}), so Hearth "
                "will not delete it. Remove that folder from the library, or delete the file "
                "yourself."
            )
        for shard in shards_of(path):
            shard.unlink(missing_ok=True)
        self.store.remove_model(entry.id)
        if entry.metadata.get("starter"):
            self.store.set_setting("starter_model", False)  # removed: never added again
        parent = path.parent
        while parent != self.models_dir and parent.is_relative_to(self.models_dir):
            try:
                parent.rmdir()  # only if empty
            except OSError:
                break
            parent = parent.parent
        return entry
