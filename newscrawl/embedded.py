"""The embedded store: litemongo's SQLite files, waiting for another process's write lock.

litemongo keeps one SQLite file per collection and opens it with sqlite3's default 5 s busy
timeout, with no option to change it; a crawl whose write met a lock held longer (another
crawl's long write, a backup, ``sqlite3`` at the shell) failed with "database is locked".
Here every collection's connection waits up to ``busy_timeout`` seconds instead.

Two processes opening a new collection at the same moment (crawlers started together on a
fresh store, claimers reaching a collection first used mid-run) race on the file they just
created: the switch to write-ahead logging fails at once with "database is locked" (SQLite
does not wait on that lock), or both record its key format and the second fails on the unique
key. A process opens a collection's file holding a lock beside the database's directory, so
one at a time; each process does so once per collection.

litemongo reads a write's matching documents before it writes them, with no lock between:
two processes whose ``update_many`` both require an article's lease to be free both see it
free and both lease it. ``process_lock`` makes such a read-then-write one at a time.

Every collection is opened as an ``IndexedCollection``: its index keys kept in its file
(``embedded_index``).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from litemongo.sqlite_store import CollectionStore, DatabaseStore, ServerStore

from newscrawl.embedded_index import IndexedCollection


class _WaitingDatabase(DatabaseStore):
    def __init__(self, path: Path, busy_timeout_ms: int) -> None:
        path.mkdir(parents=True, exist_ok=True)  # litemongo's mkdir fails if another made it
        super().__init__(path)
        self._busy_timeout_ms = busy_timeout_ms
        # beside the directory: a file inside it would be listed as a collection
        self._open_lock = path.parent / f"{path.name}.open.lock"

    def __getitem__(self, name: str) -> CollectionStore:
        if name in self._collections:
            return self._collections[name]
        with process_lock(self._open_lock):
            collection = IndexedCollection(
                self._dirpath / name, self._codec_options, self._busy_timeout_ms
            )
        self._collections[name] = collection
        return collection


class WaitingServerStore(ServerStore):
    """A litemongo ``ServerStore`` whose SQLite connections wait for locks (seconds)."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        path.mkdir(parents=True, exist_ok=True)  # litemongo's mkdir fails if another made it
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
