"""Crawl-side helpers for ``bench.crawl_speed``.

``BareSpider`` fetches the benchmark site's feeds and articles and does nothing with them
(``scrapy runspider bench/crawl_probe.py -a base=URL -a articles=N``): the framework's own
rate on this machine. ``StatsDump`` (an extension, enabled with ``BENCH_STATS_FILE``) counts
article responses and feed bytes, and writes the crawl's stats as JSON when the engine stops.
"""

from __future__ import annotations

import json
import resource
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.stats import get_header_size, get_status_size
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

PER_FEED = 50


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, base: str = "", articles: str = "0", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base
        self.articles = int(articles)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for number in range(-(-self.articles // PER_FEED)):
            yield scrapy.Request(f"{self.base}/feed/{number}.xml", dont_filter=True)
        for index in range(self.articles):
            yield scrapy.Request(f"{self.base}/a/{index}")

    def parse(self, response: Response) -> None:
        return None


def response_size(response: Response) -> int:
    """Bytes on the wire, counted as Scrapy's ``downloader/response_bytes`` counts them."""
    headers = get_header_size(response.headers) + get_status_size(response.status)
    return len(response.body) + headers + 4


class StatsDump:
    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsDump:
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured
        dump = cls(crawler, path)
        crawler.signals.connect(dump.response_received, signal=signals.response_received)
        crawler.signals.connect(dump.engine_stopped, signal=signals.engine_stopped)
        return dump

    def response_received(self, response: Response, request: scrapy.Request) -> None:
        stats, path = self.crawler.stats, urlsplit(response.url).path
        if path.startswith("/a/"):
            stats.inc_value("bench/article_responses")
        elif path.startswith("/feed/"):
            stats.inc_value("bench/feed_responses")
            stats.inc_value("bench/feed_bytes", response_size(response))

    def engine_stopped(self) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats["bench/maxrss_self_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats["bench/maxrss_children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with open(self.path, "w", encoding="utf-8") as out:
            json.dump(stats, out, default=str)
