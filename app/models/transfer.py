"""The part file a download writes into: ordered bytes, their sha256, speed, disk facts.

A download's bytes gather in ``<file>.part`` (``part_path_for``). ``PartFile`` appends
blocks in order and hashes them on a helper thread (``Hasher``), which also keeps the
disk caught up so the final fsync is short; ``SpeedMeter`` gives bytes per second over
the last few seconds. The rest are small file-system facts the downloader needs.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from app.models.errors import DiskFullError
from app.units import format_bytes

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"

_SYNC_EVERY_BYTES = 64 << 20  # how often the part file is flushed to disk while streaming
_SPEED_WINDOW_S = 3.0


class DiskFull(Exception):
    """ENOSPC / EDQUOT while writing the part file."""


class Hasher:
    """sha256 on a helper thread, which also keeps the disk caught up with the part file.

    Hashing overlaps reading from the network (hashlib releases the GIL on large
    blocks, and blocks are immutable ``bytes``). Every ``_SYNC_EVERY_BYTES`` the helper
    flushes the file to disk too, so the fsync before the final rename has little left
    to do: no long "stuck at 100%" while gigabytes of cache are written out.
    ``hexdigest`` waits for the helper to finish.
    """

    def __init__(self, path: Callable[[], Path]) -> None:
        self._sha = hashlib.sha256()
        self._path = path
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    def update(self, block: bytes) -> None:
        if len(block) < (256 << 10):  # not worth a hand-over
            self._drain()
            self._sha.update(block)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="hearth-sha256", daemon=True)
            self._thread.start()
        self._blocks.put(block)

    def _work(self) -> None:
        unsynced = 0
        fd: int | None = None
        while (block := self._blocks.get()) is not None:
            if self._error is not None:
                continue  # keep emptying the queue so the writer never blocks
            try:
                self._sha.update(block)
                unsynced += len(block)
                if unsynced >= _SYNC_EVERY_BYTES:
                    unsynced = 0
                    if fd is None:
                        fd = open_for_sync(self._path())
                    if fd is not None:
                        with contextlib.suppress(OSError):
                            datasync(fd)
            except Exception as e:  # a bug; raised again by hexdigest
                self._error = e
        if fd is not None:
            os.close(fd)

    def _drain(self) -> None:
        if self._thread is not None:
            self._blocks.put(None)
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        self._drain()
        if self._error is not None:
            raise self._error
        return self._sha.hexdigest()

    def close(self) -> None:
        """Stop the helper thread (also when a run ends early)."""
        self._drain()


class PartFile:
    """One run's part file: how many of its bytes are verified-in-order, and their hash."""

    def __init__(self, part: Path) -> None:
        self.part = part
        self.offset = 0
        self.hasher = Hasher(lambda: self.part)

    def restart(self) -> None:
        """Throw the bytes away and start the file again from byte 0."""
        self._new_hash()
        with contextlib.suppress(FileNotFoundError), self.part.open("r+b") as f:
            f.truncate()

    def discard(self) -> None:
        self._new_hash()
        unlink_quietly(self.part)

    def close(self) -> None:
        self.hasher.close()

    def _new_hash(self) -> None:
        self.hasher.close()
        self.offset = 0
        self.hasher = Hasher(lambda: self.part)

    @contextlib.contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The part file, positioned at ``offset`` with anything after it cut off."""
        try:
            file = self.part.open("r+b" if self.part.exists() else "wb")
        except OSError as e:
            if is_disk_full(e):
                raise DiskFull() from e
            raise
        with file:
            file.seek(self.offset)
            file.truncate()
            yield file

    def append(self, file: BinaryIO, block: bytes) -> None:
        try:
            file.write(block)
        except OSError as e:
            if is_disk_full(e):
                with contextlib.suppress(OSError):
                    file.flush()
                raise DiskFull() from e
            raise
        self.hasher.update(block)
        self.offset += len(block)


class SpeedMeter:
    """Bytes per second over the last few seconds."""

    def __init__(self, start_bytes: int) -> None:
        self._samples: deque[tuple[float, int]] = deque([(time.monotonic(), start_bytes)])

    def add(self, now: float, done: int) -> None:
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] > _SPEED_WINDOW_S:
            self._samples.popleft()

    def reset(self, done: int) -> None:
        self._samples = deque([(time.monotonic(), done)])

    @property
    def bytes_per_second(self) -> float:
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 and b1 > b0 else 0.0


def part_path_for(dest: Path) -> Path:
    """Where the bytes of ``dest`` gather until they are verified (``model.gguf.part``)."""
    return dest.with_name(dest.name + PART_SUFFIX)


def disk_of(path: Path) -> str:
    """The mount point holding ``path``: the 'disk' users recognise."""
    probe = path.resolve()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    while not os.path.ismount(probe) and probe.parent != probe:
        probe = probe.parent
    return str(probe)


def disk_full_error(path: Path, needed: int, free: int) -> DiskFullError:
    return DiskFullError(
        f"Not enough free space on {disk_of(path)}: needs {format_bytes(needed - free)} more, "
        f"{format_bytes(free)} free"
    )


def unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def is_disk_full(err: OSError) -> bool:
    return err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def content_range_start(value: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes 100-199/200`` header."""
    match = re.match(r"^\s*bytes\s+(\d+)-\d+/(?:\d+|\*)\s*$", value or "")
    return int(match.group(1)) if match else None


def fsync_file(path: Path) -> None:
    """Make sure the file's bytes are on the disk before it is renamed into place."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))  # Windows flushes writable fds
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_for_sync(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError:
        return None


datasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)
