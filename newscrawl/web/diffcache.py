"""The viewer's cache of diffs computed on the fly (versions that are not consecutive).

Keyed by the article, both version numbers and both versions' content hashes, so an entry can
only ever answer for the very texts it was computed from. Bounded by entries and by the text
size of the compared versions (a stand-in for the diff's size), least recently used out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class DiffCache:
    def __init__(self, max_entries: int = 256, max_chars: int = 64_000_000) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[Hashable, tuple[dict[str, Any], int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()  # shared by the server's threads

    def get(self, key: Hashable) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, diff: dict[str, Any], chars: int) -> None:
        if chars > self.max_chars:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= old[1]
            self._entries[key] = (diff, chars)
            self._chars += chars
            while len(self._entries) > self.max_entries or self._chars > self.max_chars:
                _, (_, size) = self._entries.popitem(last=False)
                self._chars -= size

    def __len__(self) -> int:
        return len(self._entries)
