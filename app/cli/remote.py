"""`hearth remote`: OpenAI-compatible servers whose models chats use as SERVER/MODEL."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app.context import Context
from app.errors import HearthError
from app.terminal import print_json, table


def _read_key() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("API key (input hidden): ")
    return sys.stdin.readline().strip()


def cmd_remote_add(ctx: Context, args: argparse.Namespace) -> int:
    servers = ctx.remote_servers()
    key: str | None = None
    if args.key_stdin:
        key = _read_key()
        if not key:
            raise HearthError("No API key was given on standard input.")
    elif args.no_key:
        key = ""
    endpoint = servers.add(args.name, args.url, key)
    where = f" (key kept in {servers.secrets.where})" if key else ""
    print(f"Added {endpoint.name} at {endpoint.base_url}{where}.")
    if args.no_check:
        return 0
    try:
        models = servers.client(endpoint.name).models()
    except HearthError as exc:
        print(f"hearth: it does not answer yet: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(m.name for m in models) or "none"
    print(f"It offers {len(models)} model{'s' if len(models) != 1 else ''}: {names}")
    return 0


def cmd_remote_list(ctx: Context, args: argparse.Namespace) -> int:
    servers = ctx.remote_servers()
    endpoints = servers.endpoints()
    if not endpoints:
        if args.json:
            print_json([])
        else:
            print("No remote servers. Add one with `hearth remote add NAME URL`.")
        return 0
    offline = bool(ctx.setting("offline"))
    answers = [] if offline else servers.list_models()
    if args.json:
        records: list[dict[str, Any]] = []
        for endpoint in endpoints:
            answer = next((a for a in answers if a.endpoint.name == endpoint.name), None)
            records.append({
                "name": endpoint.name, "url": endpoint.base_url,
                "has_key": servers.has_key(endpoint.name),
                "models": [m.name for m in answer.models] if answer else None,
                "problem": answer.problem if answer else "offline mode is on",
            })  # fmt: skip
        print_json(records)
        return 0
    rows = []
    for endpoint in endpoints:
        answer = next((a for a in answers if a.endpoint.name == endpoint.name), None)
        if answer is None:
            state = "not asked (offline mode)"
        elif answer.problem:
            state = "unreachable"
        else:
            state = ", ".join(m.model for m in answer.models) or "no models"
        rows.append([endpoint.name, endpoint.base_url,
                     "yes" if servers.has_key(endpoint.name) else "no", state])  # fmt: skip
    print(table(rows, ["NAME", "URL", "KEY", "MODELS"]))
    for answer in answers:
        if answer.problem:
            print(f"\n{answer.problem}", file=sys.stderr)
    return 0


def cmd_remote_rm(ctx: Context, args: argparse.Namespace) -> int:
    ctx.remote_servers().remove(args.name)
    print(f"Removed {args.name} and its key.")
    return 0
