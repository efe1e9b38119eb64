"""Logging to a rotating file in the data home; ``--verbose`` also echoes it to stderr."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
_OURS = "_hearth_handler"


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; a record that cannot be written (a full disk) is dropped quietly,
    instead of a "Logging error" traceback on the user's terminal: the log must never be
    the thing that makes trouble."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        pass

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            super().flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            super().close()


def setup_logging(log_file: Path, *, verbose: bool = False) -> None:
    """Send Hearth's logs to ``log_file`` (1 MB x 5 files). Safe to call again (replaces ours)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = _LogFile(log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(FORMAT))
    file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = [file_handler]
    if verbose:
        echo = logging.StreamHandler()
        echo.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        echo.setLevel(logging.DEBUG)
        handlers.append(echo)
    for handler in handlers:
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Third-party chatter stays out unless asked for.
    for noisy in ("urllib3", "httpx", "httpcore", "filelock", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
