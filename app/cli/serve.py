"""`hearth serve`: the local API (see app/api/server.py)."""

from __future__ import annotations

import argparse

from app.api.host import ModelHost
from app.api.recent import RecentRequests, RequestRecord
from app.api.server import ServerOptions, check_bind, serve
from app.context import Context


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    check_bind(args.host, args.api_key)  # refused before a model is loaded for nothing
    host = ModelHost(ctx.store)
    entry = host.find(args.model) if args.model else host.default_model()
    host.ready(entry)
    recent = RecentRequests()
    if not args.quiet:

        def show(record: RequestRecord) -> None:
            print(record.line(), flush=True)

        recent.listen(show)
    options = ServerOptions(api_key=args.api_key, cors_origins=list(args.cors), recent=recent)

    def ready(url: str) -> None:
        print(f"Serving {entry.name} at {url} (OpenAI and Anthropic APIs). Ctrl+C stops.",
              flush=True)  # fmt: skip

    try:
        serve(host, args.host, args.port, options, on_ready=ready)
    finally:
        host.close()
    return 0
