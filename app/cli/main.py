"""The ``hearth`` command: opens the desktop app with no arguments, or runs a subcommand.

Errors meant for users print one line to stderr and exit 1; anything
unexpected is logged with its traceback and reported in one line (exit 70).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from app import __version__
from app.cli.chat import add_parsers as add_chat_parsers
from app.cli.docs import add_parsers as add_docs_parsers
from app.cli.models import add_parsers as add_model_parsers
from app.context import Context
from app.errors import HearthError
from app.paths import HOME_ENV
from app.settings import SETTINGS, SettingValue, declaration
from app.terminal import print_json, table

log = logging.getLogger("hearth.cli")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

Handler = Callable[[Context, argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line plus a hint, like every other error."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"hearth: {message} (see: {self.prog} --help)\n")


# ------------------------------------------------------------------ output


def _show(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- commands
def cmd_gui(ctx: Context, args: argparse.Namespace) -> int:
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
        and not os.environ.get("QT_QPA_PLATFORM")
    ):
        raise HearthError(
            "No display found, so the desktop app cannot open. "
            "Run it from a desktop session, or use the command line (hearth --help)."
        )
    from ui.application import run_desktop  # Qt is loaded only for the GUI

    return run_desktop(ctx)


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


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    from app.cli.doctor import format_report, report

    data = report(ctx)
    if args.json:
        print_json(data)
    else:
        print(format_report(data))
    return 0


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hearth",
        description="Run open language models on your own computer, offline and private. "
        "With no command, opens the desktop app.",
        epilog=f"The data folder can also be chosen with the {HOME_ENV} environment variable.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument(
        "--home", metavar="DIR", help=f"data folder to use (default: ${HOME_ENV} or the OS's)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="echo the log to stderr, with debug detail"
    )
    parser.set_defaults(handler=cmd_gui)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    gui = commands.add_parser("gui", help="open the desktop app (the default)")
    gui.set_defaults(handler=cmd_gui)

    models = commands.add_parser("models", help="the model library")
    models_cmds = models.add_subparsers(title="models commands", metavar="ACTION", required=True)
    add_model_parsers(models_cmds)
    add_chat_parsers(commands, models_cmds)
    add_docs_parsers(commands)

    settings = commands.add_parser("settings", help="read and change settings")
    settings_cmds = settings.add_subparsers(
        title="settings commands", metavar="ACTION", required=True
    )
    s_list = settings_cmds.add_parser("list", help="every setting with its value")
    s_list.add_argument("--json", action="store_true", help="machine-readable output")
    s_list.set_defaults(handler=cmd_settings_list)
    s_get = settings_cmds.add_parser("get", help="one setting's value")
    s_get.add_argument("name")
    s_get.add_argument("--json", action="store_true", help="machine-readable output")
    s_get.set_defaults(handler=cmd_settings_get)
    s_set = settings_cmds.add_parser("set", help="change a setting (validated)")
    s_set.add_argument("name")
    s_set.add_argument("value")
    s_set.set_defaults(handler=cmd_settings_set)
    s_reset = settings_cmds.add_parser("reset", help="back to the default value")
    s_reset.add_argument("name")
    s_reset.set_defaults(handler=cmd_settings_reset)

    doctor = commands.add_parser("doctor", help="print what a bug report needs")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(handler=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse fills an optional positional (chat's PROMPT) before the options that
        # follow MODEL, so `hearth chat MODEL --json "question"` leaves the question over.
        if getattr(args, "prompt", "") is None and len(extras) == 1 and extras[0][:1] != "-":
            args.prompt = extras[0]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    ctx: Context | None = None
    try:
        ctx = Context.open(args.home, verbose=args.verbose)
        handler: Handler = args.handler
        return handler(ctx, args)
    except HearthError as exc:
        log.info("refused: %s", exc)
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hearth: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into e.g. `head` that stopped reading: not an error.
        sys.stderr.close()
        return 0
    except Exception as exc:
        where = ""
        if ctx is not None:  # before the log file is set up, a log record would go to stderr
            log.exception("unexpected error running %s", argv if argv is not None else sys.argv[1:])
            where = f" (details in {ctx.paths.log_file})"
        print(f"hearth: unexpected error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if ctx is not None:
            ctx.close()
