"""The spider's ``shard`` argument: N nodes share the feeds without overlap."""

from __future__ import annotations

import hashlib


def parse_shard(value: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N), with 0 <= i < N."""
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise ValueError(f"shard must look like i/N (e.g. 0/3), got {value!r}") from None
    if not 0 <= index < count:
        raise ValueError(f"shard index must be in 0..{count - 1}, got {value!r}")
    return index, count


def in_shard(feed: str, index: int, count: int) -> bool:
    """Stable partition of feed URLs: the same on every node, whatever the file's order."""
    digest = hashlib.sha1(feed.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % count == index
