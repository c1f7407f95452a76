"""Change detection: decide whether a fetched article is new, unchanged or a new version.

Version numbers are claimed by inserting ``(url, version)`` into ``versions``, which has a
unique index: of several processes storing the same article at once, one insert wins and
the others get a DuplicateKeyError, re-read the latest version and decide again. So no
version number is ever doubled or skipped, and a text stored by another process counts as
"already stored".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from newscrawl.diff import diff_versions
from newscrawl.furniture import furniture_only
from newscrawl.health import extraction_warnings, word_count
from newscrawl.schedule import RevisitPolicy
from newscrawl.store import LEASE_FREE, Store, as_utc
from newscrawl.template import Templates

logger = logging.getLogger(__name__)

MAX_CLAIM_ATTEMPTS = 20

NEW = "new"  # first sight: version 1 stored
CHANGED = "changed"  # a new version stored
REVERT = "revert"  # a new version whose text equals an earlier version's
UNCHANGED = "unchanged"  # same text as the latest version
FLIP_FLOP = "flip-flop"  # a back-and-forth between two versions already recorded
# The first check of an article by a newer extractor: its text becomes the new baseline
# without a version, so an upgrade that extracts some pages differently makes no versions.
# An edit published since the previous check is folded into the baseline (logged).
REBASELINE = "rebaseline"
# A new text differing from the latest version only in short non-sentence blocks (a dateline,
# a counter, a credit line; see newscrawl.furniture): no version, the hash moves on.
FURNITURE = "furniture"


@dataclass(frozen=True)
class Fetched:
    """One fetched and extracted article, as the pipelines hand it over.

    An empty ``content_hash`` means "not modified" (304 or byte-identical body): nothing was
    extracted, only the schedule and validators move on.
    """

    url: str
    source: str
    fetched_at: datetime
    title: str
    paragraphs: list[str]
    content_hash: str
    loose_hash: str
    byline: str | None = None
    published: str | None = None
    modified: str | None = None
    other_headlines: list[str] = field(default_factory=list)
    extractor: int = 1  # newscrawl.extract.EXTRACTOR_VERSION that produced the text
    response_url: str | None = None
    raw_hash: str = ""
    etag: str | None = None
    last_modified: str | None = None

    def fetch_state(self) -> dict[str, Any]:
        """Article fields every check refreshes: validators for the next conditional GET."""
        return {
            "last_checked": self.fetched_at,
            "raw_hash": self.raw_hash,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "errors": 0,
            **LEASE_FREE,
        }


@dataclass(frozen=True)
class Outcome:
    kind: str
    version: int
    minor: bool = False
    revert_of: int | None = None
    warnings: tuple[str, ...] = ()  # extraction health, see newscrawl.health


class Tracker:
    def __init__(
        self,
        store: Store,
        policy: RevisitPolicy,
        furniture: bool = True,
        template_articles: int = 0,
    ) -> None:
        self.store = store
        self.policy = policy
        self.furniture = furniture  # NEWSCRAWL_FURNITURE
        # NEWSCRAWL_TEMPLATE_ARTICLES: the per-source template (0: none)
        self.templates = (
            Templates(store, template_articles) if furniture and template_articles else None
        )

    def record(self, page: Fetched, policy: RevisitPolicy | None = None) -> Outcome:
        """Store what this fetch means for the article's history and schedule."""
        policy = policy or self.policy
        article = self.store.articles.find_one({"_id": page.url})
        not_modified = not page.content_hash
        if article and (not_modified or article.get("content_hash") == page.content_hash):
            return self._unchanged(page, article, policy, int(article.get("versions", 0)))
        if article and int(article.get("extractor", 1)) < page.extractor:
            return self._unchanged(
                page, article, policy, int(article.get("versions", 0)), rebaseline=True
            )
        if not_modified:  # an article deleted from the store meanwhile: nothing to update
            return Outcome(kind=UNCHANGED, version=0)
        if article and self.furniture and self._furniture_only(page):
            return self._unchanged(
                page, article, policy, int(article.get("versions", 0)), furniture=True
            )
        for _ in range(MAX_CLAIM_ATTEMPTS):
            latest = self.store.versions.find_one({"url": page.url}, sort=[("version", DESCENDING)])
            if latest and latest["content_hash"] == page.content_hash:
                article = article or self.store.articles.find_one({"_id": page.url})
                return self._complete(page, latest, article, policy)
            revert_of = self._earlier_version(page)
            if latest and revert_of and self._is_flip_flop(page, latest):
                article = article or self.store.articles.find_one({"_id": page.url}) or {}
                return self._unchanged(page, article, policy, latest["version"], flip_flop=True)
            outcome = self._store_version(page, latest, revert_of)
            if outcome is not None:
                if self.templates is not None:
                    self.templates.learn(page.source, page.url, page.paragraphs)
                self._after_change(page, outcome, policy)
                return outcome
        raise RuntimeError(f"could not claim a version number for {page.url}")

    # decisions --------------------------------------------------------------------------
    def _earlier_version(self, page: Fetched) -> int | None:
        earlier = self.store.versions.find_one(
            {"url": page.url, "content_hash": page.content_hash}, sort=[("version", 1)]
        )
        return earlier["version"] if earlier else None

    def _is_flip_flop(self, page: Fetched, latest: dict[str, Any]) -> bool:
        """The move latest -> this text was already recorded once: do not record it again."""
        return (
            self.store.versions.find_one(
                {
                    "url": page.url,
                    "content_hash": page.content_hash,
                    "previous_hash": latest["content_hash"],
                },
                {"_id": 1},
            )
            is not None
        )

    def _furniture_only(self, page: Fetched) -> bool:
        latest = self.store.versions.find_one({"url": page.url}, sort=[("version", DESCENDING)])
        if latest is None:
            return False
        template: frozenset[str] = frozenset()
        if self.templates is not None:
            both = [*latest["paragraphs"], *page.paragraphs]
            template = self.templates.blocks(page.source, page.url, both)
        return furniture_only(
            latest["title"], latest["paragraphs"], latest.get("other_headlines", []),
            page.title, page.paragraphs, page.other_headlines, template=template,
        )  # fmt: skip

    # writes -----------------------------------------------------------------------------
    def _store_version(
        self, page: Fetched, latest: dict[str, Any] | None, revert_of: int | None
    ) -> Outcome | None:
        """Insert the next version; None when another process claimed that number first."""
        number = latest["version"] + 1 if latest else 1
        minor = bool(latest) and latest.get("loose_hash") == page.loose_hash
        warnings = extraction_warnings(page.paragraphs, latest["paragraphs"] if latest else None)
        doc = {
            "url": page.url,
            "version": number,
            "source": page.source,
            "fetched_at": page.fetched_at,
            "title": page.title,
            "other_headlines": page.other_headlines,
            "paragraphs": page.paragraphs,
            "byline": page.byline,
            "published": page.published,
            "modified": page.modified,
            "content_hash": page.content_hash,
            "loose_hash": page.loose_hash,
            "previous_hash": latest["content_hash"] if latest else None,
            "minor": minor,
            "revert_of": revert_of,
            "warnings": warnings,
        }
        try:
            self.store.versions.insert_one(doc)
        except DuplicateKeyError:
            logger.debug("version %s of %s stored concurrently; re-reading", number, page.url)
            return None
        if latest:
            self._store_diff(doc, latest)
        for warning in warnings:
            self.store.record_error(
                "extraction", page.url, page.source, warning,
                f"version {number}: {word_count(page.paragraphs)} words", page.fetched_at,
            )  # fmt: skip
        kind = NEW if number == 1 else REVERT if revert_of else CHANGED
        return Outcome(
            kind=kind, version=number, minor=minor, revert_of=revert_of, warnings=tuple(warnings)
        )

    def _store_diff(self, version: dict[str, Any], previous: dict[str, Any]) -> None:
        """Diff of ``version`` against ``previous`` (both version documents), written once."""
        diff = diff_versions(previous, version)
        doc = {
            "url": version["url"],
            "source": version["source"],
            "version": version["version"],
            "from_version": previous["version"],
            "fetched_at": version["fetched_at"],
            "previous_fetched_at": previous["fetched_at"],
            "minor": version["minor"],
            "revert_of": version["revert_of"],
            **{k: v for k, v in diff.items() if k != "minor"},
        }
        try:
            self.store.diffs.insert_one(doc)
        except DuplicateKeyError:  # written meanwhile by another crawler
            logger.debug("diff %s of %s already stored", version["version"], version["url"])

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
        if number > 1 and not self.store.diffs.find_one(
            {"url": page.url, "version": number}, {"_id": 1}
        ):
            previous = self.store.versions.find_one({"url": page.url, "version": number - 1})
            self._store_diff(latest, previous)
        if article is None or int(article.get("versions", 0)) < number:
            self._after_change(page, Outcome(kind=CHANGED, version=number), policy)
            return Outcome(kind=UNCHANGED, version=number)
        return self._unchanged(page, article, policy, number)

    def _after_change(self, page: Fetched, outcome: Outcome, policy: RevisitPolicy) -> None:
        interval, next_check = policy.after_change(page.fetched_at)
        update = {
            "$setOnInsert": {"first_seen": page.fetched_at, "flip_flops": 0},
            "$max": {"versions": outcome.version},
            "$set": {
                "url": page.url,
                "source": page.source,
                "title": page.title,
                "content_hash": page.content_hash,
                "status": "active",
                "extractor": page.extractor,
                "last_changed": page.fetched_at,
                "interval": interval,
                "next_check": next_check,
                "response_url": page.response_url,
                **page.fetch_state(),
            },
        }
        try:
            self.store.articles.update_one({"_id": page.url}, update, upsert=True)
        except DuplicateKeyError:
            # Two first upserts raced and the other inserted the document: update it.
            self.store.articles.update_one({"_id": page.url}, update)

    def _unchanged(
        self,
        page: Fetched,
        article: dict[str, Any],
        policy: RevisitPolicy,
        version: int,
        flip_flop: bool = False,
        rebaseline: bool = False,
        furniture: bool = False,
    ) -> Outcome:
        """Only the schedule moves on; a flip-flop (a toggle already recorded) is counted, a
        rebaseline takes the text's hash and extractor version."""
        last_changed = as_utc(article.get("last_changed") or page.fetched_at)
        interval, next_check = policy.after_unchanged(
            page.fetched_at, float(article.get("interval") or policy.initial), last_changed
        )
        update: dict[str, Any] = {
            "$set": {
                "content_hash": page.content_hash or article.get("content_hash"),
                "status": "active" if next_check else "dormant",
                "interval": interval,
                "next_check": next_check,
                **page.fetch_state(),
            }
        }
        if flip_flop:
            update["$inc"] = {"flip_flops": 1}
        if rebaseline:
            update["$set"]["extractor"] = page.extractor
        self.store.articles.update_one({"_id": page.url}, update)
        kind = FLIP_FLOP if flip_flop else REBASELINE if rebaseline else UNCHANGED
        kind = FURNITURE if furniture else kind
        return Outcome(kind=kind, version=version)
