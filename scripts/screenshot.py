"""Saves PNGs of Hearth's window for docs/screenshots (run under xvfb-run for a real X11 window).

Usage: xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot.py
The chat shown is written straight into a throw-away data folder (no model runs).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import Context
from app.store import MessageStats
from tests.support.gguf_builder import write_tiny_model
from ui.application import build_window, create_application

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

ANSWER = """Use `sorted()` with a **key function**. The common options:

| Approach | In place | Notes |
| --- | --- | --- |
| `sorted(items, key=...)` | no | returns a new list |
| `items.sort(key=...)` | yes | sorts the list itself |
| `operator.itemgetter` | either | a little faster than a lambda |

```python
from operator import itemgetter

people = [{"name": "Ada", "age": 36}, {"name": "Linus", "age": 28}]
by_age = sorted(people, key=itemgetter("age"))  # youngest first
print([p["name"] for p in by_age])
```

Pass `reverse=True` for descending order."""


def settle(app: object, ms: int = 500) -> None:
    QTimer.singleShot(ms, app.quit)  # type: ignore[attr-defined]
    app.exec()  # type: ignore[attr-defined]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_application()
    with tempfile.TemporaryDirectory() as home, Context.open(home, logging_to_file=False) as ctx:
        window = build_window(ctx, app)
        window.resize(1280, 800)
        window.show()
        settle(app)
        window.grab().save(str(OUT / "first-launch.png"))
        window.shutdown()
        window.close()

        models = ctx.models_dir / "Qwen" / "Qwen3-0.6B-GGUF"
        models.mkdir(parents=True)
        write_tiny_model(models / "Qwen3-0.6B-Q8_0.gguf")
        older = ctx.store.create_chat("Trip to Lisbon ideas")
        ctx.store.append_message(older.id, "user", "Three things to do in Lisbon?")
        chat = ctx.store.create_chat("Sorting a list of dicts in Python")
        ctx.store.append_message(chat.id, "user", "How do I sort a list of dicts by a key?")
        answer = ctx.store.append_message(chat.id, "assistant", ANSWER, model="Qwen3 0.6B")
        ctx.store.append_text(
            answer.id, reasoning="They want the idiomatic way; mention itemgetter too."
        )
        ctx.store.finish_message(
            answer.id,
            stats=MessageStats(41, 187, 142.0, 38.6, "eos"),
        )
        for theme in ("light", "dark"):
            ctx.store.set_setting("theme", theme)
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            window.open_chat(chat.id)
            settle(app, 800)
            window.grab().save(str(OUT / f"chat-{theme}.png"))
            window.shutdown()
            window.close()
    for name in sorted(OUT.glob("*.png")):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
