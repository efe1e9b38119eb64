"""`hearth presets list|rm`: the chat presets the desktop saves, from the command line
(`hearth chat --preset NAME` uses one)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from app.chat.presets import Preset, Presets
from app.context import Context
from app.errors import NotFoundError
from app.terminal import print_json, table


def find_preset(ctx: Context, name: str) -> Preset:
    presets = Presets(ctx.paths.home).all()
    for preset in presets:
        if preset.name == name:
            return preset
    names = ", ".join(p.name for p in presets) or "none saved yet"
    raise NotFoundError(f"No preset called {name!r} (presets: {names}).")


def cmd_presets_list(ctx: Context, args: argparse.Namespace) -> int:
    presets = Presets(ctx.paths.home).all()
    if args.json:
        print_json([asdict(p) for p in presets])
        return 0
    if not presets:
        print("No presets yet. Save one from a chat's settings in the desktop app.")
        return 0
    rows = []
    for p in presets:
        sets = ", ".join(f"{k}={v}" for k, v in p.params.items())
        prompt = p.system_prompt.replace("\n", " ")
        rows.append([p.name, (prompt[:40] + "…") if len(prompt) > 40 else prompt, sets])
    print(table(rows, ["NAME", "SYSTEM PROMPT", "SETS"]))
    return 0


def cmd_presets_rm(ctx: Context, args: argparse.Namespace) -> int:
    find_preset(ctx, args.name)
    Presets(ctx.paths.home).remove(args.name)
    print(f"Deleted the preset {args.name!r}.")
    return 0
