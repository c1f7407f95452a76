"""Article events that are not body versions: removals, reappearances, moves, headline
variants seen in feeds and sitemaps, ``lastmod`` hints that moved without a text change.

One ``events`` collection holds them all, one document per event::

    {"url": <canonical URL>, "kind": <one of KINDS>, "at": <datetime>, "source": <name>, ...}

The viewer, the feeds of changes, ``scrapy history`` and the notification outbox read them
from here, so every producer goes through :func:`record_event`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

KINDS = frozenset({"removed", "reappeared", "moved", "headline-variant", "lastmod-moved"})


def ensure_indexes(db: Any) -> None:
    db["events"].create_index([("url", ASCENDING), ("at", ASCENDING)])
    db["events"].create_index([("at", DESCENDING)])


def record_event(db: Any, url: str, kind: str, at: datetime, source: str = "", **data: Any) -> dict:
    """Store one event and return it (with its ``_id``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = {"url": url, "kind": kind, "at": at, "source": source, **data}
    db["events"].insert_one(event)
    return event


def article_events(db: Any, url: str, max_time_ms: int | None = None) -> list[dict[str, Any]]:
    """An article's events, oldest first (``max_time_ms``: the viewer's time limit)."""
    cursor = db["events"].find({"url": url}).sort("at", ASCENDING)
    return list(cursor if max_time_ms is None else cursor.max_time_ms(max_time_ms))


def recent_events(db: Any, limit: int = 50, kinds: set[str] | None = None) -> list[dict[str, Any]]:
    """The latest events across articles, newest first."""
    query: dict[str, Any] = {"kind": {"$in": sorted(kinds)}} if kinds else {}
    return list(db["events"].find(query).sort("at", DESCENDING).limit(limit))


# Fields every event has; the rest are the kind's own (old/new title, where, status, ...).
COMMON_FIELDS = frozenset({"_id", "url", "kind", "at", "source"})


def event_details(event: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's own fields as (name, text) pairs, for any kind: what the viewer and
    ``scrapy history`` print, so a new kind needs no display code."""
    details = []
    for name, value in event.items():
        if name in COMMON_FIELDS or value is None:
            continue
        text = value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)
        details.append((name, text))
    return details
