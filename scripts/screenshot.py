"""Saves PNGs of Hearth's window for docs/screenshots (run under xvfb-run for a real X11 window).

Usage: xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot.py [SHOT...]
SHOT: first-launch, first-launch-offline, first-launch-starter, chat, chat-settings,
documents, file-dialog, settings, remote, api (default: all). remote starts a real
`hearth serve` on loopback as the "other machine" and shows its model in use.
first-launch-starter is an offline first launch with the starter model (it also saves
library-starter.png). first-launch needs a network (it offers a download); the offline
one points the hub at a local port nothing listens on. The chats shown are written
straight into a throw-away data folder (no model runs); the documents are real files,
indexed. api loads gemma-3-270m, turns the desktop's API on and sends it real requests
with the openai client (api.png, api-requests.png, settings-api.png).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import Context
from app.documents.ingest import Indexer, add_paths
from app.store import MessageStats, SourceRecord, Store
from tests.support.documents import make_pdf
from tests.support.gguf_builder import TinyModelSpec, write_tiny_model
from ui.application import build_window, create_application
from ui.main_window import MainWindow

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
os.environ["HEARTH_NO_STARTER"] = "1"  # only the starter shot adds the starter model

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


REPORT_PAGES = [
    "Hearth field study, spring season\n\nThis report sums up twelve weeks of measurements "
    "at the three river stations. Water levels stayed within the normal band for most of "
    "the season.",
    "Station notes\n\nThe harbor station recorded the highest readings. A lamp failure on "
    "the north mast cut two nights of data; the team replaced it on day 41.",
    "Results\n\nAverage flow rose 14% compared with last spring. The largest rise, 22%, was "
    "measured at the stone bridge after the April storms. Winter levels were lower than "
    "expected, which left the reservoirs at 71% of capacity when the season began.",
    "Recommendations\n\nMove the harbor sensor two metres upstream, keep a spare lamp at "
    "each mast, and repeat the survey in autumn with the same three stations.",
    "Appendix: equipment list and calibration dates.",
]
NOTES = """# Field notes

## Storm week
The April storms raised the river fast. The stone bridge gauge went from 1.2 m to 2.1 m
in two days, the biggest jump of the season.

