"""Run Hearth with every network connection refused and recorded.

    python tests/support/no_network.py LOG -- hearth's CLI arguments
    python tests/support/no_network.py LOG --desktop HOME   (build the window, run 2 s)

Each attempt to connect an internet socket (IPv4 or IPv6; local Unix sockets such as
D-Bus are not network) is appended to LOG as one line and fails with OSError, before
any of Hearth's modules are imported, so nothing can connect around the patch.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

LOG = Path(sys.argv[1])
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _refuse(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        with LOG.open("a", encoding="utf-8") as log:
            log.write(f"{address!r}\n")
        raise OSError("a network connection was attempted")


def connect(self: socket.socket, address: Any) -> None:
    _refuse(self, address)
    _connect(self, address)


def connect_ex(self: socket.socket, address: Any) -> int:
    _refuse(self, address)
    return _connect_ex(self, address)


socket.socket.connect = connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


def desktop(home: str) -> int:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer

    from app.context import Context
    from ui.application import build_window, create_application

    app = create_application()
    with Context.open(home, logging_to_file=False) as ctx:
        window = build_window(ctx, app)
        window.show()
        loop = QEventLoop()
        QTimer.singleShot(2000, loop.quit)  # first launch: every start-up check runs
        loop.exec()
        window.shutdown()
        window.close()
    return 0


if __name__ == "__main__":
    if sys.argv[2] == "--desktop":
        raise SystemExit(desktop(sys.argv[3]))
    from app.cli.main import main

    raise SystemExit(main(sys.argv[3:]))
