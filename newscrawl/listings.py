"""What each feed and sitemap last said of a tracked article: its title and its date.

Kept per (feed or sitemap, article) in the ``listings`` collection, so a title that differs
between two feeds is not taken for a change. At each poll, on the store thread:

* a title that changed is a ``headline-variant`` event (publishers A/B-test headlines in
  feeds and on fronts without touching the article page); it never makes a body version;
* a date (``lastmod`` or ``news:publication_date``) that moved on is a change hint: the
  article is re-checked now, and if that finds no text change, ``lastmod-moved`` is recorded
  (``newscrawl.pipelines.ChangeDetectionPipeline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newscrawl.events import record_event
from newscrawl.store import Store, as_utc


@dataclass(frozen=True)
class Listed:
    """An article as one feed or sitemap lists it."""

    title: str = ""
    date: datetime | None = None


@dataclass(frozen=True)
class Hint:
    """A tracked article whose listed date moved on: re-check it now."""

    url: str
    article: dict[str, Any]
    old: datetime
    new: datetime


def compare(
    store: Store, where: str, source: str, listed: dict[str, Listed], now: datetime
) -> tuple[set[str], list[Hint]]:
    """Record what ``where`` lists now against its last poll; returns the URLs already
    tracked and the change hints among them. Untracked URLs are left to :func:`remember`."""
    tracked = store.tracked_articles(list(listed))
    before = store.listed(where, list(tracked))
    hints = []
    for url, article in tracked.items():
        now_listed, last = listed[url], before.get(url)
        changes: dict[str, Any] = {}
        if now_listed.title and (last is None or last.get("title") != now_listed.title):
            changes["title"] = now_listed.title
            if last is not None and last.get("title"):
                record_event(store.db, url, "headline-variant", now, source,
                             old=last["title"], new=now_listed.title, where=where)  # fmt: skip
        if now_listed.date and (last is None or last.get("date") is None
                                or as_utc(last["date"]) != now_listed.date):  # fmt: skip
            changes["date"] = now_listed.date
            moved_on = last is not None and last.get("date") is not None
            if (
                moved_on
                and last
                and now_listed.date > as_utc(last["date"])
                and article.get("next_check")
            ):
                hints.append(Hint(url, article, as_utc(last["date"]), now_listed.date))
        if changes:
            store.save_listing(where, url, source, seen_at=now, **changes)
    return set(tracked), hints


def remember(
    store: Store, where: str, source: str, listed: dict[str, Listed], now: datetime
) -> None:
    """What ``where`` says of articles followed for the first time, for the next poll."""
    for url, entry in listed.items():
        fields = {"title": entry.title, "date": entry.date}
        store.save_listing(where, url, source, seen_at=now, **fields)