## Equipment
The north mast lamp failed on day 39 and was replaced on day 41.
"""
QUESTION = "How much did the river flow change this spring, and where was it largest?"
GROUNDED_ANSWER = (
    "Average flow rose **14%** compared with last spring [2]. The largest rise was at the "
    "**stone bridge**: 22%, measured after the April storms [2], when the gauge went from "
    "1.2 m to 2.1 m in two days [3].\n\n"
    "Winter levels were lower than expected, so the reservoirs started the season at 71% "
    "of capacity [2]."
)


def add_documents_chat(store: Store, folder: Path) -> int:
    """A chat with a five-page PDF, Markdown notes and a damaged file, indexed for real, and
    an answer that cites them (its sources saved as a grounded answer's would be)."""
    folder.mkdir(parents=True, exist_ok=True)
    report = make_pdf(folder / "field-study-2025.pdf", REPORT_PAGES)
    notes = folder / "field-notes.md"
    notes.write_text(NOTES, encoding="utf-8")
    broken = folder / "old-survey.pdf"
    broken.write_bytes(b"%PDF-1.4\n% cut short by a failed download\n")
    chat = store.create_chat("Spring river survey")
    added = add_paths(store, [report, notes, broken], chat_id=chat.id)
    for _ in Indexer(store).run([d.id for d in added.added]):
        pass
    documents = {d.name: d for d in store.chat_documents(chat.id)}
    chunks = {c.page or 0: c for c in store.document_chunks(documents["field-study-2025.pdf"].id)}
    storm = store.document_chunks(documents["field-notes.md"].id)[0]
    sources = [
        SourceRecord(1, report.name, str(report), chunks[2].text, page=2,
                     chunk_id=chunks[2].id, document_id=chunks[2].document_id),
        SourceRecord(2, report.name, str(report), chunks[3].text, page=3,
                     chunk_id=chunks[3].id, document_id=chunks[3].document_id),
        SourceRecord(3, notes.name, str(notes), storm.text, heading=storm.heading,
                     chunk_id=storm.id, document_id=storm.document_id),
    ]  # fmt: skip
    store.append_message(chat.id, "user", QUESTION)
    answer = store.append_message(chat.id, "assistant", GROUNDED_ANSWER, model="Qwen3 0.6B")
    store.save_sources(answer.id, sources)
    store.finish_message(
        answer.id,
        stats=MessageStats(612, 88, 201.0, 36.2, "eos"),
        meta={"documents_mode": "retrieval"},
    )
    return chat.id


TITLED_CHATS = (
    "Three things to do in Lisbon in October?",
    "Write a haiku about bread rising",
    "What does a heat pump's COP mean?",
    "Explain the difference between TCP and UDP",
)


def add_titled_chats(store: Store) -> None:
    """Chats named the way the app names them: by their first message."""
    for text in TITLED_CHATS:
        chat = store.create_chat()
        store.append_message(chat.id, "user", text)
        store.title_from_message(chat.id, text)


def closed_local_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def settle(app: object, ms: int = 500) -> None:
    QTimer.singleShot(ms, app.quit)  # type: ignore[attr-defined]
    app.exec()  # type: ignore[attr-defined]


def pump(ms: int) -> None:
    """Run the event loop for ``ms`` without quitting the application (which closes windows)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def starter_shots(app: QApplication) -> None:
    """An offline first launch: the starter model is added and offered, and the library
    marks it (the bundled file stands in for the package, as a bundle ships it)."""
    from app.models.starter import first_launch_starter
    from tests.support.models import gemma_path

    os.environ.pop("HEARTH_NO_STARTER", None)
    os.environ["HEARTH_STARTER_FILE"] = str(gemma_path())
    try:
        with (
            tempfile.TemporaryDirectory() as home,
            Context.open(home, logging_to_file=False) as ctx,
        ):
            ctx.store.set_setting("offline", True)
            # What the first launch's library scan does, done before the window opens
            # (a script's event loop starves the copy of the GIL; the app takes ~2 s).
            first_launch_starter(ctx.store, ctx.models_dir)
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            settle(app, 1000)
            window.grab().save(str(OUT / "first-launch-starter.png"))
            window.show_models()
            window.models_page.show_library()
            settle(app)
            window.grab().save(str(OUT / "library-starter.png"))
            window.shutdown()
            window.close()
    finally:
        os.environ["HEARTH_NO_STARTER"] = "1"
        os.environ.pop("HEARTH_STARTER_FILE", None)


def remote_shots(app: QApplication) -> None:
    """A remote server's model in the chat header answering a chat, and Settings →
    Remote servers listing it. The server is `hearth serve` with a tiny model; the
    window asks it directly (a script's event loop starves worker threads)."""
    from tests.support.serve_process import ServeProcess
    from ui.settings.dialog import SettingsDialog
    from ui.settings.remote_servers import RemoteServersPanel

    with (
        tempfile.TemporaryDirectory() as home,
        Context.open(home, logging_to_file=False) as ctx,
    ):
        (Path(home) / "tiny").mkdir()
        model = write_tiny_model(
            Path(home) / "tiny" / "llama-3.1-70b.gguf", TinyModelSpec(name="llama-3.1-70b")
        )
        server = ServeProcess(Path(home) / "bigbox", model, context=2048)
        try:
            servers = ctx.remote_servers()
            servers.add("bigbox", server.url, "sk-not-shown")
            chat = ctx.store.create_chat(model="bigbox/llama-3.1-70b")
            question = "Summarise the trade-offs of running a 70B model on a workstation."
            ctx.store.append_message(chat.id, "user", question)
            ctx.store.title_from_message(chat.id, question)
            answer = ctx.store.append_message(
                chat.id, "assistant", REMOTE_ANSWER, model="bigbox/llama-3.1-70b"
            )
            ctx.store.finish_message(answer.id, stats=MessageStats(38, 96, 410.0, 21.7, "eos"))
            ctx.store.set_setting("theme", "dark")
            window = build_window(ctx, app)
            window.resize(1280, 800)
            listed = servers.list_models()
            window.chat_page._remote_models_listed(listed)
            window.engine._remote_chosen(servers.engine_for("bigbox/llama-3.1-70b"))
            window.show()
            window.open_chat(chat.id)
            settle(app, 800)
            window.grab().save(str(OUT / "remote-chat.png"))
            panel = RemoteServersPanel(servers, window.engine)
            panel._listed(listed)
            dialog = SettingsDialog(
                window.settings, window, extra_pages=[("Remote servers", panel)]
            )
            dialog.nav.setCurrentRow(dialog.nav.count() - 1)
            dialog.show()
            settle(app, 500)
            dialog.grab().save(str(OUT / "settings-remote.png"))
            dialog.close()
            window.shutdown()
            window.close()
        finally:
            server.stop()


REMOTE_ANSWER = """Running it on the workstation through `llama-server` keeps the laptop free:

- **Memory**: a 70B model at Q4_K_M needs about 42 GB, more than this laptop has.
- **Speed**: the workstation answers at ~20 tokens/s; the laptop would swap.
- **Privacy**: it stays on your own network; nothing goes to a cloud service."""


def api_shots(app: QApplication, ctx: Context, chat_id: int) -> None:
    """The desktop's API switched on, serving gemma-3-270m: the status-bar indicator and
    the recent requests after a few real ones (one of them naming another model)."""
    import openai

    from app.engine.events import LoadOptions
    from tests.support.models import gemma_path

    ctx.store.set_setting("theme", "dark")
    ctx.store.set_setting("api_server", True)
    with socket.socket() as probe:  # the default port when it is free, as a user sees it
        free = probe.connect_ex(("127.0.0.1", 8766)) != 0
    ctx.store.set_setting("api_port", 8766 if free else 0)
    window = build_window(ctx, app)
    window.resize(1280, 800)
    window.show()
    window.open_chat(chat_id)
    failed: list[str] = []
    window.engine.loadFailed.connect(failed.append)
    window.engine.load(gemma_path(), LoadOptions(n_ctx=2048))
    while (window.engine.loaded is None or window.engine.loading) and not failed:
        pump(200)  # not settle(): quitting the application would close the window
    assert not failed, failed
    url = window.api.url
    assert url is not None, window.api.problem
    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
    name = window.api.served_model() or ""
    client.models.list()
    client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=24, temperature=0.0,
    )  # fmt: skip
    for _ in client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "Write a haiku about tea."}],
        max_tokens=40, stream=True,
    ):  # fmt: skip
        pass
    client.completions.create(model=name, prompt="def fibonacci(n):", max_tokens=32)
    with contextlib.suppress(openai.NotFoundError):  # shown in the list as a 404
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user",
                                       "content": "Hi"}])  # fmt: skip
    pump(500)
    window.grab().save(str(OUT / "api.png"))
    window.api_indicator.click()
    dialog = window.api_indicator.dialog
    assert dialog is not None
    pump(500)
    dialog.grab().save(str(OUT / "api-requests.png"))
    dialog.close()
    from ui.settings.dialog import SettingsDialog

    settings = SettingsDialog(window.settings, window)
    settings.show_group("API")
    settings.show()
    pump(500)
    settings.grab().save(str(OUT / "settings-api.png"))
    settings.close()
    window.shutdown()
    window.close()
    ctx.store.set_setting("api_server", False)


