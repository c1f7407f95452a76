"""The tracker's MongoDB store: a real server via pymongo, or the embedded on-disk default.

Collections (see README "Data model"):

* ``articles``  one document per tracked article, ``_id`` = canonical URL; schedule and state.
* ``versions``  one document per stored version, unique on ``(url, version)``.
* ``diffs``     one document per version > 1, the diff from the version before, unique likewise.
* ``feeds``     one document per feed URL: conditional-GET validators and last poll result.
* ``errors``    one document per failed feed or article fetch, pruned by age and count.
* ``events``    removals, reappearances, moves, headline variants (see ``events``).
* ``source_days`` each source's daily counters, kept at write time (see ``record``).

Every query uses the pymongo API only, so the same code runs on MongoDB and on litemongo
(mongomock semantics on SQLite files) when ``MONGO_URI`` is unset.

The crawl's store thread is ``crawlstore.StoreThread``; the tracker's version reads and
writes are ``versions``; the due buckets the claim asks for are ``due``. What stays here
(opening, indexes, and the crawl's typed access to feeds, listings, leases and errors) is
one job of about 450 lines: the rest of the code and the tests open the store and reach
these collections through this module.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import (
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    WriteConcernError,
)

from newscrawl import due, events, recent, record
from newscrawl.bounds import unpack_version
from newscrawl.dates import as_utc
from newscrawl.schedule import RevisitPolicy
from newscrawl.search import FIELD as SEARCH_FIELD
from newscrawl.search import backfill

logger = logging.getLogger(__name__)

# What the spider needs to re-check an article: its source and the conditional-GET validators.
CLAIM_FIELDS = {"_id": 1, "source": 1, "next_check": 1, "etag": 1, "last_modified": 1,
                "raw_hash": 1, "response_url": 1}  # fmt: skip
# Any write that moves an article's schedule also ends its lease.
LEASE_FREE = {"lease_until": None, "lease_owner": None}


def _lease_free(now: datetime) -> dict[str, Any]:
    """The filter of articles no crawler holds a lease on at ``now``."""
    return {"$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]}


# Seconds an embedded-store call waits for another process's write lock (see embedded.py).
BUSY_TIMEOUT = 30.0
# MongoDB error codes that a later try may get past: the retryable-writes spec's (not primary,
# shutting down, network) plus time limits and write conflicts.
RETRYABLE_CODES = frozenset({6, 7, 50, 89, 91, 112, 134, 189, 262, 9001, 10058, 10107, 11600,
                             11602, 13435, 13436})  # fmt: skip
ERRORS_TTL_INDEX = "errors_ttl"
# The store's indexes: collection -> (keys, unique).
URL_VERSION = [("url", ASCENDING), ("version", ASCENDING)]
INDEXES: dict[str, list[tuple[list[tuple[str, int]], bool]]] = {
    "versions": [(URL_VERSION, True), ([("url", ASCENDING), ("content_hash", ASCENDING)], False)],
    "diffs": [
        (URL_VERSION, True),
        ([("fetched_at", DESCENDING)], False),
        ([("significance", DESCENDING), ("fetched_at", DESCENDING)], False),
        *recent.INDEXES,  # pages of recent changes, by key
    ],
    "articles": [
        ([("next_check", ASCENDING)], False),
        ([(due.FIELD, ASCENDING)], False),  # the claim, by quarter-hour (``due``)
        ([("first_seen", ASCENDING)], False),  # scrapy export, oldest first (MongoDB)
        ([("source", ASCENDING)], False),
        ([("lease_owner", ASCENDING)], False),
    ],
    "errors": [([("at", DESCENDING)], False)],
    "events": recent.EVENT_INDEXES,  # the newest events, by key
    "listings": [([("url", ASCENDING)], False)],
    record.COLLECTION: [
        ([("day", ASCENDING), ("source", ASCENDING)], False),
        ([("source", ASCENDING), ("day", ASCENDING)], False),
    ],
}
INDEX_OPTIONS_CONFLICT = 85  # MongoDB's error code: same index, other options


def utcnow() -> datetime:
    """Now, in UTC, at MongoDB's millisecond precision (so stored and in-memory times agree)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def transient_error(exc: BaseException) -> bool:
    """Whether a failed store call may succeed if tried again: MongoDB unreachable, failing
    over or out of time, or the embedded store locked, busy or out of disk. Anything else
    (DocumentTooLarge, a validation or other write error, a bug) fails the same way again."""
    if isinstance(exc, ConnectionFailure | WriteConcernError | sqlite3.OperationalError):
        return True
    return isinstance(exc, OperationFailure) and (
        exc.code in RETRYABLE_CODES
        or exc.has_error_label("RetryableWriteError")
        or exc.has_error_label("TransientTransactionError")
    )


