"""Change detection: decide whether a fetched article is new, unchanged or a new version.

Version numbers are claimed by inserting ``(url, version)`` into ``versions``, which has a
unique index: of several processes storing the same article at once, one insert wins and
the others get a DuplicateKeyError, re-read the latest version and decide again. So no
version number is ever doubled or skipped, and a text stored by another process counts as
"already stored".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, cast

from pymongo import DESCENDING

from newscrawl import events, unstable
from newscrawl.article import Fetched
from newscrawl.bounds import unpack_version
from newscrawl.checks import ArticleWrites, check_fields
from newscrawl.due import schedule_fields
from newscrawl.furniture import furniture_only
from newscrawl.holding import Holding, confirms
from newscrawl.schedule import RevisitPolicy
from newscrawl.snapshots import RawPage
from newscrawl.store import Store
from newscrawl.versions import Versions

logger = logging.getLogger(__name__)

MAX_CLAIM_ATTEMPTS = 20

NEW = "new"  # first sight: version 1 stored
CHANGED = "changed"  # a new version stored
REVERT = "revert"  # a new version whose text equals an earlier version's
UNCHANGED = "unchanged"  # same text as the latest version
FLIP_FLOP = "flip-flop"  # a back-and-forth between two versions already recorded
SKIPPED = "skipped"  # a change of a volatile article over its daily cap of versions: counted
# The first check of an article by a newer extractor: its text becomes the new baseline
# without a version, so an upgrade that extracts some pages differently makes no versions.
# An edit published since the previous check is folded into the baseline (logged).
REBASELINE = "rebaseline"
# A new text differing from the latest version only in short non-sentence blocks (a dateline,
# a counter, a credit line; see newscrawl.furniture): no version, the hash moves on.
FURNITURE = "furniture"
# A new text that a second fetch did not show: only furniture rotating per request changed
# (see newscrawl.confirm); no version, the hash moves on.
ROTATING = "rotating"
# A re-check's new text waiting for the next check to confirm it (see newscrawl.holding).
HELD = "held"


@dataclass(frozen=True)
class Outcome:
    kind: str
    version: int
    minor: bool = False
    revert_of: int | None = None
    # extraction health (newscrawl.health), then writes the store refused (newscrawl.bounds)
    warnings: tuple[str, ...] = ()
    # a held fetch this check confirmed (the version's text): the page it was served as
    evidence: RawPage | None = None


class Tracker:
    def __init__(
        self, store: Store, policy: RevisitPolicy, furniture: bool = True,
        on_version: Callable[[dict[str, Any]], Any] | None = None,
        on_event: Callable[[dict[str, Any]], Any] | None = None,
        hold: bool = False,
    ) -> None:  # fmt: skip
        self.store = store
        self.policy = policy
        self.furniture = furniture  # NEWSCRAWL_FURNITURE
        self.hold = hold  # NEWSCRAWL_HOLD_CHANGES
        self.holding = Holding(store)
        # Called with each version document once its diff is written, before the article
        # update; also when a later check completes a version whose run died before that
        # update (so a crash between the writes loses no notification): must be idempotent.
        self.on_version = on_version
        self.versions = Versions(store, on_version)  # a new version's and diff's writes
        self.writes = ArticleWrites(store, self.versions)  # the article's, after each check
        self.on_event = on_event  # called with each event recorded (newscrawl.events)

    def record(
        self, page: Fetched, policy: RevisitPolicy | None = None, raw: RawPage | None = None
    ) -> Outcome:
        """Store what this fetch means for the article's history and schedule (``raw``: the
        page as served, kept with a held change)."""
        policy = policy or self.policy
        article = self.store.articles.find_one({"_id": page.url})
        outcome = self._decide(page, article, policy, raw)
        if article and (article.get("gone") or article.get("status") == "removed"):
            self._came_back(page, article, outcome, policy)
        return outcome

    def _came_back(
        self, page: Fetched, article: dict[str, Any], outcome: Outcome, policy: RevisitPolicy
    ) -> None:
        """The page answers again: a sign it was gone is forgotten; a removed article is
        tracked again as a fresh one (``reappeared`` event; a new version when its text
        differs, stored at the time it came back)."""
        update: dict[str, Any] = {"gone": None}
        if article.get("status") == "removed":
            interval, next_check = policy.after_change(page.fetched_at)
            update.update(status="active", interval=interval, **schedule_fields(next_check),
                          removed_at=None, removed_reason=None)  # fmt: skip
            event = events.record_event(
                self.store.db, page.url, "reappeared", page.fetched_at, page.source,
                version=outcome.version, changed=outcome.kind in (CHANGED, REVERT),
                removed_at=article.get("removed_at"),
            )  # fmt: skip
            if self.on_event is not None:
                self.on_event(event)
            logger.info("reappeared: %s (version %d)", page.url, outcome.version)
        self.store.articles.update_one({"_id": page.url}, {"$set": update})

    def _decide(
        self,
        page: Fetched,
        article: dict[str, Any] | None,
        policy: RevisitPolicy,
        raw: RawPage | None = None,
        confirmed: bool = False,
    ) -> Outcome:
        """``confirmed``: a held fetch that a later check confirmed, stored without holding."""
        if article and article.get("held_hash"):
            waiting = self.holding.get(page.url, article["held_hash"])
            shown = self._shown(page.url, article)
            # A held fetch is judged against the version it was held against: one extracted
            # by an older extractor than the stored text (a re-extraction since) is released.
            # At an upgrade it still confirms, and the new text is then rebaselined.
            stale = waiting is not None and waiting.page.extractor != article.get("extractor", 1)
            if waiting and shown and not stale and article.get("status") != "removed":
                if confirms(shown, waiting.page, page, unstable.counts(article)):
                    return self._confirm(waiting.page, waiting.raw, page, policy, raw)
                self.holding.drop_transient(shown, waiting.page, page.fetched_at)
            else:
                self.holding.release(page.url)
            article = {**article, "held_hash": None}  # every write below clears it
        not_modified = not page.content_hash
        same_text = article is not None and article.get("content_hash") == page.content_hash
        # The text of a change the volatile cap skipped, seen again: stored once the cap allows.
        held = (
            article is not None
            and same_text
            and not not_modified
            and bool(article.get("unstored_changes"))
        )
        if article and (not_modified or same_text) and not held:
            return self._unchanged(page, article, policy, int(article.get("versions", 0)))
        if article and int(article.get("extractor", 1)) < page.extractor:
            return self._unchanged(
                page, article, policy, int(article.get("versions", 0)), rebaseline=True
            )
        if not_modified:  # an article deleted from the store meanwhile: nothing to update
            return Outcome(kind=UNCHANGED, version=0)
        if article and self.furniture and self._furniture_only(page, article):
            return self._unchanged(
                page, article, policy, int(article.get("versions", 0)), furniture=True
            )
        if article and page.rotating:
            return self._unchanged(
                page, article, policy, int(article.get("versions", 0)), rotating=True
            )
        for _ in range(MAX_CLAIM_ATTEMPTS):
            latest = self.versions.latest(page.url)
            if latest and latest["content_hash"] == page.content_hash:
                article = article or self.store.articles.find_one({"_id": page.url})
                return self._complete(page, latest, article, policy)
            # a removed article back is tracked afresh: its text is stored at once
            returned = article and article.get("status") == "removed"
            if self.hold and not confirmed and article and latest and not held and not returned:
                self.holding.hold(page, raw)
                return self._unchanged(
                    page, article, policy, latest["version"], hold=page.content_hash
                )
            shown = self.versions.shown(page.url, article, latest)
            revert_of = self.versions.earlier(page)
            if shown and revert_of and self.versions.is_flip_flop(page, shown):
                article = article or self.store.articles.find_one({"_id": page.url}) or {}
                current = self.versions.latest_with_text(page.url, page.content_hash)
                assert current is not None  # the text is an earlier version's (revert_of)
                return self._unchanged(page, article, policy, current["version"], current=current)
            if article and latest and self._over_daily_cap(page, article, policy):
                return self._unchanged(
                    page, article, policy, latest["version"], skipped=True, recount=not held
                )
            skipped = int(article.get("unstored_changes", 0)) if article else 0
            added = self.versions.add(page, latest, revert_of, shown, skipped)
            if added is not None:
                number = added.version
                outcome = Outcome(
                    kind=NEW if number == 1 else REVERT if revert_of else CHANGED,
                    version=number, minor=added.minor, revert_of=revert_of,
                    warnings=added.warnings,
                )  # fmt: skip
                # a confirmed held fetch was counted as a change at the check that held it
                changed = None if confirmed else not held
                self.writes.changed(page, number, policy, article, changed)
                return outcome
        raise RuntimeError(f"could not claim a version number for {page.url}")

    def pending_change(self, page: Fetched) -> dict[str, Any] | None:
        """The version shown at the last check, when this fetch of a tracked article would be
        stored as a new version after it (not new, unchanged, furniture, a rebaseline, a
        return to a text already stored, or a held text seen again); else None. Reads only."""
        article = self.store.articles.find_one({"_id": page.url})
        if not article or not page.content_hash or article.get("content_hash") == page.content_hash:
            return None
        if article.get("held_hash") == page.content_hash:
            return None  # the check that confirms a held change: two fetches agree already
        if int(article.get("extractor", 1)) < page.extractor:
            return None
        shown = self._shown(page.url, article)
        if shown is None or self.versions.earlier(page) is not None:
            return None
        if self.furniture and self._furniture_against(shown, page):
            return None
        return shown

    # decisions --------------------------------------------------------------------------
    def _over_daily_cap(
        self, page: Fetched, article: dict[str, Any], policy: RevisitPolicy
    ) -> bool:
        """A volatile article (this change counted) that has its day's versions already."""
        if not check_fields(article, True, policy)["volatile"]:
            return False
        since = page.fetched_at - timedelta(days=1)
        stored = self.store.versions.count_documents(
            {"url": page.url, "fetched_at": {"$gt": since}}
        )
        return stored >= policy.volatile_versions_per_day

    def _furniture_only(self, page: Fetched, article: dict[str, Any]) -> bool:
        """The text differs from the version the page showed only in furniture (see
        ``newscrawl.furniture``)."""
        shown = self._shown(page.url, article)
        return shown is not None and self._furniture_against(shown, page)

    def _shown(self, url: str, article: dict[str, Any]) -> dict[str, Any] | None:
        """The version the page showed at the last check, its text unpacked."""
        return unpack_version(self.versions.shown(url, article, self.versions.latest(url)))

    @staticmethod
    def _furniture_against(shown: dict[str, Any], page: Fetched) -> bool:
        return furniture_only(
            shown["title"], shown["paragraphs"], shown.get("other_headlines", []),
            page.title, page.paragraphs, page.other_headlines,
        )  # fmt: skip

    # writes -----------------------------------------------------------------------------
    def _confirm(
        self,
        held: Fetched,
        evidence: RawPage | None,
        page: Fetched,
        policy: RevisitPolicy,
        raw: RawPage | None,
    ) -> Outcome:
        """This fetch shows the held change: the held fetch becomes the version (at its own
        time), then this fetch is decided against it."""
        article = self.store.articles.find_one({"_id": held.url})
        cleared = {**(article or {}), "held_hash": None}
        outcome = self._decide(held, cleared, policy, confirmed=True)
        self.holding.release(held.url)
        if page.content_hash != held.content_hash or page.fetched_at != held.fetched_at:
            self._decide(page, self.store.articles.find_one({"_id": page.url}), policy, raw)
        if outcome.kind in (CHANGED, REVERT):
            return replace(outcome, evidence=evidence or raw)
        return outcome

    def _complete(
        self,
        page: Fetched,
        latest: dict[str, Any],
        article: dict[str, Any] | None,
        policy: RevisitPolicy,
    ) -> Outcome:
        """The text is the latest stored version. If the run that stored it died before its
        diff or article update (kill -9 between writes), finish those writes now."""
        number = latest["version"]
        if (
            number > 1
            and not latest.get("diff_error")
            and not self.store.diffs.find_one({"url": page.url, "version": number}, {"_id": 1})
        ):
            previous = self.store.versions.find_one(
                {"url": page.url, "version": {"$lt": number},
                 "content_hash": latest["previous_hash"]},
                sort=[("version", DESCENDING)],
            )  # fmt: skip
            self.versions.add_diff(latest, cast(dict[str, Any], previous))
        if article is None or int(article.get("versions", 0)) < number:
            if self.on_version is not None:
                self.on_version(latest)
            self.writes.changed(page, number, policy, article)
            return Outcome(kind=UNCHANGED, version=number)
        if article.get("content_hash") == page.content_hash:  # all written by another process
            return self._unchanged(page, article, policy, number)
        if int(article.get("current_version") or number) == number and not article.get(
            "unstored_changes"
        ):  # back from a furniture-only change: the page showed this version all along
            return self._unchanged(page, article, policy, number)
        # The article had another text at the last check (the other side of a toggle, or a
        # change a volatile article's cap skipped): the page is back on the latest version.
        return self._unchanged(page, article, policy, number, current=latest)

    def _unchanged(
        self,
        page: Fetched,
        article: dict[str, Any],
        policy: RevisitPolicy,
        version: int,
        current: dict[str, Any] | None = None,
        skipped: bool = False,
        rebaseline: bool = False,
        furniture: bool = False,
        rotating: bool = False,
        recount: bool = True,
        hold: str | None = None,
    ) -> Outcome:
        """No new version (``furniture``, ``rotating``: why, for the outcome's kind); the
        article's write is ``ArticleWrites.unchanged``."""
        self.writes.unchanged(page, article, policy, current, skipped, rebaseline, recount, hold)
        kind = (
            FLIP_FLOP if current is not None
            else SKIPPED if skipped
            else REBASELINE if rebaseline
            else FURNITURE if furniture
            else ROTATING if rotating
            else HELD if hold
            else UNCHANGED
        )  # fmt: skip
        return Outcome(kind=kind, version=version)
