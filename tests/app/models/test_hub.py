"""The hub client against a fake Hugging Face Hub on 127.0.0.1: search, files, headers, offline."""

from __future__ import annotations

import time
from typing import Any

import pytest
from huggingface_hub import constants
from huggingface_hub.hf_api import ModelInfo
from hypothesis import given
from hypothesis import strategies as st

from app.engine.gguf_file import read_header
from app.models.errors import HubError, OfflineError
from app.models.files import is_projector_name
from app.models.hub import (
    QUANTIZATIONS,
    HubClient,
    HubFile,
    group_gguf_files,
    hub_model,
    quantization_from_name,
)
from app.store import Store
from tests.app.conftest import Q8_PADDING, TINY_README, TINY_REPO
from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub

Q8 = "tiny-chat.Q8_0.gguf"


def client(store: Store, **options: Any) -> HubClient:
    return HubClient(store, **options)


# ------------------------------------------------------------------ search
def test_search_finds_only_gguf_repos_most_downloaded_first(
    hub_with_models: FakeHub, store: Store
) -> None:
    page = client(store).search("tiny")
    assert [m.repo_id for m in page.models] == [
        TINY_REPO,
        "bob/tiny-llama-GGUF",
        "carol/Gated-Tiny-GGUF",
    ]  # dave/tiny-safetensors has no GGUF file
    assert (page.page, page.has_more, page.from_cache, page.notice) == (0, False, False, None)
    [search] = [target for _, target, _ in hub_with_models.requests]
    assert "filter=gguf" in search and "sort=downloads" in search


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("downloads", TINY_REPO),
        ("likes", "acme/Other-GGUF"),
        ("trending", "carol/Gated-Tiny-GGUF"),
        ("updated", "bob/tiny-llama-GGUF"),
    ],
)
def test_search_sorts_by_the_chosen_order(
    hub_with_models: FakeHub, store: Store, sort: str, first: str
) -> None:
    assert client(store).search("", sort=sort).models[0].repo_id == first


def test_search_pages_say_whether_more_results_follow(
    hub_with_models: FakeHub, store: Store
) -> None:
    hub_with_models.models_page_size = 1  # the hub's own pages: huggingface_hub follows them
    hub = client(store)
    first = hub.search("tiny", page=0, page_size=2)
    second = hub.search("tiny", page=1, page_size=2)
    assert [m.repo_id for m in first.models] == [TINY_REPO, "bob/tiny-llama-GGUF"]
    assert first.has_more
    assert [m.repo_id for m in second.models] == ["carol/Gated-Tiny-GGUF"]
    assert (second.page, second.has_more) == (1, False)
    assert client(store).search("tiny", page=5, page_size=2).models == []


def test_search_results_carry_the_hubs_gguf_summary(hub_with_models: FakeHub, store: Store) -> None:
    models = {m.repo_id: m for m in client(store).search("tiny").models}
    tiny = models[TINY_REPO]
    assert (tiny.author, tiny.downloads, tiny.likes) == ("acme", 5000, 40)
    assert (tiny.architecture, tiny.parameters, tiny.context_length) == ("llama", 170_000, 2048)
    assert tiny.last_modified is not None and tiny.last_modified.startswith("2026-02-01")
    assert not tiny.gated
    gated = models["carol/Gated-Tiny-GGUF"]
    assert gated.gated and gated.architecture is None and gated.parameters is None


def test_search_refuses_an_unknown_sort_without_asking_the_hub(
    fake_hub: FakeHub, store: Store
) -> None:
    with pytest.raises(HubError, match="downloads, likes, trending, updated"):
        client(store).search("x", sort="stars")
    assert fake_hub.requests == []


