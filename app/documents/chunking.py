"""Cuts a document's sections into overlapping passages (chunks) of bounded size for search.

Offsets refer to the document text: the section texts joined with "\\n\\n", in order. A chunk
starts and ends on a non-blank character, so ``doc_text[start_char:end_char] == text`` holds
exactly (the whitespace between chunks belongs to none of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.documents.extract import Section, open_document

SECTION_SEPARATOR = "\n\n"

# Where a chunk may end, best first. Each pattern marks the end of the text before the break.
_PARAGRAPH_BREAK = re.compile(r"\S[ \t]*\n[ \t]*\n")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
_LINE_BREAK = re.compile(r"\S[ \t]*\n")
_SENTENCE_START = re.compile(r"[.!?…][\"'”’)\]]*\s+(?=\S)")
_NOT_SPACE = re.compile(r"\S")


@dataclass(frozen=True)
class ChunkDraft:
    """One passage of a document, before it is stored: its text and where it came from."""

    text: str
    page: int | None
    heading: str | None
    start_char: int  # offset in the document text (sections joined with "\n\n")
    end_char: int  # exclusive; doc_text[start_char:end_char] == text


def document_text(sections: Iterable[Section]) -> str:
    """The text that chunk offsets refer to."""
    return SECTION_SEPARATOR.join(section.text for section in sections)


def chunk_sections(
    sections: Iterable[Section], *, size: int = 1000, overlap: int = 150, merge: bool = True
) -> Iterator[ChunkDraft]:
    """Yield the chunks of each section in order; the same input always gives the same chunks.

    A chunk stays inside one section, holds at most ``size`` characters, and ends at a paragraph
    break, else a sentence end, else a line break, else a space (past half its size when it can);
    a word is cut only when it alone is longer than ``size``. Each chunk repeats about the last
    ``overlap`` characters of the previous one, starting on a word (or sentence) boundary.
    With ``merge``, small neighbouring sections of a page share a chunk (see ``_merged``),
    under the heading path they have in common.
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    if not 0 <= overlap < size:
        raise ValueError(
            f"overlap must be at least 0 and less than the size ({size}), not {overlap}"
        )
    base = 0
    groups = _merged(sections, size) if merge else ([section] for section in sections)
    for index, group in enumerate(groups):
        if index:
            base += len(SECTION_SEPARATOR)
        text = SECTION_SEPARATOR.join(section.text for section in group)
        heading = _common_heading([section.heading for section in group])
        for start, end in split_text(text, size=size, overlap=overlap):
            yield ChunkDraft(
                text=text[start:end],
                page=group[0].page,
                heading=heading,
                start_char=base + start,
                end_char=base + end,
            )
        base += len(text)


def _merged(sections: Iterable[Section], size: int) -> Iterator[list[Section]]:
    """Neighbouring sections of one page grouped while they fit in a passage and one of
    them is small (under a third of it): a passage per tiny section ("Returns", a two-line
    note) is found by meaning far less often than the paragraphs around it, while a
    section of its own size keeps its own passage and its precise heading."""
    small = size // 3  # sections this short join a neighbour; longer ones keep their own
    group: list[Section] = []
    length = 0
    for section in sections:
        added = len(section.text) + (len(SECTION_SEPARATOR) if group else 0)
        joins = (
            group
            and section.page == group[0].page
            and length + added <= size
            and (len(section.text) < small or length < small)
            and not (len(group) == 1 and title_only(group[0]))  # dropped, not merged
            and section.text.strip()
            and not title_only(section)
        )
        if group and not joins:
            yield group
            group, length, added = [], 0, len(section.text)
        group.append(section)
        length += added
    if group:
        yield group


def title_only(section: Section) -> bool:
    """A section that is nothing but its heading ("# Guide" before the first subsection),
    or nothing at all."""
    if not section.heading:
        return not section.text.strip()
    return is_title_alone(section.text, section.heading)


def is_title_alone(text: str, heading: str | None) -> bool:
    """Whether ``text`` is only the last part of its heading path ("# Warranty")."""
    if not heading:
        return False
    return text.strip().lstrip("#").strip() == heading.rsplit(" > ", 1)[-1].strip()


