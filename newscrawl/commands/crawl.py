"""``scrapy crawl``, with an exit status that tells cron and monitors when a crawl failed."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

# Finish reasons meaning the crawl could not do its job (exit status 2).
FAILED_REASONS = frozenset({"store_unavailable"})
# Counters meaning some of the job was not done though the crawl finished (exit status 2):
# pages the store refused (set aside in the spool's quarantine).
FAILED_COUNTS = ("newscrawl/store/rejected",)


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        stats = crawler.stats
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif stats.get_value("finish_reason") in FAILED_REASONS or any(
            stats.get_value(name) for name in FAILED_COUNTS
        ):
            self.exitcode = 2
