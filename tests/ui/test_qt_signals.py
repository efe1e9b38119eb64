"""Guards against a Qt binding whose signals corrupt Python's reference counts.

PySide6 6.12.0 dropped a reference to ``True`` on every ``emit()``. Streaming one
signal per token, the app aborted with "bool_dealloc" after a few thousand tokens.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    text = Signal(str, str)
    flag = Signal(bool)
    item = Signal(object)


def test_emitting_signals_leaves_reference_counts_alone() -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.item.connect(received.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(1000):
        emitter.text.emit("answer", "token")
        emitter.flag.emit(False)
        emitter.item.emit(None)
    assert len(received) == 1000
    received.clear()
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert after[0] == before[0], "signals drop references to True"
    assert after[1] == before[1], "signals drop references to False"