def test_search_reads_the_endpoint_from_the_environment_at_call_time(
    fake_hub: FakeHub, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_ENDPOINT")
    hub = client(store)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # the import-time value
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    assert hub.search("anything").models == []
    assert len(fake_hub.requests) == 1


def test_the_saved_token_is_sent_and_a_given_one_wins(
    fake_hub: FakeHub, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_saved")  # where huggingface_hub's get_token() looks first
    client(store).search("a")
    client(store, token="hf_given").search("b")
    sent = [headers.get("Authorization") for _, _, headers in fake_hub.requests]
    assert sent == ["Bearer hf_saved", "Bearer hf_given"]


# ------------------------------------------------------------------ files
def test_files_lists_every_gguf_with_size_and_sha256(
    hub_with_models: FakeHub, store: Store
) -> None:
    listing = client(store).files(TINY_REPO)
    assert listing.revision == hub_with_models.commit(TINY_REPO)
    assert not listing.from_cache
    files = {f.path: f for e in listing.entries for f in e.files}
    assert set(files) == {
        "tiny-chat.Q4_K_M.gguf",
        Q8,
        "big-00001-of-00002.gguf",
        "big-00002-of-00002.gguf",
        "mmproj-tiny-f16.gguf",
    }
    for path, file in files.items():
        assert file.size == len(hub_with_models.content(f"{TINY_REPO}/{path}"))
        assert file.sha256 == hub_with_models.sha256(f"{TINY_REPO}/{path}")


def test_files_groups_a_split_model_into_one_entry(hub_with_models: FakeHub, store: Store) -> None:
    entries = {e.name: e for e in client(store).files(TINY_REPO).entries}
    big = entries["big"]
    assert [f.path for f in big.files] == ["big-00001-of-00002.gguf", "big-00002-of-00002.gguf"]
    assert big.split_count == 2
    assert big.total_size == sum(f.size for f in big.files)
    assert entries["tiny-chat.Q4_K_M"].split_count == 1


def test_files_marks_the_projector_and_reads_quantizations_from_names(
    hub_with_models: FakeHub, store: Store
) -> None:
    entries = client(store).files(TINY_REPO).entries
    quants = {e.name: (e.quantization, e.is_projector) for e in entries}
    assert quants == {
        "tiny-chat.Q4_K_M": ("Q4_K_M", False),
        "tiny-chat.Q8_0": ("Q8_0", False),
        "big": (None, False),
        "mmproj-tiny-f16": ("F16", True),
    }
    assert entries[-1].is_projector  # models first, smallest first; projectors last
    sizes = [e.total_size for e in entries[:-1]]
    assert sizes == sorted(sizes)


def test_files_returns_the_readme(hub_with_models: FakeHub, store: Store) -> None:
    assert client(store).files(TINY_REPO).readme == TINY_README


def test_files_of_a_gated_repo_are_listed_without_its_readme(
    hub_with_models: FakeHub, store: Store
) -> None:
    hub_with_models.add_model(
        "carol/Gated-Tiny-GGUF", {"g.Q4_0.gguf": b"GGUF"}, gated=True, readme="x"
    )
    listing = client(store).files("carol/Gated-Tiny-GGUF")
    assert [e.name for e in listing.entries] == ["g.Q4_0"]
    assert listing.readme is None  # the hub gates README.md like every other file


def test_a_large_readme_is_not_downloaded(fake_hub: FakeHub, store: Store) -> None:
    fake_hub.add_model("acme/Long-Card", {"m.gguf": b"GGUF"}, readme="x" * 300_000)
    assert client(store).files("acme/Long-Card").readme is None
    assert fake_hub.resolve_requests("acme/Long-Card/README.md") == []


def test_unknown_repo_is_a_clear_error(fake_hub: FakeHub, store: Store) -> None:
    with pytest.raises(HubError, match="No repository called nobody/nothing on the Hugging Face"):
        client(store).files("nobody/nothing")
    with pytest.raises(HubError, match="No repository called nobody/nothing on the Hugging Face"):
        client(store).remote_header("nobody/nothing", "x.gguf")


def test_unknown_revision_and_file_are_clear_errors(hub_with_models: FakeHub, store: Store) -> None:
    with pytest.raises(HubError, match="no branch, tag or commit called v2"):
        client(store).files(TINY_REPO, revision="v2")
    with pytest.raises(HubError, match=r"has no file called missing\.gguf"):
        client(store).remote_header(TINY_REPO, "missing.gguf")


# ------------------------------------------------------------------ remote headers
def test_remote_header_reads_only_the_start_of_the_file_with_range(
    hub_with_models: FakeHub, store: Store
) -> None:
    header = client(store).remote_header(TINY_REPO, Q8)
    assert header.architecture == "llama"
    assert header.context_length == 2048
    key = f"{TINY_REPO}/{Q8}"
    assert [h["Range"] for h in hub_with_models.resolve_requests(key)] == ["bytes=0-1048575"]
    file_size = len(hub_with_models.content(key))
    assert file_size > Q8_PADDING
    assert hub_with_models.bytes_served[key] <= 1 << 20 < file_size // 4


def test_remote_header_reads_further_when_the_header_is_longer(
    fake_hub: FakeHub, store: Store, gguf_files: GgufFiles
) -> None:
    template = "{{ messages }}" + " " * (1536 << 10)  # a 1.5 MB chat template
    data = gguf_files.tiny("long.gguf", chat_template=template).read_bytes()
    fake_hub.add_model("acme/Long-GGUF", {"long.Q4_0.gguf": data + bytes(4 << 20)})
    header = client(store).remote_header("acme/Long-GGUF", "long.Q4_0.gguf")
    assert header.chat_template == template
    ranges = [h["Range"] for h in fake_hub.resolve_requests("acme/Long-GGUF/long.Q4_0.gguf")]
    assert ranges[0] == "bytes=0-1048575"
    assert len(ranges) == 2 and ranges[1].startswith("bytes=1048576-")
    assert fake_hub.bytes_served["acme/Long-GGUF/long.Q4_0.gguf"] < len(data) + (1 << 20)


def test_remote_header_stops_at_max_bytes(
    fake_hub: FakeHub, store: Store, gguf_files: GgufFiles
) -> None:
    data = gguf_files.tiny("long.gguf", chat_template="x" * (3 << 20)).read_bytes()
    fake_hub.add_model("acme/Long-GGUF", {"long.gguf": data})
    with pytest.raises(HubError, match=r"larger than 2\.1 MB"):
        client(store).remote_header("acme/Long-GGUF", "long.gguf", max_bytes=2 << 20)
    assert fake_hub.bytes_served["acme/Long-GGUF/long.gguf"] == 2 << 20


def test_remote_header_of_a_gated_repo_says_how_to_get_access(
    hub_with_models: FakeHub, store: Store
) -> None:
    repo, path = "carol/Gated-Tiny-GGUF", "gated-tiny.Q4_K_M.gguf"
    with pytest.raises(HubError) as no_token:
        client(store).remote_header(repo, path)
    message = str(no_token.value)
    assert "gated" in message and "accept" in message and "hearth models login" in message
    assert f"{hub_with_models.url}/{repo}" in message
    hub_with_models.token = "hf_right"
    with pytest.raises(HubError, match="no access to carol/Gated-Tiny-GGUF yet"):
        client(store, token="hf_wrong").remote_header(repo, path)
    assert client(store, token="hf_right").remote_header(repo, path).architecture == "llama"


def test_remote_header_of_a_file_that_is_not_gguf_is_refused_in_words(
    fake_hub: FakeHub, store: Store
) -> None:
    from app.engine.gguf_file import GGUFError

    fake_hub.add_model("acme/Zip", {"model.gguf": b"PK\x03\x04" + bytes(5000)})
    with pytest.raises(GGUFError, match="ZIP"):
        client(store).remote_header("acme/Zip", "model.gguf")


def test_remote_header_matches_the_local_one(
    hub_with_models: FakeHub, store: Store, gguf_files: GgufFiles
) -> None:
    local = read_header(gguf_files.folder / "tiny-chat.Q4_K_M.gguf")
    remote = client(store).remote_header(TINY_REPO, "tiny-chat.Q4_K_M.gguf")
    assert remote == local


# ------------------------------------------------------------------ offline
def test_offline_mode_makes_no_requests_and_shows_the_saved_page(
    hub_with_models: FakeHub, store: Store
) -> None:
    online = client(store).search("tiny", sort="likes")
    hub_with_models.requests.clear()
    saved = client(store, offline=True).search("tiny", sort="likes")
    assert hub_with_models.requests == []
    assert saved.from_cache and saved.models == online.models
    assert saved.has_more == online.has_more
    assert saved.notice is not None and saved.notice.startswith("Offline mode")
    assert abs(saved.fetched_at - online.fetched_at) < 5


def test_offline_mode_without_saved_results_says_so_without_requests(
    hub_with_models: FakeHub, store: Store
) -> None:
    offline = client(store, offline=True)
    with pytest.raises(OfflineError, match="offline mode"):
        offline.search("tiny")
    with pytest.raises(OfflineError, match="offline mode"):
        offline.files(TINY_REPO)
    with pytest.raises(OfflineError, match="offline mode"):
        offline.remote_header(TINY_REPO, Q8)
    assert hub_with_models.requests == []


def test_offline_mode_shows_the_saved_file_listing(hub_with_models: FakeHub, store: Store) -> None:
    online = client(store).files(TINY_REPO)
    hub_with_models.requests.clear()
    saved = client(store, offline=True).files(TINY_REPO)
    assert hub_with_models.requests == []
    assert saved.from_cache
    assert (saved.entries, saved.readme, saved.revision) == (
        online.entries,
        online.readme,
        online.revision,
    )


def test_hub_down_shows_the_saved_page(hub_with_models: FakeHub, store: Store) -> None:
    hub = client(store)
    online = hub.search("tiny")
    hub_with_models.stop()
    started = time.monotonic()
    saved = hub.search("tiny")
    # Not huggingface_hub's own retries (about 23 s): one refused connection, then the
    # saved page. The bound is loose on purpose: a busy machine is still far below it.
    assert time.monotonic() - started < 10
    assert saved.from_cache and saved.models == online.models
    assert saved.notice is not None
    assert saved.notice.startswith("Can't reach the Hugging Face Hub (the connection was refused)")
    assert "Showing the results saved on" in saved.notice


def test_hub_down_with_nothing_saved_raises_offline_error(
    hub_with_models: FakeHub, store: Store
) -> None:
    hub = client(store)
    hub.search("tiny")  # saved, but for another query
    hub_with_models.stop()
    with pytest.raises(OfflineError, match="Can't reach the Hugging Face Hub") as error:
        hub.search("llama")
    assert "no results for “llama” are saved" in str(error.value)
    with pytest.raises(OfflineError, match="Can't reach"):
        hub.remote_header(TINY_REPO, Q8)


def test_hub_down_shows_the_saved_file_listing(hub_with_models: FakeHub, store: Store) -> None:
    hub = client(store)
    online = hub.files(TINY_REPO)
    hub_with_models.stop()
    saved = hub.files(TINY_REPO)
    assert saved.from_cache and saved.entries == online.entries
    with pytest.raises(OfflineError):
        hub.files("bob/tiny-llama-GGUF")


def test_a_hub_that_does_not_answer_is_given_up_after_the_timeout(
    hub_with_models: FakeHub, store: Store
) -> None:
    hub_with_models.hold_answers()  # the hub answers only once the client has given up
    try:
        with pytest.raises(OfflineError, match=r"no answer within 0\.2 seconds"):
            client(store, timeout=0.2).search("tiny")
        assert hub_with_models.held >= 1
    finally:
        hub_with_models.release_answers()
    hub_with_models.wait_idle()  # the abandoned request ends before the hub stops


# ------------------------------------------------------------------ names and parsing
@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("model.Q4_K_M.gguf", "Q4_K_M"),
        ("Model-IQ4_XS.gguf", "IQ4_XS"),
        ("model-q8_0.gguf", "Q8_0"),
        ("Meta-Llama-3.1-8B-Instruct-Q5_K_S.gguf", "Q5_K_S"),
        ("gemma-2-9b-it-IQ2_XXS.gguf", "IQ2_XXS"),
        ("qwen2.5-7b-instruct-q4_0_4_4.gguf", "Q4_0_4_4"),
        ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "Q4_K_XL"),
        ("gpt-oss-20b-MXFP4.gguf", "MXFP4"),
        ("BitNet-b1.58-2B-TQ1_0.gguf", "TQ1_0"),
        ("Q4_K_M/Model-Q4_K_M-00001-of-00003.gguf", "Q4_K_M"),
        ("phi-3-mini-4k-instruct-fp16.gguf", "F16"),
        ("model-bf16.gguf", "BF16"),
        ("mmproj-model-f16.gguf", "F16"),
        ("model.gguf", None),
        ("Qwen2.5-Coder-7B.gguf", None),
    ],
)
def test_quantization_is_read_from_the_file_name(name: str, quant: str | None) -> None:
    assert quantization_from_name(name) == quant


