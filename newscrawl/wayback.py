"""Optional Internet Archive submission of every new version (``NEWSCRAWL_WAYBACK``, off).

The crawl only queues: ``ChangeDetectionPipeline`` inserts each new version's URL into the
``archive_queue`` collection beside the version, with no network call, so delivery never
slows a crawl. ``scrapy wayback`` (run by the same timer, after the crawl) submits the due
entries to Save Page Now (``NEWSCRAWL_WAYBACK_ENDPOINT`` + URL), at most
``NEWSCRAWL_WAYBACK_PER_MINUTE`` a minute (anonymous captures are limited to about 4); the
gap holds across runs, since the last attempt's time is in the queue.

Every attempt is recorded on its entry (time, HTTP status, error). A capture's address (the
``Content-Location`` or ``Location`` header, ``/web/<timestamp>/<url>``) is stored on the
version as ``archive_url``. A 429, 5xx, timeout or connection error is retried by a later run
after a backoff (5 min, doubling, at most a day; longer if ``Retry-After`` says so), up to
``MAX_TRIES`` attempts; a 429 also ends the run. Any other 4xx is final (``failed``).
The endpoint must resolve to public addresses unless ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS``.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from newscrawl.netguard import non_public_addresses
from newscrawl.store import Store, as_utc, utcnow
from newscrawl.tracker import CHANGED, NEW, REVERT, Outcome

QUEUED, ARCHIVED, FAILED = "queued", "archived", "failed"
BACKOFF_INITIAL = 5 * 60
BACKOFF_MAX = 24 * 60 * 60
MAX_TRIES = 10
TIMEOUT = 120  # a capture can take a minute or more
_CAPTURE = re.compile(r"^/web/\d{4,14}")  # the Wayback Machine's /web/<timestamp>/<url>


class WaybackError(Exception):
    """The archive cannot be used as configured (bad or private endpoint)."""


class WaybackQueue:
    """The ``archive_queue`` collection: one entry per version to submit (``_id`` "URL N")."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.entries = store.db["archive_queue"]

    @classmethod
    def from_settings(cls, store: Store, settings: Any) -> WaybackQueue | None:
        """None when ``NEWSCRAWL_WAYBACK`` is off: nothing is queued."""
        if not settings.getbool("NEWSCRAWL_WAYBACK", False):
            return None
        queue = cls(store)
        queue.ensure_indexes()
        return queue

    def ensure_indexes(self) -> None:
        self.entries.create_index([("status", ASCENDING), ("next_try", ASCENDING)])
        self.entries.create_index([("last_try", DESCENDING)])

    def add(self, url: str, outcome: Outcome, now: datetime) -> bool:
        """Queue ``outcome``'s version if the fetch stored a new one; True if queued."""
        if outcome.kind not in (NEW, CHANGED, REVERT) or not outcome.version:
            return False
        entry = {
            "_id": f"{url} {outcome.version}",
            "url": url,
            "version": outcome.version,
            "status": QUEUED,
            "queued_at": now,
            "next_try": now,
            "last_try": None,
            "tries": 0,
            "attempts": [],
        }
        try:
            self.entries.insert_one(entry)
        except DuplicateKeyError:  # the same version queued by a replayed page
            return False
        return True

    def due(self, now: datetime) -> list[dict[str, Any]]:
        query = {"status": QUEUED, "next_try": {"$lte": now}}
        return list(self.entries.find(query, {"attempts": 0}).sort("next_try", ASCENDING))

    def claim(self, entry: dict[str, Any], at: datetime, until: datetime) -> bool:
        """Take ``entry`` for one attempt starting ``at``: False if another run took it
        first. A run that dies mid-attempt leaves it due again ``until``."""
        taken = self.entries.update_one(
            {"_id": entry["_id"], "status": QUEUED, "tries": entry["tries"],
             "next_try": {"$lte": at}},
            {"$set": {"last_try": at, "next_try": until}},
        )  # fmt: skip
        return taken.modified_count == 1

    def last_try(self) -> datetime | None:
        latest = self.entries.find_one(
            {"last_try": {"$ne": None}}, {"last_try": 1}, sort=[("last_try", DESCENDING)]
        )  # fmt: skip
        return as_utc(latest["last_try"]) if latest else None


@dataclass(frozen=True)
class Answer:
    """What one submission got: HTTP status (None: no answer), capture address, error."""

    status: int | None
    archive_url: str | None = None
    retry_after: float | None = None
    error: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer (its Location names the capture), never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def submit(endpoint: str, url: str, user_agent: str, timeout: float = TIMEOUT) -> Answer:
    """Ask Save Page Now to capture ``url``."""
    request = urllib.request.Request(endpoint + url, headers={"User-Agent": user_agent})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as exc:
        status, headers = exc.code, exc.headers
        exc.close()
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
        return Answer(None, error=f"{type(exc).__name__}: {exc}")
    archive_url = capture_address(endpoint, headers)
    error = None
    if status < 400 and archive_url is None:
        error = "no capture address (Content-Location or Location) in the answer"
    return Answer(status, archive_url, _retry_after(headers), error)