def embedding_shot(app: QApplication, window: MainWindow) -> None:
    """A document part-way through embedding: the row shows passages, rate and time left
    (the meter's clock is staged so the shot does not wait for a real model)."""
    from app.documents.embeddings import EmbedMeter

    panel = window.chat_page.documents_panel
    if panel is None or not panel.rows:
        return
    row = next(iter(panel.rows.values()))
    ticks = iter([0.0, 28.0])
    meter = EmbedMeter(1542, done=204, clock=lambda: next(ticks, 28.0))
    meter.advance(540)
    row.show_document(row.document, None, collection=None, embedding=meter)
    settle(app, 300)
    window.grab().save(str(OUT / "documents-embedding.png"))


def models_shot(app: QApplication, ctx: Context) -> None:
    """The Models page against a local stand-in hub with a few GGUF repositories: the
    suggested chat, embedding and reranker models above the search results."""
    from tests.support.fake_hub import FakeHub

    tiny = write_tiny_model(Path(tempfile.mkdtemp()) / "tiny.gguf", TinyModelSpec())
    online = os.environ.get("HF_ENDPOINT")
    with FakeHub() as hub:
        repos = {
            "Qwen/Qwen3-0.6B-GGUF": 91_000,
            "unsloth/gemma-3-1b-it-GGUF": 64_000,
            "bartowski/Llama-3.2-3B-Instruct-GGUF": 52_000,
        }
        for repo, downloads in repos.items():
            hub.add_model(repo, {"model-Q4_K_M.gguf": tiny.read_bytes()}, downloads=downloads)
        os.environ["HF_ENDPOINT"] = hub.url
        try:
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            window.show_models()
            settle(app, 1500)
            window.grab().save(str(OUT / "models-browser.png"))
            window.shutdown()
            window.close()
        finally:
            if online is None:
                os.environ.pop("HF_ENDPOINT", None)
            else:
                os.environ["HF_ENDPOINT"] = online


