"""The embedding side of documents: the progress meter users read, and vector state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.documents.embeddings import EmbedMeter, VectorState, passage_windows, split_evenly
from app.documents.ingest import passage_context
from app.store import Chunk


def test_the_meter_tells_passages_rate_and_time_left_once_a_batch_is_timed() -> None:
    now = [100.0]
    meter = EmbedMeter(1000, done=200, clock=lambda: now[0])
    assert meter.text() == "200/1,000 passages"  # nothing timed yet: no rate, no guess
    now[0] = 110.0
    meter.advance(400)  # 200 passages in 10 s
    assert meter.rate == 20.0
    assert meter.seconds_left == 30.0
    assert meter.text() == "400/1,000 passages · 20/s · 0:30 left"
    now[0] = 140.0
    meter.advance(1000)
    assert meter.text(unit=False) == "1,000/1,000 · 20/s · done"


def test_a_slow_rate_keeps_a_decimal() -> None:
    now = [0.0]
    meter = EmbedMeter(10, clock=lambda: now[0])
    now[0] = 4.0
    meter.advance(2)
    assert meter.text() == "2/10 passages · 0.5/s · 0:16 left"


def test_vector_state_labels() -> None:
    assert VectorState(10, 10, False).label() == "all"
    assert VectorState(1500, 340, False).label() == "340/1,500"
    assert VectorState(10, 10, True).label() == "outdated"
    assert not VectorState(10, 10, True).complete


@given(st.text(alphabet=st.sampled_from("ab c\n"), max_size=3000), st.integers(50, 800))
def test_windows_keep_every_word_in_order_and_about_even(text: str, size: int) -> None:
    parts = split_evenly(text, size)
    assert " ".join(parts).split() == text.split()  # nothing lost, nothing repeated
    assert len(parts) <= max(1, -(-len(text.strip()) // size))
    if len(parts) > 1:
        assert max(map(len, parts)) <= 2 * size  # cut near the even points, at spaces


def test_a_passage_is_embedded_in_windows_each_after_its_heading() -> None:
    words = " ".join(f"word{i}" for i in range(300))  # about 2,100 characters
    chunk = Chunk(1, 1, 0, words, None, "Guide > Filters", 0, len(words))
    windows = passage_windows("dishwasher-manual.md", chunk, size=500)
    assert len(windows) == 5
    assert all(w.startswith("dishwasher manual > Guide > Filters\n\n") for w in windows)
    assert passage_windows("a.md", Chunk(2, 1, 1, "Short.", None, None, 0, 6)) == [
        f"{passage_context('a.md', None)}\n\nShort."
    ]
