"""Hostile documents: zip bombs named .docx, PDFs nested thousands deep or pointing at
themselves, binary junk named .txt and .md, a 2 GB sparse file and a folder that holds a
symlink loop are each refused in words or read, within bounded memory and time, and the
next document is indexed as usual. Hypothesis damages a valid file of each kind."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.documents.chunking import chunk_sections
from app.documents.extract import open_document
from app.errors import HearthError
from tests.reliability.scale import count
from tests.support.documents import make_docx, make_pdf, sample_pages

HEARTH = str(Path(sys.executable).parent / "hearth")
MEMORY_BOUND_MB = 600  # the most any process of one `hearth docs add` may hold
TIME_BOUND_S = 120
MEASURED = """
import resource, subprocess, sys, time
started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
      round(time.monotonic() - started, 1))
sys.stdout.write(done.stdout + done.stderr)
"""


def add(home: Path, *paths: Path) -> tuple[int, str]:
    """`hearth docs add` in its own process tree: (exit code, what it said), checking the
    largest process it ran stayed under MEMORY_BOUND_MB and it ended within TIME_BOUND_S."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, HEARTH, "--home", str(home), "docs", "add",
         *map(str, paths)],
        capture_output=True, text=True, timeout=TIME_BOUND_S, check=True,
        env={**os.environ, "HEARTH_NO_STARTER": "1"},
    )  # fmt: skip
    first, said = result.stdout.split("\n", 1)
    code, peak_mb, seconds = first.split()
    assert int(peak_mb) < MEMORY_BOUND_MB, f"{paths[0].name}: {peak_mb} MB"
    assert "Traceback" not in said and "unexpected" not in said.lower(), said
    assert float(seconds) < TIME_BOUND_S
    return int(code), said


