"""Article events that are not body versions: removals, reappearances, moves, headline
variants seen in feeds and sitemaps, ``lastmod`` hints that moved without a text change.

One ``events`` collection holds them all, one document per event::

    {"url": <canonical URL>, "kind": <one of KINDS>, "at": <datetime>, "source": <name>, ...}

The viewer, the feeds of changes, ``scrapy history`` and the notification outbox read them
from here, so every producer goes through :func:`record_event`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from newscrawl import recent, record
from newscrawl.dates import as_utc

KINDS = frozenset({"removed", "reappeared", "moved", "headline-variant", "lastmod-moved"})
# Fields every event has (its numbers in the lists of events too: ``recent``); the rest is
# the kind's own data.
COMMON = frozenset({"_id", "url", "kind", "at", "source", *recent.FIELDS})


def ensure_indexes(db: Any) -> None:
    db["events"].create_index([("url", ASCENDING), ("at", ASCENDING)])
    db["events"].create_index([("at", DESCENDING)])
    db["events"].create_index([("to", ASCENDING)], sparse=True)  # moves, from the new address


def record_event(db: Any, url: str, kind: str, at: datetime, source: str = "", **data: Any) -> dict:
    """Store one event and return it (with its ``_id``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = {"url": url, "kind": kind, "at": at, "source": source, **data}
    db["events"].insert_one(event)
    recent.number_event(db, event)  # the newest events are read by their numbers
    if kind == "removed":
        record.count_removal(db, source, at)
    return event


def article_events(db: Any, url: str, max_time_ms: int | None = None) -> list[dict[str, Any]]:
    """An article's events, oldest first, a move to it from another address included (two
    indexed lookups: the embedded store's indexes do not answer an ``$or``)."""
    found: dict[Any, dict[str, Any]] = {}
    for query in ({"url": url}, {"to": url}):
        cursor = db["events"].find(query, max_time_ms=max_time_ms)
        found.update((event["_id"], event) for event in cursor)
    return sorted(found.values(), key=lambda event: as_utc(event["at"]))


def recent_events(
    db: Any,
    limit: int = 50,
    kinds: set[str] | None = None,
    *,
    source: str | None = None,
    max_time_ms: int | None = None,
) -> list[dict[str, Any]]:
    """The latest events across articles (of one ``source`` if given), newest first: read by
    their numbers (``newscrawl.recent``) unless only some ``kinds`` are asked for."""
    if not kinds:
        field, key = recent.event_list_of(source)
        top = recent.length(db, key, max_time_ms=max_time_ms)
        found = db["events"].find(recent.page_filter(field, top, 0, limit, source))
        found = found.sort([("at", DESCENDING), ("_id", DESCENDING)])
        return list(found.max_time_ms(max_time_ms) if max_time_ms else found)
    query: dict[str, Any] = {"kind": {"$in": sorted(kinds)}}
    if source:
        query["source"] = source
    cursor = db["events"].find(query).sort("at", DESCENDING).limit(limit)
    return list(cursor.max_time_ms(max_time_ms) if max_time_ms else cursor)


# --- how an event reads (viewer, feeds, ``scrapy history``) ---------------------------------

REASONS = {
    "http-404": "the page answered 404 Not Found",
    "http-410": "the page answered 410 Gone",
    "redirect-home": "the address redirected to the home page",
    "redirect-section": "the address redirected to a section page",
    "not-found-page": 'the page said "page not found"',
}


def _removed(event: dict[str, Any], url: str | None) -> str:
    reason = REASONS.get(event.get("reason") or "", event.get("reason") or "gone")
    checks = int(event.get("checks") or 1)
    confirmed = f", confirmed by {checks} checks" if checks > 1 else ""
    return f"Removed: {reason}{confirmed}"


def _reappeared(event: dict[str, Any], url: str | None) -> str:
    if event.get("changed"):
        return f"Back after its removal, with a new text (version {event.get('version')})"
    return "Back after its removal, unchanged"


def _moved(event: dict[str, Any], url: str | None) -> str:
    if url is not None and url == event.get("to") != event["url"]:
        return f"Moved here from {event['url']}"
    return f"Moved to {event.get('to')}"


def _generic(event: dict[str, Any], url: str | None) -> str:
    """A kind without its own wording: its name and its plain data."""
    data = [
        f"{key}: {value}"
        for key, value in event.items()
        if key not in COMMON and isinstance(value, str | int | float) and value != ""
    ]
    label = event["kind"].replace("-", " ").capitalize()
    return f"{label}: {', '.join(data)}" if data else label


def _headline_variant(event: dict[str, Any], url: str | None) -> str:
    old, new, where = event.get("old"), event.get("new"), event.get("where")
    return f"Headline in {where} changed from “{old}” to “{new}”"


def _lastmod_moved(event: dict[str, Any], url: str | None) -> str:
    old, new = (_when(event.get(k)) for k in ("old", "new"))
    return f"Sitemap date moved from {old} to {new} in {event.get('where')}, text unchanged"


def _when(value: Any) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else str(value)


# kind -> wording; a producer of a new kind may add its own, else ``_generic`` reads it.
DESCRIBE: dict[str, Callable[[dict[str, Any], str | None], str]] = {
    "removed": _removed,
    "reappeared": _reappeared,
    "moved": _moved,
    "headline-variant": _headline_variant,
    "lastmod-moved": _lastmod_moved,
}


def describe(event: dict[str, Any], url: str | None = None) -> str:
    """One line saying what happened, as seen from the article at ``url`` (a move reads
    "moved here from" on the new address)."""
    return DESCRIBE.get(event["kind"], _generic)(event, url)
