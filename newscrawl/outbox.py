"""The delivery outbox: every event to notify, stored before anything is sent.

The crawl only enqueues (``enqueue``: one insert, next to the version it describes; an id
derived from the event makes it idempotent, so a replayed or completed write enqueues
nothing twice). Delivery happens after the crawl (``Notifier`` at its close, or ``scrapy
notify``), from this collection, so a slow or dead endpoint never slows a crawl and a crash
loses nothing.

Each endpoint (``newscrawl.endpoints``) gets every event enqueued since it was first
configured, oldest first, that its filters accept. A failed delivery (network error, 5xx,
408, 429) stops that endpoint for this round (later events wait, so order is kept) and backs
it off: ``NEWSCRAWL_NOTIFY_BACKOFF`` seconds, doubling per consecutive failure, at most
``NEWSCRAWL_NOTIFY_BACKOFF_MAX``. Another 4xx, or ``NEWSCRAWL_NOTIFY_MAX_TRIES`` failures of
one event, gives that event up for that endpoint. Every attempt is recorded on the event;
``outbox_endpoints`` keeps each endpoint's state for ``scrapy status``. Events every endpoint
is done with are deleted after ``NEWSCRAWL_NOTIFY_KEEP`` seconds.

Several nodes may deliver at once: an endpoint is leased (``lease_until``) by one of them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from newscrawl.endpoints import EVENT_KINDS, Endpoint
from newscrawl.payload import build_payload, event_id
from newscrawl.store import Store, as_utc, utcnow

logger = logging.getLogger(__name__)

OUTBOX, ENDPOINTS = "outbox", "outbox_endpoints"
LEASE = timedelta(minutes=10)


def ensure_indexes(db: Any) -> None:
    db[OUTBOX].create_index([("seq", ASCENDING)])
    db[OUTBOX].create_index([("finished_at", ASCENDING)])


def enqueue(db: Any, event: dict[str, Any]) -> bool:
    """Store one event for delivery; True if it was new. ``event`` has ``event`` (or
    ``kind``: a ``newscrawl.events`` record), ``url``, ``source``, ``at`` (or ``fetched_at``),
    optionally ``title``, and for ``changed`` the ``version``. Kinds not in EVENT_KINDS
    (headline variants, lastmod hints) are not notified: False."""
    kind = event.get("event") or event.get("kind")
    if kind not in EVENT_KINDS:
        return False
    at = event.get("at") or event.get("fetched_at") or utcnow()
    stored = {k: v for k, v in event.items() if k not in ("_id", "kind")}
    stored.update(event=kind, at=at)
    doc = {
        "_id": event_id(stored),
        "seq": time.time_ns(),
        "created_at": utcnow(),
        "event": stored,
        "done": [],  # endpoint keys: delivered, filtered out or given up
        "delivered": [],
        "given_up": [],
        "tries": {},  # endpoint key -> failed attempts
        "attempts": [],
        "finished_at": None,
    }
    try:
        db[OUTBOX].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


def enqueue_version(db: Any, version: dict[str, Any]) -> bool:
    """The ``changed`` event of a version just stored (version 1, first sight, is none)."""
    if int(version["version"]) < 2:
        return False
    return enqueue(db, {
        "event": "changed", "url": version["url"], "source": version.get("source", ""),
        "version": int(version["version"]), "at": version["fetched_at"],
        "title": version.get("title"),
    })  # fmt: skip


@dataclass(frozen=True)
class Result:
    """One delivery attempt: ok, or why not (``retry``: a later try may succeed)."""

    ok: bool
    status: int | None = None
    error: str | None = None
    retry: bool = True


Sender = Callable[[Endpoint, dict[str, Any]], Result]


@dataclass(frozen=True)
class Policy:
    backoff: float = 60.0
    backoff_max: float = 6 * 3600.0
    max_tries: int = 20
    keep: float = 7 * 86400.0

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(
            settings.getfloat("NEWSCRAWL_NOTIFY_BACKOFF", 60.0),
            settings.getfloat("NEWSCRAWL_NOTIFY_BACKOFF_MAX", 6 * 3600.0),
            settings.getint("NEWSCRAWL_NOTIFY_MAX_TRIES", 20),
            settings.getfloat("NEWSCRAWL_NOTIFY_KEEP", 7 * 86400.0),
        )


class Outbox:
    """Delivers the outbox to the endpoints (``deliver``)."""

    def __init__(
        self, store: Store, endpoints: list[Endpoint], send: Sender, policy: Policy | None = None,
        public_url: str = "", allow_private: bool = False,
        now: Callable[[], datetime] = utcnow,
    ) -> None:  # fmt: skip
        self.store, self.db = store, store.db
        self.endpoints, self.send, self.policy = endpoints, send, policy or Policy()
        self.public_url, self.allow_private, self.now = public_url, allow_private, now
        self.owner = uuid.uuid4().hex
        ensure_indexes(self.db)

    def register(self) -> None:
        """Record every endpoint not seen before: it gets the events enqueued from now on."""
        for endpoint in self.endpoints:
            self._register(endpoint)

    def deliver(self, max_time: float = 0) -> Counter:
        """One round: every endpoint not backing off gets its pending events in order, until
        one fails or ``max_time`` seconds have gone. Counts ``sent``, ``failed``,
        ``filtered``, ``given_up`` (events) and ``waiting`` (endpoints not tried now)."""
        counts: Counter = Counter()
        start = time.monotonic()
        for endpoint in self.endpoints:
            if max_time and time.monotonic() - start > max_time:
                break
            state = self._register(endpoint)
            if not self._lease(endpoint, state):
                counts["waiting"] += 1  # backing off, or another node is delivering to it
                continue
            try:
                self._deliver_to(endpoint, state, counts, start, max_time)
            finally:
                self.db[ENDPOINTS].update_one(
                    {"_id": endpoint.key, "lease_owner": self.owner},
                    {"$set": {"lease_until": None, "lease_owner": None}},
                )
        self._prune()
        return counts

    def _register(self, endpoint: Endpoint) -> dict[str, Any]:
        now = self.now()
        state = self.db[ENDPOINTS].find_one({"_id": endpoint.key})
        if state is None:
            state = {
                "_id": endpoint.key, "kind": endpoint.kind, "label": endpoint.label,
                "since": now, "failures": 0, "next_try": now, "last_success": None,
                "last_failure": None, "last_error": None, "lease_until": None,
                "lease_owner": None, "sent": 0,
            }  # fmt: skip
            try:
                self.db[ENDPOINTS].insert_one(dict(state))
            except DuplicateKeyError:  # registered meanwhile by another node
                state = self.db[ENDPOINTS].find_one({"_id": endpoint.key}) or state
        return state

    def _lease(self, endpoint: Endpoint, state: dict[str, Any]) -> bool:
        now = self.now()
        if as_utc(state.get("next_try") or now) > now:
            return False  # backing off
        lease = state.get("lease_until")
        if lease is not None and as_utc(lease) > now:
            return False  # another node is delivering to it
        with self.store.exclusive():
            taken = self.db[ENDPOINTS].update_one(
                {"_id": endpoint.key, "lease_until": lease},
                {"$set": {"lease_until": now + LEASE, "lease_owner": self.owner}},
            )
        return taken.modified_count == 1

    def _pending(self, endpoint: Endpoint, since: datetime) -> list[dict[str, Any]]:
        query = {"done": {"$ne": endpoint.key}, "created_at": {"$gte": since}}
        return list(self.db[OUTBOX].find(query, {"attempts": 0}).sort("seq", ASCENDING))

    def _deliver_to(
        self, endpoint: Endpoint, state: dict[str, Any], counts: Counter, start: float,
        max_time: float,
    ) -> None:  # fmt: skip
        problem = endpoint.problem(self.allow_private)
        if problem:
            logger.error("notifications: not sending to %s: %s", endpoint.label, problem)
            self._failed(endpoint, state, None, Result(False, error=problem))
            counts["failed"] += 1
            return
        for entry in self._pending(endpoint, as_utc(state["since"])):
            if max_time and time.monotonic() - start > max_time:
                return
            payload = self._payload(entry)
            if not endpoint.filters.accepts(payload):
                self._mark(entry, {"$addToSet": {"done": endpoint.key}})
                counts["filtered"] += 1
                continue
            at = self.now()
            try:
                result = self.send(endpoint, payload)
            except Exception as exc:  # a sender bug must not stop the other endpoints
                logger.exception("notifications: sending to %s failed", endpoint.label)
                result = Result(False, error=f"{type(exc).__name__}: {exc}")
            attempt = {"endpoint": endpoint.key, "at": at, "ok": result.ok,
                       "status": result.status, "error": result.error}  # fmt: skip
            if result.ok:
                self._mark(entry, {
                    "$addToSet": {"done": endpoint.key, "delivered": endpoint.key},
                    "$push": {"attempts": attempt},
                })  # fmt: skip
                self.db[ENDPOINTS].update_one({"_id": endpoint.key}, {
                    "$set": {"failures": 0, "last_success": at, "next_try": at},
                    "$inc": {"sent": 1},
                })  # fmt: skip
                state["failures"] = 0
                counts["sent"] += 1
                continue
            tries = int(entry.get("tries", {}).get(endpoint.key, 0)) + 1
            update: dict[str, Any] = {
                "$set": {f"tries.{endpoint.key}": tries},
                "$push": {"attempts": attempt},
            }
            if not result.retry or tries >= self.policy.max_tries:
                update["$addToSet"] = {"done": endpoint.key, "given_up": endpoint.key}
                counts["given_up"] += 1
                logger.error(
                    "notifications: gave up sending %s of %s to %s after %d tries: %s",
                    entry["event"]["event"], entry["event"]["url"], endpoint.label, tries,
                    result.error,
                )  # fmt: skip
            self._mark(entry, update)
            self._failed(endpoint, state, at, result)
            counts["failed"] += 1
            if result.retry:
                return  # the later events wait behind this one: order is kept

    def _payload(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Built once and kept, so every endpoint and every retry gets the same body."""
        if entry.get("payload") is None:
            entry["payload"] = build_payload(self.store, entry["event"], self.public_url)
            self.db[OUTBOX].update_one(
                {"_id": entry["_id"]}, {"$set": {"payload": entry["payload"]}}
            )
        return entry["payload"]

    def _mark(self, entry: dict[str, Any], update: dict[str, Any]) -> None:
        self.db[OUTBOX].update_one({"_id": entry["_id"]}, update)

    def _failed(
        self, endpoint: Endpoint, state: dict[str, Any], at: datetime | None, result: Result
    ) -> None:
        at = at or self.now()
        failures = int(state.get("failures") or 0) + 1
        state["failures"] = failures
        delay = min(self.policy.backoff * 2 ** (failures - 1), self.policy.backoff_max)
        error = result.error or f"HTTP {result.status}"
        logger.warning(
            "notifications: %s failed (%s); %d in a row, next try in %.0fs",
            endpoint.label, error, failures, delay,
        )  # fmt: skip
        self.db[ENDPOINTS].update_one({"_id": endpoint.key}, {"$set": {
            "failures": failures, "last_failure": at, "last_error": error,
            "next_try": at + timedelta(seconds=delay),
        }})  # fmt: skip

    def _prune(self) -> None:
        """Mark events every current endpoint is done with; delete those finished long ago."""
        now = self.now()
        keys = [e.key for e in self.endpoints]
        self.db[OUTBOX].update_many(
            {"finished_at": None, "done": {"$all": keys}} if keys else {"finished_at": None},
            {"$set": {"finished_at": now}},
        )
        if self.policy.keep > 0:
            cutoff = now - timedelta(seconds=self.policy.keep)
            self.db[OUTBOX].delete_many({"finished_at": {"$ne": None, "$lt": cutoff}})


def endpoint_states(db: Any) -> list[dict[str, Any]]:
    """Every endpoint the outbox has seen, with its pending count (for ``scrapy status``)."""
    states = []
    for state in db[ENDPOINTS].find({}, {"lease_owner": 0}).sort("label", ASCENDING):
        query = {"done": {"$ne": state["_id"]}, "created_at": {"$gte": state["since"]}}
        state["pending"] = db[OUTBOX].count_documents(query)
        state["given_up"] = db[OUTBOX].count_documents({"given_up": state["_id"]})
        states.append(state)
    return states
