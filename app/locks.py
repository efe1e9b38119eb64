"""Locks that die with their process, so two Hearths on one data home (two desktops, or
the desktop and the command line) can tell live work from work a crash left behind.

A ``ProcessLock`` is an advisory lock on a small file (``flock`` on Linux and macOS, a
byte-range lock on Windows). The operating system drops it when its process ends, however
it ends (SIGKILL, power cut of the process, a crash), so a lock that can be taken means
nobody is doing that work any more. Hearth holds one for the open desktop window, for
each answer while it streams, and for each download while it runs.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from types import TracebackType

from app.errors import HearthError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


DESKTOP_WORK = "desktop"  # held by the open desktop window of a data home


class AlreadyOpenError(HearthError):
    """A desktop window is already open on this data home."""

    def __init__(self, home: Path) -> None:
        super().__init__(
            f"Hearth is already open with the data folder {home}. Switch to that window "
            "(one window per data folder keeps chats and downloads from being written twice), "
            "or start this one with another folder: hearth --home OTHER_FOLDER"
        )


class ProcessLock:
    """A lock on ``path`` held by this process until ``release()`` or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another holder has it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def wait(self, seconds: float, doing: str) -> ProcessLock:
        """Take the lock, waiting up to ``seconds`` for its holder; a HearthError naming
        ``doing`` ("updating the database") when the holder keeps it longer."""
        deadline = time.monotonic() + seconds
        while not self.acquire():
            if time.monotonic() > deadline:
                raise HearthError(
                    f"Another Hearth has been {doing} for over {seconds:g} s; "
                    "try again once it is done."
                )
            time.sleep(0.05)
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the last descriptor drops the lock

    def __enter__(self) -> ProcessLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def held_elsewhere(path: Path) -> bool:
    """True while another holder (another process, or another ProcessLock) has ``path``."""
    probe = ProcessLock(path)
    if probe.acquire():
        probe.release()
        return False
    return True