def redact_uri(uri: str) -> str:
    """The URI with its password and any password-like options replaced, for logs."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    location, question, query = rest.partition("?")
    userinfo, at, hosts = location.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if at and colon:
        location = f"{user}:***@{hosts}"
    if question:
        query = "&".join(_redact_option(option) for option in query.split("&"))
    return f"{scheme}://{location}{question}{query}"


def _redact_option(option: str) -> str:
    name, equals, _ = option.partition("=")
    secret = "password" in name.lower() or name.lower() == "authmechanismproperties"
    return f"{name}=***" if secret and equals else option


def embedded_dir(settings: Any) -> Path | None:
    """The embedded store's directory, or None when MONGO_URI names a server."""
    if settings.get("MONGO_URI"):
        return None
    return Path(settings.get("NEWSCRAWL_DATA_DIR") or ".newscrawl").resolve()


def open_database(settings: Any) -> tuple[Any, Database]:
    """(client, database) chosen by MONGO_URI / MONGO_DATABASE / NEWSCRAWL_DATA_DIR."""
    uri = settings.get("MONGO_URI") or ""
    name = settings.get("MONGO_DATABASE") or "newscrawl"
    client: Any
    path = embedded_dir(settings)
    if path is None:
        client = pymongo.MongoClient(uri, tz_aware=True)
        logger.info("Store: MongoDB at %s, database %s", redact_uri(uri), name)
    else:
        import litemongo

        from newscrawl.embedded import WaitingServerStore

        busy_timeout = settings.get("NEWSCRAWL_STORE_BUSY_TIMEOUT")
        busy_timeout = BUSY_TIMEOUT if busy_timeout in (None, "") else float(busy_timeout)
        client = litemongo.MongoClient(WaitingServerStore(path, busy_timeout), tz_aware=True)
        logger.info("Store: embedded, in %s, database %s", path, name)
    return client, client[name]


def has_index(collection: Any, keys: list[tuple[str, int]]) -> bool:
    """Whether ``collection`` has an index on exactly these keys, in this order."""
    wanted = [(name, int(direction)) for name, direction in keys]
    return any(
        [(name, int(direction)) for name, direction in info["key"]] == wanted
        for info in collection.index_information().values()
    )


def create_missing_indexes(
    collection: Any, specs: list[tuple[list[tuple[str, int]], bool]]
) -> None:
    """Create the indexes (keys, unique) the collection lacks. Every crawl opens the store:
    asking for indexes that exist cost the embedded store a pass over the collection each
    (it checks a unique index against every document) at every start."""
    existing = [
        [(name, int(direction)) for name, direction in info["key"]]
        for info in collection.index_information().values()
    ]
    for keys, unique in specs:
        if [(name, int(direction)) for name, direction in keys] not in existing:
            collection.create_index(keys, unique=unique)


