"""Each publisher's record: daily counters per source, kept at write time, and their sums
over a period, so a source's page reads a few dozen small documents whatever the store's size.

One ``source_days`` document per source and UTC day (``_id`` "day YYYY-MM-DD source")::

    articles        articles first seen that day
    edited          of those, articles edited at least once since
    cohort_edits    edits (versions after the first) of those articles, whenever made
    first_edit.bN   of those, articles whose first edit came N buckets after first sight
    last_edit.bN    the same for their latest edit (moved on at each edit)
    edits           edits (diffs) stored that day, of any article
    headline        of those, headline changes; ``silent`` those with no notice
    kinds.K         of those, edits of each kind (``newscrawl.kinds``)
    removals        removals confirmed that day (``events`` kind "removed")

Times from first sight are counted in buckets 10% wide (bucket N holds BASE**N to
BASE**(N+1) seconds), so a median or 90th percentile is known to within 5%. The articles
carry ``edits``, ``first_edit_at`` and ``last_edit_at``, which the counters are moved from.
A store written before the counters existed gets them once from its history (``rebuild``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from newscrawl import kinds as k
from newscrawl import recent

COLLECTION = "source_days"
BASE = 1.1
# Marker document: counters exist for everything stored before, and the changes are numbered
# (``recent``; "rebuilt" marked a store counted before the numbering existed).
REBUILT = "rebuilt 2"
_MARKER = {"_id": REBUILT}


def day_of(moment: datetime | str) -> str:
    return _utc(moment).strftime("%Y-%m-%d")


def bucket(seconds: float) -> int:
    """The bucket of a time from first sight: BASE**N <= seconds < BASE**(N+1)."""
    return max(0, math.floor(math.log(max(seconds, 1.0)) / math.log(BASE)))


def bucket_value(number: int) -> float:
    """A bucket's representative time in seconds (its geometric middle)."""
    return BASE ** (number + 0.5)


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # a MongoDB-compatible server may return $set dates so
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_id(day: str, source: str) -> str:
    # Not starting with the date: a MongoDB-compatible server (nx-27017) reads such strings
    # as dates.
    return f"day {day} {source}"


def _inc(db: Any, source: str, day: str, counts: dict[str, int]) -> None:
    """Add ``counts`` (dotted paths allowed) to a day's counters, creating the document with
    a plain insert when missing (an upsert's dotted ``$inc`` is not nested by every server)."""
    _id = day_id(day, source)
    if db[COLLECTION].update_one({"_id": _id}, {"$inc": counts}).matched_count:
        return
    doc: dict[str, Any] = {"_id": _id, "source": source, "day": day}
    for path, count in counts.items():
        *parents, name = path.split(".")
        target = doc
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = count
    try:
        db[COLLECTION].insert_one(doc)
    except DuplicateKeyError:  # inserted meanwhile by another process
        db[COLLECTION].update_one({"_id": _id}, {"$inc": counts})


# --- write time ------------------------------------------------------------------------------


def count_article(db: Any, source: str, first_seen: datetime) -> None:
    """Version 1 of an article was stored."""
    _inc(db, source, day_of(first_seen), {"articles": 1})


def edit_counts(diff: dict[str, Any]) -> dict[str, int]:
    """What one stored diff adds to its day's counters."""
    found = set(diff.get("kinds") or ())
    if diff.get("headline_changed"):
        found.add(k.HEADLINE)
    counts = {"edits": 1, **{f"kinds.{kind}": 1 for kind in k.KINDS if kind in found}}
    if k.HEADLINE in found:
        counts["headline"] = 1
    if k.SILENT in found:
        counts["silent"] = 1
    return counts


def cohort_counts(
    first_seen: datetime, at: datetime, first_edit: datetime | None, last_edit: datetime | None
) -> dict[str, int]:
    """What an edit at ``at`` adds to the counters of the day its article was first seen,
    given the article's earlier first and last edits (None: this is its first)."""
    after = bucket((_utc(at) - _utc(first_seen)).total_seconds())
    counts = {"cohort_edits": 1, f"last_edit.b{after}": 1}
    if first_edit is None:
        counts.update({"edited": 1, f"first_edit.b{after}": 1})
    if last_edit is not None:
        before = bucket((_utc(last_edit) - _utc(first_seen)).total_seconds())
        if before == after:
            del counts[f"last_edit.b{after}"]
        else:
            counts[f"last_edit.b{before}"] = -1
    return counts


def count_edit(db: Any, diff: dict[str, Any]) -> None:
    """A diff was stored (once: diffs are unique per version): the article's edit fields and
    the counters of the diff's day and of the article's first day move on, and the diff is
    numbered in the lists of recent changes (``recent``)."""
    recent.number(db, diff)
    at = diff["fetched_at"]
    before = db["articles"].find_one_and_update(
        {"_id": diff["url"]},
        {"$inc": {"edits": 1}, "$min": {"first_edit_at": at}, "$max": {"last_edit_at": at}},
        projection={"first_seen": 1, "first_edit_at": 1, "last_edit_at": 1},
        return_document=ReturnDocument.BEFORE,
    )
    source, day = diff.get("source") or "", day_of(at)
    counts = edit_counts(diff)
    if before is not None and before.get("first_seen"):
        cohort = cohort_counts(
            before["first_seen"], at, before.get("first_edit_at"), before.get("last_edit_at")
        )
        first_day = day_of(before["first_seen"])
        if first_day == day:
            counts.update(cohort)
        else:
            _inc(db, source, first_day, cohort)
    _inc(db, source, day, counts)


def count_removal(db: Any, source: str, at: datetime) -> None:
    _inc(db, source, day_of(at), {"removals": 1})


