"""Scrapy extensions: ``RunRecorder`` keeps a record of every crawl in ``runs``."""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from newscrawl.runs import run_record, save_run
from newscrawl.store import crawler_store, transient_error, utcnow

logger = logging.getLogger(__name__)


class RunRecorder:
    """On spider_closed, stores the crawl's stats as a run record (see ``newscrawl.runs``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        recorder = cls(crawler)
        # Extensions are built before the store thread opens (when the spider starts), so this
        # handler runs before the thread's own spider_closed handler closes it, and queues its
        # insert on the thread ahead of the close.
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        run = run_record(
            self.crawler.stats.get_stats(),
            spider=spider.name,
            job=getattr(spider, "_job", None),  # scrapyd passes its job id as `-a _job=...`
            reason=reason,
            finished=utcnow(),
        )
        thread = crawler_store(self.crawler)
        try:
            await thread.call(save_run, thread.store.db, run)
        except Exception as exc:
            if not transient_error(exc):
                raise
            # the crawl stopped because the store is down
            logger.warning("run not recorded, store unavailable: %s", exc)
            return
        logger.info(
            "run recorded: %s, %d feeds, %d articles checked, %d new, %d new versions, %d errors",
            reason, run["feeds_polled"], run["articles_checked"], run["new_articles"],
            run["new_versions"], run["errors"],
        )  # fmt: skip
