"""Saves PNGs of Hearth's windows for docs/screenshots (run under xvfb-run for a real X11 window).

Usage: xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer

from app.context import Context
from ui.application import build_window, create_application

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_application()
    with tempfile.TemporaryDirectory() as home, Context.open(home, logging_to_file=False) as ctx:
        for theme in ("light", "dark"):
            ctx.store.set_setting("theme", theme)
            window = build_window(ctx, app)
            window.resize(1100, 700)
            window.show()
            QTimer.singleShot(400, app.quit)
            app.exec()
            target = OUT / f"first-launch-{theme}.png"
            window.grab().save(str(target))
            print(target)
            window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
