"""Run records (the ``runs`` collection) and the per-source state that ``scrapy status`` shows.

A run record is written by ``extensions.RunRecorder`` when a crawl closes:

``spider``, ``job`` (scrapyd job id or ``None``), ``node`` (hostname), ``pid``, ``started``,
``finished``, ``finish_reason`` (``finished`` for a complete crawl), ``duration`` (s),
``feeds_polled``, ``feeds_not_modified`` (304s), ``articles_checked`` (pages compared with
their stored version), ``new_articles``, ``new_versions`` (versions after the first),
``held`` (new texts held for the next check to confirm, ``newscrawl.holding``),
``errors`` (failed feeds and articles), ``log_errors`` (ERROR log lines), the store's
troubles: ``store_retries`` (writes tried again), ``spooled`` (pages left in the spool for the
next run), ``rejected`` (pages the store refused, set aside in the spool's quarantine),
``spool_replayed`` and ``spool_quarantined`` (earlier runs' spooled pages written, damaged
spool entries set aside), and ``stats`` (every ``newscrawl/...`` counter of the crawl).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from newscrawl.store import create_missing_indexes
from newscrawl.tracker import (
    CHANGED,
    FLIP_FLOP,
    FURNITURE,
    HELD,
    NEW,
    REBASELINE,
    REVERT,
    ROTATING,
    SKIPPED,
    UNCHANGED,
)

PREFIX = "newscrawl/"
CHECKED = (NEW, CHANGED, REVERT, UNCHANGED, FLIP_FLOP, SKIPPED, FURNITURE, REBASELINE, ROTATING,
           HELD)  # fmt: skip


def run_record(
    stats: dict[str, Any], *, spider: str, job: str | None, reason: str, finished: datetime
) -> dict[str, Any]:
    """The run document for a crawl that closed at ``finished`` with these Scrapy stats."""
    ours = {key.removeprefix(PREFIX): v for key, v in stats.items() if key.startswith(PREFIX)}
    started = stats.get("start_time")
    errors = sum(value for key, value in ours.items() if "/errors/" in key)
    return {
        "spider": spider,
        "job": job,
        "node": socket.gethostname(),
        "pid": os.getpid(),
        "started": started,
        "finished": finished,
        "finish_reason": reason,
        "duration": (finished - started).total_seconds() if started else None,
        "feeds_polled": ours.get("feeds/polled", 0),
        "feeds_not_modified": ours.get("feeds/not_modified", 0),
        "articles_checked": sum(ours.get(f"articles/{kind}", 0) for kind in CHECKED),
        "new_articles": ours.get(f"articles/{NEW}", 0),
        "new_versions": ours.get(f"articles/{CHANGED}", 0) + ours.get(f"articles/{REVERT}", 0),
        "held": ours.get(f"articles/{HELD}", 0),
        "errors": errors,
        "log_errors": stats.get("log_count/ERROR", 0),
        "store_retries": ours.get("store/retries", 0),
        "spooled": ours.get("spool/written", 0),
        "rejected": ours.get("store/rejected", 0),
        "spool_replayed": ours.get("spool/replayed", 0),
        "spool_quarantined": ours.get("spool/quarantined", 0),
        # MongoDB field names may not contain dots.
        "stats": {key.replace(".", "_"): value for key, value in ours.items()},
    }


def save_run(db: Database, run: dict[str, Any]) -> None:
    create_missing_indexes(db["runs"], [([("finished", DESCENDING)], False)])
    db["runs"].insert_one(run)


def recent_runs(db: Database, limit: int) -> list[dict[str, Any]]:
    return list(db["runs"].find({}, {"_id": 0}).sort("finished", DESCENDING).limit(limit))


def last_success(db: Database) -> dict[str, Any] | None:
    """The newest run that ended with ``finish_reason == "finished"``."""
    return db["runs"].find_one(
        {"finish_reason": "finished"}, {"_id": 0}, sort=[("finished", DESCENDING)]
    )


def source_states(db: Database, now: datetime) -> list[dict[str, Any]]:
    """Per source: feeds and sitemaps, last poll, polled documents whose last poll failed,
    what pages and robots.txt files led to (``discovered``), articles by status, and errors
    recorded in the last 24 hours."""
    states: dict[str, dict[str, Any]] = {}

    def state(name: str) -> dict[str, Any]:
        return states.setdefault(name, {
            "source": name, "feeds": 0, "sitemaps": 0, "discovered": [], "feed_errors": 0,
            "last_polled": None,
            "articles": 0, "by_status": {}, "errors_24h": 0,
        })  # fmt: skip

    fields = {"source": 1, "last_polled": 1, "error": 1, "kind": 1, "found": 1}
    for feed in db["feeds"].find({}, fields).sort("_id", 1):
        entry, kind = state(feed.get("source", "")), feed.get("kind") or "feed"
        if kind in ("feed", "sitemap"):
            entry[f"{kind}s"] += 1
        if kind in ("page", "robots") or feed.get("found"):
            found = [{"kind": k, "url": u} for k, u in feed.get("found") or []]
            entry["discovered"].append({"kind": kind, "url": feed["_id"], "found": found})
        entry["feed_errors"] += bool(feed.get("error"))
        polled = feed.get("last_polled")
        if polled and (entry["last_polled"] is None or polled > entry["last_polled"]):
            entry["last_polled"] = polled
    by_status = [{"$group": {"_id": {"source": "$source", "status": "$status"}, "n": {"$sum": 1}}}]
    for row in db["articles"].aggregate(by_status):
        entry = state(row["_id"].get("source") or "")
        entry["articles"] += row["n"]
        entry["by_status"][row["_id"].get("status") or "unknown"] = row["n"]
    recent: list[dict[str, Any]] = [
        {"$match": {"at": {"$gte": now - timedelta(days=1)}}},
        {"$group": {"_id": "$source", "n": {"$sum": 1}}},
    ]
    for row in db["errors"].aggregate(recent):
        state(row["_id"] or "")["errors_24h"] = row["n"]
    return sorted(states.values(), key=lambda entry: entry["source"])
