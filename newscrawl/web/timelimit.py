"""A time limit on the store queries of each viewer request, on MongoDB and the embedded store.

The request sets a deadline (``deadline``); every query passes what is left of it as
``max_time_ms`` (``remaining_ms``), which MongoDB enforces, raising ``ExecutionTimeout``. The
embedded store (litemongo, on mongomock) accepts ``max_time_ms`` and ignores it, so ``guard``
makes its document scans check the deadline and raise the same ``ExecutionTimeout``: a slow
query stops when its time is up instead of running on after the client has gone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pymongo
from pymongo.errors import ExecutionTimeout

_local = threading.local()
_CHECK_EVERY = 32  # documents between two looks at the clock


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Queries run inside this block on this thread must finish within ``seconds``."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = None if seconds is None else time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def remaining_ms() -> int | None:
    """Milliseconds left for this thread's queries (at least 1), None without a deadline."""
    end = getattr(_local, "deadline", None)
    if end is None:
        return None
    return max(1, int((end - time.monotonic()) * 1000))


def check() -> None:
    """Raise ExecutionTimeout, as MongoDB does, once the deadline has passed."""
    end = getattr(_local, "deadline", None)
    if end is not None and time.monotonic() > end:
        raise ExecutionTimeout("operation exceeded time limit", code=50)


def _checked(documents: Iterable[Any]) -> Iterator[Any]:
    for count, document in enumerate(documents):
        if count % _CHECK_EVERY == 0:
            check()
        yield document


def guard(client: Any, collections: Iterable[Any]) -> None:
    """Make the embedded store's scans of ``collections`` honour the deadline (MongoDB's
    clients enforce ``max_time_ms`` themselves: nothing to do)."""
    if isinstance(client, pymongo.MongoClient):
        return
    for collection in collections:
        inner = collection._store  # litemongo's CollectionStore: where documents are read
        if getattr(inner, "_newscrawl_guarded", False):
            continue
        find_candidates = inner.find_candidates

        def guarded_find(filter: Any, find: Any = find_candidates) -> Iterator[Any]:  # noqa: A002
            check()
            return _checked(find(filter))

        inner.find_candidates = guarded_find
        inner._newscrawl_guarded = True
