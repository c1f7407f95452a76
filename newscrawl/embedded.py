"""The embedded store: litemongo's SQLite files, waiting for another process's write lock.

litemongo keeps one SQLite file per collection and opens it with sqlite3's default 5 s busy
timeout, with no option to change it; a crawl whose write met a lock held longer (another
crawl's long write, a backup, ``sqlite3`` at the shell) failed with "database is locked".
Here every collection's connection waits up to ``busy_timeout`` seconds instead.

Two processes opening a new collection at the same moment (crawlers started together on a
fresh store) both try to record its key format in the file they just created; the second
fails on the unique key. The format is then recorded, so opening it again reads it.

litemongo reads a write's matching documents before it writes them, with no lock between:
two processes whose ``update_many`` both require an article's lease to be free both see it
free and both lease it. ``process_lock`` makes such a read-then-write one at a time.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from litemongo.sqlite_store import CollectionStore, DatabaseStore, ServerStore


class _WaitingDatabase(DatabaseStore):
    def __init__(self, path: Path, busy_timeout_ms: int) -> None:
        path.mkdir(parents=True, exist_ok=True)  # litemongo's mkdir fails if another made it
        super().__init__(path)
        self._busy_timeout_ms = busy_timeout_ms

    def __getitem__(self, name: str) -> CollectionStore:
        opened = name in self._collections
        try:
            collection = super().__getitem__(name)
        except sqlite3.IntegrityError:  # another process recorded the new file's format first
            collection = super().__getitem__(name)
        if not opened:
            collection._connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        return collection


class WaitingServerStore(ServerStore):
    """A litemongo ``ServerStore`` whose SQLite connections wait for locks (seconds)."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        super().__init__(path)
        self._busy_timeout_ms = max(0, int(busy_timeout * 1000))

    def __getitem__(self, name: str) -> DatabaseStore:
        if name not in self._databases:
            self._databases[name] = _WaitingDatabase(self._dirpath / name, self._busy_timeout_ms)
        return self._databases[name]


@contextmanager
def process_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing): one holder at a time
    among processes and threads (each entry opens its own file); released at exit, or by
    the system when the holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
