"""The API's record of recent requests: bounded, thread-safe, listened to."""

from __future__ import annotations

import threading

from app.api.recent import RecentRequests, RequestRecord


def record(i: int) -> RequestRecord:
    return RequestRecord(at=1_700_000_000.0 + i, client="127.0.0.1:5000", method="POST",
                         endpoint="/v1/completions", model="tiny", prompt_tokens=3,
                         completion_tokens=i, duration_ms=12.4, status=200)  # fmt: skip


def test_only_the_newest_are_kept_and_listeners_hear_each() -> None:
    recent = RecentRequests(limit=100)
    heard: list[RequestRecord] = []
    recent.listen(heard.append)

    def write(k: int) -> None:
        for i in range(100):
            recent.add(record(k * 100 + i))

    writers = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert recent.total == 400 and len(heard) == 400
    kept = recent.records()
    assert len(kept) == 100 and kept == heard[-100:], "the last 100, oldest first"
    recent.unlisten(heard.append)
    recent.add(record(1))
    assert len(heard) == 400


def test_a_record_reads_as_one_line() -> None:
    line = record(7).line()
    assert "127.0.0.1:5000 POST /v1/completions 200 tiny 3+7 tokens 12 ms" in line
