"""`hearth docs …` and `hearth chat --docs` through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.cli.test_chat import hearth
from tests.support.documents import make_docx, make_pdf

PAGES = [
    "Tenancy agreement between the landlord and the tenant of flat 4.",
    "The deposit is 1,200 pounds and is returned within 30 days of the end of the tenancy.",
    "Pets are allowed with the written consent of the landlord.",
]


def test_add_list_search_and_remove(tmp_path: Path) -> None:
    lease = make_pdf(tmp_path / "lease.pdf", PAGES)
    handbook = make_docx(
        tmp_path / "handbook.docx",
        [("h1", "Bakery handbook"), ("h2", "Holidays"), ("p", "Staff get 28 days of leave.")],
    )
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    added = hearth(tmp_path / "home", "docs", "add", str(lease), str(handbook),
                   str(tmp_path / "photo.jpg"), "--collection", "Home")  # fmt: skip
    assert added.returncode == 1  # one file was refused; the others are in
    assert "photo.jpg: Hearth can't read .jpg files" in added.stderr
    assert "2 added, 0 unchanged, 1 not added" in added.stdout

    again = hearth(tmp_path / "home", "docs", "add", str(lease), "--collection", "Home")
    assert again.returncode == 0 and "0 added, 1 unchanged" in again.stdout

    listing = json.loads(hearth(tmp_path / "home", "docs", "list", "--json").stdout)
    assert {(d["name"], d["status"], d["where"]) for d in listing} == {
        ("lease.pdf", "ready", "Home"),
        ("handbook.docx", "ready", "Home"),
    }
    assert next(d for d in listing if d["name"] == "lease.pdf")["pages"] == 3

    found = hearth(tmp_path / "home", "docs", "search", "when do I get my deposit back", "--json")
    best = json.loads(found.stdout)[0]
    assert (best["name"], best["page"], best["rank"]) == ("lease.pdf", 2, 1)
    assert "30 days" in best["text"]

    shown = hearth(tmp_path / "home", "docs", "search", "days of leave")
    assert shown.stdout.startswith("[1] handbook.docx, Bakery handbook > Holidays")

    lease_id = next(d["id"] for d in listing if d["name"] == "lease.pdf")
    removed = hearth(tmp_path / "home", "docs", "remove", str(lease_id))
    assert removed.returncode == 0 and "lease.pdf" in removed.stdout
    assert lease.exists()
    collections = json.loads(hearth(tmp_path / "home", "docs", "collections", "--json").stdout)
    assert [(c["name"], c["documents"]) for c in collections] == [("Home", 1)]


def test_search_with_nothing_indexed_says_so(tmp_path: Path) -> None:
    result = hearth(tmp_path, "docs", "search", "anything")
    assert result.returncode == 0 and result.stdout.strip() == "No passage matches."
    missing = hearth(tmp_path, "docs", "list", "--collection", "Nope")
    assert missing.returncode == 1 and "no collection called 'Nope'" in missing.stderr


def test_chat_with_docs_answers_with_numbered_sources(tmp_path: Path, tiny_model: Path) -> None:
    lease = make_pdf(tmp_path / "lease.pdf", PAGES)
    result = hearth(tmp_path / "home", "chat", str(tiny_model), "--json",
                    "--max-tokens", "6", "--temperature", "0", "--docs", str(lease),
                    "How much is the deposit?")  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["documents_mode"] == "whole"
    assert [(s["number"], s["name"], s["page"]) for s in record["sources"]] == [
        (1, "lease.pdf", 1),
        (2, "lease.pdf", 2),
        (3, "lease.pdf", 3),
    ]
    docs = json.loads(hearth(tmp_path / "home", "docs", "list", "--json").stdout)
    assert docs[0]["where"] == f"chat {record['chat_id']}"


def test_chat_with_only_unreadable_docs_is_refused_in_words(
    tmp_path: Path, tiny_model: Path
) -> None:
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"%PDF-1.4 broken")
    result = hearth(tmp_path / "home", "chat", str(tiny_model), "--docs", str(broken),
                    "What does it say?")  # fmt: skip
    assert result.returncode == 1
    assert "hearth: None of the documents could be read: scan.pdf is damaged" in result.stderr
    unsupported = tmp_path / "movie.mp4"
    unsupported.write_bytes(b"\x00\x00")
    refused = hearth(tmp_path / "home", "chat", str(tiny_model), "--docs", str(unsupported),
                     "What does it say?")  # fmt: skip
    assert refused.returncode == 1
    assert "None of the documents could be read: movie.mp4: Hearth can't read .mp4" in (
        refused.stderr
    )


def test_chat_with_a_collection_answers_from_it(tmp_path: Path, tiny_model: Path) -> None:
    lease = make_pdf(tmp_path / "lease.pdf", PAGES)
    home = tmp_path / "home"
    assert hearth(home, "docs", "add", str(lease), "--collection", "Flat").returncode == 0
    result = hearth(home, "chat", str(tiny_model), "--collection", "Flat", "--json",
                    "--max-tokens", "4", "Are pets allowed?")  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["documents_mode"] == "whole"
    assert {s["name"] for s in record["sources"]} == {"lease.pdf"}
    missing = hearth(home, "chat", str(tiny_model), "--collection", "Nope", "Hi")
    assert missing.returncode == 1 and "no collection called 'Nope'" in missing.stderr


def test_index_gives_vectors_to_documents_added_before_the_embedding_model(
    tmp_path: Path,
) -> None:
    from tests.support.minilm import minilm_path

    home = tmp_path / "home"
    notes = tmp_path / "notes.md"
    notes.write_text(
        "# Notes\n\n## Cat\n\nMittens has her vaccination every March.\n\n"
        "## Dog\n\nRex is walked twice a day along the canal.\n"
    )
    assert hearth(home, "docs", "add", str(notes)).returncode == 0
    keywords = json.loads(hearth(home, "docs", "search", "kitty jabs", "--json").stdout)
    assert keywords == []  # no shared word: keyword search cannot find it
    listed = hearth(home, "docs", "list")
    assert "2 sections" in listed.stdout  # Markdown has no pages: its sections are counted
    assert "searched by keywords only" in listed.stdout

    imported = hearth(home, "models", "import", str(minilm_path()), "--link")
    assert imported.returncode == 0, imported.stderr
    name = json.loads(hearth(home, "models", "list", "--json").stdout)[0]["name"]
    assert f"Documents will now be searched by meaning with {name}" in imported.stdout
    assert "1 document added before need vectors from it: run `hearth docs index`" in (
        imported.stdout
    )
    waiting = json.loads(hearth(home, "docs", "list", "--json").stdout)[0]
    assert (waiting["status"], waiting["vectors"], waiting["with_vectors"]) == ("ready", "0/1", 0)
    assert "run `hearth docs index`" in hearth(home, "docs", "list").stdout

    indexed = hearth(home, "docs", "index")
    assert indexed.returncode == 0, indexed.stderr
    assert "1 documents given vectors by all-MiniLM-L6-v2-f16.gguf" in indexed.stdout
    done = json.loads(hearth(home, "docs", "list", "--json").stdout)[0]
    assert (done["vectors"], done["with_vectors"], done["sections"]) == ("all", 1, 2)
    found = json.loads(hearth(home, "docs", "search", "kitty jabs", "--json").stdout)
    assert found[0]["name"] == "notes.md" and found[0]["dense_rank"] == 1


def test_search_shows_as_many_passages_as_answers_use_unless_told(tmp_path: Path) -> None:
    home = tmp_path / "home"
    notes = tmp_path / "notes.txt"
    notes.write_text("\n\n".join(f"Shelf {i} holds the blue jars. " * 40 for i in range(12)))
    assert hearth(home, "docs", "add", str(notes)).returncode == 0
    helped = hearth(home, "docs", "search", "--help").stdout
    assert "default: the document_passages setting, 6" in " ".join(helped.split())

    def shown(*args: str) -> int:
        return len(json.loads(hearth(home, "docs", "search", "blue jars", "--json", *args).stdout))

    assert shown() == 6
    assert shown("-k", "3") == 3
    assert hearth(home, "settings", "set", "document_passages", "8").returncode == 0
    assert shown() == 8


def test_a_second_embedding_model_is_named_but_not_switched_to(tmp_path: Path) -> None:
    import shutil

    from tests.support.minilm import minilm_path

    home = tmp_path / "home"
    other = tmp_path / "other-minilm.gguf"
    shutil.copyfile(minilm_path(), other)
    assert hearth(home, "models", "import", str(minilm_path()), "--link").returncode == 0
    first = json.loads(hearth(home, "settings", "get", "embedding_model", "--json").stdout)
    second = hearth(home, "models", "import", str(other), "--link")
    assert second.returncode == 0, second.stderr
    assert f"Documents are searched with {first['value']}" in second.stdout
    assert "hearth settings set embedding_model 'other-minilm'" in second.stdout
    kept = json.loads(hearth(home, "settings", "get", "embedding_model", "--json").stdout)
    assert kept == first


def test_importing_a_reranker_says_passages_will_be_ranked_and_search_uses_it(
    tmp_path: Path,
) -> None:
    from tests.support.minilm import reranker_model_path

    home = tmp_path / "home"
    notes = tmp_path / "notes.md"
    notes.write_text(
        "# Kitchen\n\n## Filter\n\nRinse the dishwasher filter once a week.\n\n"
        "## Salt\n\nThe dishwasher salt goes in the base.\n"
    )
    assert hearth(home, "docs", "add", str(notes)).returncode == 0
    imported = hearth(home, "models", "import", str(reranker_model_path()), "--link")
    assert imported.returncode == 0, imported.stderr
    assert "will now be ranked by minilm-test-reranker (reranker_model)" in imported.stdout
    listed = hearth(home, "models", "list").stdout.splitlines()
    assert next(line for line in listed if line.startswith("minilm-test-reranker")).split()[1] == (
        "ranking"  # the FOR column: not a chat model, not the documents' embedding model
    )
    found = json.loads(hearth(home, "docs", "search", "dishwasher", "--json").stdout)
    assert found and all(r["fused_rank"] is not None for r in found)
    assert [r["score"] for r in found] == sorted((r["score"] for r in found), reverse=True)
    plain = json.loads(
        hearth(home, "docs", "search", "dishwasher", "--json", "--keywords-only").stdout
    )
    assert [r["rank"] for r in plain] == [r["fused_rank"] for r in plain]  # no reranker
