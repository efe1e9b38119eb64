"""Separating a reasoning model's thinking (e.g. ``<think>…</think>``) from its answer while
it streams, even when a marker arrives split across tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Part = tuple[Literal["answer", "reasoning"], str]


class ReasoningSplitter:
    """Feed streamed text in; get back ("answer" | "reasoning", text) pieces in order."""

    def __init__(
        self, markers: Sequence[tuple[str, str]], *, start_in_reasoning: bool = False
    ) -> None:
        self._markers = tuple(markers)
        self._open: tuple[str, str] | None = self._markers[0] if start_in_reasoning else None
        self._pending = ""

    @property
    def in_reasoning(self) -> bool:
        return self._open is not None

    def feed(self, text: str) -> list[Part]:
        self._pending += text
        parts: list[Part] = []
        while self._pending:
            if self._open is None:
                hit = self._find(self._pending, [m[0] for m in self._markers])
                if hit is None:
                    keep = partial_suffix_length(self._pending, [m[0] for m in self._markers])
                    self._emit(parts, "answer", self._pending[: len(self._pending) - keep])
                    self._pending = self._pending[len(self._pending) - keep :]
                    break
                index, marker = hit
                self._emit(parts, "answer", self._pending[:index])
                self._pending = self._pending[index + len(marker) :]
                self._open = next(m for m in self._markers if m[0] == marker)
            else:
                close = self._open[1]
                index = self._pending.find(close)
                if index < 0:
                    keep = partial_suffix_length(self._pending, [close])
                    self._emit(parts, "reasoning", self._pending[: len(self._pending) - keep])
                    self._pending = self._pending[len(self._pending) - keep :]
                    break
                self._emit(parts, "reasoning", self._pending[:index])
                self._pending = self._pending[index + len(close) :]
                self._open = None
        return parts

    def flush(self) -> list[Part]:
        """Whatever is held back waiting to see if it starts a marker."""
        parts: list[Part] = []
        self._emit(parts, "reasoning" if self._open else "answer", self._pending)
        self._pending = ""
        return parts

    @staticmethod
    def _emit(parts: list[Part], kind: Literal["answer", "reasoning"], text: str) -> None:
        if not text:
            return
        if parts and parts[-1][0] == kind:
            parts[-1] = (kind, parts[-1][1] + text)
        else:
            parts.append((kind, text))

    @staticmethod
    def _find(text: str, needles: list[str]) -> tuple[int, str] | None:
        best: tuple[int, str] | None = None
        for needle in needles:
            index = text.find(needle)
            if index >= 0 and (best is None or index < best[0]):
                best = (index, needle)
        return best


def partial_suffix_length(text: str, needles: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that could be the start of one of ``needles``
    (streamed text is held back that long, in case the next piece completes it)."""
    longest = 0
    for needle in needles:
        for size in range(min(len(needle) - 1, len(text)), 0, -1):
            if needle.startswith(text[-size:]):
                longest = max(longest, size)
                break
    return longest