@given(st.text())
def test_quantization_from_any_name_never_raises(name: str) -> None:
    result = quantization_from_name(name)
    assert result is None or result in QUANTIZATIONS


@given(
    stem=st.text(alphabet=st.characters(exclude_characters="/"), max_size=40),
    quant=st.sampled_from(QUANTIZATIONS),
    lower=st.booleans(),
)
def test_a_quantization_before_the_extension_is_found(stem: str, quant: str, lower: bool) -> None:
    name = f"{stem}.{quant.lower() if lower else quant}.gguf"
    assert quantization_from_name(name) == quant


def test_projectors_are_recognised_by_name() -> None:
    assert is_projector_name("mmproj-tiny-f16.gguf")
    assert is_projector_name("vision/Model-MMPROJ.gguf")
    assert not is_projector_name("mmproj/model.Q4_K_M.gguf")  # a folder name is not the file


_paths = st.lists(
    st.one_of(
        st.from_regex(r"[a-z]{1,6}(\.Q4_K_M|-mmproj|)\.gguf", fullmatch=True),
        st.builds(
            lambda stem, n, i: f"{stem}-{min(i, n):05d}-of-{n:05d}.gguf",
            st.sampled_from(["big", "huge"]),
            st.integers(1, 4),
            st.integers(1, 4),
        ),
    ),
    unique=True,
    max_size=12,
)


