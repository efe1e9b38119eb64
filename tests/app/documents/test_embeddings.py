"""The embedding side of documents: the progress meter users read, and vector state."""

from __future__ import annotations

from app.documents.embeddings import EmbedMeter, VectorState


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
