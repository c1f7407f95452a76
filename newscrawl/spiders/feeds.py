"""The ``feeds`` spider: poll every source's feeds, sitemaps and pages, fetch new articles,
re-check due ones (and those whose sitemap date moved).

Feeds, sitemaps, robots.txt files and pages are all "polled documents"
(``newscrawl.spiders.polling``): asked conditionally, one record each in the ``feeds``
collection (``kind``; ``found``: the feeds or sitemaps they led to, followed again when they
answer 304), one error record per failure. Articles are fetched and judged by
``newscrawl.spiders.articles``.

Arguments (``-a name=value``):

* ``recheck``: ``due`` (default) re-checks tracked articles whose next check has come,
  ``all`` re-checks every tracked article now, ``none`` only polls feeds.
* ``sources``: comma-separated source names to limit the run to.
* ``shard``: ``i/N`` polls only the i-th of N disjoint parts of the feeds (0-based), so N
  nodes share the feeds without overlap. Due articles need no shard: each run leases the
  ones it re-checks (``NEWSCRAWL_LEASE_SECONDS``), and a crashed run's leases expire.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import scrapy
from scrapy import signals

from newscrawl.crawlstore import CLOSE_SPIDER
from newscrawl.holding import Holding
from newscrawl.pipelines import NotStored
from newscrawl.sources import SourcesError, load_sources
from newscrawl.spiders.polling import PollingCallbacks
from newscrawl.spiders.shards import in_shard, parse_shard
from newscrawl.store import transient_error, utcnow

logger = logging.getLogger(__name__)

RECHECK_MODES = ("due", "all", "none")


class FeedsSpider(PollingCallbacks):
    name = "feeds"

    def __init__(
        self, recheck: str = "due", sources: str = "", shard: str = "0/1", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if recheck not in RECHECK_MODES:
            raise ValueError(f"recheck must be one of {RECHECK_MODES}, got {recheck!r}")
        self.recheck = recheck
        self.shard, self.shards = parse_shard(shard)
        self.lease_tokens: list[str] = []
        self.only_sources = {s.strip() for s in sources.split(",") if s.strip()}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FeedsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        path = crawler.settings.get("NEWSCRAWL_SOURCES") or None
        try:
            sources = load_sources(path)
        except SourcesError as exc:
            raise SourcesError(f"NEWSCRAWL_SOURCES: {exc}") from exc
        if spider.only_sources:
            unknown = spider.only_sources - {s.name for s in sources}
            if unknown:
                raise ValueError(f"unknown sources {sorted(unknown)}")
            sources = [s for s in sources if s.name in spider.only_sources]
        spider.sources_by_name = {s.name: s for s in sources}
        crawler.signals.connect(spider.item_dropped, signal=signals.item_dropped)
        return spider

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        """A page listed by a feed that was not stored: the feed is polled in full next time
        (its validators are not saved)."""
        if isinstance(exception, NotStored) and getattr(item, "feed", None):
            self.incomplete_feeds.add(item.feed)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.crawl.at_close(CLOSE_SPIDER, self.close_store_work)
        for source in self.sources_by_name.values():
            polled = [("feed", source.feeds), ("sitemap", source.sitemaps),
                      ("robots", source.robots_urls()), ("page", source.pages)]  # fmt: skip
            for kind, urls in polled:
                for url in urls:
                    if in_shard(url, self.shard, self.shards):
                        request = await self.poll_request(kind, url, source)
                        if request is not None:
                            yield request
        async for article in self._claim_rechecks():
            tracked_source = self.sources_by_name.get(article.get("source", ""))
            # an article re-checked on a sitemap hint already is not asked for twice
            if tracked_source is not None and article["_id"] not in self.requested:
                yield self.article_request(article["_id"], tracked_source, tracked=article)

    async def _claim_rechecks(self) -> AsyncIterator[dict[str, Any]]:
        """List the due articles once, then lease them in batches as the crawl asks for
        more, so a run holds (and keeps in memory) only what it is about to fetch, several
        nodes share the work, and no batch reads the whole articles collection again."""
        self.crawler.stats.set_value("newscrawl/articles/rechecks", 0)
        if self.recheck == "none":
            return
        thread, settings = self.store, self.settings
        batch_size = settings.getint("NEWSCRAWL_CLAIM_BATCH")
        round_started = utcnow() if self.recheck == "all" else None
        listed = await thread.call(
            thread.store.due_articles,
            utcnow(),
            settings.getint("NEWSCRAWL_RECHECK_LIMIT"),
            everything_checked_before=round_started,
        )
        for start in range(0, len(listed), batch_size):
            token, batch = await thread.call(
                thread.store.claim_articles,
                utcnow(),
                batch_size,
                settings.getfloat("NEWSCRAWL_LEASE_SECONDS"),
                everything_checked_before=round_started,
                among=listed[start : start + batch_size],
            )
            self.lease_tokens.append(token)  # released at close, claimed or not
            self.crawler.stats.inc_value("newscrawl/articles/rechecks", len(batch))
            for article in batch:
                yield article

    async def close_store_work(self, reason: str) -> None:
        """Save complete feeds' validators, give back unchecked leases and prune old error
        records and listings (first in the crawl store's close sequence, ``CLOSE_SPIDER``;
        the store may be down, then leases expire by themselves)."""
        thread = self.store
        try:
            if reason == "finished":
                complete = {
                    feed: validators
                    for feed, validators in self.feed_validators.items()
                    if feed not in self.incomplete_feeds
                }
                await thread.call(thread.store.save_feed_validators, complete)
            released = 0
            for token in self.lease_tokens:
                released += await thread.call(thread.store.release_leases, token)
            if released:
                logger.info("released %d unchecked article leases (%s)", released, reason)
            pruned = await thread.call(
                thread.store.bound_errors, utcnow(),
                self.settings.getfloat("NEWSCRAWL_ERRORS_TTL"),
                self.settings.getint("NEWSCRAWL_ERRORS_MAX"),
            )  # fmt: skip
            if pruned:
                logger.info("deleted %d old error records", pruned)
            transient_ttl = self.settings.getfloat("NEWSCRAWL_TRANSIENT_TTL")
            if transient_ttl > 0:
                before = utcnow() - timedelta(seconds=transient_ttl)
                await thread.call(Holding(thread.store).prune, before)
            stop_after = timedelta(seconds=self.crawl.policy.stop_after)
            await thread.call(thread.store.prune_listings, utcnow() - stop_after)
        except Exception as exc:
            if not transient_error(exc):
                raise
            logger.warning("store unavailable at close (%s): leases expire by themselves", exc)
