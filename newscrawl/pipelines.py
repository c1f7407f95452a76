"""Item pipelines: extract -> normalize -> hash -> change detection.

Store calls run on the crawl's store thread (see ``store.StoreThread``), off the reactor.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newscrawl.extract import extract_article
from newscrawl.normalize import clean_text, content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.sources import Source
from newscrawl.store import crawler_store
from newscrawl.tracker import Fetched, Tracker

logger = logging.getLogger(__name__)


def crawler_sources(crawler: Crawler) -> dict[str, Source]:
    spider = crawler.spider
    return getattr(spider, "sources_by_name", {}) if spider else {}


class ExtractPipeline:
    """HTML -> title, paragraphs, byline, dates; drops (and records) pages with no article."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        source = crawler_sources(self.crawler).get(adapter["source"])
        overrides = source.extraction if source else None
        article = extract_article(
            adapter["html"], adapter["response_url"] or adapter["url"], overrides
        )
        adapter["html"] = ""
        if article is None:
            thread = crawler_store(self.crawler)
            await thread.call(
                thread.store.record_error,
                "article", adapter["url"], adapter["source"], "no-article",
                "no article title or body found in the page", adapter["fetched_at"],
            )  # fmt: skip
            self.crawler.stats.inc_value("newscrawl/articles/no_article")
            raise DropItem(f"no article found in {adapter['url']}")
        adapter["title"] = article.title
        adapter["paragraphs"] = article.paragraphs
        adapter["byline"] = article.byline
        adapter["published"] = article.published
        adapter["modified"] = article.modified
        return item


class NormalizePipeline:
    """Display text as published, minus control characters and redundant whitespace."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        adapter["title"] = clean_text(adapter["title"])
        adapter["paragraphs"] = [p for p in map(clean_text, adapter["paragraphs"]) if p]
        if not adapter["title"] and not adapter["paragraphs"]:
            raise DropItem(f"empty article at {adapter['url']}")
        return item


class HashPipeline:
    """Content hash over the normalized text, plus the loose hash used to flag minor edits."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        adapter["content_hash"] = content_hash(adapter["title"], adapter["paragraphs"])
        adapter["loose_hash"] = loose_hash(adapter["title"], adapter["paragraphs"])
        return item


class ChangeDetectionPipeline:
    """Stores version 1 on first sight, version n+1 on a new hash, else only moves the schedule."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.policy = RevisitPolicy.from_settings(crawler.settings)
        self.tracker: Tracker | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChangeDetectionPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.tracker = Tracker(crawler_store(self.crawler).store, self.policy)

    async def process_item(self, item: Any) -> Any:
        assert self.tracker is not None
        adapter = ItemAdapter(item)
        source = crawler_sources(self.crawler).get(adapter["source"])
        policy = self.policy.overridden(source.revisit) if source else self.policy
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
            response_url=adapter["response_url"],
        )
        outcome = await crawler_store(self.crawler).call(self.tracker.record, page, policy)
        adapter["outcome"] = outcome.kind
        adapter["version"] = outcome.version
        self.crawler.stats.inc_value(f"newscrawl/articles/{outcome.kind}")
        if outcome.kind not in ("unchanged",):
            logger.info(
                "%s: %s (version %d%s)", outcome.kind, page.url, outcome.version,
                ", minor" if outcome.minor else "",
            )  # fmt: skip
        return item
