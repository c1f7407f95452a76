"""Item pipelines: extract -> normalize -> hash -> change detection.

Store calls run on the crawl's store thread (see ``store.StoreThread``), off the reactor.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NoReturn

from itemadapter import ItemAdapter
from pymongo.errors import ConnectionFailure
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

from newscrawl.extract import EXTRACTOR_VERSION, extract_article
from newscrawl.normalize import clean_text, content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.sources import Source
from newscrawl.spool import Spool
from newscrawl.store import crawler_store
from newscrawl.tracker import UNCHANGED, Fetched, Outcome, Tracker

logger = logging.getLogger(__name__)


def crawler_sources(crawler: Crawler) -> dict[str, Source]:
    spider = crawler.spider
    return getattr(spider, "sources_by_name", {}) if spider else {}


class ExtractPipeline:
    """HTML -> title, paragraphs, byline, dates; drops (and records) pages with no article.

    Extraction is CPU-bound, so it runs in a pool of ``NEWSCRAWL_EXTRACT_WORKERS`` processes
    (default: one per core; 0 = in the crawl process) while the reactor keeps downloading.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.workers = crawler.settings.getint("NEWSCRAWL_EXTRACT_WORKERS", os.cpu_count() or 1)
        self.timeout = crawler.settings.getfloat("NEWSCRAWL_EXTRACT_TIMEOUT", 60.0)
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.workers > 0:
            # spawn, not fork: the crawl process runs threads and a reactor
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)

    def close_spider(self) -> None:
        # Every item is done by now; a worker still busy is stuck on a timed-out page.
        self._stop_pool()

    def _stop_pool(self) -> None:
        """Stop the pool without waiting: kill its workers, since a runaway extraction
        (pathological regex backtracking, say) never returns by itself. Python 3.11's
        ProcessPoolExecutor has no public terminate, hence ``_processes``."""
        if self.pool is None:
            return
        workers = list(self.pool._processes.values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.kill()
        self.pool = None

    def _restart_pool(self, failed: ProcessPoolExecutor | None) -> None:
        """Replace the pool that had a stuck or dead worker (once, however many of its pages
        fail); its other pages in flight fail with BrokenProcessPool, retried next check."""
        if failed is not None and failed is self.pool:
            self._stop_pool()
            self.open_spider()

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["not_modified"]:
            return item
        source = crawler_sources(self.crawler).get(adapter["source"])
        html, adapter["html"] = adapter["html"], ""
        url = adapter["response_url"] or adapter["url"]
        overrides, pool = source.extraction if source else None, self.pool
        try:
            if pool is None:
                article = extract_article(html, url, overrides)
            else:
                future = pool.submit(extract_article, html, url, overrides)
                article = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            self._restart_pool(pool)
            await self._fail(adapter, "extract-timeout", f"extraction took over {self.timeout}s")
        except BrokenProcessPool as exc:  # a worker died (out of memory, killed)
            self._restart_pool(pool)
            await self._fail(adapter, "extract-crashed", str(exc))
        if article is None:
            await self._fail(adapter, "no-article", "no article title or body found in the page")
        adapter["title"] = article.title
        adapter["paragraphs"] = article.paragraphs
        adapter["byline"] = article.byline
        adapter["published"] = article.published
        adapter["modified"] = article.modified
        adapter["other_headlines"] = article.other_headlines
        adapter["extractor"] = EXTRACTOR_VERSION
        return item

    async def _fail(self, adapter: ItemAdapter, reason: str, message: str) -> NoReturn:
        """Record the failure (a tracked article is retried later) and drop the item."""
        await self.crawler.spider.record_article_error(
            adapter["url"], adapter["source"], reason, message, at=adapter["fetched_at"]
        )
        raise DropItem(f"{reason}: {adapter['url']}")


class NormalizePipeline:
    """Display text as published, minus control characters and redundant whitespace."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["not_modified"]:
            return item
        adapter["title"] = clean_text(adapter["title"])
        adapter["paragraphs"] = [p for p in map(clean_text, adapter["paragraphs"]) if p]
        adapter["other_headlines"] = [h for h in map(clean_text, adapter["other_headlines"]) if h]
        if not adapter["title"] and not adapter["paragraphs"]:
            raise DropItem(f"empty article at {adapter['url']}")
        return item


class HashPipeline:
    """Content hash over the normalized text, plus the loose hash used to flag minor edits."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["not_modified"]:
            return item
        text = adapter["title"], adapter["paragraphs"], adapter["other_headlines"]
        adapter["content_hash"] = content_hash(*text)
        adapter["loose_hash"] = loose_hash(*text)
        return item


class ChangeDetectionPipeline:
    """Stores version 1 on first sight, version n+1 on a new hash, else only moves the schedule.

    Store outages: a write is retried ``NEWSCRAWL_STORE_RETRIES`` times with backoff; if the
    store is still unreachable the page goes to the on-disk spool and the crawl stops with
    finish reason ``store_unavailable`` (non-zero exit). The next run writes the spool first.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.policy = RevisitPolicy.from_settings(crawler.settings)
        self.retries = crawler.settings.getint("NEWSCRAWL_STORE_RETRIES", 5)
        self.spool = Spool.from_settings(crawler.settings)
        self.tracker: Tracker | None = None
        self.store_down = False
        self._closing: Deferred | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChangeDetectionPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        thread = crawler_store(self.crawler)
        settings = self.crawler.settings
        self.tracker = Tracker(
            thread.store, self.policy, settings.getbool("NEWSCRAWL_FURNITURE", True),
            settings.getint("NEWSCRAWL_TEMPLATE_ARTICLES", 2),
        )  # fmt: skip
        replayed = thread.call_sync(self.spool.replay, self._record)
        if replayed:
            logger.info("wrote %d pages spooled by an earlier run", replayed)
            self.crawler.stats.set_value("newscrawl/spool/replayed", replayed)

    def _record(self, page: Fetched) -> Outcome:
        assert self.tracker is not None
        return self.tracker.record(page, self.crawler.spider.policy_for(page.source))

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        page = Fetched(
            url=adapter["url"],
            source=adapter["source"],
            fetched_at=adapter["fetched_at"],
            title=adapter["title"],
            paragraphs=list(adapter["paragraphs"]),
            content_hash=adapter["content_hash"],
            loose_hash=adapter["loose_hash"],
            byline=adapter["byline"],
            published=adapter["published"],
            modified=adapter["modified"],
            other_headlines=list(adapter["other_headlines"]),
            extractor=adapter["extractor"],
            response_url=adapter["response_url"],
            raw_hash=adapter["raw_hash"],
            etag=adapter["etag"],
            last_modified=adapter["last_modified"],
        )
        outcome = await self._write(page)
        adapter["outcome"] = outcome.kind
        adapter["version"] = outcome.version
        self.crawler.stats.inc_value(f"newscrawl/articles/{outcome.kind}")
        for warning in outcome.warnings:
            self.crawler.stats.inc_value(f"newscrawl/health/{warning}")
            self.crawler.stats.inc_value(f"newscrawl/health/{warning}/{page.source}")
            logger.warning("extraction health: %s on %s (version %d)", warning, page.url,
                           outcome.version)  # fmt: skip
        if outcome.kind != UNCHANGED:
            logger.info(
                "%s: %s (version %d%s)", outcome.kind, page.url, outcome.version,
                ", minor" if outcome.minor else "",
            )  # fmt: skip
        return item

    async def _write(self, page: Fetched) -> Outcome:
        thread = crawler_store(self.crawler)
        for attempt in range(self.retries + 1):
            if self.store_down:
                break
            try:
                return await thread.call(self._record, page)
            except ConnectionFailure as exc:
                delay = min(0.5 * 2**attempt, 8.0)
                logger.warning("store unreachable (%s); retry %d in %.1fs", exc, attempt + 1, delay)
                await asyncio.sleep(delay)
        await self._spool(page)
        raise DropItem(f"store unavailable, {page.url} spooled to {self.spool.path}")

    async def _spool(self, page: Fetched) -> None:
        self.spool.add(page)
        self.crawler.stats.inc_value("newscrawl/spool/written")
        if not self.store_down:
            self.store_down = True
            logger.error(
                "store unreachable after %d retries: stopping the crawl; pending pages are kept "
                "in %s and written by the next run",
                self.retries, self.spool.directory,
            )  # fmt: skip
            # Not awaited: closing waits for in-flight items, this one included.
            self._closing = deferred_from_coro(
                self.crawler.engine.close_spider_async(reason="store_unavailable")
            )
