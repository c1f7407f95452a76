"""The article document's update after a check: text hash, schedule, validators and counts.

The tracker (``newscrawl.tracker``) decides what a fetch means; ``ArticleWrites`` is the one
write it then makes to the ``articles`` collection: after a stored version (``changed``) or
after a check that stored none (``unchanged``, with what that check was: a flip-flop, a
skipped change of a volatile article, a rebaseline, a held change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from newscrawl.article import Fetched
from newscrawl.due import schedule_fields
from newscrawl.schedule import RevisitPolicy
from newscrawl.search import search_words
from newscrawl.store import LEASE_FREE, Store, as_utc
from newscrawl.versions import Versions


def fetch_state(page: Fetched) -> dict[str, Any]:
    """Article fields every check refreshes: validators for the next conditional GET."""
    return {
        "last_checked": page.fetched_at,
        "raw_hash": page.raw_hash,
        "etag": page.etag,
        "last_modified": page.last_modified,
        "errors": 0,
        "failing_since": None,
        **LEASE_FREE,
    }


def check_fields(article: dict[str, Any], changed: bool, policy: RevisitPolicy) -> dict[str, Any]:
    """Article fields recording a check: whether it changed (1) or not (0), the last
    ``volatile_checks`` checks kept oldest first, and whether the article is now volatile."""
    recent = [*article.get("recent_changes", []), int(changed)][-policy.volatile_checks :]
    return {
        "recent_changes": recent,
        "volatile": policy.is_volatile(recent, bool(article.get("volatile"))),
    }


class ArticleWrites:
    def __init__(self, store: Store, versions: Versions) -> None:
        self.store = store
        self.versions = versions

    def changed(
        self,
        page: Fetched,
        version: int,
        policy: RevisitPolicy,
        article: dict[str, Any] | None,
        changed: bool | None = True,
    ) -> None:
        """The article after ``version`` was stored from ``page`` (``changed`` False: a change
        the volatile cap skipped, stored now, at a check that saw no new change; None: a held
        change confirmed now, counted at the check that held it, so this write records no
        check: the check's own decision follows)."""
        if article is None:
            checks: dict[str, Any] = {"recent_changes": [], "volatile": False}
        elif changed is None:
            checks = {"recent_changes": list(article.get("recent_changes", [])),
                      "volatile": bool(article.get("volatile"))}  # fmt: skip
        else:
            checks = check_fields(article, changed, policy)
        if checks["volatile"]:
            assert article is not None  # only a tracked article is volatile
            interval, next_check = policy.after_volatile_change(
                page.fetched_at, float(article.get("interval") or policy.initial)
            )
        else:
            interval, next_check = policy.after_change(page.fetched_at)
        update = {
            "$setOnInsert": {"first_seen": page.fetched_at, "flip_flops": 0},
            "$max": {"versions": version},
            "$set": {
                "url": page.url,
                "source": page.source,
                "title": page.title,
                "search_words": search_words(page.url, page.title),
                "content_hash": page.content_hash,
                "current_version": version,
                "unstored_changes": 0,
                "held_hash": None,
                "status": "active",
                "extractor": page.extractor,
                "last_changed": page.fetched_at,
                "interval": interval,
                **schedule_fields(next_check),
                "response_url": page.response_url,
                **checks,
                **fetch_state(page),
            },
        }
        try:
            self.store.articles.update_one({"_id": page.url}, update, upsert=True)
        except DuplicateKeyError:
            # Two first upserts raced and the other inserted the document: update it.
            self.store.articles.update_one({"_id": page.url}, update)

    def unchanged(
        self,
        page: Fetched,
        article: dict[str, Any],
        policy: RevisitPolicy,
        current: dict[str, Any] | None = None,
        skipped: bool = False,
        rebaseline: bool = False,
        recount: bool = True,
        hold: str | None = None,
    ) -> None:
        """No new version. Only the schedule moves on, unless: a flip-flop (a toggle already
        recorded, to the stored version ``current``) is counted and points the article at
        that version; a skipped change of a volatile article is counted (the next version
        says how many it follows; ``recount`` False: the same skipped text seen again) and
        its validators are not kept, so the next check fetches and extracts the page in full
        and stores the held text once the cap allows; a rebaseline takes the text's hash and
        extractor version; ``hold``, the hash of a change held for the next check
        (``newscrawl.holding``), keeps the stored hash and brings the next check forward to
        the policy's initial interval."""
        last_changed = as_utc(article.get("last_changed") or page.fetched_at)
        interval = float(article.get("interval") or policy.initial)
        next_check: datetime | None
        changed = skipped and recount  # a held change seen again is no new change
        if changed:
            interval, next_check = policy.after_volatile_change(page.fetched_at, interval)
        else:
            interval, next_check = policy.after_unchanged(page.fetched_at, interval, last_changed)
        if hold and not article.get("volatile"):  # a volatile article keeps its interval
            soon = policy.after_change(page.fetched_at)[1]
            next_check = min(next_check, soon) if next_check else soon
        update: dict[str, Any] = {
            "$set": {
                "content_hash": (not hold and page.content_hash) or article.get("content_hash"),
                "held_hash": hold,
                "status": "active" if next_check else "dormant",
                "interval": interval,
                **schedule_fields(next_check),
                # a held change is a change seen at this check (so volatility counts it)
                **check_fields(article, current is not None or changed or bool(hold), policy),
                **fetch_state(page),
            }
        }
        if current is not None:
            update["$set"].update(current_version=current["version"], title=current["title"])
            update["$inc"] = {"flip_flops": 1}
        elif article and "current_version" not in article:  # stored before it existed
            update["$set"].update(self._migrated_current(page.url, update["$set"]["content_hash"]))
        if skipped:
            update["$set"].update(raw_hash="", etag=None, last_modified=None)
            if recount:
                update["$set"]["last_changed"] = page.fetched_at
                update["$inc"] = {"skipped_changes": 1, "unstored_changes": 1}
        if rebaseline:
            update["$set"]["extractor"] = page.extractor
        self.store.articles.update_one({"_id": page.url}, update)

    def _migrated_current(self, url: str, text_hash: str) -> dict[str, Any]:
        """``current_version`` (and its title) for an article stored before the field existed,
        which an older flip-flop rule may have left showing the other side of a toggle."""
        shown = self.versions.latest_with_text(url, text_hash)
        if shown is None:  # a rebaselined text: the latest version stays the one shown
            latest = self.store.versions.find_one(
                {"url": url}, {"version": 1}, sort=[("version", DESCENDING)]
            )
            return {"current_version": latest["version"]} if latest else {}
        return {"current_version": shown["version"], "title": shown["title"]}
