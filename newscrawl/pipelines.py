"""Item pipelines: extract -> normalize -> hash -> change detection.

Store calls run on the crawl's store thread, off the reactor; the pipelines find it, the
sources and the policies through the crawler (``crawlstore.CrawlStore``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, NoReturn

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

import newscrawl
from newscrawl.article import Article, Fetched
from newscrawl.crawlstore import CrawlStore
from newscrawl.events import record_event
from newscrawl.extract import EXTRACTOR_VERSION, extract_response
from newscrawl.lifecycle import GONE_RESULTS, NOT_FOUND_PAGE, Lifecycle, not_found_page
from newscrawl.memory import return_freed_memory
from newscrawl.notifier import outbox_hooks
from newscrawl.snapshots import RawPage, RawSpool, Snapshots
from newscrawl.spool import Spool
from newscrawl.store import transient_error
from newscrawl.tracker import FLIP_FLOP, FURNITURE, HELD, REBASELINE, UNCHANGED, Outcome, Tracker
from newscrawl.wayback import WaybackQueue

logger = logging.getLogger(__name__)

# Reason recorded in ``errors`` for a page the store refused (see ChangeDetectionPipeline).
REJECTED = "store-rejected"


class NotStored(DropItem):
    """The page was spooled or set aside, not stored: the feed that listed it keeps its
    validators unsaved (the spider's ``item_dropped``), so the next poll lists it again."""


def worker_context() -> multiprocessing.context.BaseContext:
    """Where extraction workers come from: not forked from the crawl process, which runs
    threads and a reactor, but from a fork server that has run the extractor once
    (``newscrawl/extract/warm.py``); spawned where there is no fork server (Windows).
    Python 3.11's fork server imports its preload with the path it starts with (it is sent
    ``sys.path`` but does not apply it), so newscrawl's own directory (a checkout, scrapyd's
    egg) goes on its ``PYTHONPATH``: without it the warm-up is skipped without a word."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    root = str(Path(newscrawl.__file__).resolve().parents[1])
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["newscrawl.extract.warm"])
    return context


class ExtractPipeline:
    """HTML -> title, paragraphs, byline, dates; drops (and records) pages with no article.

    Extraction is CPU-bound, so it runs in a pool of ``NEWSCRAWL_EXTRACT_WORKERS`` processes
    (default: one per core; 0 = in the crawl process) while the reactor keeps downloading.
    """

    def __init__(
        self, crawl: CrawlStore, workers: int, timeout: float, return_freed: bool = True
    ) -> None:
        self.crawl = crawl
        self.workers = workers
        self.timeout = timeout
        self.return_freed = return_freed
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            CrawlStore.of(crawler),
            settings.getint("NEWSCRAWL_EXTRACT_WORKERS", os.cpu_count() or 1),
            settings.getfloat("NEWSCRAWL_EXTRACT_TIMEOUT", 60.0),
            settings.getbool("NEWSCRAWL_RETURN_FREED_MEMORY", True),
        )

    def open_spider(self) -> None:
        if self.return_freed:  # this process's page buffers; the workers' as they start
            return_freed_memory()
        if self.workers > 0:
            initializer = return_freed_memory if self.return_freed else None
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=worker_context(), initializer=initializer
            )

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
        source = self.crawl.sources_by_name.get(adapter["source"])
        body, encoding = adapter["body"], adapter["encoding"]
        url = adapter["response_url"] or adapter["url"]
        overrides, pool = source.extraction if source else None, self.pool
        try:
            if pool is None:
                article = extract_response(body, encoding, url, overrides)
            else:
                # Off the reactor: starting a worker waits for the fork server's warm-up.
                future = await asyncio.to_thread(
                    pool.submit, extract_response, body, encoding, url, overrides
                )
                article = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            self._restart_pool(pool)
            await self._fail(adapter, "extract-timeout", f"extraction took over {self.timeout}s")
        # A worker died (out of memory, killed), the fork server is gone, or the pool was
        # replaced while this page was being handed to it.
        except (BrokenProcessPool, OSError, EOFError, RuntimeError) as exc:
            self._restart_pool(pool)
            await self._fail(adapter, "extract-crashed", str(exc))
        if article is None:
            await self._fail(adapter, "no-article", "no article title or body found in the page")
        adapter.update(asdict(replace(article, extractor=EXTRACTOR_VERSION)))
        return item

    async def _fail(self, adapter: ItemAdapter, reason: str, message: str) -> NoReturn:
        """Record the failure (a tracked article is retried later) and drop the item."""
        await self.crawl.record_article_error(
            adapter["url"], adapter["source"], reason, message, at=adapter["fetched_at"]
        )
        raise DropItem(f"{reason}: {adapter['url']}")


class NormalizePipeline:
    """Display text as published, minus control characters and redundant whitespace."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["not_modified"]:
            return item
        adapter.update(asdict(Article.of(adapter).normalized()))
        if not adapter["title"] and not adapter["paragraphs"]:
            raise DropItem(f"empty article at {adapter['url']}")
        return item


class HashPipeline:
    """Content hash over the normalized text, plus the loose hash used to flag minor edits."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["not_modified"]:
            return item
        adapter.update(Article.of(adapter).hashes())
        return item


class ChangeDetectionPipeline:
    """Stores version 1 on first sight, version n+1 on a new hash, else only moves the schedule.

    Store errors: one that a later try may get past (``store.transient_error``: MongoDB
    unreachable, the embedded store locked, ...) is retried ``NEWSCRAWL_STORE_RETRIES`` times
    with backoff; if it persists the page goes to the on-disk spool and the crawl stops with
    finish reason ``store_unavailable`` (non-zero exit). The next run writes the spool first.
    Any other error (the store refuses the page: too large, invalid) would fail the same way
    at every try: the page is set aside in the spool's quarantine at once, logged, counted
    and recorded in ``errors``, and the crawl goes on (exit status 2 at the end).
    Either way the feed that listed the page keeps its validators unsaved, so the next poll
    lists the page again.
    """

    def __init__(self, crawler: Crawler, crawl: CrawlStore) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.crawl = crawl
        self.retries = settings.getint("NEWSCRAWL_STORE_RETRIES", 5)
        self.furniture = settings.getbool("NEWSCRAWL_FURNITURE", True)
        self.hold = settings.getbool("NEWSCRAWL_HOLD_CHANGES", True)
        self.spool = Spool.from_settings(settings)
        self.raw_spool = RawSpool(self.spool.directory)
        self.tracker: Tracker | None = None
        self.lifecycle: Lifecycle | None = None
        self.snapshots: Snapshots | None = None
        self.wayback: WaybackQueue | None = None
        self._spooled_pages: dict[tuple[str, str], RawPage] = {}
        self.store_down = False
        self._closing: Deferred | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChangeDetectionPipeline:
        return cls(crawler, CrawlStore.of(crawler))

    def open_spider(self) -> None:
        thread = self.crawl.thread
        on_version, on_event = outbox_hooks(self.crawler, thread.store.db)
        self.tracker = Tracker(
            thread.store, self.crawl.policy, self.furniture, on_version, on_event, self.hold
        )
        self.lifecycle = Lifecycle(thread.store, self.crawl.removal_policy, on_event)
        stats, settings = self.crawler.stats, self.crawler.settings
        self.snapshots = thread.call_sync(Snapshots.from_settings, thread.store, settings)
        self.wayback = thread.call_sync(WaybackQueue.from_settings, thread.store, settings)
        files, self._spooled_pages = self.raw_spool.files(), self.raw_spool.load()
        replayed, quarantined = thread.call_sync(self.spool.replay, self._replay)
        self.raw_spool.clear(files)  # every spooled page was written: its raw page with it
        self._spooled_pages = {}
        if replayed:
            logger.info("wrote %d pages spooled by an earlier run", replayed)
            stats.set_value("newscrawl/spool/replayed", replayed)
        if quarantined:
            logger.error(
                "set aside %d damaged spool entries in %s; the rest was replayed",
                quarantined, self.spool.quarantine,
            )  # fmt: skip
            stats.set_value("newscrawl/spool/quarantined", quarantined)

    def _record(self, page: Fetched, raw: RawPage | None = None) -> Outcome:
        assert self.tracker is not None and self.lifecycle is not None
        if not_found_page(page.title, page.paragraphs):  # a soft 404: "page not found", 200
            gone = page.moved_from or page.url
            result = self.lifecycle.gone(gone, page.source, NOT_FOUND_PAGE, page.fetched_at)
            return Outcome(kind=result, version=0)
        outcome = self.tracker.record(page, self.crawl.policy_for(page.source), raw)
        if page.moved_from:
            self.lifecycle.moved(page.moved_from, page.url, page.source, page.fetched_at)
        raw = outcome.evidence or raw  # a confirmed held change: the page first served
        if raw is not None and self.snapshots is not None:
            self._keep_snapshot(page, outcome, raw)
        if self.wayback is not None:
            self.wayback.add(page.url, outcome, page.fetched_at)
        return outcome

    def _keep_snapshot(self, page: Fetched, outcome: Outcome, raw: RawPage) -> None:
        """The page of a version just stored (a confirmed held change: the page it was first
        served as); also of an existing version that has none (a store from before snapshots,
        or a run that died between the two writes)."""
        if outcome.version and outcome.kind not in (FLIP_FLOP, REBASELINE, HELD):
            assert self.snapshots is not None
            if self.snapshots.get(page.url, outcome.version) is None:
                self.snapshots.keep(page.url, page.source, outcome.version, raw)

    def _replay(self, page: Fetched) -> None:
        """A spooled page, on the store thread: a transient error stops the replay (the
        spool stays for the next run), a refused page is set aside."""
        raw = self._spooled_pages.get((page.url, page.fetched_at.isoformat()))
        try:
            self._record(page, raw)
        except Exception as exc:
            if transient_error(exc):
                raise
            self._reject(page, exc)

    def _record_unless_down(self, page: Fetched, raw: RawPage | None) -> Outcome | None:
        """On the store thread: None, without touching the store, once a write has given up
        on it, so pages queued behind that write go to the spool without waiting."""
        return None if self.store_down else self._record(page, raw)

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        page = Fetched.of(adapter)
        try:
            outcome = await self._write(page, _raw_page(adapter))
        finally:
            adapter["body"] = b""  # stored or spooled: do not carry it further (or into logs)
        adapter["outcome"] = outcome.kind
        adapter["version"] = outcome.version
        if adapter.get("hint") and outcome.kind in (UNCHANGED, FURNITURE):
            await self._lastmod_moved(page, adapter["hint"])
        self.crawler.stats.inc_value(f"newscrawl/articles/{outcome.kind}")
        if outcome.kind in GONE_RESULTS:
            self.crawler.stats.inc_value(f"newscrawl/articles/gone/{NOT_FOUND_PAGE}")
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

    async def _lastmod_moved(self, page: Fetched, hint: dict[str, Any]) -> None:
        """A sitemap date moved and the re-check it caused found no text change: an event,
        not a version. A store error here loses only the event (the check is stored)."""
        thread = self.crawl.thread
        try:
            await thread.call(record_event, thread.store.db, page.url, "lastmod-moved",
                              page.fetched_at, page.source, **hint)  # fmt: skip
        except Exception as exc:
            if not transient_error(exc):
                raise
            logger.warning("lastmod-moved event of %s not recorded: %s", page.url, describe(exc))
            return
        self.crawler.stats.inc_value("newscrawl/events/lastmod-moved")

    async def _write(self, page: Fetched, raw: RawPage | None = None) -> Outcome:
        thread = self.crawl.thread
        failure: Exception | None = None
        for attempt in range(self.retries + 1):
            if self.store_down:
                break
            try:
                outcome = await thread.call(self._record_unless_down, page, raw)
            except Exception as exc:
                if not transient_error(exc):
                    await thread.call(self._reject, page, exc)
                    raise NotStored(f"store refused {page.url}: {describe(exc)}") from exc
                failure = exc
                if attempt < self.retries:
                    delay = min(0.5 * 2**attempt, 8.0)
                    logger.warning(
                        "store write failed (%s); retry %d in %.1fs",
                        describe(exc), attempt + 1, delay,
                    )  # fmt: skip
                    self.crawler.stats.inc_value("newscrawl/store/retries")
                    await asyncio.sleep(delay)
                continue
            if outcome is not None:
                return outcome
        await self._spool(page, failure, raw)
        raise NotStored(f"store unavailable, {page.url} spooled to {self.spool.path}")

    def _reject(self, page: Fetched, exc: Exception) -> None:
        """On the store thread: set aside, log, count and record a page the store refuses;
        a tracked article is re-checked after its initial interval, like any failed check."""
        reason, stats = describe(exc), self.crawler.stats
        stats.inc_value("newscrawl/store/rejected")
        stats.inc_value(f"newscrawl/articles/errors/{REJECTED}")
        try:
            self.spool.set_aside(page, reason)
            kept = f"set aside in {self.spool.quarantine}"
        except OSError as disk_error:
            kept = f"LOST, it could not be set aside either ({disk_error})"
        logger.error("store refused %s: %s; the page is %s", page.url, reason, kept)
        policy = self.crawl.policy_for(page.source)
        try:
            self.crawl.store.record_error(
                "article", page.url, page.source, REJECTED, reason, page.fetched_at, policy
            )
        except Exception as record_error:  # the store refuses this too: the log has it
            logger.error("could not record the error of %s: %s", page.url, describe(record_error))

    async def _spool(self, page: Fetched, failure: Exception | None, raw: RawPage | None) -> None:
        try:
            self.spool.add(page)
            if raw is not None and self.snapshots is not None:
                self.raw_spool.add(page.url, raw)
        except OSError as exc:
            self.crawler.stats.inc_value("newscrawl/spool/failed")
            logger.error(
                "could not spool %s (%s): not stored this run; its feed or schedule brings it "
                "back next run", page.url, exc,
            )  # fmt: skip
        else:
            self.crawler.stats.inc_value("newscrawl/spool/written")
        if not self.store_down:  # this page's own tries failed: it is the first to give up
            assert failure is not None
            self.store_down = True
            logger.error(
                "store unavailable after %d retries (%s): stopping the crawl; pending pages "
                "are kept in %s and written by the next run",
                self.retries, describe(failure), self.spool.directory,
            )  # fmt: skip
            # Not awaited: closing waits for in-flight items, this one included.
            self._closing = deferred_from_coro(
                self.crawler.engine.close_spider_async(reason="store_unavailable")
            )


def describe(exc: BaseException) -> str:
    """``ExceptionName: message``, the message cut short (a refused document's can be huge)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message[:300]}{'...' if len(message) > 300 else ''}"


def _raw_page(adapter: ItemAdapter) -> RawPage | None:
    """The response behind an extracted item (None for "not modified": nothing new)."""
    if adapter["not_modified"] or not adapter["body"]:
        return None
    return RawPage(
        body=adapter["body"],
        response_url=adapter["response_url"] or adapter["url"],
        fetched_at=adapter["fetched_at"],
        status=adapter["status"],
        content_type=adapter["content_type"],
        etag=adapter["etag"],
        last_modified=adapter["last_modified"],
        date=adapter["date"],
    )