@given(_paths, st.data())
def test_grouping_keeps_every_file_once_and_sizes_add_up(paths: list[str], data: Any) -> None:
    files = [HubFile(p, data.draw(st.integers(0, 10**12)), None, None, False) for p in paths]
    entries = group_gguf_files(files)
    grouped = [f.path for e in entries for f in e.files]
    assert sorted(grouped) == sorted(paths)
    for entry in entries:
        assert entry.total_size == sum(f.size for f in entry.files)
        assert entry.split_count >= len(entry.files) or entry.split_count == 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    gguf=_json
    | st.fixed_dictionaries({}, optional=dict.fromkeys(("total", "architecture"), _json)),
    downloads=_json,
    likes=_json,
    gated=_json,
)
def test_odd_hub_answers_still_make_a_search_result(
    gguf: object, downloads: object, likes: object, gated: object
) -> None:
    info = ModelInfo(id="a/b", gguf=gguf, downloads=downloads, likes=likes, gated=gated)  # type: ignore[no-untyped-call]
    model = hub_model(info)
    assert model.repo_id == "a/b" and model.author == "a"
    assert isinstance(model.downloads, int) and isinstance(model.likes, int)
    assert model.parameters is None or isinstance(model.parameters, int)


@pytest.mark.parametrize("name", ["justname", "a/b/c", "bad name/x", "", "../x"])
def test_a_name_that_is_not_owner_slash_model_is_refused_without_requests(
    fake_hub: FakeHub, store: Store, name: str
) -> None:
    hub = client(store)
    with pytest.raises(HubError, match="is not a repository name: it looks like owner/model-name"):
        hub.files(name)
    with pytest.raises(HubError, match="is not a repository name"):
        hub.remote_header(name, "model.gguf")
    assert fake_hub.requests == []


def test_reachable_says_whether_the_hub_takes_a_connection(fake_hub: FakeHub, store: Store) -> None:
    assert client(store).reachable()
    assert not client(store, offline=True).reachable(), "offline mode tries nothing"
    fake_hub.stop()
    assert not client(store).reachable()
