"""Adding and indexing documents: refusals in words, unchanged re-drops, changed files,
folders, broken files beside good ones, and indexing that resumes where it stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cancel import CancelToken
from app.documents.chunking import ChunkDraft
from app.documents.ingest import Indexer, add_paths, pending_documents, worth_finding
from app.store import Store

GUIDE = """# Heat pump guide

## Filters

Rinse the air filters every month. A clogged filter makes the unit work harder.

## Defrost

In cold weather the outdoor unit defrosts itself for up to ten minutes.
"""


def long_text(paragraphs: int) -> str:
    return "\n\n".join(
        f"Paragraph {i} talks about topic number {i} with the keyword kw{i} and some filler "
        "words so that every paragraph is of a realistic length for a manual or a report."
        for i in range(paragraphs)
    )


@pytest.fixture
def chat_id(store: Store) -> int:
    return store.create_chat("Docs").id


def test_markdown_is_indexed_with_heading_paths(store: Store, chat_id: int, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    result = add_paths(store, [guide], chat_id=chat_id)
    assert [d.name for d in result.added] == ["guide.md"] and not result.refused
    events = list(Indexer(store).run())
    assert events[-1].status == "ready"
    document = store.get_document(result.added[0].id)
    assert document.status == "ready" and document.error is None
    chunks = store.document_chunks(document.id)
    # Two short sections share a passage; its heading names both.
    assert [c.heading for c in chunks] == ["Heat pump guide > Filters · Defrost"]
    # The title alone ("# Heat pump guide" before its first section) is not a passage.
    assert all(c.text.strip() != "# Heat pump guide" for c in chunks)
    text = guide.read_text()
    for chunk in chunks:
        assert chunk.start_char is not None and chunk.end_char is not None
        assert chunk.text.strip() in text


def test_unsupported_missing_and_too_large_files_are_refused_by_name(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    picture = tmp_path / "holiday.png"
    picture.write_bytes(b"\x89PNG\r\n")
    big = tmp_path / "huge.txt"
    big.write_text("x" * 1_500_000)
    store.set_setting("document_max_mb", 1)
    good = tmp_path / "notes.txt"
    good.write_text("Meeting notes: the budget is approved.")
    result = add_paths(store, [picture, big, tmp_path / "gone.md", good], chat_id=chat_id)
    messages = [r.message for r in result.refused]
    assert any("holiday.png" in m and ".png" in m for m in messages)
    assert any("huge.txt" in m and "limit" in m for m in messages)
    assert any("gone.md" in m for m in messages)
    assert [d.name for d in result.added] == ["notes.txt"]


def test_dropping_a_folder_adds_readable_files_and_skips_the_rest(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "README.md").write_text("# Project\n\nHow to build it.")
    (folder / "src" / "main.py").write_text("def main():\n    return 42\n")
    (folder / "logo.png").write_bytes(b"\x89PNG")
    (folder / ".git" / "config").write_text("[core]")
    result = add_paths(store, [folder], chat_id=chat_id)
    assert sorted(d.name for d in result.added) == ["README.md", "main.py"]
    assert not result.refused  # inside a folder, unreadable kinds are skipped quietly


def test_re_adding_an_unchanged_file_does_nothing(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    add_paths(store, [guide], chat_id=chat_id)
    list(Indexer(store).run())
    before = store.document_chunks(store.list_documents()[0].id)
    again = add_paths(store, [guide], chat_id=chat_id)
    assert not again.added and [d.name for d in again.unchanged] == ["guide.md"]
    assert pending_documents(store) == []
    assert store.document_chunks(store.list_documents()[0].id) == before


def test_a_changed_file_is_indexed_again(store: Store, chat_id: int, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    add_paths(store, [guide], chat_id=chat_id)
    list(Indexer(store).run())
    guide.write_text(GUIDE.replace("every month", "every fortnight"))
    again = add_paths(store, [guide], chat_id=chat_id)
    assert [d.name for d in again.added] == ["guide.md"]
    list(Indexer(store).run())
    documents = store.list_documents()
    assert len(documents) == 1
    text = " ".join(c.text for c in store.document_chunks(documents[0].id))
    assert "fortnight" in text and "every month" not in text


def test_same_file_in_two_chats_is_two_documents(store: Store, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    first, second = store.create_chat("a").id, store.create_chat("b").id
    assert add_paths(store, [guide], chat_id=first).added
    assert add_paths(store, [guide], chat_id=second).added
    assert len(store.list_documents()) == 2


def test_a_broken_file_fails_alone_and_the_others_index(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    broken = tmp_path / "report.pdf"
    broken.write_bytes(b"%PDF-1.7\n this is not really a pdf")
    empty = tmp_path / "empty.md"
    empty.write_text("   \n")
    good = tmp_path / "guide.md"
    good.write_text(GUIDE)
    add_paths(store, [broken, empty, good], chat_id=chat_id)
    events = list(Indexer(store).run())
    failed = {e.name: e.error for e in events if e.status == "failed"}
    assert set(failed) == {"report.pdf", "empty.md"}
    assert all(name in (error or "") for name, error in failed.items())
    by_name = {d.name: d for d in store.list_documents()}
    assert by_name["guide.md"].status == "ready"
    assert by_name["report.pdf"].status == "failed" and by_name["report.pdf"].error


def test_a_file_removed_before_indexing_fails_in_words(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    add_paths(store, [guide], chat_id=chat_id)
    guide.unlink()
    events = list(Indexer(store).run())
    assert events[-1].status == "failed" and "guide.md" in (events[-1].error or "")


def test_indexing_resumes_where_it_stopped(store: Store, chat_id: int, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(long_text(600))
    document = add_paths(store, [report], chat_id=chat_id).added[0]
    cancel = CancelToken()
    first_run = []
    for event in Indexer(store).run(cancel=cancel):
        first_run.append(event)
        cancel.cancel()  # stop after the first saved batch, like a quit or a crash
    stopped = store.get_document(document.id)
    assert stopped.status == "indexing" and stopped.progress > 0
    kept = store.document_chunks(document.id)
    assert len(kept) == stopped.progress
    assert pending_documents(store) == [stopped]  # what the app picks up at start

    list(Indexer(store).run())  # the next start
    finished = store.get_document(document.id)
    assert finished.status == "ready" and finished.progress > stopped.progress
    chunks = store.document_chunks(document.id)
    assert chunks[: len(kept)] == kept  # nothing before the resume point was redone
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))

    # The same file indexed in one go gives the same passages.
    other = Store.open(tmp_path / "other.db")
    chat = other.create_chat("x")
    fresh = add_paths(other, [report], chat_id=chat.id).added[0]
    list(Indexer(other).run())
    assert [c.text for c in other.document_chunks(fresh.id)] == [c.text for c in chunks]
    other.close()


def test_passages_stored_past_the_recorded_progress_are_redone(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text(long_text(300))
    document = add_paths(store, [report], chat_id=chat_id).added[0]
    store.add_chunks(document.id, [{"ordinal": 0, "text": "stale"}], progress=0)
    list(Indexer(store).run())
    chunks = store.document_chunks(document.id)
    assert chunks[0].text != "stale" and chunks[0].text.startswith("Paragraph 0")


def test_a_file_changed_while_queued_is_indexed_from_the_start(
    store: Store, chat_id: int, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text(long_text(600))
    document = add_paths(store, [report], chat_id=chat_id).added[0]
    cancel = CancelToken()
    for _ in Indexer(store).run(cancel=cancel):
        cancel.cancel()
    report.write_text("A completely different short text about gardening.")
    list(Indexer(store).run())
    chunks = store.document_chunks(document.id)
    assert [c.text for c in chunks] == ["A completely different short text about gardening."]


def test_two_workers_index_the_same_as_one(store: Store, chat_id: int, tmp_path: Path) -> None:
    files = []
    for i in range(3):
        path = tmp_path / f"part{i}.txt"
        path.write_text(long_text(40 + i))
        files.append(path)
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02 binary")
    files.append(tmp_path / "bad.txt")
    add_paths(store, files, chat_id=chat_id)
    events = list(Indexer(store).run(workers=2))
    assert {e.name for e in events if e.status == "ready"} == {
        "part0.txt",
        "part1.txt",
        "part2.txt",
    }
    assert [e.name for e in events if e.status == "failed"] == ["bad.txt"]

    other = Store.open(tmp_path / "other.db")
    chat = other.create_chat("x")
    add_paths(other, files, chat_id=chat.id)
    list(Indexer(other).run(workers=1))
    for mine, theirs in zip(store.list_documents(), other.list_documents(), strict=True):
        assert [c.text for c in store.document_chunks(mine.id)] == [
            c.text for c in other.document_chunks(theirs.id)
        ]
    other.close()


def test_progress_reports_each_file(store: Store, chat_id: int, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(long_text(800))
    add_paths(store, [report], chat_id=chat_id)
    events = list(Indexer(store).run())
    dones = [e.done for e in events]
    assert dones == sorted(dones) and len(events) > 2
    assert events[-1].done == events[-1].total and events[-1].passages > 64


def test_worker_processes_do_not_run_the_main_script_again(tmp_path: Path) -> None:
    """`hearth docs add` runs from a script importing the whole CLI and llama.cpp; spawned
    indexing workers must not import it again (0.4 s each)."""
    import subprocess
    import sys
    import textwrap

    marks = tmp_path / "imports.txt"
    script = tmp_path / "main_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys
            from pathlib import Path
            with open({str(marks)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            sys.path.insert(0, {str(Path.cwd())!r})
            from app.documents.ingest import Indexer, add_paths
            from app.store import Store
            if __name__ == "__main__":
                folder = Path({str(tmp_path)!r})
                store = Store.open(folder / "w.db")
                chat = store.create_chat("x")
                files = [folder / f"f{{i}}.txt" for i in range(3)]
                for path in files:
                    path.write_text("Some text about boilers. " * 50)
                add_paths(store, files, chat_id=chat.id)
                print(sorted(e.status for e in Indexer(store).run(workers=2)))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['ready', 'ready', 'ready']"
    assert len(marks.read_text().split()) == 1  # only the program itself ran the script


def test_repeated_and_near_empty_passages_are_not_indexed() -> None:
    def draft(text: str, heading: str | None = None) -> ChunkDraft:
        return ChunkDraft(text, None, heading, 0, len(text))

    drafts = [
        draft("# Handbook", "Handbook"),  # a title alone
        draft("Use the stairs, never the lift.", "Handbook > Fire"),
        draft("|"),  # a lone table rule
        draft("12"),  # a page number on its own
        draft("Reviewed each spring by the safety officer."),
        draft("Use the stairs,\n never the lift.", "Handbook > Fire"),  # the same again
        draft("Reviewed each spring by the safety officer, twice."),
    ]
    assert [d.text for d in worth_finding(drafts)] == [
        "Use the stairs, never the lift.",
        "Reviewed each spring by the safety officer.",
        "Reviewed each spring by the safety officer, twice.",
    ]
