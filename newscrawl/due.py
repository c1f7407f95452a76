"""Due buckets: the claim of due articles as key lookups instead of a range over every article.

The embedded store answers a range (``next_check <= now``) by decoding and sorting every
article; its hash indexes answer ``$in``. So every write that sets ``next_check`` also sets
``due_bucket``, the quarter-hour it falls in (``schedule_fields``), and the claim asks for
the buckets of the last ``LOOKBACK_BUCKETS`` quarter-hours (``window``) with
``next_check <= now``.

An article due before the window (no crawl for a day, a backlog, a lease that expired long
after its claim) is found by a *sweep*: the claim by range, as before, done when none was
done for ``SWEEP_EVERY`` seconds. A sweep that finds no article older than the window is
recorded in the ``due_sweeps`` collection; one that finds some is not, so the next claims
sweep again until the backlog is gone.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from newscrawl.dates import as_utc

FIELD = "due_bucket"
BUCKET_SECONDS = 15 * 60
LOOKBACK_BUCKETS = 4 * 24  # one day of quarter-hours
SWEEP_EVERY = 6 * 60 * 60
SWEEPS = "due_sweeps"  # one document per articles collection: when a sweep last found no backlog


def bucket(at: datetime | str | None) -> int | None:
    """The quarter-hour ``at`` falls in, as a number (None: not scheduled). A string or a
    naive time, as some MongoDB-compatible servers hand back dates, is read as UTC."""
    if at is None:
        return None
    return int(as_utc(at).timestamp()) // BUCKET_SECONDS


def schedule_fields(next_check: datetime | None) -> dict[str, Any]:
    """What a write that moves an article's schedule sets: the time and its bucket."""
    return {"next_check": next_check, FIELD: bucket(next_check)}


def window(now: datetime) -> list[int]:
    """The buckets a claim at ``now`` looks in, oldest first."""
    last = bucket(now)
    assert last is not None
    return list(range(last - LOOKBACK_BUCKETS, last + 1))


def swept_lately(db: Any, articles: str, now: datetime) -> bool:
    """Whether a sweep less than ``SWEEP_EVERY`` seconds ago found no article before the window."""
    done = db[SWEEPS].find_one({"_id": articles})
    return done is not None and as_utc(done["at"]) > now - timedelta(seconds=SWEEP_EVERY)


def record_sweep(db: Any, articles: str, now: datetime) -> None:
    # _id in the replacement too: nx-27017 does not take an upsert's _id from its filter
    with suppress(DuplicateKeyError):  # another crawler's sweep inserted it first: recorded
        db[SWEEPS].replace_one({"_id": articles}, {"_id": articles, "at": now}, upsert=True)


def backfill(articles: Any, batch: int = 1000) -> int:
    """Give ``due_bucket`` to the scheduled articles that lack it (stored before it existed);
    returns how many. ``Store`` runs it before it makes the index, so once only."""
    missing = articles.find(
        {FIELD: {"$exists": False}, "next_check": {"$ne": None}}, {"next_check": 1}
    )
    updates: list[UpdateOne] = []
    done = 0
    for doc in missing:
        updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {FIELD: bucket(doc["next_check"])}}))
        if len(updates) >= batch:
            done += articles.bulk_write(updates, ordered=False).modified_count
            updates = []
    if updates:
        done += articles.bulk_write(updates, ordered=False).modified_count
    return done
