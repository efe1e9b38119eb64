"""The local library: scanning folders, importing, extra read-only folders, deleting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.engine.gguf_file import GGUFError
from app.errors import HearthError
from app.models.library import Library, model_files
from app.store import Store
from tests.conftest import GgufFiles


@pytest.fixture
def library(store: Store, tmp_path: Path) -> Library:
    models = tmp_path / "models"
    models.mkdir()
    return Library(store, models)


def test_scan_lists_models_and_skips_partials_projectors_and_later_shards(
    library: Library, gguf_files: GgufFiles
) -> None:
    folder = library.models_dir / "acme" / "Tiny-GGUF"
    folder.mkdir(parents=True)
    shutil.copy(gguf_files.tiny(), folder / "tiny.Q4_K_M.gguf")
    shutil.copy(gguf_files.tiny("b.gguf", seed=2), folder / "other-00001-of-00002.gguf")
    (folder / "other-00002-of-00002.gguf").write_bytes(b"second shard")
    (folder / "mmproj-tiny-f16.gguf").write_bytes(b"projector")
    (folder / "next.gguf.part").write_bytes(b"half a download")
    report = library.scan()
    assert sorted(Path(p).name for p in (m.path for m in library.store.list_models())) == [
        "other-00001-of-00002.gguf",
        "tiny.Q4_K_M.gguf",
    ]
    assert len(report.added) == 2 and report.problems == []
    split = library.find(str(folder / "other-00001-of-00002.gguf"))
    assert split.size_bytes == (folder / "other-00001-of-00002.gguf").stat().st_size + 12
    assert split.metadata["split_count"] == 2
    assert library.scan().added == []  # nothing new the second time


def test_a_damaged_file_is_reported_not_listed(library: Library, gguf_files: GgufFiles) -> None:
    shutil.copy(gguf_files.truncated(), library.models_dir / "broken.gguf")
    report = library.scan()
    assert library.store.list_models() == []
    assert report.problems and "truncated" in report.problems[0][1]


def test_a_deleted_file_leaves_the_library_on_the_next_scan(
    library: Library, gguf_files: GgufFiles
) -> None:
    target = library.models_dir / "tiny.gguf"
    shutil.copy(gguf_files.tiny(), target)
    library.scan()
    target.unlink()
    assert library.scan().removed == ["tiny-llama"]
    assert library.store.list_models() == []


def test_import_copy_move_and_link(library: Library, gguf_files: GgufFiles, tmp_path: Path) -> None:
    copied = library.import_file(gguf_files.tiny("a.gguf"), "copy")
    assert Path(copied.path).parent == library.models_dir / "imported"
    assert (gguf_files.folder / "a.gguf").exists()
    source = gguf_files.tiny("b.gguf", seed=3)
    moved = library.import_file(source, "move")
    assert not source.exists() and Path(moved.path).exists()
    linked = library.import_file(gguf_files.tiny("c.gguf", seed=4), "link")
    assert linked.path == str((gguf_files.folder / "c.gguf").resolve()) and linked.read_only
    assert len({m.name for m in library.store.list_models()}) == 3  # names kept unique
    with pytest.raises(GGUFError):
        library.import_file(gguf_files.wrong_magic(), "copy")
    assert not (library.models_dir / "imported" / "wrong-magic.gguf").exists()


def test_extra_folder_is_read_only(library: Library, gguf_files: GgufFiles, tmp_path: Path) -> None:
    lmstudio = tmp_path / "lmstudio" / "models" / "org" / "repo"
    lmstudio.mkdir(parents=True)
    shutil.copy(gguf_files.tiny(), lmstudio / "model.gguf")
    report = library.add_folder(tmp_path / "lmstudio")
    assert report.added == ["tiny-llama"]
    entry = library.find("tiny-llama")
    assert entry.read_only
    with pytest.raises(HearthError, match="only reads"):
        library.delete("tiny-llama")
    assert (lmstudio / "model.gguf").exists()
    assert library.remove_folder(tmp_path / "lmstudio") == ["tiny-llama"]
    assert (lmstudio / "model.gguf").exists()


def test_delete_removes_files_and_empty_folders(library: Library, gguf_files: GgufFiles) -> None:
    folder = library.models_dir / "acme" / "Repo"
    folder.mkdir(parents=True)
    shutil.copy(gguf_files.tiny(), folder / "m.gguf")
    library.scan()
    library.delete("tiny-llama")
    assert not folder.exists() and not (library.models_dir / "acme").exists()
    assert library.models_dir.exists()
    assert list(model_files(library.models_dir)) == []


def test_a_model_gets_its_own_validated_settings(library: Library, gguf_files: GgufFiles) -> None:
    shutil.copy(gguf_files.tiny(), library.models_dir / "m.gguf")
    library.scan()
    entry = library.configure("tiny-llama", {"threads": "4", "context_length": 1024},
                              chat_format="chatml")  # fmt: skip
    assert entry.overrides == {"threads": 4, "context_length": 1024}
    assert entry.chat_format == "chatml"
    entry = library.configure("tiny-llama", {"threads": None})
    assert entry.overrides == {"context_length": 1024} and entry.chat_format == "chatml"
    with pytest.raises(HearthError, match="threads must be a whole number"):
        library.configure("tiny-llama", {"threads": "many"})
    with pytest.raises(HearthError, match="cannot be set per model"):
        library.configure("tiny-llama", {"temperature": 1})
    with pytest.raises(HearthError, match="Unknown chat format"):
        library.configure("tiny-llama", {}, chat_format="klingon")
    assert library.configure("tiny-llama", {}, chat_format=None).chat_format is None


def test_the_first_embedding_model_becomes_the_one_documents_use(
    library: Library, store: Store, gguf_files: GgufFiles
) -> None:
    from tests.support.minilm import minilm_path

    chat_model = library.import_file(gguf_files.tiny(), "link")
    assert not chat_model.metadata["embedding_only"]
    assert store.get_setting("embedding_model") == ""
    embedder = library.import_file(minilm_path(), "link")
    assert embedder.metadata["embedding_only"] and embedder.architecture == "bert"
    assert store.get_setting("embedding_model") == embedder.name
    store.set_setting("embedding_model", "my-choice")
    library.register(minilm_path(), read_only=True)  # seen again: the user's choice stays
    assert store.get_setting("embedding_model") == "my-choice"
