"""Every stored change numbered in the newest-first lists it belongs to, so a page of recent
changes is read by key whatever the store's size.

A list of recent changes sorted by time is a sorted query over every diff; the embedded
store's indexes answer equality and ``$in`` only, so it decodes every diff for each page
(1.7 s at 1,000 articles, growing with the store; ``bench/store_growth.py``). Instead, each
diff is numbered at write time (1, 2, 3, … in the order changes are stored) in four lists,
each with a counter document in ``change_counts``:

    field                 list                            counter ``_id``
    rank                  every change                    "all"
    rank_major            changes not minor               "major"
    rank_source           every change of its source      "source <source>"
    rank_major_source     changes not minor of its source "major <source>"

Events (``newscrawl.events``) are numbered likewise, newest first across articles: ``rank``
in "events" and ``rank_source`` in "events <source>".

Page ``p`` of a list is ``{field: {"$in": [top - p*per_page + 1 .. top - (p-1)*per_page]}}``
(and the same bounds as ``$gte``/``$lte``)
(with ``source`` for the per-source lists): an index lookup of ``per_page`` keys, on MongoDB
and on the embedded store alike; the counter is the list's length. A store written before
the numbering gets it once, oldest change first (``number_all``).

The numbers follow the order changes are stored, which is their time order unless a change
is stored late (a page is then sorted by time within itself). On MongoDB the counters'
``$inc`` is atomic; on the embedded store two crawler processes storing changes at the same
moment may draw the same number (a page shows one change more, a list's length is one short).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

COLLECTION = "change_counts"
RANK, RANK_MAJOR = "rank", "rank_major"
RANK_SOURCE, RANK_MAJOR_SOURCE = "rank_source", "rank_major_source"
FIELDS = (RANK, RANK_MAJOR, RANK_SOURCE, RANK_MAJOR_SOURCE)
# The diffs' indexes (added to ``store.INDEXES``): a per-source list is read with its source.
INDEXES: list[tuple[list[tuple[str, int]], bool]] = [
    ([(RANK, ASCENDING)], False),
    ([(RANK_MAJOR, ASCENDING)], False),
    ([("source", ASCENDING), (RANK_SOURCE, ASCENDING)], False),
    ([("source", ASCENDING), (RANK_MAJOR_SOURCE, ASCENDING)], False),
]
EVENT_INDEXES: list[tuple[list[tuple[str, int]], bool]] = [
    ([(RANK, ASCENDING)], False),
    ([("source", ASCENDING), (RANK_SOURCE, ASCENDING)], False),
]


def list_of(source: str | None, minor: bool) -> tuple[str, str]:
    """(diff field, counter ``_id``) of the list of changes of ``source`` (all sources when
    None), minor ones included or not."""
    if source is None:
        return (RANK, "all") if minor else (RANK_MAJOR, "major")
    return (RANK_SOURCE, f"source {source}") if minor else (RANK_MAJOR_SOURCE, f"major {source}")


def event_list_of(source: str | None) -> tuple[str, str]:
    """(event field, counter ``_id``) of the list of events of ``source`` (all when None)."""
    return (RANK, "events") if source is None else (RANK_SOURCE, f"events {source}")


def lists_of(diff: dict[str, Any]) -> list[tuple[str, str]]:
    """The lists a stored diff belongs to: (field, counter ``_id``)."""
    source = diff.get("source") or ""
    found = [list_of(None, True), list_of(source, True)]
    if not diff.get("minor"):
        found += [list_of(None, False), list_of(source, False)]
    return found


def event_lists_of(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [event_list_of(None), event_list_of(event.get("source") or "")]


def number(db: Any, diff: dict[str, Any]) -> dict[str, int]:
    """Number a diff just stored (once: diffs are unique per version) at the end of each of
    its lists; returns the fields set on it."""
    fields = {field: _next(db, key) for field, key in lists_of(diff)}
    for attempt in range(5):
        try:
            db["diffs"].update_one({"url": diff["url"], "version": diff["version"]},
                                   {"$set": fields})  # fmt: skip
            break
        except DuplicateKeyError:
            # The embedded store checks the unique (url, version) index on every update; it
            # sees another process's copy of this diff for the moment that process takes to
            # find it a duplicate and take it back. Nothing is duplicated: tried again.
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    return fields


def number_event(db: Any, event: dict[str, Any]) -> None:
    """Number an event just stored (with its ``_id``) at the end of its lists."""
    fields = {field: _next(db, key) for field, key in event_lists_of(event)}
    db["events"].update_one({"_id": event["_id"]}, {"$set": fields})


def _next(db: Any, key: str) -> int:
    """The counter's next value. Created by a plain insert when missing: an upsert's ``$inc``
    is not answered alike by every MongoDB-compatible server."""
    counters = db[COLLECTION]
    found = counters.find_one_and_update(
        {"_id": key}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
    )
    if found is not None:
        return int(found["n"])
    try:
        counters.insert_one({"_id": key, "n": 1})
        return 1
    except DuplicateKeyError:  # created meanwhile by another process
        return _next(db, key)


def length(db: Any, key: str, max_time_ms: int | None = None) -> int:
    """How many changes a list holds (its counter)."""
    found = db[COLLECTION].find_one({"_id": key}, max_time_ms=max_time_ms)
    return int(found["n"]) if found else 0


def page_filter(
    field: str, top: int, skip: int, count: int, source: str | None = None
) -> dict[str, Any]:
    """The diffs query for the ``count`` changes after the newest ``skip`` of a list whose
    newest change is numbered ``top``."""
    high = top - skip
    low = max(1, high - count + 1)
    # The numbers both listed (the embedded store's hash index answers ``$in`` only) and as a
    # range (nx-27017's planner uses an index for the range, not for ``$in``).
    numbers = {"$in": list(range(low, high + 1)), "$gte": low, "$lte": high}
    query: dict[str, Any] = {field: numbers}
    if source is not None and field in (RANK_SOURCE, RANK_MAJOR_SOURCE):
        query["source"] = source
    return query


class Numbering:
    """Numbers for diffs given in the order they are to be numbered, counting on from the
    lists' counters as ``counts`` holds them (for renumbering a whole store, or for copying
    documents into one: ``bench/store_growth.py``)."""

    def __init__(self, counts: dict[str, int] | None = None) -> None:
        self.counts: Counter[str] = Counter(counts or {})

    def fields(self, doc: dict[str, Any], event: bool = False) -> dict[str, int]:
        """The numbers of the next diff (or ``event``)."""
        found = {}
        for field, key in event_lists_of(doc) if event else lists_of(doc):
            self.counts[key] += 1
            found[field] = self.counts[key]
        return found

    def save(self, db: Any) -> None:
        """Write the counters (replacing them)."""
        for key, n in self.counts.items():
            db[COLLECTION].replace_one({"_id": key}, {"_id": key, "n": n}, upsert=True)


def counts(db: Any) -> dict[str, int]:
    """Every list's counter."""
    return {doc["_id"]: int(doc["n"]) for doc in db[COLLECTION].find({})}


def number_all(db: Any) -> int:
    """Number every stored diff anew, oldest change first (a store written before the
    numbering, or whose history was rewritten); returns how many."""
    numbering = Numbering()
    projection = {"url": 1, "version": 1, "source": 1, "minor": 1, "fetched_at": 1}
    found = (
        db["diffs"]
        .find({}, projection)
        .sort([("fetched_at", ASCENDING), ("url", ASCENDING), ("version", ASCENDING)])
    )
    updates = []
    for diff in found:
        fields = numbering.fields(diff)
        unset = {field: "" for field in FIELDS if field not in fields}
        updates.append(UpdateOne({"_id": diff["_id"]}, {"$set": fields, "$unset": unset}))
    for start in range(0, len(updates), 1000):
        db["diffs"].bulk_write(updates[start : start + 1000], ordered=False)
    db[COLLECTION].delete_many({})
    numbering.save(db)
    return len(updates)
