"""Kill at any moment while documents index: the database stays whole, no passage is stored
past the recorded resume point, and `hearth docs index` resumes where it stopped (the
passages stored before the kill are kept, not redone) to the same passages a run without
a kill stores; the documents indexed before are unchanged.

A real `hearth docs add` process indexes a long text file into a real data home; the test
SIGKILLs it once a randomly chosen number of passages is on disk."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from app.documents.embeddings import _BATCH as EMBED_BATCH
from app.documents.ingest import Indexer, add_paths
from app.store import Store
from tests.reliability.killing import integrity, kill_when, read_only
from tests.reliability.scale import count

HEARTH = str(Path(sys.executable).parent / "hearth")
KILLS = count(full=20, quick=3)
PASSAGE = "SELECT ordinal, text, page, heading, start_char, end_char"


def long_text(paragraphs: int = 1500) -> str:
    rng = random.Random(7)
    words = ["lamp", "harbour", "keeper", "storm", "rope", "lens", "oil", "tide", "gull"]
    return "\n\n".join(
        f"Entry {n}. " + " ".join(rng.choice(words) for _ in range(rng.randint(20, 90))) + "."
        for n in range(paragraphs)
    )


def progress_of(db: Path, name: str) -> int:
    rows = read_only(db, "SELECT progress FROM documents WHERE name = ?", (name,))
    return int(str(rows[0][0])) if rows else 0


def indexed(db: Path, name: str, threshold: int) -> bool:
    return progress_of(db, name) >= threshold


def passages(db: Path, name: str, columns: str = PASSAGE) -> list[tuple[object, ...]]:
    return read_only(
        db,
        f"{columns} FROM chunks WHERE document_id = (SELECT id FROM documents WHERE name = ?)"
        " ORDER BY ordinal",
        (name,),
    )


@pytest.mark.slow
def test_killing_indexing_resumes_where_it_stopped(tmp_path: Path) -> None:
    text = long_text()
    reference_home = tmp_path / "reference"
    reference_home.mkdir()
    (reference_home / "logbook.txt").write_text(text)
    with Store.open(reference_home / "hearth.db") as store:
        added = add_paths(
            store, [reference_home / "logbook.txt"], collection_id=store.create_collection("R").id
        )
        for _ in Indexer(store).run([d.id for d in added.added]):
            pass
    expected = passages(reference_home / "hearth.db", "logbook.txt")
    assert len(expected) > 200  # long enough to be killed anywhere in it

    home = tmp_path / "home"
    db = home / "hearth.db"
    env = {**os.environ, "HEARTH_NO_STARTER": "1"}
    rng = random.Random(15)
    for kill in range(KILLS):
        name = f"logbook-{kill}.txt"
        (tmp_path / name).write_text(text)
        others = read_only(db, "SELECT * FROM chunks ORDER BY id") if db.exists() else []
        threshold = rng.randint(1, len(expected) - 65)  # passages on disk when it dies
        process = subprocess.Popen(
            [HEARTH, "--home", str(home), "docs", "add", str(tmp_path / name)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        kill_when(process, partial(indexed, db, name, threshold), f"{threshold} passages")

        assert integrity(db) == "ok"
        [(status, progress)] = read_only(
            db, "SELECT status, progress FROM documents WHERE name = ?", (name,)
        )
        assert status == "indexing" and int(str(progress)) >= threshold
        before = passages(db, name, "SELECT id, ordinal, text")
        assert len(before) == progress, "passages stored past the resume point"
        assert read_only(db, "SELECT * FROM chunks ORDER BY id")[: len(others)] == others

        resumed = subprocess.run(
            [HEARTH, "--home", str(home), "docs", "index"],
            capture_output=True, text=True, timeout=120, check=False, env=env,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert "1 indexed" in resumed.stdout
        assert read_only(db, "SELECT status FROM documents WHERE name = ?", (name,)) == [("ready",)]
        assert passages(db, name) == expected, "the resumed run stored other passages"
        after = passages(db, name, "SELECT id, ordinal, text")
        assert after[: len(before)] == before, "passages stored before the kill were redone"
        assert read_only(db, "SELECT * FROM chunks ORDER BY id")[: len(others)] == others


def vectors(db: Path) -> dict[int, bytes]:
    """Each passage's stored vector by its id (passages without one left out)."""
    rows = read_only(db, "SELECT id, embedding FROM chunks WHERE embedding IS NOT NULL")
    return {int(str(ident)): bytes(blob) for ident, blob in rows}  # type: ignore[call-overload]


def embedded(db: Path, threshold: int) -> bool:
    return len(vectors(db)) >= threshold


@pytest.mark.slow
def test_killing_embedding_resumes_where_it_stopped(tmp_path: Path) -> None:
    from tests.support.minilm import minilm_path

    env = {**os.environ, "HEARTH_NO_STARTER": "1"}

    def hearth(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([HEARTH, "--home", str(home), *args], capture_output=True,
                                text=True, timeout=300, check=False, env=env)  # fmt: skip
        assert result.returncode == 0, (args, result.stderr)
        return result

    base = tmp_path / "base"  # a data home with the embedding model, warmed up once
    hearth(base, "models", "import", str(minilm_path()), "--link")
    (tmp_path / "warm-up.txt").write_text("The lamp was lit at dusk.")
    hearth(base, "docs", "add", str(tmp_path / "warm-up.txt"))
    logbook = tmp_path / "logbook.txt"
    logbook.write_text(long_text(paragraphs=150))
    reference = tmp_path / "reference"
    shutil.copytree(base, reference)
    hearth(reference, "docs", "add", str(logbook))
    expected = vectors(reference / "hearth.db")
    assert len(expected) > 2 * EMBED_BATCH + 8  # three batches: a kill can fall between

    rng = random.Random(15)
    for kill in range(count(full=20, quick=1)):
        home = tmp_path / f"home-{kill}"
        shutil.copytree(base, home)
        db = home / "hearth.db"
        warm_up = vectors(db)
        threshold = len(warm_up) + rng.randint(1, 2 * EMBED_BATCH)  # vectors are saved per batch
        process = subprocess.Popen(
            [HEARTH, "--home", str(home), "docs", "add", str(logbook)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        kill_when(process, partial(embedded, db, threshold), f"{threshold} vectors")

        assert integrity(db) == "ok"
        before = vectors(db)
        assert threshold <= len(before) < len(expected)
        assert all(before[o] == expected[o] for o in before), "a kept vector is wrong"
        resumed = hearth(home, "docs", "index")
        assert "1 documents given vectors" in resumed.stdout
        assert vectors(db) == expected
