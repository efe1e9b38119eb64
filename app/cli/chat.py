"""The command line's chat side: `hearth chat`, `hearth chats …` and `hearth models info`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from app.chat.export import export_chat
from app.chat.runner import ChatRunner, MessageSaved, SourcesUsed, load_options_for, sampling_for
from app.chat.titles import require_text
from app.cli.docs import (
    index_documents,
    open_embedder,
    report_added,
    require_collection,
    require_ready,
)
from app.context import Context
from app.documents.grounding import Grounder, source_label
from app.documents.ingest import add_paths
from app.documents.search import Searcher
from app.engine.context_length import check_context
from app.engine.engine import ContextTrimmed, Engine, GenerationDone, TextDelta
from app.engine.gguf_file import GGUFHeader, validate_file
from app.engine.memory import estimate_memory
from app.errors import HearthError, NotFoundError
from app.store import ModelEntry, SourceRecord, Store
from app.units import format_bytes, format_count

SAMPLING_FLAGS = {
    "temperature": float, "top_p": float, "top_k": int, "min_p": float,
    "repeat_penalty": float, "seed": int, "max_tokens": int,
}  # fmt: skip


def resolve_model(ctx: Context, name_or_path: str) -> Path:
    """A library model by name, or a .gguf path."""
    return _resolve(ctx, name_or_path)[0]


def _resolve(ctx: Context, name_or_path: str) -> tuple[Path, ModelEntry | None]:
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        try:
            return candidate, ctx.store.find_model(str(candidate.resolve()))
        except NotFoundError:
            return candidate, None
    try:
        entry = ctx.store.find_model(name_or_path)
        return Path(entry.path), entry
    except NotFoundError:
        raise HearthError(
            f"No model called {name_or_path!r} in the library, and no such file. "
            "See `hearth models list`, or give the path to a .gguf file."
        ) from None


def model_summary(path: Path, header: GGUFHeader, n_ctx: int) -> dict[str, Any]:
    estimate = estimate_memory(header, n_ctx)
    return {
        "path": str(path),
        "name": header.name or path.stem,
        "architecture": header.architecture,
        "parameters": header.parameter_count,
        "quantization": header.file_type_name,
        "context_length": header.context_length,
        "layers": header.block_count,
        "embedding_length": header.embedding_length,
        "heads": header.head_count,
        "kv_heads": header.head_count_kv,
        "vocab_size": header.vocab_size,
        "chat_template": header.chat_template is not None,
        "size_bytes": path.stat().st_size,
        "memory_estimate": {
            "context": min(n_ctx, header.context_length or n_ctx),
            "weights_bytes": estimate.weights_bytes,
            "kv_cache_bytes": estimate.kv_cache_bytes,
            "compute_bytes": estimate.compute_bytes,
            "total_bytes": estimate.total_bytes,
        },
    }


def cmd_models_info(ctx: Context, args: argparse.Namespace) -> int:
    path = resolve_model(ctx, args.model)
    header = validate_file(path)
    if args.ctx:
        check_context(header.name or path.stem, header.context_length, args.ctx, "--ctx")
    n_ctx = args.ctx or int(ctx.setting("context_length"))
    info = model_summary(path, header, n_ctx)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    mem = info["memory_estimate"]
    params = info["parameters"]
    rows = [
        ("Name", info["name"]),
        ("File", f"{info['path']} ({format_bytes(info['size_bytes'])})"),
        ("Architecture", info["architecture"] or "unknown"),
        ("Parameters", format_count(params)),
        ("Quantization", info["quantization"] or "unknown"),
        ("Context length", f"{info['context_length']:,}" if info["context_length"] else "unknown"),
        ("Layers", str(info["layers"])),
        ("Chat template", "yes" if info["chat_template"] else "no (a named format is used)"),
        (
            "Memory",
            f"about {format_bytes(mem['total_bytes'])} at {mem['context']:,} tokens of context "
            f"(weights {format_bytes(mem['weights_bytes'])}, KV cache "
            f"{format_bytes(mem['kv_cache_bytes'])}, working {format_bytes(mem['compute_bytes'])})",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    return 0


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
    path, entry = _resolve(ctx, args.model)
    store = Store.open(Path(":memory:")) if args.no_save else ctx.store
    try:
        if args.chat is not None and not args.no_save:
            chat = store.get_chat(args.chat)
            if args.system is not None:
                chat = store.update_chat(chat.id, system_prompt=args.system)
        else:
            # Untitled: the first message names it (app/titles.py), as in the desktop.
            chat = store.create_chat(model=path.stem, system_prompt=args.system or "")
        embedder = open_embedder(store)
        if args.docs:
            added = add_paths(store, [Path(p) for p in args.docs], chat_id=chat.id)
            report_added(added)
            index_documents(store, added.added, embedder=embedder)
            require_ready(store.chat_documents(chat.id), added)
        if args.collection:
            store.attach_collection(chat.id, require_collection(store, args.collection).id)
        engine = Engine()
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
        runner = ChatRunner(store, engine, grounder=Grounder(store, Searcher(store, embedder)))
        sampling = sampling_for(store, chat, _overrides(args))
        if args.prompt is not None:
            return _one_answer(runner, chat.id, args.prompt, sampling, args.json, loaded.name)
        return _interactive(runner, chat.id, sampling, loaded.name)
    finally:
        if args.no_save:
            store.close()


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


def cmd_chats_list(ctx: Context, args: argparse.Namespace) -> int:
    chats = ctx.store.list_chats()
    if args.json:
        out = [{**asdict(c), "messages": ctx.store.message_count(c.id)} for c in chats]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    if not chats:
        print('No chats yet. Start one with: hearth chat MODEL "your question"')
        return 0
    from datetime import datetime

    for chat in chats:
        when = datetime.fromtimestamp(chat.updated_at).strftime("%Y-%m-%d %H:%M")
        count = ctx.store.message_count(chat.id)
        print(f"{chat.id:>5}  {when}  {count:>4} msgs  {chat.title}")
    return 0


def cmd_chats_show(ctx: Context, args: argparse.Namespace) -> int:
    if args.json:
        print(export_chat(ctx.store, args.id, "json"))
    else:
        print(export_chat(ctx.store, args.id, "md"), end="")
    return 0


def cmd_chats_export(ctx: Context, args: argparse.Namespace) -> int:
    text = export_chat(ctx.store, args.id, args.format)
    if args.output:
        Path(args.output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"Wrote chat {args.id} to {args.output}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def cmd_chats_import(ctx: Context, args: argparse.Namespace) -> int:
    from app.chat.export import import_json

    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HearthError(f"Cannot read {args.file}: {exc}") from exc
    chat = import_json(ctx.store, data)
    print(
        f"Imported {chat.title!r} as chat {chat.id} ({ctx.store.message_count(chat.id)} messages)"
    )
    return 0


def add_parsers(commands: Any, models_cmds: Any) -> None:
    info = models_cmds.add_parser("info", help="what a GGUF file holds, and the memory it needs")
    info.add_argument("model", help="a library name or a .gguf path")
    info.add_argument("--ctx", type=int, help="context length for the memory estimate")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler=cmd_models_info)

    chat = commands.add_parser(
        "chat", help="chat with a model (one answer, or an interactive loop without PROMPT)"
    )
    chat.add_argument("model", help="a library name or a .gguf path")
    chat.add_argument("prompt", nargs="?", help="the question; omit for an interactive chat")
    chat.add_argument("--system", help="system prompt")
    chat.add_argument("--chat", type=int, metavar="ID", help="continue this saved chat")
    chat.add_argument("--no-save", action="store_true", help="do not keep this chat")
    chat.add_argument("--json", action="store_true", help="print one JSON record with the stats")
    chat.add_argument("--ctx", type=int, help="context length (default: the setting)")
    chat.add_argument("--threads", type=int, help="CPU threads (default: physical cores)")
    chat.add_argument("--format", help="chat format instead of the model's template")
    chat.add_argument("--force", action="store_true", help="load even if memory looks too small")
    chat.add_argument("--stop", action="append", help="stop at this text (repeatable)")
    chat.add_argument(
        "--docs", nargs="+", metavar="PATH", help="files or folders to answer from (with citations)"
    )
    chat.add_argument("--collection", metavar="NAME", help="answer from this document collection")
    for name, kind in SAMPLING_FLAGS.items():
        chat.add_argument("--" + name.replace("_", "-"), dest=name, type=kind)
    chat.set_defaults(handler=cmd_chat)

    chats = commands.add_parser("chats", help="saved chats")
    chats_cmds = chats.add_subparsers(title="chats commands", metavar="ACTION", required=True)
    c_list = chats_cmds.add_parser("list", help="saved chats, most recent first")
    c_list.add_argument("--json", action="store_true", help="machine-readable output")
    c_list.set_defaults(handler=cmd_chats_list)
    c_show = chats_cmds.add_parser("show", help="the visible conversation of a chat")
    c_show.add_argument("id", type=int)
    c_show.add_argument("--json", action="store_true", help="every branch, as JSON")
    c_show.set_defaults(handler=cmd_chats_show)
    c_export = chats_cmds.add_parser("export", help="write a chat as Markdown or JSON")
    c_export.add_argument("id", type=int)
    c_export.add_argument("--format", choices=("md", "json"), default="md")
    c_export.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    c_export.set_defaults(handler=cmd_chats_export)
    c_import = chats_cmds.add_parser("import", help="a chat from a JSON export (all branches)")
    c_import.add_argument("file")
    c_import.set_defaults(handler=cmd_chats_import)
