"""`hearth chat`: one answer, or an interactive loop, from a model in the library or a file."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.chat.runner import ChatRunner, MessageSaved, SourcesUsed, load_options_for, sampling_for
from app.chat.titles import require_text
from app.cli.docs import (
    index_documents,
    open_embedder,
    report_added,
    require_collection,
    require_ready,
)
from app.cli.models import resolve_model_entry
from app.cli.parser import SAMPLING_FLAGS
from app.cli.presets import find_preset
from app.context import Context
from app.documents.grounding import Grounder, source_label
from app.documents.ingest import add_paths
from app.documents.rerank import open_reranker
from app.documents.search import Searcher
from app.engine.engine import Engine
from app.engine.events import ContextTrimmed, GenerationDone, TextDelta
from app.engine.kv_disk import kv_disk_in
from app.errors import HearthError
from app.store import SourceRecord, Store

if TYPE_CHECKING:
    from app.remote.client import RemoteEngine


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    values = {name: getattr(args, name) for name in SAMPLING_FLAGS}
    result: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    if args.stop:
        result["stop"] = tuple(args.stop)
    return result


def cmd_chat(ctx: Context, args: argparse.Namespace) -> int:
    if args.docs and args.prompt is None and not Path(args.docs[-1]).expanduser().exists():
        # `hearth chat MODEL --docs a.pdf b.pdf "question"`: --docs took the question too.
        args.prompt = args.docs.pop()
    if args.prompt is not None:
        require_text(args.prompt)  # refused before a model is loaded for nothing
    remote = _remote_backend(ctx, args.model)
    path, entry = (Path(args.model), None) if remote else resolve_model_entry(ctx, args.model)
    preset = find_preset(ctx, args.preset) if args.preset else None
    store = Store.open(Path(":memory:")) if args.no_save else ctx.store
    try:
        if args.chat is not None and not args.no_save:
            chat = store.get_chat(args.chat)
        else:
            # Untitled: the first message names it (app/titles.py), as in the desktop.
            chat = store.create_chat(model=args.model if remote else path.stem)
        if preset is not None:  # as the desktop applies one: the chat keeps its settings
            chat = store.update_chat(
                chat.id, system_prompt=preset.system_prompt, params=dict(preset.params)
            )
        if args.system is not None:
            chat = store.update_chat(chat.id, system_prompt=args.system)
        embedder = open_embedder(store)
        if args.docs:
            added = add_paths(store, [Path(p) for p in args.docs], chat_id=chat.id)
            report_added(added)
            index_documents(store, added.added, embedder=embedder)
            require_ready(store.chat_documents(chat.id), added)
        if args.collection:
            store.attach_collection(chat.id, require_collection(store, args.collection).id)
        searcher = Searcher(store, embedder, reranker=open_reranker(store))
        if remote is not None:
            runner = ChatRunner(
                store,
                remote,
                grounder=Grounder(store, searcher),
            )
            sampling = sampling_for(store, chat, _overrides(args))
            if args.prompt is not None:
                return _one_answer(runner, chat.id, args.prompt, sampling, args.json, args.model)
            return _interactive(runner, chat.id, sampling, args.model)
        engine = Engine(
            kv_disk=kv_disk_in(store.path.parent, int(store.get_setting("kv_cache_disk_mb")))
        )
        options = load_options_for(
            store,
            model=entry,
            chat=chat,
            overrides={
                "n_ctx": args.ctx,
                # Asked for on the command line: refused past the model's limit.
                "ctx_source": "--ctx" if args.ctx else None,
                "ctx_strict": True if args.ctx else None,
                "n_threads": args.threads,
                "chat_format": args.format,
                "ignore_memory_check": args.force or None,
            },
        )
        loaded = engine.load(path, options)
        if loaded.context_note:
            print(f"[{loaded.context_note}]", file=sys.stderr)
        runner = ChatRunner(
            store,
            engine,
            grounder=Grounder(store, searcher),
        )
        sampling = sampling_for(store, chat, _overrides(args))
        try:
            if args.prompt is not None:
                return _one_answer(runner, chat.id, args.prompt, sampling, args.json, loaded.name)
            return _interactive(runner, chat.id, sampling, loaded.name)
        finally:
            engine.close()  # first finishes saving the chat's state: the next run starts warm
    finally:
        if args.no_save:
            store.close()


def _remote_backend(ctx: Context, name: str) -> RemoteEngine | None:
    """A SERVER/MODEL on one of the added servers (not a file or a library model)."""
    if "/" not in name or Path(name).expanduser().exists():
        return None
    servers = ctx.remote_servers()
    return servers.engine_for(name) if servers.is_remote(name) else None


def _stream(
    runner: ChatRunner, chat_id: int, prompt: str, sampling: Any, out: TextIO | None
) -> dict[str, Any]:
    record: dict[str, Any] = {"chat_id": chat_id}
    try:
        for event in runner.send(chat_id, prompt, sampling=sampling):
            if isinstance(event, TextDelta) and out is not None:
                target = out if event.kind == "answer" else sys.stderr
                target.write(event.text)
                target.flush()
            elif isinstance(event, ContextTrimmed):
                print(
                    f"[{len(event.dropped)} older messages left out to fit the "
                    f"{event.n_ctx}-token context]",
                    file=sys.stderr,
                )
            elif isinstance(event, GenerationDone):
                record.update(
                    answer=event.answer,
                    reasoning=event.reasoning,
                    stats=asdict(event.stats),
                    error=event.error,
                )
            elif isinstance(event, SourcesUsed):
                record["documents_mode"] = event.mode
                record["sources"] = [
                    {"number": s.number, "name": s.name, "path": s.path, "page": s.page,
                     "heading": s.heading, "text": s.text}
                    for s in event.sources
                ]  # fmt: skip
            elif isinstance(event, MessageSaved) and event.final:
                record["message_id"] = event.message.id
                record["dropped_message_ids"] = event.message.meta.get("dropped_message_ids", [])
    except KeyboardInterrupt:
        record["interrupted"] = True
    return record


def _one_answer(
    runner: ChatRunner, chat_id: int, prompt: str, sampling: Any, as_json: bool, model: str
) -> int:
    record = _stream(runner, chat_id, prompt, sampling, None if as_json else sys.stdout)
    if as_json:
        record["model"] = model
        print(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        print()
        _print_sources(record)
    if record.get("error"):
        raise HearthError(record["error"])
    return 130 if record.get("interrupted") else 0


def _print_sources(record: dict[str, Any]) -> None:
    sources = record.get("sources") or []
    if not sources:
        if record.get("documents_mode"):
            print("(no passage of the documents matched this question)")
        return
    how = "documents given whole" if record["documents_mode"] == "whole" else "passages found"
    print(f"\nSources ({how}):")
    for s in sources:
        label = source_label(SourceRecord(s["number"], s["name"], s["path"], s["text"],
                                          s["page"], s["heading"]))  # fmt: skip
        print(f"  [{s['number']}] {label}")


def _interactive(runner: ChatRunner, chat_id: int, sampling: Any, model: str) -> int:
    print(f"Chatting with {model} (chat {chat_id}). Ctrl+C stops an answer; Ctrl+D quits.")
    while True:
        try:
            prompt = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not prompt.strip():
            continue
        if prompt.strip() in ("/exit", "/quit"):
            return 0
        record = _stream(runner, chat_id, prompt, sampling, sys.stdout)
        print(" [stopped]" if record.get("interrupted") else "")
        _print_sources(record)
        if record.get("error"):
            print(f"hearth: {record['error']}", file=sys.stderr)
