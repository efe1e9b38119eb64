"""The SQL plumbing every table group shares: opening hearth.db (WAL, foreign keys),
the one lock that serialises calls, transactions and the small query helpers."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, Self, TypeVar, cast

from sqlite_utils import Database

# sqlite3 as sqlite-utils chose it: pysqlite3 (extension loading) when installed.
from sqlite_utils.utils import sqlite3  # type: ignore[attr-defined]

from app.errors import StoreError, StoreFullError
from app.locks import ProcessLock, held_elsewhere
from app.store import migrations

P = ParamSpec("P")
R = TypeVar("R")


def locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run a store method holding the store's lock (a store is shared between threads)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = cast("StoreBase", args[0])
        with store._lock:
            try:
                return method(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if is_disk_full(exc):
                    raise StoreFullError(store.path.parent) from exc
                raise

    return wrapper


def is_disk_full(exc: BaseException) -> bool:
    """Whether SQLite failed because the disk is full (SQLITE_FULL)."""
    return getattr(exc, "sqlite_errorcode", None) == 13 or "disk is full" in str(exc)


def fts_query(text: str) -> str:
    """Quote each word so user input is never parsed as FTS5 syntax."""
    words = [w for w in text.split() if w.strip('"')]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


class StoreBase:
    """One open connection and its lock; the table groups build their methods on it."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self._lock = threading.RLock()
        self._held: dict[str, ProcessLock] = {}  # work this process is doing (app.locks)

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: Path, *, stop_before: str | None = None) -> Self:
        """Open (creating if needed) and migrate the database at ``path``.

        ``stop_before`` leaves the schema at an older version (for tests of migrations).
        """
        try:
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
            db = Database(conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            store = cls(db, path)
            # Two Hearths starting at once on one data home must not both migrate it.
            with ProcessLock(store.locks_dir / f"{path.name}.migrating.lock").wait(
                60, "updating the database"
            ):
                migrations.migrate(db, path, stop_before)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Cannot open the database {path}: {exc}") from exc
        return store

    def close(self) -> None:
        with self._lock:
            for name in list(self._held):
                self.let_go(name)
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """How many of the known migrations this database has had (1 = first schema)."""
        return migrations.schema_version(self.db)

    @property
    def journal_mode(self) -> str:
        return str(self.db.execute("PRAGMA journal_mode").fetchone()[0])

    @property
    def foreign_keys(self) -> bool:
        return bool(self.db.execute("PRAGMA foreign_keys").fetchone()[0])

    # ---------------------------------------------------------------- live work
    @property
    def locks_dir(self) -> Path:
        """Where the locks of work in progress on this database live (app.locks)."""
        return self.path.parent / "locks"

    def hold(self, name: str) -> bool:
        """Mark work ``name`` as being done by this process until ``let_go(name)`` or the
        process ends; False when another process (or another store) is doing it."""
        with self._lock:
            if name in self._held:
                return True
            lock = ProcessLock(self.locks_dir / f"{name}.lock")
            if not lock.acquire():
                return False
            self._held[name] = lock
            return True

    def let_go(self, name: str) -> None:
        with self._lock:
            lock = self._held.pop(name, None)
        if lock is not None:
            with contextlib.suppress(OSError):  # while still held: nobody takes a stale file
                lock.path.unlink(missing_ok=True)
            lock.release()

    def in_progress_elsewhere(self, name: str) -> bool:
        """True while a live process other than this store's is doing work ``name``."""
        with self._lock:
            if name in self._held:
                return False
        return held_elsewhere(self.locks_dir / f"{name}.lock")

    # ---------------------------------------------------------------- helpers
    def _all(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params or []))

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """One transaction (a savepoint inside another). It takes the write lock when it
        begins (BEGIN IMMEDIATE): a transaction that read first and wrote later could not
        wait for another Hearth's write, and would fail at once with "database is locked"."""
        with self._lock:
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield
                return
            self.db.execute("BEGIN IMMEDIATE")  # waits up to the busy timeout for a writer
            try:
                yield
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
