"""The fake hub answers the real huggingface_hub client the way huggingface.co does."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.support.fake_hub import FakeHub, isolate_huggingface_hub

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB that is not all the same byte
README = "---\nlicense: mit\n---\n# Tiny\n"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub() as fake:
        isolate_huggingface_hub(monkeypatch, tmp_path / "hf-home", fake.url)
        fake.add_model(
            "acme/Tiny-GGUF",
            {"tiny.Q4_K_M.gguf": WEIGHTS, "sub/extra.gguf": b"GGUF" + b"\0" * 60},
            downloads=50,
            likes=3,
            gguf={"total": 1234, "architecture": "llama", "context_length": 2048},
            readme=README,
        )
        for i in range(5):
            fake.add_model(f"other/model-{i}-GGUF", {"m.gguf": b"GGUF"}, downloads=i, likes=10 - i)
        fake.add_model("other/not-gguf", {"model.safetensors": b"{}"}, downloads=999)
        fake.add_model("corp/Gated-GGUF", {"g.gguf": b"GGUF" * 10}, gated=True)
        yield fake


def test_list_models_filters_sorts_and_follows_link_pages(hub: FakeHub) -> None:
    hub.models_page_size = 2
    api = HfApi(endpoint=hub.url)
    models = list(api.list_models(search="GGUF", filter="gguf", sort="downloads", limit=5))
    assert [m.id for m in models] == [
        "acme/Tiny-GGUF",
        "other/model-4-GGUF",
        "other/model-3-GGUF",
        "other/model-2-GGUF",
        "other/model-1-GGUF",
    ]
    pages = [target for method, target, _ in hub.requests if target.startswith("/api/models?")]
    assert len(pages) == 3  # 2 + 2 + 1, each next page from the Link header
    assert "cursor=" in pages[1]


def test_list_models_expand_returns_gguf_summary(hub: FakeHub) -> None:
    api = HfApi(endpoint=hub.url)
    [model] = api.list_models(search="tiny", filter="gguf", expand=["gguf", "downloads", "likes"])
    assert model.gguf == {"total": 1234, "architecture": "llama", "context_length": 2048}
    assert (model.downloads, model.likes) == (50, 3)
    assert not list(api.list_models(search="not-gguf", filter="gguf"))


def test_model_info_lists_files_with_sizes_and_lfs_hashes(hub: FakeHub) -> None:
    info = HfApi(endpoint=hub.url).model_info("acme/Tiny-GGUF", files_metadata=True)
    assert info.sha == hub.commit("acme/Tiny-GGUF")
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert set(siblings) == {"README.md", "sub/extra.gguf", "tiny.Q4_K_M.gguf"}
    weights = siblings["tiny.Q4_K_M.gguf"]
    assert weights.size == len(WEIGHTS)
    assert weights.lfs is not None and weights.lfs.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert siblings["README.md"].lfs is None


def test_list_repo_tree_is_paginated_and_recursive(hub: FakeHub) -> None:
    hub.tree_page_size = 2
    api = HfApi(endpoint=hub.url)
    flat = {e.path for e in api.list_repo_tree("acme/Tiny-GGUF")}
    assert flat == {"README.md", "sub", "tiny.Q4_K_M.gguf"}
    deep = {e.path for e in api.list_repo_tree("acme/Tiny-GGUF", recursive=True)}
    assert deep == flat | {"sub/extra.gguf"}
    inside = [e.path for e in api.list_repo_tree("acme/Tiny-GGUF", "sub")]
    assert inside == ["sub/extra.gguf"]


def test_get_paths_info_answers_the_requested_paths(hub: FakeHub) -> None:
    api = HfApi(endpoint=hub.url)
    infos = api.get_paths_info("acme/Tiny-GGUF", ["tiny.Q4_K_M.gguf", "missing.gguf", "sub"])
    assert [i.path for i in infos] == ["tiny.Q4_K_M.gguf", "sub"]


def test_hf_hub_download_gets_the_exact_bytes(hub: FakeHub, tmp_path: Path) -> None:
    path = hf_hub_download(
        "acme/Tiny-GGUF", "tiny.Q4_K_M.gguf", endpoint=hub.url, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == WEIGHTS
    assert hub.bytes_served["acme/Tiny-GGUF/tiny.Q4_K_M.gguf"] == len(WEIGHTS)


def test_hf_hub_download_recovers_from_a_dropped_connection(hub: FakeHub, tmp_path: Path) -> None:
    key = "acme/Tiny-GGUF/tiny.Q4_K_M.gguf"
    hub.cut_after[key] = 100_000
    path = hf_hub_download(
        "acme/Tiny-GGUF", "tiny.Q4_K_M.gguf", endpoint=hub.url, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == WEIGHTS
    # huggingface_hub reads 10 MB chunks, so the 100 kB received before the cut are
    # dropped and the second request starts again from byte 0.
    assert len(hub.resolve_requests(key)) == 2
    assert hub.bytes_served[key] == 100_000 + len(WEIGHTS)
    assert key not in hub.cut_after


def test_fail_next_and_corrupt_change_what_resolve_answers(hub: FakeHub) -> None:
    import httpx2

    key = "acme/Tiny-GGUF/tiny.Q4_K_M.gguf"
    url = f"{hub.url}/acme/Tiny-GGUF/resolve/main/tiny.Q4_K_M.gguf"
    hub.fail_next[key] = [503, 500]
    assert httpx2.get(url).status_code == 503
    assert httpx2.get(url).status_code == 500
    hub.corrupt.add(key)
    served = httpx2.get(url)
    assert served.status_code == 200 and len(served.content) == len(WEIGHTS)
    assert served.content != WEIGHTS
    assert served.headers["X-Linked-Etag"] == f'"{hashlib.sha256(WEIGHTS).hexdigest()}"'


def test_hf_file_system_reads_a_prefix_with_a_range_request(hub: FakeHub) -> None:
    fs = HfFileSystem(endpoint=hub.url, skip_instance_cache=True)
    with fs.open("acme/Tiny-GGUF/tiny.Q4_K_M.gguf", "rb", cache_type="none") as f:
        assert f.read(1000) == WEIGHTS[:1000]
    key = "acme/Tiny-GGUF/tiny.Q4_K_M.gguf"
    assert [h["Range"] for h in hub.resolve_requests(key)] == ["bytes=0-999"]
    assert hub.bytes_served[key] == 1000


def test_range_past_the_end_is_refused_with_416(hub: FakeHub) -> None:
    import httpx2

    url = f"{hub.url}/acme/Tiny-GGUF/resolve/main/tiny.Q4_K_M.gguf"
    answer = httpx2.get(url, headers={"Range": f"bytes={len(WEIGHTS)}-"})
    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == f"bytes */{len(WEIGHTS)}"
    tail = httpx2.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == WEIGHTS[-10:]


def test_unknown_repo_file_and_revision_raise_the_libraries_errors(hub: FakeHub) -> None:
    api = HfApi(endpoint=hub.url)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/Tiny-GGUF", revision="v9")
    with pytest.raises(RemoteEntryNotFoundError):
        api.get_hf_file_metadata(url=f"{hub.url}/acme/Tiny-GGUF/resolve/main/nope.gguf")


def test_gated_files_need_the_right_token(hub: FakeHub, tmp_path: Path) -> None:
    hub.token = "hf_good"
    url = f"{hub.url}/corp/Gated-GGUF/resolve/main/g.gguf"
    api = HfApi(endpoint=hub.url)
    with pytest.raises(GatedRepoError) as no_token:
        api.get_hf_file_metadata(url=url, token=False)
    assert no_token.value.response.status_code == 401
    with pytest.raises(GatedRepoError) as wrong:
        api.get_hf_file_metadata(url=url, token="hf_bad")
    assert wrong.value.response.status_code == 403
    path = hf_hub_download(
        "corp/Gated-GGUF", "g.gguf", endpoint=hub.url, token="hf_good", cache_dir=tmp_path / "c"
    )
    assert Path(path).read_bytes() == b"GGUF" * 10
    assert api.model_info("corp/Gated-GGUF").gated == "auto"  # metadata stays public


def test_stop_closes_kept_alive_connections(hub: FakeHub) -> None:
    import httpx2

    with httpx2.Client() as client:
        assert client.get(f"{hub.url}/api/models").status_code == 200
        hub.stop()
        with pytest.raises(httpx2.TransportError):
            client.get(f"{hub.url}/api/models")


def test_cut_after_drops_the_connection_once_and_a_range_request_resumes(hub: FakeHub) -> None:
    import httpx2

    key = "acme/Tiny-GGUF/tiny.Q4_K_M.gguf"
    url = f"{hub.url}/acme/Tiny-GGUF/resolve/main/tiny.Q4_K_M.gguf"
    hub.cut_after[key] = 300_000
    received = bytearray()
    with pytest.raises(httpx2.RemoteProtocolError), httpx2.stream("GET", url) as answer:
        assert answer.headers["Content-Length"] == str(len(WEIGHTS))
        for chunk in answer.iter_bytes():
            received += chunk
    assert bytes(received) == WEIGHTS[:300_000]
    rest = httpx2.get(url, headers={"Range": f"bytes={len(received)}-"})
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes 300000-{len(WEIGHTS) - 1}/{len(WEIGHTS)}"
    assert bytes(received) + rest.content == WEIGHTS
    assert hub.bytes_served[key] == len(WEIGHTS)


def test_head_answers_the_metadata_huggingface_hub_needs(hub: FakeHub) -> None:
    meta = HfApi(endpoint=hub.url).get_hf_file_metadata(
        url=f"{hub.url}/acme/Tiny-GGUF/resolve/main/tiny.Q4_K_M.gguf"
    )
    assert meta.commit_hash == hub.commit("acme/Tiny-GGUF")
    assert meta.etag == hashlib.sha256(WEIGHTS).hexdigest()
    assert meta.size == len(WEIGHTS)
    assert "acme/Tiny-GGUF/tiny.Q4_K_M.gguf" not in hub.bytes_served  # HEAD sends no body


def test_the_commit_sha_works_as_a_revision(hub: FakeHub) -> None:
    sha = hub.commit("acme/Tiny-GGUF")
    api = HfApi(endpoint=hub.url)
    assert api.model_info("acme/Tiny-GGUF", revision=sha).sha == sha
    assert [e.path for e in api.list_repo_tree("acme/Tiny-GGUF", "sub", revision=sha)] == [
        "sub/extra.gguf"
    ]
