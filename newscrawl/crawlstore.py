"""The crawl's store: a Scrapy extension (``EXTENSIONS``) that owns the store thread.

The spider, the pipelines and the other extensions find it with
``crawler.get_extension(CrawlStore)`` (``CrawlStore.of``) and make every store call through
its thread. It also holds what they all need per article: the sources file, each source's
revisit policy, the removal policy, and the error record of a failed article.

Shutdown is one sequence, run when the spider closes: the work components registered with
``at_close`` (lowest ``order`` first, each finished before the next starts), then the thread
closes. The orders in use are the constants below.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from newscrawl.lifecycle import RemovalPolicy
from newscrawl.schedule import RevisitPolicy
from newscrawl.sources import Source, load_sources
from newscrawl.store import Store, utcnow

logger = logging.getLogger(__name__)

# Close-time store work, in this order (``CrawlStore.at_close``); the thread closes after.
CLOSE_SPIDER = 100  # the spider: complete feeds' validators, unchecked leases, pruning
CLOSE_RUN_RECORD = 500  # extensions.RunRecorder: the run record (its duration ends here)
CLOSE_NOTIFICATIONS = 510  # notifier.Notifier: delivery, after the run record is saved

CloseWork = Callable[[str], Awaitable[None] | None]


class StoreThread:
    """Runs every store call of a crawl on one dedicated thread, off the reactor.

    One thread because the embedded store's sqlite3 connections belong to the thread that
    opened them; off the reactor so downloads go on while the store works.
    """

    def __init__(self, settings: Any) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newscrawl-store")
        try:
            self.store: Store = self._executor.submit(Store.from_settings, settings).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Await ``fn(*args, **kwargs)`` run on the store thread (fn gets no store argument)."""
        return await asyncio.wrap_future(self._executor.submit(fn, *args, **kwargs))

    def call_sync(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the store thread and wait (for start-up, not the hot path)."""
        return self._executor.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        self._executor.submit(self.store.close).result()
        self._executor.shutdown(wait=True)


class CrawlStore:
    """The crawl's store thread (opened at first use) and the per-article records every
    component writes through it; see the module docstring."""

    def __init__(
        self, crawler: Crawler, sources: list[Source], policy: RevisitPolicy,
        removal_policy: RemovalPolicy,
    ) -> None:  # fmt: skip
        self.crawler = crawler
        self.sources_by_name = {source.name: source for source in sources}
        self.policy = policy
        self.removal_policy = removal_policy
        self._thread: StoreThread | None = None
        self._at_close: list[tuple[int, int, CloseWork]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStore:
        settings = crawler.settings
        extension = cls(
            crawler,
            load_sources(settings.get("NEWSCRAWL_SOURCES") or None),
            RevisitPolicy.from_settings(settings),
            RemovalPolicy.from_settings(settings),
        )
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @staticmethod
    def of(crawler: Crawler) -> CrawlStore:
        """The crawl's CrawlStore (for ``from_crawler`` of pipelines, and components built
        after the extensions)."""
        extension = crawler.get_extension(CrawlStore)
        if extension is None:
            raise RuntimeError(
                "newscrawl.crawlstore.CrawlStore is not in EXTENSIONS: the crawl has no store"
            )
        return extension

    @property
    def thread(self) -> StoreThread:
        if self._thread is None:
            self._thread = StoreThread(self.crawler.settings)
        return self._thread

    @property
    def store(self) -> Store:
        """The store itself: call its methods on the thread (``thread.call``) only."""
        return self.thread.store

    def policy_for(self, source_name: str) -> RevisitPolicy:
        """The revisit policy with the source's ``revisit`` table applied."""
        source = self.sources_by_name.get(source_name)
        return self.policy.overridden(source.revisit) if source else self.policy

    async def record_article_error(
        self, url: str, source_name: str, reason: str, message: str, at: datetime | None = None
    ) -> None:
        """Log, count and store an article failure. A tracked article is retried later,
        backing off while it keeps failing (its source's revisit policy); an untracked one
        has no schedule to move, which the store leaves alone."""
        logger.warning("article %s (%s) failed: %s: %s", url, source_name, reason, message)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newscrawl/articles/errors/{reason}")
        now, policy, thread = at or utcnow(), self.policy_for(source_name), self.thread
        await thread.call(
            thread.store.record_error, "article", url, source_name, reason, message, now, policy
        )

    # shutdown -----------------------------------------------------------------------------
    def at_close(self, order: int, work: CloseWork) -> None:
        """Run ``work(reason)`` (a function or coroutine function) when the spider closes,
        before the thread closes, after every registered work of a lower ``order``."""
        self._at_close.append((order, len(self._at_close), work))

    async def spider_closed(self, reason: str) -> None:
        """The close sequence: every registered work in order (one that fails is logged and
        the next runs), then the thread closes."""
        for _, _, work in sorted(self._at_close, key=lambda entry: entry[:2]):
            try:
                result = work(reason)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("close-time store work %s failed", _name(work))
        self._at_close.clear()
        self.close()

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
            self._thread = None


def _name(work: CloseWork) -> str:
    return getattr(work, "__qualname__", repr(work))