def docx_bomb(path: Path, expanded: int) -> Path:
    """A real .docx whose document.xml inflates to ``expanded`` bytes (kept tiny on disk)."""
    make_docx(path.with_suffix(".seed.docx"), [("p", "Seed paragraph.")])
    paragraph = b"<w:p><w:r><w:t>" + b"A" * 4000 + b"</w:t></w:r></w:p>"
    with (
        zipfile.ZipFile(path.with_suffix(".seed.docx")) as seed,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for item in seed.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, seed.read(item))
        xml = seed.read("word/document.xml")
        head, tail = xml.split(b"<w:body>")
        with bomb.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(head + b"<w:body>")
            for _ in range(expanded // len(paragraph)):
                member.write(paragraph)
            member.write(tail)
    return path


def laughs_docx(path: Path) -> Path:
    """A .docx whose XML defines entities that would expand to gigabytes (billion laughs)."""
    make_docx(path.with_suffix(".seed.docx"), [("p", "Seed paragraph.")])
    entities = '<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    with zipfile.ZipFile(path.with_suffix(".seed.docx")) as seed, zipfile.ZipFile(path, "w") as out:
        for item in seed.infolist():
            data = seed.read(item)
            if item.filename == "word/document.xml":
                start = data.index(b"<w:document")
                data = (data[:start] + f"<!DOCTYPE w:document [{entities}]>".encode()
                        + data[start:].replace(b"Seed paragraph.", b"&l9;"))  # fmt: skip
            out.writestr(item, data)
    return path


def raw_pdf(path: Path, objects: list[bytes], *, root: int = 1) -> Path:
    """A PDF file from numbered object bodies, with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, xref)  # fmt: skip
    path.write_bytes(bytes(out))
    return path


def hostile_pdfs(folder: Path) -> list[Path]:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    return [
        raw_pdf(folder / "nested-arrays.pdf", [  # an array nested 100,000 deep
            b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * 100_000 + b"]" * 100_000 + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page]),
        raw_pdf(folder / "nested-pages.pdf", [  # a page tree 5,000 levels deep
            b"<< /Type /Catalog /Pages 2 0 R >>",
            *(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, 5002)),
            b"<< /Type /Page /Parent 5001 0 R /MediaBox [0 0 612 792] >>"]),
        raw_pdf(folder / "loop-pages.pdf", [  # a page tree that holds itself
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page]),
        raw_pdf(folder / "self-content.pdf", [  # contents that are the catalog itself
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /Contents 1 0 R /Resources 3 0 R >>"]),
    ]  # fmt: skip


@pytest.mark.slow
def test_hostile_files_are_refused_or_read_within_bounds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "bad"
    bad.mkdir()
    rng = random.Random(15)
    (bad / "junk.txt").write_bytes(rng.randbytes(200_000))
    (bad / "zeros.md").write_bytes(b"\0" * 100_000)
    with (bad / "sparse.txt").open("wb") as sparse:
        sparse.truncate(2 << 30)  # 2 GB that takes no room on disk
    (bad / "truncated.pdf").write_bytes(make_pdf(tmp_path / "ok.pdf", ["Hello"]).read_bytes()[:300])
    (bad / "random.pdf").write_bytes(b"%PDF-1.7\n" + rng.randbytes(50_000))
    files = [
        docx_bomb(bad / "bomb.docx", 300 << 20),
        laughs_docx(bad / "laughs.docx"),
        *hostile_pdfs(bad),
        *sorted(p for p in bad.iterdir() if p.suffix in (".txt", ".md") or p.stem in
                ("truncated", "random")),
    ]  # fmt: skip
    said = {}
    for path in files:
        code, said[path.name] = add(home, path)
        assert code in (0, 1)
    assert "sparse.txt is 2.1 GB, over the 200.0 MB limit" in said["sparse.txt"]
    assert "not a text file" in said["junk.txt"] and "not a text file" in said["zeros.md"]
    assert "bomb.docx is refused: it unpacks to 315.4 MB" in said["bomb.docx"]
    for name in ("truncated.pdf", "random.pdf"):
        assert "damaged" in said[name], said[name]
    code, after = add(home, make_pdf(tmp_path / "fine.pdf", sample_pages(2)))
    assert code == 0 and "1 added" in after  # and the app goes on as usual


def test_a_folder_with_a_symlink_loop_is_added_once(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    (folder / "inner").mkdir(parents=True)
    (folder / "a.md").write_text("# A\n\nThe keeper lit the lamp.")
    (folder / "inner" / "b.txt").write_text("The tide came in at six.")
    (folder / "inner" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self").symlink_to(folder / "self")  # a link to itself
    code, said = add(tmp_path / "home", folder)
    assert code in (0, 1) and "2 added" in said, said


KINDS = ("txt", "md", "html", "pdf", "docx")


def valid_file(kind: str, folder: Path) -> bytes:
    path = folder / f"valid.{kind}"
    if kind == "pdf":
        make_pdf(path, sample_pages(2, words=60))
    elif kind == "docx":
        make_docx(path, [("h1", "Title"), ("p", "The keeper lit the lamp at dusk.")])
    elif kind == "html":
        path.write_text("<html><body><h1>Lamp</h1><p>The keeper lit the lamp.</p></body></html>")
    elif kind == "md":
        path.write_text("# Lamp\n\nThe keeper lit the lamp.\n\n## Tide\n\nIt came in.")
    else:
        path.write_text("The keeper lit the lamp at dusk.\n" * 20)
    return path.read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_files_of_each_kind_are_read_or_refused_in_words(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp(kind)
    valid = valid_file(kind, folder)

    @settings(max_examples=count(full=400, quick=25), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)),
                    min_size=1, max_size=12),
           st.integers(1, len(valid)))  # fmt: skip
    def damaged_is_read_or_refused(edits: list[tuple[int, int]], keep: int) -> None:
        data = bytearray(valid[:keep])
        for at, value in edits:
            if at < len(data):
                data[at] = value
        path = folder / f"damaged.{kind}"
        path.write_bytes(bytes(data))
        started = time.monotonic()
        try:
            list(chunk_sections(open_document(path).sections(), size=1000, overlap=100))
        except HearthError as refused:
            assert "damaged" in str(refused) or str(refused).startswith("damaged."), refused
        assert time.monotonic() - started < 30

    damaged_is_read_or_refused()
