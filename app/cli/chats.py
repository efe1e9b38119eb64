"""`hearth chats list|show|export|import`: saved chats, from the command line."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from app.chat.export import export_chat
from app.context import Context
from app.errors import HearthError


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