def capture_address(endpoint: str, headers: Message) -> str | None:
    for name in ("Content-Location", "Location"):
        value = headers.get(name)
        if value:
            parts = urlsplit(urljoin(endpoint, value.strip()))
            if parts.scheme in ("http", "https") and _CAPTURE.match(parts.path):
                return parts.geturl()
    return None


def _retry_after(headers: Message) -> float | None:
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


def check_endpoint(endpoint: str, allow_private: bool) -> None:
    """Raise ``WaybackError`` unless ``endpoint`` is an http(s) URL whose host resolves only
    to public addresses (or ``allow_private``)."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WaybackError(f"NEWSCRAWL_WAYBACK_ENDPOINT must be an http(s) URL: {endpoint!r}")
    if allow_private:
        return
    try:
        private = non_public_addresses(endpoint)
    except OSError as exc:
        raise WaybackError(f"cannot resolve {parts.hostname}: {exc}") from None
    if private:
        raise WaybackError(
            f"NEWSCRAWL_WAYBACK_ENDPOINT host {parts.hostname} resolves to non-public "
            f"{', '.join(private)}; set NEWSCRAWL_ALLOW_PRIVATE_HOSTS to allow it"
        )


class Wayback:
    """Submits the due queue entries within the rate limit (``drain``)."""

    def __init__(
        self, store: Store, endpoint: str, per_minute: float, user_agent: str = "",
        now: Callable[[], datetime] = utcnow, sleep: Callable[[float], None] = time.sleep,
        send: Callable[[str, str, str], Answer] = submit,
    ) -> None:  # fmt: skip
        self.store = store
        self.queue = WaybackQueue(store)
        self.endpoint = endpoint
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.user_agent = user_agent
        self.now, self.sleep, self.send = now, sleep, send

    @classmethod
    def from_settings(cls, store: Store, settings: Any, **kwargs: Any) -> Wayback:
        endpoint = settings.get("NEWSCRAWL_WAYBACK_ENDPOINT") or ""
        check_endpoint(endpoint, settings.getbool("NEWSCRAWL_ALLOW_PRIVATE_HOSTS", False))
        per_minute = settings.getfloat("NEWSCRAWL_WAYBACK_PER_MINUTE", 4)
        agent = settings.get("USER_AGENT") or ""
        return cls(store, endpoint, per_minute, agent, **kwargs)

    def drain(self, max_time: float = 0) -> Counter:
        """Submit every due entry (stopping at a 429, or before ``max_time`` seconds would be
        exceeded); returns how many were archived, retried later and failed."""
        counts: Counter = Counter()
        start = self.now()
        for entry in self.queue.due(start):
            last = self.queue.last_try()  # re-read: another run may have submitted since
            wait = (last - self.now()).total_seconds() + self.interval if last else 0.0
            if max_time and (self.now() - start).total_seconds() + max(wait, 0) > max_time:
                break
            if wait > 0:
                self.sleep(wait)
            at = self.now()
            if not self.queue.claim(entry, at, at + timedelta(seconds=2 * TIMEOUT)):
                continue  # another run took it
            answer = self.send(self.endpoint, entry["url"], self.user_agent)
            outcome = self._record(entry, answer, at)
            counts[outcome] += 1
            if answer.status == 429:
                break
        return counts

    def _record(self, entry: dict[str, Any], answer: Answer, at: datetime) -> str:
        tries = int(entry.get("tries", 0)) + 1
        attempt = {"at": at, "status": answer.status, "error": answer.error}
        update: dict[str, Any] = {"tries": tries, "last_try": at}
        if answer.archive_url and answer.status is not None and answer.status < 400:
            update.update(status=ARCHIVED, archive_url=answer.archive_url)
            self.store.versions.update_one(
                {"url": entry["url"], "version": entry["version"]},
                {"$set": {"archive_url": answer.archive_url, "archived_at": at}},
            )  # fmt: skip
        elif _final(answer) or tries >= MAX_TRIES:
            update["status"] = FAILED
        else:
            delay = min(BACKOFF_INITIAL * 2 ** (tries - 1), BACKOFF_MAX)
            delay = max(delay, answer.retry_after or 0)
            update.update(status=QUEUED, next_try=at + timedelta(seconds=delay))
        self.queue.entries.update_one(
            {"_id": entry["_id"]}, {"$set": update, "$push": {"attempts": attempt}}
        )
        return {ARCHIVED: "archived", FAILED: "failed"}.get(update["status"], "retry")


def _final(answer: Answer) -> bool:
    """A refusal another try would get again (a 4xx other than 408 and 429)."""
    return answer.status is not None and 400 <= answer.status < 500 and answer.status not in (
        408, 429,
    )  # fmt: skip
