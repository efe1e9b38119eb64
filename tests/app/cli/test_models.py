"""`hearth models …` through the real command: library side and hub side (against the fake hub)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.app.conftest import TINY_REPO
from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub

HEARTH = str(Path(sys.executable).parent / "hearth")


def hearth(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEARTH, "--home", str(home), *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_import_list_and_remove(tmp_path: Path, gguf_files: GgufFiles) -> None:
    home = tmp_path / "home"
    source = gguf_files.tiny("mine.gguf")
    result = hearth(home, "models", "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "Copied tiny-llama into the library" in result.stdout
    listed = json.loads(hearth(home, "models", "list", "--json").stdout)
    assert [Path(m["path"]).name for m in listed] == ["mine.gguf"]
    removed = hearth(home, "models", "rm", "tiny-llama")
    assert removed.returncode == 0 and not Path(listed[0]["path"]).exists()
    assert source.exists(), "the original file is untouched by a copy-import"
    assert json.loads(hearth(home, "models", "list", "--json").stdout) == []


def test_broken_import_is_refused_in_one_line(tmp_path: Path, gguf_files: GgufFiles) -> None:
    result = hearth(tmp_path, "models", "import", str(gguf_files.truncated()))
    assert result.returncode == 1
    assert "truncated" in result.stderr and result.stderr.count("\n") == 1


def test_extra_read_only_folder(tmp_path: Path, gguf_files: GgufFiles) -> None:
    home, other = tmp_path / "home", tmp_path / "gpt4all"
    other.mkdir()
    (other / "m.gguf").write_bytes(gguf_files.tiny().read_bytes())
    added = hearth(home, "models", "folders", "add", str(other))
    assert "1 model(s) found" in added.stdout, added.stderr
    folders = json.loads(hearth(home, "models", "folders", "--json").stdout)
    assert folders[1] == {"path": str(other.resolve()), "read_only": True}
    refused = hearth(home, "models", "rm", "tiny-llama")
    assert refused.returncode == 1 and "only reads" in refused.stderr
    assert (other / "m.gguf").exists()


# ------------------------------------------------------------------ hub side


def test_search_then_offline_shows_saved_results(tmp_path: Path, hub_with_models: FakeHub) -> None:
    online = hearth(tmp_path, "models", "search", "tiny", "--json")
    assert online.returncode == 0, online.stderr
    page = json.loads(online.stdout)
    repos = [m["repo_id"] for m in page["models"]]
    assert repos[0] == TINY_REPO and not page["from_cache"]
    text = hearth(tmp_path, "models", "search", "tiny").stdout
    assert TINY_REPO in text and "5,000" in text
    hearth(tmp_path, "settings", "set", "offline", "true")
    before = len(hub_with_models.requests)
    offline = hearth(tmp_path, "models", "search", "tiny", "--json")
    assert json.loads(offline.stdout)["from_cache"] is True
    assert [m["repo_id"] for m in json.loads(offline.stdout)["models"]] == repos
    assert len(hub_with_models.requests) == before, "offline mode touched the network"


def test_files_show_fit_and_a_recommendation(tmp_path: Path, hub_with_models: FakeHub) -> None:
    listing = json.loads(hearth(tmp_path, "models", "files", TINY_REPO, "--json").stdout)
    by_name = {f["files"][0]: f for f in listing["files"]}
    assert by_name["big-00001-of-00002.gguf"]["files"] == [
        "big-00001-of-00002.gguf", "big-00002-of-00002.gguf"
    ]  # fmt: skip
    assert by_name["mmproj-tiny-f16.gguf"]["projector"] is True
    assert by_name["tiny-chat.Q4_K_M.gguf"]["fit"]["kind"] == "fits"
    assert sum(f["recommended"] for f in listing["files"]) == 1
    text = hearth(tmp_path, "models", "files", TINY_REPO).stdout
    assert "★ recommended here:" in text and "vision projector" in text


def test_pull_lands_verified_in_the_library(tmp_path: Path, hub_with_models: FakeHub) -> None:
    result = hearth(tmp_path, "models", "pull", TINY_REPO, "tiny-chat.Q4_K_M.gguf")
    assert result.returncode == 0, result.stderr
    listed = json.loads(hearth(tmp_path, "models", "list", "--json").stdout)
    assert len(listed) == 1
    entry = listed[0]
    assert entry["repo_id"] == TINY_REPO and entry["filename"] == "tiny-chat.Q4_K_M.gguf"
    assert entry["path"] == str(
        tmp_path / "models" / "acme" / "Tiny-Chat-GGUF" / "tiny-chat.Q4_K_M.gguf"
    )
    assert len(entry["sha256"]) == 64
    again = hearth(tmp_path, "models", "pull", TINY_REPO, "tiny-chat.Q4_K_M.gguf")
    assert "already downloaded" in again.stdout


def test_pull_of_a_split_model_fetches_every_part_and_lists_it_once(
    tmp_path: Path, hub_with_models: FakeHub
) -> None:
    result = hearth(tmp_path, "models", "pull", TINY_REPO, "big-00002-of-00002.gguf")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "models" / "acme" / "Tiny-Chat-GGUF"
    assert sorted(p.name for p in folder.iterdir()) == [
        "big-00001-of-00002.gguf", "big-00002-of-00002.gguf"
    ]  # fmt: skip
    [entry] = json.loads(hearth(tmp_path, "models", "list", "--json").stdout)
    assert entry["path"] == str(folder / "big-00001-of-00002.gguf")


def test_pull_of_a_gated_model_says_how_to_log_in(tmp_path: Path, hub_with_models: FakeHub) -> None:
    result = hearth(tmp_path, "models", "pull", "carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf")
    assert result.returncode == 1
    assert "hearth models login" in result.stderr and result.stderr.count("\n") == 1
    assert json.loads(hearth(tmp_path, "models", "list", "--json").stdout) == []


def test_files_read_one_header_for_exact_figures(tmp_path: Path, hub_with_models: FakeHub) -> None:
    text = hearth(tmp_path, "models", "files", TINY_REPO).stdout
    assert "llama, 2 layers, context 2,048, chat template: yes (read from the file header)" in text
    served = sum(hub_with_models.bytes_served.values())
    assert served < 2_000_000, "only a header was read, not whole files"
    listing = json.loads(hearth(tmp_path, "models", "files", TINY_REPO, "--json").stdout)
    assert listing["model"]["layers"] == 2


def test_an_interrupted_pull_is_listed_and_resumes(
    tmp_path: Path, fake_hub: FakeHub, gguf_files: GgufFiles
) -> None:
    from app.cancel import CancelToken
    from app.models.downloads import Downloader
    from app.store import Store

    model = gguf_files.tiny("wide.gguf", width=256, layers=4, ffn=512).read_bytes()
    fake_hub.add_model("acme/Wide-GGUF", {"wide.Q8_0.gguf": model})
    hearth(tmp_path, "models", "list")  # creates the data home
    with Store.open(tmp_path / "hearth.db") as store:
        downloader = Downloader(
            store, tmp_path / "models", chunk_bytes=64 << 10, progress_interval=0.0
        )
        planned = downloader.plan("acme/Wide-GGUF", "wide.Q8_0.gguf")
        token = CancelToken()
        for progress in downloader.run(planned.id, token):
            if progress.downloaded > len(model) // 3:
                token.cancel()
        paused = store.get_download(planned.id)
    assert paused.status == "paused" and 0 < paused.downloaded_bytes < len(model)

    listed = json.loads(hearth(tmp_path, "models", "downloads", "--json").stdout)
    assert [(d["id"], d["status"]) for d in listed] == [(planned.id, "paused")]
    served_before = fake_hub.bytes_served["acme/Wide-GGUF/wide.Q8_0.gguf"]
    resumed = hearth(tmp_path, "models", "pull", "acme/Wide-GGUF", "wide.Q8_0.gguf")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at" in resumed.stderr
    fetched_again = fake_hub.bytes_served["acme/Wide-GGUF/wide.Q8_0.gguf"] - served_before
    assert fetched_again <= len(model) - paused.downloaded_bytes
    assert hearth(tmp_path, "models", "downloads").stdout.startswith("No unfinished downloads")
