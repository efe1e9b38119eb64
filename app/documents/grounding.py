"""Putting a chat's documents in front of the model: whole when they fit comfortably in the
context, else the passages found for the question, numbered so the answer can cite them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.store import Chunk, Document, SourceRecord, Store

if TYPE_CHECKING:  # loaded when a Grounder is made: exports and labels need no search
    from app.documents.search import Searcher

Mode = Literal["whole", "retrieval"]

INSTRUCTION = (
    "Answer the question below using the numbered sources. Cite the sources you use with "
    "their numbers in square brackets, like [1] or [2][3], right after the statements they "
    "support. If the sources do not contain the answer, say so plainly."
)

# Of the context, passages found by search may fill at most this share (the rest is the
# conversation and the answer).
RETRIEVAL_SHARE = 0.4


def estimate_tokens(text: str) -> int:
    """About four characters per token for English prose."""
    return len(text) // 4 + 1


def source_label(source: SourceRecord) -> str:
    """How a source is named to the model and to the user: file, then page or section."""
    where = [source.name]
    if source.page is not None:
        where.append(f"page {source.page}")
    elif source.heading:
        where.append(source.heading)
    return ", ".join(where)


def render_prompt(question: str, sources: Sequence[SourceRecord]) -> str:
    """The user's turn as the model sees it: instruction, numbered sources, question."""
    blocks = [INSTRUCTION, "", "Sources:", ""]
    for source in sources:
        blocks += [f"[{source.number}] {source_label(source)}", source.text.strip(), ""]
    blocks.append(f"Question: {question}")
    return "\n".join(blocks)


@dataclass(frozen=True)
class Grounding:
    """What an answer is given from the documents, and how it was chosen."""

    mode: Mode
    sources: list[SourceRecord]

    def prompt(self, question: str) -> str:
        return render_prompt(question, self.sources)


def _merged_text(chunks: Sequence[Chunk]) -> str:
    """Consecutive passages of one page or document joined back without their overlap."""
    text = ""
    end = -1
    for chunk in chunks:
        start = chunk.start_char if chunk.start_char is not None else end
        if text and chunk.end_char is not None and start < end:
            overlap = end - start
            text += chunk.text[overlap:] if overlap < len(chunk.text) else ""
        else:
            text += ("\n\n" if text else "") + chunk.text
        end = chunk.end_char if chunk.end_char is not None else end
    return text


def whole_sources(store: Store, documents: Sequence[Document]) -> list[SourceRecord]:
    """Every passage of the documents, one source per PDF page and per other document."""
    sources: list[SourceRecord] = []
    for document in documents:
        groups: dict[int | None, list[Chunk]] = {}
        for chunk in store.document_chunks(document.id):
            groups.setdefault(chunk.page if document.kind == "pdf" else None, []).append(chunk)
        for page, chunks in groups.items():
            sources.append(
                SourceRecord(
                    number=len(sources) + 1,
                    name=document.name,
                    path=document.path,
                    text=_merged_text(chunks),
                    page=page,
                    chunk_id=chunks[0].id,
                    document_id=document.id,
                )
            )
    return sources


class Grounder:
    """Chooses, for one question in a chat, what the model is given from its documents."""

    def __init__(self, store: Store, searcher: Searcher | None = None) -> None:
        self.store = store
        if searcher is None:
            from app.documents.search import Searcher

            searcher = Searcher(store)
        self.searcher = searcher

    def ground(
        self,
        chat_id: int,
        question: str,
        *,
        context_tokens: int,
        count_tokens: Callable[[str], int] = estimate_tokens,
    ) -> Grounding | None:
        """None when the chat has no documents to draw on."""
        documents = [
            d for d in self.store.chat_documents(chat_id) if d.status in ("ready", "indexing")
        ]
        if not documents:
            return None
        whole_percent = int(self.store.get_setting("document_whole_percent"))
        allowance = context_tokens * whole_percent / 100
        # A cheap upper bound first: a large collection is never read whole for each question.
        fits_roughly = self.store.chunk_chars([d.id for d in documents]) / 4 <= 1.5 * allowance
        if fits_roughly and all(d.status == "ready" for d in documents):
            sources = whole_sources(self.store, documents)
            total = sum(count_tokens(s.text) for s in sources)
            if total <= allowance:
                return Grounding("whole", sources)
        limit = int(self.store.get_setting("document_passages"))
        budget = context_tokens * RETRIEVAL_SHARE
        chosen: list[SourceRecord] = []
        used = 0
        for passage in self.searcher.search(question, documents, limit=limit):
            cost = count_tokens(passage.chunk.text)
            if chosen and used + cost > budget:
                break
            used += cost
            chosen.append(
                SourceRecord(
                    number=len(chosen) + 1,
                    name=passage.document.name,
                    path=passage.document.path,
                    text=passage.chunk.text,
                    page=passage.chunk.page,
                    heading=passage.chunk.heading,
                    chunk_id=passage.chunk.id,
                    document_id=passage.document.id,
                    score=passage.score,
                )
            )
        return Grounding("retrieval", chosen)
