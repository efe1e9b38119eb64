"""Guards against a Qt binding whose signals corrupt Python's reference counts.

PySide6 6.12.0 dropped a reference to ``True`` on every ``emit()``. Streaming one
signal per token, the app aborted with "bool_dealloc" after a few thousand tokens.
Measured in a fresh interpreter, where no other thread touches the counts.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    text = Signal(str, str)
    flag = Signal(bool)
    item = Signal(object)
emitter = Emitter()
received = []
emitter.item.connect(received.append)
before = sys.getrefcount(True), sys.getrefcount(False)
for _ in range(1000):
    emitter.text.emit("answer", "token")
    emitter.flag.emit(False)
    emitter.item.emit(None)
received.clear()
after = sys.getrefcount(True), sys.getrefcount(False)
print(after[0] - before[0], after[1] - before[1])
"""


def test_emitting_signals_leaves_reference_counts_alone() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-500:]
    true_delta, false_delta = (int(x) for x in result.stdout.split())
    assert true_delta == 0, "signals drop references to True"
    assert false_delta == 0, "signals drop references to False"
