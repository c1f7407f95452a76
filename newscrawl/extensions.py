"""Scrapy extensions: ``RunRecorder`` keeps a record of every crawl in ``runs``."""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from newscrawl.crawlstore import CLOSE_RUN_RECORD, CrawlStore
from newscrawl.runs import run_record, save_run
from newscrawl.store import transient_error, utcnow

logger = logging.getLogger(__name__)


class RunRecorder:
    """When the spider closes, stores the crawl's stats as a run record (see
    ``newscrawl.runs``), in the crawl store's close sequence (``CLOSE_RUN_RECORD``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        CrawlStore.of(self.crawler).at_close(CLOSE_RUN_RECORD, self.record_run)

    async def record_run(self, reason: str) -> None:
        assert self.crawler.stats is not None and self.crawler.spider is not None
        spider = self.crawler.spider
        run = run_record(
            self.crawler.stats.get_stats(),
            spider=spider.name,
            job=getattr(spider, "_job", None),  # scrapyd passes its job id as `-a _job=...`
            reason=reason,
            finished=utcnow(),
        )
        try:
            thread = CrawlStore.of(self.crawler).thread
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
