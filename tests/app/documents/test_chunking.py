"""Cutting sections into chunks: exact offsets, page and heading kept, bounded size, overlap,
natural break points and the same chunks every time."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.documents.chunking import ChunkDraft, chunk_sections, document_text
from app.documents.extract import Section, open_document
from tests.support.documents import make_docx, make_pdf, sample_pages


def section_spans(sections: list[Section]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for section in sections:
        spans.append((start, start + len(section.text)))
        start += len(section.text) + 2
    return spans


def check_chunks(sections: list[Section], chunks: list[ChunkDraft], size: int) -> None:
    """What holds for every chunking: exact offsets, within one section, bounded, covering."""
    doc = document_text(sections)
    spans = section_spans(sections)
    covered = bytearray(len(doc))
    previous_end: dict[int, int] = {}
    for chunk in chunks:
        assert doc[chunk.start_char : chunk.end_char] == chunk.text
        assert 0 < len(chunk.text) <= size
        assert chunk.text == chunk.text.strip()
        owners = [
            i for i, (a, b) in enumerate(spans) if a <= chunk.start_char < chunk.end_char <= b
        ]
        assert len(owners) == 1, "a chunk lies inside exactly one section"
        owner = owners[0]
        assert (chunk.page, chunk.heading) == (sections[owner].page, sections[owner].heading)
        assert chunk.end_char > previous_end.get(owner, -1), "chunks move forward"
        previous_end[owner] = chunk.end_char
        covered[chunk.start_char : chunk.end_char] = b"\x01" * len(chunk.text)
    missed = [i for i, ch in enumerate(doc) if not ch.isspace() and not covered[i]]
    assert not missed, f"text not in any chunk at {missed[:5]}"
    owners_in_order = [
        next(i for i, (a, b) in enumerate(spans) if a <= c.start_char < b) for c in chunks
    ]
    assert owners_in_order == sorted(owners_in_order), "sections come in order"


def test_pdf_chunks_have_exact_offsets_and_never_cross_a_page(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "book.pdf", sample_pages(6, words=400))
    sections = list(open_document(path).sections())

    chunks = list(chunk_sections(sections, size=800, overlap=120))

    check_chunks(sections, chunks, 800)
    assert {c.page for c in chunks} == {1, 2, 3, 4, 5, 6}
    assert len(chunks) > 6  # pages are longer than one chunk
    for chunk in chunks:
        for marker in re.findall(r"page(\d+)mark", chunk.text):
            assert int(marker) == chunk.page


def test_docx_chunks_carry_heading_paths(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "guide.docx",
        [("h1", "Install"), ("p", "Short."), ("h2", "On Linux"), ("p", "Long text. " * 200)],
    )
    sections = list(open_document(path).sections())
    chunks = list(chunk_sections(sections, size=500, overlap=50))
    check_chunks(sections, chunks, 500)
    assert chunks[0] == ChunkDraft("Install\n\nShort.", None, "Install", 0, 15)
    assert {c.heading for c in chunks[1:]} == {"Install > On Linux"}


def test_short_section_is_one_chunk_without_surrounding_blanks() -> None:
    sections = [Section("  \n first \n\n"), Section("\n\n  "), Section("second")]
    chunks = list(chunk_sections(sections))
    doc = document_text(sections)
    assert [(c.text, doc[c.start_char : c.end_char]) for c in chunks] == [
        ("first", "first"),
        ("second", "second"),
    ]
    assert chunks[1].start_char == len(doc) - len("second")


def test_chunks_prefer_paragraph_breaks_then_sentence_ends() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 50 + "end." for n in range(6)]  # ~270 chars
    section = Section("\n\n".join(paragraphs))
    chunks = list(chunk_sections([section], size=600, overlap=0))
    assert all(c.text.endswith("end.") for c in chunks)
    assert [c.text for c in chunks] == ["\n\n".join(paragraphs[i : i + 2]) for i in (0, 2, 4)]

    sentences = " ".join(f"Sentence {n} has some words in it." for n in range(40))
    chunks = list(chunk_sections([Section(sentences)], size=200, overlap=0))
    assert all(c.text.endswith("in it.") for c in chunks)


def test_chunks_overlap_by_about_the_overlap() -> None:
    section = Section(" ".join(f"w{n:04d}" for n in range(2000)))  # 12,000 characters
    chunks = list(chunk_sections([section], size=1000, overlap=150))
    check_chunks([section], chunks, 1000)
    for before, after in itertools.pairwise(chunks):
        shared = before.end_char - after.start_char
        assert 100 <= shared <= 150
        assert section.text[after.start_char - 1] == " "  # starts on a word


def test_chunks_never_cut_words_shorter_than_the_size() -> None:
    words = [("x" * (n % 37 + 1)) for n in range(3000)]
    section = Section(" ".join(words))
    chunks = list(chunk_sections([section], size=120, overlap=40))
    check_chunks([section], chunks, 120)
    for chunk in chunks:
        assert all(word in words for word in chunk.text.split())
        assert chunk.start_char == 0 or section.text[chunk.start_char - 1] == " "


def test_a_word_longer_than_the_size_is_cut_into_pieces() -> None:
    section = Section("short " + "y" * 250 + " tail")
    chunks = list(chunk_sections([section], size=100, overlap=20))
    check_chunks([section], chunks, 100)
    assert [c.text for c in chunks] == ["short", "y" * 100, "y" * 100, "y" * 50 + " tail"]


def test_chunking_is_deterministic(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "same.pdf", sample_pages(4))
    first = list(chunk_sections(open_document(path).sections(), size=500, overlap=80))
    second = list(chunk_sections(open_document(path).sections(), size=500, overlap=80))
    assert first == second


@pytest.mark.parametrize("size", [40, 200, 1000, 4000])
def test_no_chunk_is_longer_than_the_size(size: int) -> None:
    sections = [Section(page, page=n) for n, page in enumerate(sample_pages(5), start=1)]
    chunks = list(chunk_sections(sections, size=size, overlap=size // 5))
    check_chunks(sections, chunks, size)
    assert max(len(c.text) for c in chunks) <= size


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_bad_size_or_overlap_is_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        list(chunk_sections([Section("text")], size=size, overlap=overlap))


def test_a_thousand_pages_chunk_with_every_page_kept() -> None:
    # Speed is measured by bench/bench_documents.py (pages per second).
    sections = [Section(page, page=n) for n, page in enumerate(sample_pages(1000), start=1)]
    chunks = list(chunk_sections(sections))
    assert len(chunks) >= 1000
    assert {c.page for c in chunks} == set(range(1, 1001))


# Text made of words, spaces, newlines, sentence ends and the odd long word.
_pieces = st.one_of(
    st.sampled_from(["a", "bb", "word", "longerword", "x" * 30, ".", "!", "? ", '." ']),
    st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n \n "]),
    st.text(max_size=5),
)
_texts = st.lists(_pieces, max_size=120).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_texts, min_size=1, max_size=4),
    st.integers(min_value=1, max_value=80),
    st.floats(min_value=0, max_value=0.9),
)
def test_any_text_chunks_within_size_covering_it_with_exact_offsets(
    texts: list[str], size: int, overlap_share: float
) -> None:
    sections = [Section(text, page=n) for n, text in enumerate(texts, start=1)]
    overlap = min(int(size * overlap_share), size - 1)
    chunks = list(chunk_sections(sections, size=size, overlap=overlap))
    check_chunks(sections, chunks, size)
    assert chunks == list(chunk_sections(sections, size=size, overlap=overlap))
