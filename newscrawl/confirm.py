"""Confirmation re-fetch: a change is stored only if a second fetch shows it too.

Pages that rotate furniture on every request (a shuffled "most read" list, a random related
teaser, an A/B-tested headline, an ad slot's text) or that a server sometimes cuts short make a
new text on a re-check that is no edit. Two fetches a moment apart tell them apart from an
editor's change: an edit is in both, a rotation differs between them, a cut-short page is back
to the stored text in the second.

So when a re-check would store a new version, ``ConfirmPipeline`` fetches the page once more
(one extra request per would-be version, none for unchanged pages) and compares the stored
text S with the first fetch A and the second B:

* B has A's text: confirmed, A goes on to the tracker;
* B has S's text: A was transient; B goes on instead (unchanged);
* otherwise ``persistent_change(S, A, B)`` (``newscrawl.holding``): a block of A that B has
  too but S has not, a block of S that neither fetch has, or a new headline wording both
  fetches show (as the headline or another one), is an edit and A goes on;
  a change only in blocks where A and B disagree is rotation: no version (``rotating``).
  The blocks A and B disagree on are recorded as the article's rotation
  (``newscrawl.unstable``), and blocks seen rotating before are no evidence of an edit.

A fetch that fails, or a page that no longer extracts, confirms nothing: A goes on, so an edit
is never lost to a failed second request.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from typing import Any

import scrapy
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newscrawl import unstable
from newscrawl.article import ARTICLE_FIELDS, HASHES, Fetched
from newscrawl.crawlstore import CrawlStore
from newscrawl.holding import persistent_change
from newscrawl.pipelines import ExtractPipeline, HashPipeline, NormalizePipeline
from newscrawl.store import utcnow
from newscrawl.tracker import Tracker

logger = logging.getLogger(__name__)

CONFIRMED = "confirmed"
TRANSIENT = "transient"
ROTATING = "rotating"
UNCONFIRMED = "unconfirmed"  # the second fetch failed: the first goes on as it is


class ConfirmPipeline:
    """Between hashing and change detection: re-fetch a page whose text would make a new
    version, and let only a change both fetches show through (see the module docstring).
    ``NEWSCRAWL_CONFIRM_CHANGES = False`` turns it off (``NotConfigured``)."""

    def __init__(self, crawler: Crawler, crawl: CrawlStore, furniture: bool) -> None:
        self.crawler = crawler
        self.crawl = crawl
        self.furniture = furniture
        self.tracker: Tracker | None = None
        self._stages: list[Any] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConfirmPipeline:
        if not crawler.settings.getbool("NEWSCRAWL_CONFIRM_CHANGES", True):
            raise NotConfigured("NEWSCRAWL_CONFIRM_CHANGES is off")
        furniture = crawler.settings.getbool("NEWSCRAWL_FURNITURE", True)
        return cls(crawler, CrawlStore.of(crawler), furniture)

    def open_spider(self) -> None:
        self.tracker = Tracker(self.crawl.store, self.crawl.policy, self.furniture)
        assert self.crawler.engine is not None
        stages = self.crawler.engine.scraper.itemproc.middlewares
        kinds = (ExtractPipeline, NormalizePipeline, HashPipeline)
        self._stages = [stage for kind in kinds for stage in stages if isinstance(stage, kind)]

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["not_modified"]:
            return item
        assert self.tracker is not None
        page = Fetched.of(adapter)
        shown = await self.crawl.thread.call(self.tracker.pending_change, page)
        if shown is None:
            return item
        second = await self._refetch(item)
        seen = Counter[str]()
        if second is not None:  # what the two fetches disagree on is this page's rotation
            seen = await self.crawl.thread.call(
                unstable.remember, self.crawl.store, page.url,
                adapter["paragraphs"], ItemAdapter(second)["paragraphs"],
            )  # fmt: skip
        verdict = self._verdict(adapter, shown, second, seen)
        self.crawler.stats.inc_value(f"newscrawl/confirm/{verdict}")
        if verdict == TRANSIENT:  # the second fetch's text, hashes and extractor go on
            again = ItemAdapter(second)
            adapter.update({name: again[name] for name in (*ARTICLE_FIELDS, *HASHES)})
        elif verdict == ROTATING:
            adapter["rotating"] = True
        if verdict != CONFIRMED:
            logger.info("change on %s not confirmed by a second fetch: %s", adapter["url"], verdict)
        return item

    def _verdict(
        self, adapter: ItemAdapter, shown: dict[str, Any], second: Any | None, seen: Counter[str]
    ) -> str:
        if second is None:
            return UNCONFIRMED
        again = ItemAdapter(second)
        if again["content_hash"] == adapter["content_hash"]:
            return CONFIRMED
        if again["content_hash"] == shown["content_hash"]:
            return TRANSIENT
        stored, first, second_text = (
            (t["title"], t["paragraphs"], t.get("other_headlines") or [])
            for t in (shown, adapter, again)
        )
        if persistent_change(stored, first, second_text, seen):
            return CONFIRMED
        return ROTATING

    async def _refetch(self, item: Any) -> Any | None:
        """The page fetched again (no validators: the full body) and taken through the same
        extraction, normalization and hashing; None when that fails."""
        adapter = ItemAdapter(item)
        self.crawler.stats.inc_value("newscrawl/confirm/fetches")
        request = scrapy.Request(
            adapter["response_url"] or adapter["url"],
            dont_filter=True,
            meta={"confirm": True},
            priority=100,
        )
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:
            logger.info("confirmation fetch of %s failed: %s", adapter["url"], exc)
            return None
        if response.status != 200 or not isinstance(response, scrapy.http.TextResponse):
            return None
        second = copy.copy(item)
        again = ItemAdapter(second)
        again.update(body=response.body, encoding=response.encoding, fetched_at=utcnow(),
                     paragraphs=[], other_headlines=[], not_modified=False)  # fmt: skip
        try:
            for stage in self._stages:
                second = await _call(stage, second)
        except DropItem:
            return None
        ItemAdapter(second)["body"] = b""  # compared, never stored
        return second


async def _call(stage: Any, item: Any) -> Any:
    result = stage.process_item(item)
    return await result if hasattr(result, "__await__") else result