def main() -> int:
    shots = set(sys.argv[1:]) or {
        "first-launch", "first-launch-offline", "first-launch-starter", "chat",
        "chat-settings", "documents", "file-dialog", "settings", "remote", "api", "models",
    }  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_application()
    if "first-launch-starter" in shots:
        starter_shots(app)
    if "remote" in shots:
        remote_shots(app)
    with tempfile.TemporaryDirectory() as home, Context.open(home, logging_to_file=False) as ctx:
        if "first-launch" in shots:
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            settle(app)
            window.grab().save(str(OUT / "first-launch.png"))
            window.shutdown()
            window.close()

        if "models" in shots:
            models_shot(app, ctx)

        if "first-launch-offline" in shots:
            online = os.environ.get("HF_ENDPOINT")
            os.environ["HF_ENDPOINT"] = closed_local_url()  # no network: nothing answers
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            settle(app, 1500)  # the reachability check answers at once: refused
            window.grab().save(str(OUT / "first-launch-offline.png"))
            window.shutdown()
            window.close()
            if online is None:
                os.environ.pop("HF_ENDPOINT")
            else:
                os.environ["HF_ENDPOINT"] = online

        models = ctx.models_dir / "Qwen" / "Qwen3-0.6B-GGUF"
        models.mkdir(parents=True)
        write_tiny_model(models / "Qwen3-0.6B-Q8_0.gguf")
        add_titled_chats(ctx.store)
        chat = ctx.store.create_chat()
        question = "How do I sort a list of dicts by a key?"
        ctx.store.append_message(chat.id, "user", question)
        ctx.store.title_from_message(chat.id, question)
        answer = ctx.store.append_message(chat.id, "assistant", ANSWER, model="Qwen3 0.6B")
        ctx.store.append_text(
            answer.id, reasoning="They want the idiomatic way; mention itemgetter too."
        )
        ctx.store.finish_message(
            answer.id,
            stats=MessageStats(41, 187, 142.0, 38.6, "eos"),
        )
        for theme in ("light", "dark") if "chat" in shots else ():
            ctx.store.set_setting("theme", theme)
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            window.open_chat(chat.id)
            settle(app, 800)
            window.grab().save(str(OUT / f"chat-{theme}.png"))
            window.shutdown()
            window.close()
        for theme in ("light", "dark") if "chat-settings" in shots else ():
            ctx.store.set_setting("theme", theme)
            (Path(home) / "ui-state.ini").unlink(missing_ok=True)
            window = build_window(ctx, app)  # at its default size
            window.show()
            window.open_chat(chat.id)
            window.panel_action.trigger()
            settle(app, 800)
            window.grab().save(str(OUT / f"chat-settings-{theme}.png"))
            window.shutdown()
            window.close()
        if "file-dialog" in shots:
            from PySide6.QtWidgets import QFileDialog

            ctx.store.set_setting("theme", "dark")
            window = build_window(ctx, app)
            window.show()
            dialog = QFileDialog(window, "Import GGUF models", str(ctx.models_dir),
                                 "GGUF models (*.gguf)")  # fmt: skip
            dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
            dialog.resize(820, 500)
            dialog.show()
            settle(app, 800)
            dialog.grab().save(str(OUT / "file-dialog-dark.png"))
            dialog.close()
            window.shutdown()
            window.close()
        if "documents" in shots:
            documents_chat = add_documents_chat(ctx.store, Path(home) / "Documents")
            ctx.store.set_setting("theme", "dark")
            window = build_window(ctx, app)
            window.resize(1280, 800)
            window.show()
            window.open_chat(documents_chat)
            settle(app, 800)
            window.grab().save(str(OUT / "documents.png"))
            answer = ctx.store.thread(documents_chat)[-1]
            dialog = window.chat_page.view.open_source(answer.id, 2)
            if dialog is not None:
                dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
                settle(app, 500)  # quitting the loop closes the dialog: it stays for grab()
                dialog.show()
                settle(app, 300)
                dialog.grab().save(str(OUT / "source-passage.png"))
                dialog.close()
            embedding_shot(app, window)
            window.shutdown()
            window.close()
        if "settings" in shots:
            from ui.settings.dialog import SettingsDialog

            ctx.store.set_setting("theme", "light")
            window = build_window(ctx, app)
            dialog = SettingsDialog(window.settings, window)
            dialog.nav.setCurrentRow(list(dialog.forms).index("Documents"))
            dialog.show()
            settle(app, 500)
            dialog.grab().save(str(OUT / "settings.png"))
            dialog.nav.setCurrentRow(list(dialog.forms).index("Performance"))
            settle(app, 300)
            dialog.grab().save(str(OUT / "settings-performance.png"))
            dialog.close()
            window.shutdown()
            window.close()
        if "api" in shots:
            api_shots(app, ctx, chat.id)
    for name in sorted(OUT.glob("*.png")):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
