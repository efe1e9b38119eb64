"""`hearth settings list|get|set|reset`: the declared settings, validated."""

from __future__ import annotations

import argparse
from typing import Any

from app.context import Context
from app.settings import SETTINGS, SettingValue, declaration
from app.terminal import print_json, table


def _show(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _setting_record(ctx: Context, name: str) -> dict[str, Any]:
    decl = declaration(name)
    value = ctx.setting(name)
    return {
        "name": name,
        "value": value,
        "default": decl.default,
        "is_default": name not in ctx.store.stored_settings(),
        "type": decl.kind,
        "accepts": decl.describe(),
        "group": decl.group,
        "help": decl.help,
    }


def cmd_settings_list(ctx: Context, args: argparse.Namespace) -> int:
    records = [_setting_record(ctx, s.name) for s in SETTINGS]
    if args.json:
        print_json(records)
        return 0
    rows = [
        [r["name"], _show(r["value"]), "" if r["is_default"] else "(changed)", r["accepts"]]
        for r in records
    ]
    print(table(rows, ["NAME", "VALUE", "", "ACCEPTS"]))
    return 0


def cmd_settings_get(ctx: Context, args: argparse.Namespace) -> int:
    record = _setting_record(ctx, args.name)
    if args.json:
        print_json(record)
    else:
        print(_show(record["value"]))
    return 0


def cmd_settings_set(ctx: Context, args: argparse.Namespace) -> int:
    value = ctx.store.set_setting(args.name, args.value)
    print(f"{args.name} = {_show(value)}")
    return 0


def cmd_settings_reset(ctx: Context, args: argparse.Namespace) -> int:
    value = ctx.store.reset_setting(args.name)
    print(f"{args.name} = {_show(value)} (default)")
    return 0
