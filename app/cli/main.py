"""The ``hearth`` command: opens the desktop app with no arguments, or runs a subcommand.

Errors meant for users print one line to stderr and exit 1; anything
unexpected is logged with its traceback and reported in one line (exit 70).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.cli.parser import EXIT_USAGE, build_parser, resolve_handler
from app.errors import HearthError

if TYPE_CHECKING:
    from app.context import Context

log = logging.getLogger("hearth.cli")

EXIT_ERROR = 1
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
__all__ = ["EXIT_ERROR", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_USAGE", "main", "main_gui"]


# ---------------------------------------------------------------- commands
def has_display() -> bool:
    """Whether a window can open here: always off Linux; on Linux, an X11 or Wayland
    session (or a Qt platform chosen by hand, such as offscreen)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def cmd_gui(ctx: Context, args: argparse.Namespace) -> int:
    if not has_display():
        raise HearthError(
            "No display found, so the desktop app cannot open. "
            "Run it from a desktop session, or use the command line (hearth --help)."
        )
    from ui.application import run_desktop  # Qt is loaded only for the GUI

    return run_desktop(ctx)


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
        handler = resolve_handler(args.handler)  # the command's modules load here, not before
        from app.context import Context

        ctx = Context.open(args.home, verbose=args.verbose)
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


def main_gui() -> int:
    """The desktop launcher's entry point (``hearth-desktop``): the app, no console needed."""
    return main()