def _common_heading(headings: list[str | None]) -> str | None:
    """The heading path of a group of sections: the path they share, then the sections'
    own names after it ("Guide > Install · Usage"), so the citation names every part."""
    if len(headings) == 1:
        return headings[0]
    paths = [h.split(" > ") if h else [] for h in headings]
    common: list[str] = []
    for parts in zip(*paths, strict=False):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    own = list(dict.fromkeys(p[len(common)] for p in paths if len(p) > len(common)))
    if own:
        common.append(" · ".join(own))
    return " > ".join(common) or None


def section_count(headings: Iterable[str | None]) -> int:
    """How many sections passages with these heading paths cover: a shared passage's
    heading ("Guide > Install · Usage") names two."""
    sections: set[tuple[str, str]] = set()
    for heading in headings:
        if not heading:
            continue
        parent, _, own = heading.rpartition(" > ")
        sections.update((parent, part) for part in own.split(" · "))
    return len(sections)


def split_text(text: str, *, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    """(start, end) spans of the chunks of one text; see `chunk_sections`."""
    last = len(text.rstrip())
    first = _NOT_SPACE.search(text, 0, last)
    if first is None:
        return
    pos = first.start()
    prev_end = pos  # end of the previous chunk; a chunk must end past it
    while True:
        if last - pos <= size:
            yield pos, last
            return
        end = _find_end(text, pos, max(prev_end + 1, pos + 1), size)
        if end is None and pos < prev_end:
            # Nothing to break at, because of the overlap (a long word straddles the window):
            # start right after the previous chunk instead.
            pos = _next_start(text, prev_end)
            if last - pos <= size:
                yield pos, last
                return
            end = _find_end(text, pos, pos + 1, size)
        if end is None:  # one word longer than a whole chunk
            end = pos + size
        yield pos, end
        prev_end = end
        pos = _overlap_start(text, pos, end, overlap)


def _find_end(text: str, pos: int, lowest: int, size: int) -> int | None:
    """Where the chunk starting at ``pos`` should end: the best break at or after ``lowest``
    (after half the size for all but a plain space), None when there is no space at all."""
    limit = pos + size  # the chunk is text[pos:end] with end <= limit
    preferred = max(lowest, pos + size // 2)
    for pattern, tail in ((_PARAGRAPH_BREAK, 1), (_SENTENCE_END, 0), (_LINE_BREAK, 1)):
        best = None
        # A match starts at the break's last character; patterns look a little past the limit.
        for match in pattern.finditer(text, max(preferred - 1, pos), min(limit + 64, len(text))):
            end = match.start() + tail if tail else match.end()
            if end > limit:
                break
            if end >= preferred:
                best = end
        if best is not None:
            return best
    for end in range(min(limit, len(text) - 1), lowest - 1, -1):
        if text[end].isspace() and not text[end - 1].isspace():
            return end
    return None


def _next_start(text: str, index: int) -> int:
    found = _NOT_SPACE.search(text, index)
    return found.start() if found else len(text)


def _overlap_start(text: str, pos: int, end: int, overlap: int) -> int:
    """Where the chunk after text[pos:end] starts: about ``overlap`` characters before ``end``,
    at a sentence start in the first half of that stretch if there is one, else a word start."""
    if overlap == 0:
        return _next_start(text, end)
    lowest = max(end - overlap, pos + 1)
    sentence = _SENTENCE_START.search(text, lowest - 1, max(lowest, end - overlap // 2))
    if sentence is not None and lowest <= sentence.end() < end:
        return sentence.end()
    for start in range(lowest, end):
        if text[start - 1].isspace() and not text[start].isspace():
            return start
    return _next_start(text, end)


def document_passages(
    path: str, size: int, overlap: int, max_bytes: int
) -> tuple[int | None, list[ChunkDraft]]:
    """A whole document's page count and passages. Parallel indexing runs this in worker
    processes, so this module imports nothing heavy (no llama.cpp); raises DocumentError
    for a file that cannot be read."""
    source = open_document(Path(path), max_bytes=max_bytes)
    return source.pages, list(chunk_sections(source.sections(), size=size, overlap=overlap))