# --- stores written before the counters ------------------------------------------------------


def tally(db: Any) -> tuple[dict[str, Counter[str]], dict[str, dict[str, Any]]]:
    """The counters (by document ``_id``) and the articles' edit fields, from the stored
    articles, diffs and removal events."""
    days: dict[str, Counter[str]] = defaultdict(Counter)
    first_seen: dict[str, tuple[str, datetime]] = {}
    for article in db["articles"].find({}, {"source": 1, "first_seen": 1}):
        if article.get("first_seen"):
            source = article.get("source") or ""
            first_seen[article["_id"]] = (source, _utc(article["first_seen"]))
            days[day_id(day_of(article["first_seen"]), source)]["articles"] += 1
    fields: dict[str, dict[str, Any]] = {}
    projection = {"url": 1, "source": 1, "fetched_at": 1, "kinds": 1, "headline_changed": 1}
    for diff in db["diffs"].find({}, projection).sort([("url", 1), ("version", 1)]):
        at = _utc(diff["fetched_at"])
        days[day_id(day_of(at), diff.get("source") or "")].update(edit_counts(diff))
        seen = first_seen.get(diff["url"])
        if seen is None:
            continue
        mine = fields.setdefault(diff["url"], {"edits": 0, "first_edit_at": None,
                                               "last_edit_at": None})  # fmt: skip
        cohort = cohort_counts(seen[1], at, mine["first_edit_at"], mine["last_edit_at"])
        days[day_id(day_of(seen[1]), seen[0])].update(cohort)
        mine["edits"] += 1
        mine["first_edit_at"] = mine["first_edit_at"] or at
        mine["last_edit_at"] = max(at, mine["last_edit_at"] or at)
    for event in db["events"].find({"kind": "removed"}, {"source": 1, "at": 1}):
        days[day_id(day_of(event["at"]), event.get("source") or "")]["removals"] += 1
    return days, fields


def rebuild(db: Any, again: bool = False) -> bool:
    """Counters from the stored history, once per store (by the process that inserts the
    marker; the store creates the collection's indexes first); False when done before.
    Counters written meanwhile are replaced: the history holds what they counted. The
    changes are numbered anew too (``recent.number_all``). ``again``: count anew although
    done before."""
    if again:  # the history was rewritten (``scrapy reextract``)
        db[COLLECTION].delete_one(_MARKER)
    if db[COLLECTION].find_one(_MARKER) is not None:
        return False
    try:
        db[COLLECTION].insert_one({**_MARKER})
    except DuplicateKeyError:
        return False
    db[COLLECTION].delete_many({"_id": {"$ne": REBUILT}})
    days, fields = tally(db)
    updates = [UpdateOne({"_id": url}, {"$set": f}) for url, f in fields.items()]
    for start in range(0, len(updates), 1000):
        db["articles"].bulk_write(updates[start : start + 1000], ordered=False)
    for _id, counts in days.items():
        day, _, source = _id.removeprefix("day ").partition(" ")
        _inc(db, source, day, {name: n for name, n in counts.items() if n})
    recent.number_all(db)
    return True


# --- reading ---------------------------------------------------------------------------------


def period_days(days: int, today: date | None = None) -> list[str]:
    """The ``days`` UTC days ending today, oldest first."""
    end = today or datetime.now(UTC).date()
    return [(end - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def read_days(
    db: Any, days: list[str], source: str | None = None, max_time_ms: int | None = None
) -> list[dict[str, Any]]:
    """The counter documents of these days (of one ``source``)."""
    query: dict[str, Any] = {"day": {"$gte": days[0], "$lte": days[-1]}}
    if source is not None:
        query["source"] = source
    cursor = db[COLLECTION].find(query)
    return list(cursor.max_time_ms(max_time_ms) if max_time_ms else cursor)


def percentile(histogram: dict[int, int], share: float) -> float | None:
    """The nearest-rank percentile of a bucket histogram, as its bucket's middle."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank, seen = max(1, math.ceil(share * total)), 0
    for number in sorted(histogram):
        seen += histogram[number]
        if seen >= rank:
            return round(bucket_value(number), 1)
    return None  # pragma: no cover - the ranks add up to total


def histogram(documents: list[dict[str, Any]], field: str) -> dict[int, int]:
    """Bucket number -> count over the documents' ``field`` (first_edit or last_edit)."""
    found: Counter[int] = Counter()
    for doc in documents:
        for name, count in (doc.get(field) or {}).items():
            found[int(name[1:])] += int(count)
    return {number: count for number, count in found.items() if count > 0}


def figures(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """A period's figures from its counter documents."""
    total: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for doc in documents:
        for name in ("articles", "edited", "cohort_edits", "edits", "headline", "silent",
                     "removals"):  # fmt: skip
            total[name] += int(doc.get(name) or 0)
        kinds.update({kind: int(n) for kind, n in (doc.get("kinds") or {}).items()})
    articles, edits = total["articles"], total["edits"]
    timings = {}
    for field in ("first_edit", "last_edit"):
        found = histogram(documents, field)
        timings[f"time_to_{field}"] = {
            "median": percentile(found, 0.5),
            "p90": percentile(found, 0.9),
            "articles": sum(found.values()),
        }
    return {
        "articles": articles,
        "edited": total["edited"],
        "share_edited": _share(total["edited"], articles),
        "edits_per_article": _share(total["cohort_edits"], articles),
        **timings,
        "edits": edits,
        "share_headline": _share(total["headline"], edits),
        "share_silent": _share(total["silent"], edits),
        "removals": total["removals"],
        "kinds": {kind: kinds[kind] for kind in k.KINDS},
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