class Store:
    """Typed access to the collections; the change-detection logic lives in ``tracker``."""

    # Writes keep each source's counters (``record``); a scratch copy's must not.
    keeps_counters = True

    def __init__(self, client: Any, db: Database, claim_lock: Path | None = None) -> None:
        self.client = client
        self.db = db
        # embedded store: the file locked around a lease's read and write (see embedded.py)
        self.claim_lock = claim_lock
        self.articles = db["articles"]
        self.versions = db["versions"]
        self.diffs = db["diffs"]
        self.feeds = db["feeds"]
        self.errors = db["errors"]
        self.listings = db["listings"]
        self.events = db["events"]

    @classmethod
    def from_settings(cls, settings: Any) -> Store:
        client, db = open_database(settings)
        path = embedded_dir(settings)
        store = cls(client, db, None if path is None else path / f"{db.name}.claim.lock")
        store.ensure_indexes()
        return store

    def ensure_indexes(self) -> None:
        """Create the indexes if missing. The embedded store rebuilds a unique index from its
        file, and may see a row twice while another process is writing (DuplicateKeyError):
        tried again, since nothing is duplicated."""
        for attempt in range(5):
            try:
                return self._create_indexes()
            except DuplicateKeyError:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _create_indexes(self) -> None:
        if not has_index(self.articles, [(due.FIELD, ASCENDING)]):
            due.backfill(self.articles)  # buckets for articles scheduled before them
        for name, specs in INDEXES.items():
            create_missing_indexes(self.db[name], specs)
        events.ensure_indexes(self.db)
        if not has_index(self.articles, [(SEARCH_FIELD, ASCENDING)]):
            backfill(self.articles)  # search words for articles stored before they existed
        record.rebuild(self.db)  # each source's counters, for a store written before them

    def close(self) -> None:
        self.client.close()

    # feeds -----------------------------------------------------------------------------
    def feed_state(self, url: str) -> dict[str, Any]:
        return self.feeds.find_one({"_id": url}) or {}

    def save_feed_poll(self, url: str, source: str, **fields: Any) -> None:
        self.feeds.update_one({"_id": url}, {"$set": {"source": source, **fields}}, upsert=True)

    def save_feed_validators(self, validators: dict[str, dict[str, str | None]]) -> None:
        """ETag / Last-Modified per feed URL, sent with the feed's next request."""
        for url, fields in validators.items():
            self.feeds.update_one({"_id": url}, {"$set": fields})

    # listings: what a feed or sitemap last said of an article -------------------------
    def listed(self, where: str, urls: list[str]) -> dict[str, dict[str, Any]]:
        """The title and date a feed or sitemap (``where``) gave each URL at its last poll."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(urls):
            for doc in self.listings.find({"url": {"$in": chunk}, "where": where}):
                found[doc["url"]] = doc
        return found

    def save_listing(self, where: str, url: str, source: str, **fields: Any) -> None:
        self.listings.update_one(
            {"_id": f"{where} {url}"},
            {"$set": {"url": url, "where": where, "source": source, **fields}},
            upsert=True,
        )

    def prune_listings(self, before: datetime) -> int:
        """Forget listings unchanged since ``before``: articles long out of their feeds and
        sitemaps (one still listed is remembered again, without an event, at its next poll)."""
        return self.listings.delete_many({"seen_at": {"$lt": before}}).deleted_count

    def tracked_articles(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """Tracked articles among ``urls`` with what a re-check request needs (CLAIM_FIELDS)."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(urls):
            fields = {**CLAIM_FIELDS, "status": 1, "next_check": 1}
            for doc in self.articles.find({"_id": {"$in": chunk}}, fields):
                found[doc["_id"]] = doc
        return found

    # articles --------------------------------------------------------------------------
    def known_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(urls)
        if not urls:
            return set()
        return {doc["_id"] for doc in self.articles.find({"_id": {"$in": urls}}, {"_id": 1})}

    def due_articles(
        self, now: datetime, limit: int, everything_checked_before: datetime | None = None
    ) -> list[str]:
        """The addresses of up to ``limit`` due and free articles, most overdue first, or,
        with ``everything_checked_before``, of every free article not checked since then
        (``recheck=all``): a round lists them once, then claims them in batches
        (``claim_articles(among=...)``). On the embedded store the listing decodes
        every article it considers; a claim among listed addresses reads only those."""
        query, buckets, sweep = self._due_filter(now, everything_checked_before), [], False
        if everything_checked_before is None:
            buckets = due.window(now)
            sweep = not due.swept_lately(self.db, self.articles.name, now)
            if not sweep:  # by key: the last day's quarter-hours
                query[due.FIELD] = {"$in": buckets}
        listed = list(
            self.articles.find(query, {"_id": 1, due.FIELD: 1})
            .sort("next_check", ASCENDING)
            .limit(limit)
        )
        # oldest first: none listed before the window means no backlog is left behind it
        if sweep and {article.get(due.FIELD) for article in listed} <= set(buckets):
            due.record_sweep(self.db, self.articles.name, now)
        return [article["_id"] for article in listed]

    def claim_articles(
        self,
        now: datetime,
        limit: int,
        lease_seconds: float,
        everything_checked_before: datetime | None = None,
        among: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Lease up to ``limit`` due articles, most overdue first, or, with
        ``everything_checked_before``, every article not checked since then (``recheck=all``:
        an article re-checked in this round is not claimed again); with ``among``, only
        those of these addresses that are still due and free (else ``due_articles``' own).
        Returns (lease token, claimed articles).

        Each article's lease is set by an update whose filter requires it to be free, so
        of several crawlers claiming at once each article goes to exactly one (on MongoDB;
        the embedded store's update is not atomic, so there the claim holds a file lock).
        A crawler that dies keeps its claims only until the lease expires.
        """
        if among is None:
            among = self.due_articles(now, limit, everything_checked_before)
        query = {**self._due_filter(now, everything_checked_before), "_id": {"$in": among}}
        token = uuid.uuid4().hex
        with self.exclusive():
            candidates = [
                doc["_id"]
                for doc in self.articles.find(query, {"_id": 1})
                .sort("next_check", ASCENDING)
                .limit(limit)
            ]
            if candidates:
                self.articles.update_many(
                    {"_id": {"$in": candidates}, **_lease_free(now)},
                    {"$set": {"lease_until": now + timedelta(seconds=lease_seconds),
                              "lease_owner": token}},
                )  # fmt: skip
        claimed = list(self.articles.find({"lease_owner": token}, CLAIM_FIELDS))
        # as_utc: some MongoDB-compatible servers hand back $set dates as strings
        return token, sorted(claimed, key=lambda a: as_utc(a.get("next_check") or now))

    def _due_filter(
        self, now: datetime, everything_checked_before: datetime | None
    ) -> dict[str, Any]:
        """The filter of the articles due and free at ``now``, or, with
        ``everything_checked_before``, of those free and not checked since then."""
        if everything_checked_before is None:
            return {"next_check": {"$lte": now}, **_lease_free(now)}
        # every article but those that moved to another address (tracked there)
        return {"last_checked": {"$lt": everything_checked_before},
                "status": {"$ne": "moved"}, **_lease_free(now)}  # fmt: skip

    def exclusive(self) -> AbstractContextManager[None]:
        """Around a lease's read and write (the articles a crawl claims, the notification
        endpoint a node delivers to): one process at a time on the embedded store, whose
        updates read then write; nothing on MongoDB, whose update filter is atomic."""
        if self.claim_lock is None:
            return nullcontext()
        from newscrawl.embedded import process_lock

        return process_lock(self.claim_lock)

    def release_leases(self, token: str) -> int:
        """Give back the articles a run claimed but did not get to."""
        result = self.articles.update_many(
            {"lease_owner": token}, {"$set": {"lease_until": None, "lease_owner": None}}
        )
        return result.modified_count

    # errors ----------------------------------------------------------------------------
    def record_error(
        self,
        kind: str,
        url: str,
        source: str,
        reason: str,
        message: str,
        now: datetime,
        policy: RevisitPolicy | None = None,
    ) -> None:
        """Keep a per-feed / per-article error record; a tracked, scheduled article is retried
        as ``policy.after_error`` says (backing off), or no longer checked (``failing``)."""
        self.errors.insert_one(
            {
                "at": now,
                "kind": kind,
                "url": url,
                "source": source,
                "reason": reason,
                "message": message[:2000],
            }  # fmt: skip
        )
        if kind != "article" or policy is None:
            return
        article = self.articles.find_one(
            {"_id": url, "next_check": {"$ne": None}}, {"errors": 1, "failing_since": 1}
        )
        if article is None:  # untracked, or no longer scheduled: no schedule to move
            return
        errors = int(article.get("errors") or 0) + 1
        since = as_utc(article.get("failing_since") or now) if errors > 1 else now
        _, retry_at = policy.after_error(now, errors, since)
        self.articles.update_one(
            {"_id": url},
            {
                "$set": {
                    "last_error": reason,
                    "last_checked": now,
                    **due.schedule_fields(retry_at),
                    "errors": errors,
                    "failing_since": since,
                    **({} if retry_at else {"status": "failing"}),
                    **LEASE_FREE,
                },
            },
        )

    def bound_errors(self, now: datetime, ttl: float, keep: int) -> int:
        """Delete ``errors`` records older than ``ttl`` seconds, and when there are more than
        ``keep``, all but the newest 90% of ``keep`` (so this is not redone at every run);
        0 disables either. On MongoDB a TTL index also expires them between crawls; the
        embedded store gets none, as it would scan the collection at every insert."""
        deleted = 0
        if ttl > 0:
            if isinstance(self.client, pymongo.MongoClient):
                self._ensure_errors_ttl(int(ttl))
            cutoff = now - timedelta(seconds=ttl)
            deleted += self.errors.delete_many({"at": {"$lt": cutoff}}).deleted_count
        if keep > 0 and self.errors.estimated_document_count() > keep:
            newest = self.errors.find({}, {"at": 1}).sort("at", DESCENDING)
            oldest_kept = list(newest.skip(keep - keep // 10 - 1).limit(1))
            if oldest_kept:
                deleted += self.errors.delete_many(
                    {"at": {"$lt": oldest_kept[0]["at"]}}
                ).deleted_count
        return deleted

    def _ensure_errors_ttl(self, seconds: int) -> None:
        try:
            self.errors.create_index("at", name=ERRORS_TTL_INDEX, expireAfterSeconds=seconds)
        except OperationFailure as exc:
            if exc.code != INDEX_OPTIONS_CONFLICT:
                raise
            # the TTL setting changed since the index was made
            self.db.command(
                "collMod", "errors", index={"keyPattern": {"at": 1}, "expireAfterSeconds": seconds}
            )

    def history(self, url: str) -> list[dict[str, Any]]:
        """The article's versions in order, with their text (see newscrawl.bounds)."""
        cursor = self.versions.find({"url": url}).sort("version", ASCENDING)
        return [unpack_version(version) for version in cursor]


def _chunks(items: list[str], size: int = 1000) -> Iterator[list[str]]:
    """``$in`` queries of bounded size (a sitemap may list 50,000 URLs)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
