"""The item pipelines in-process: a crawler from ``scrapy.utils.test.get_crawler`` with the
project's settings, an embedded store in ``tmp_path``, items pushed through ``process_item``
(no crawl, no network). The crawl tests (test_crawl.py, test_store_errors.py) show the same
behaviours end to end; these show each one alone, in milliseconds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from itemadapter import ItemAdapter
from pymongo.errors import AutoReconnect
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

import newscrawl.settings as project_settings
from newscrawl.article import Article
from newscrawl.confirm import ConfirmPipeline
from newscrawl.crawlstore import CrawlStore
from newscrawl.extract import EXTRACTOR_VERSION
from newscrawl.items import ArticleItem
from newscrawl.pipelines import (
    REJECTED,
    ChangeDetectionPipeline,
    ExtractPipeline,
    HashPipeline,
    NormalizePipeline,
    NotStored,
)
from newscrawl.spiders.feeds import FeedsSpider
from newscrawl.spool import Spool
from newscrawl.tracker import CHANGED, HELD, NEW, UNCHANGED

URL = "http://127.0.0.1/news/council"
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
SOURCES = """
[[source]]
name = "Local"
feeds = ["http://127.0.0.1/feed.xml"]

[[source]]
name = "Styled"
feeds = ["http://127.0.0.1/styled.xml"]
extraction = { body_css = ".story", title_css = ".headline" }
revisit = { initial = 7200 }
"""


def page(edit: str = "", headline: str = "Council delays vote") -> str:
    body = "".join(
        f"<p>Paragraph {i} of the council story tells readers what the council decided this "
        f"week and why it matters{edit if i == 2 else ''}.</p>"
        for i in range(5)
    )
    jsonld = f'{{"@type": "NewsArticle", "headline": "{headline}"}}'
    return (
        f"<html><head><title>{headline} | Example</title>"
        f'<script type="application/ld+json">{jsonld}</script></head>'
        f"<body><header><a href='/'>Home</a></header><article><h1>{headline}</h1>{body}"
        "</article><footer>Copyright</footer></body></html>"
    )


def item(html: str, at: datetime = T0, source: str = "Local", **fields: Any) -> ArticleItem:
    return ArticleItem(
        url=URL, source=source, fetched_at=at, response_url=URL, encoding="utf-8",
        body=html.encode(), feed="http://127.0.0.1/feed.xml", **fields,
    )  # fmt: skip


def project(**overrides: Any) -> dict[str, Any]:
    values = {name: getattr(project_settings, name) for name in dir(project_settings)}
    return {name: value for name, value in values.items() if name.isupper()} | overrides


class Engine:
    """What ChangeDetectionPipeline asks of the engine: to close the spider."""

    def __init__(self) -> None:
        self.closed: list[str] = []

    async def close_spider_async(self, *, reason: str) -> None:
        self.closed.append(reason)


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES)
    crawler = get_crawler(
        FeedsSpider,
        project(
            NEWSCRAWL_DATA_DIR=str(tmp_path / "data"), NEWSCRAWL_SOURCES=str(sources),
            MONGO_URI="", NEWSCRAWL_EXTRACT_WORKERS=0, NEWSCRAWL_STORE_RETRIES=0,
        ),
    )  # fmt: skip
    crawler.engine = Engine()  # type: ignore[assignment]
    yield crawler
    CrawlStore.of(crawler).close()


class Pipelines:
    """The project's pipelines but the confirmation re-fetch (it downloads), in their order."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        kinds = (ExtractPipeline, NormalizePipeline, HashPipeline, ChangeDetectionPipeline)
        self.stages = [build_from_crawler(kind, crawler) for kind in kinds]
        for stage in self.stages:
            if hasattr(stage, "open_spider"):
                stage.open_spider()
        self.detection = self.stages[-1]
        self.thread = CrawlStore.of(crawler).thread

    def find(self, collection: str, query: dict | None = None) -> list[dict[str, Any]]:
        """Documents of the store, read on its thread (the embedded store's is its own)."""
        return self.thread.call_sync(lambda: list(self.thread.store.db[collection].find(query)))

    def run(self, item: ArticleItem) -> ArticleItem:
        async def chain() -> ArticleItem:
            current = item
            for stage in self.stages:
                result = stage.process_item(current)
                current = await result if asyncio.iscoroutine(result) else result
            return current

        return asyncio.run(chain())

    def stat(self, name: str) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_value(name)


@pytest.fixture
def pipelines(crawler: Crawler) -> Pipelines:
    return Pipelines(crawler)


def test_a_new_page_is_extracted_normalized_hashed_and_stored_as_version_1(pipelines):
    done = pipelines.run(item(page()))
    assert (done.outcome, done.version) == (NEW, 1)
    assert done.title == "Council delays vote" and len(done.paragraphs) == 5
    assert done.extractor == EXTRACTOR_VERSION
    assert done.body == b""  # not carried past the store
    text = Article.of(ItemAdapter(done))
    assert (done.content_hash, done.loose_hash) == tuple(text.hashes().values())
    (version,) = pipelines.find("versions")
    assert {k: version[k] for k in ("title", "paragraphs", "content_hash")} == {
        "title": done.title, "paragraphs": done.paragraphs, "content_hash": done.content_hash,
    }  # fmt: skip
    assert pipelines.find("articles")[0]["extractor"] == EXTRACTOR_VERSION
    assert pipelines.stat(f"newscrawl/articles/{NEW}") == 1


def test_the_same_text_again_is_unchanged_and_stores_no_version(pipelines):
    pipelines.run(item(page()))
    again = pipelines.run(item(page(), at=T0 + timedelta(hours=1)))
    assert (again.outcome, again.version) == (UNCHANGED, 1)
    assert len(pipelines.find("versions")) == 1
    article = pipelines.find("articles")[0]
    assert article["last_checked"].replace(tzinfo=UTC) == T0 + timedelta(hours=1)


def test_an_edited_paragraph_is_held_then_version_2_with_its_diff_dated_first_sight(pipelines):
    pipelines.run(item(page()))
    first_sight = T0 + timedelta(hours=1)
    held = pipelines.run(item(page(edit=", officials said"), at=first_sight))
    assert (held.outcome, held.version) == (HELD, 1)
    assert len(pipelines.find("versions")) == 1
    again = pipelines.run(item(page(edit=", officials said"), at=T0 + timedelta(hours=2)))
    assert (again.outcome, again.version) == (CHANGED, 2)
    (version,) = pipelines.find("versions", {"url": URL, "version": 2})
    assert version["fetched_at"].replace(tzinfo=UTC) == first_sight
    assert len(pipelines.find("diffs", {"url": URL, "version": 2})) == 1


def test_a_sitemap_date_that_moved_without_a_text_change_is_an_event_not_a_version(pipelines):
    pipelines.run(item(page()))
    hint = {"where": "http://127.0.0.1/sitemap.xml", "old": "2026-01-01", "new": "2026-01-02"}
    done = pipelines.run(item(page(), at=T0 + timedelta(hours=1), hint=hint))
    assert (done.outcome, done.version) == (UNCHANGED, 1)
    (event,) = pipelines.find("events", {"kind": "lastmod-moved"})
    assert (event["url"], event["new"]) == (URL, "2026-01-02")
    assert pipelines.stat("newscrawl/events/lastmod-moved") == 1


def test_a_not_modified_check_skips_extraction_and_only_moves_the_schedule(pipelines):
    pipelines.run(item(page()))
    check = item("", at=T0 + timedelta(hours=2), not_modified=True, raw_hash="same")
    done = pipelines.run(check)
    assert (done.outcome, done.version) == (UNCHANGED, 1)
    assert (done.title, done.content_hash, done.extractor) == ("", "", 0)  # nothing extracted
    article = pipelines.find("articles")[0]
    assert article["raw_hash"] == "same" and article["content_hash"]  # the text's hash kept


def test_a_page_without_an_article_is_dropped_and_recorded_as_an_error(pipelines):
    with pytest.raises(DropItem, match="no-article"):
        pipelines.run(item("<html><body><div></div></body></html>"))
    (error,) = pipelines.find("errors")
    assert (error["url"], error["reason"]) == (URL, "no-article")
    assert pipelines.stat("newscrawl/articles/errors/no-article") == 1
    assert len(pipelines.find("versions")) == 0


def test_a_text_that_normalizes_to_nothing_is_dropped(crawler):
    empty = item("", title=" \x00 ", paragraphs=[" \x07 ", "\t"])
    with pytest.raises(DropItem, match="empty article"):
        NormalizePipeline().process_item(empty)


def test_the_sources_extraction_and_revisit_tables_reach_the_pipelines(pipelines):
    html = (
        "<html><body><div class='headline'>Styled headline</div><div class='story'>"
        "<p>Only this paragraph is the story.</p></div><p>Not this one.</p></body></html>"
    )
    done = pipelines.run(item(html, source="Styled"))
    assert done.title == "Styled headline"
    assert done.paragraphs == ["Only this paragraph is the story."]
    article = pipelines.find("articles")[0]
    assert article["interval"] == 7200  # the source's initial interval, not the setting's


def test_a_store_outage_spools_the_page_and_stops_the_crawl(pipelines, crawler, monkeypatch):
    def down(*args: Any) -> None:
        raise AutoReconnect("connection refused")

    monkeypatch.setattr(pipelines.detection.tracker, "record", down)
    with pytest.raises(NotStored, match="spooled"):
        pipelines.run(item(page()))
    (spooled,) = Spool.from_settings(crawler.settings).pending()
    assert URL in spooled.read_text()
    assert crawler.engine.closed == ["store_unavailable"]
    assert pipelines.stat("newscrawl/spool/written") == 1


def test_a_page_the_store_refuses_is_set_aside_and_recorded(pipelines, crawler, monkeypatch):
    def refuse(*args: Any) -> None:
        raise ValueError("document too large")

    monkeypatch.setattr(pipelines.detection.tracker, "record", refuse)
    with pytest.raises(NotStored, match="store refused"):
        pipelines.run(item(page()))
    spool = Spool.from_settings(crawler.settings)
    assert spool.summary()["quarantined"] == 1 and not spool.pending()
    (error,) = pipelines.find("errors")
    assert error["reason"] == REJECTED
    assert crawler.engine.closed == []  # the crawl goes on


def test_a_page_not_stored_keeps_its_feed_incomplete_other_drops_do_not(crawler):
    spider = FeedsSpider.from_crawler(crawler)
    listed = item(page())
    spider.item_dropped(listed, DropItem("no-article"))
    assert spider.incomplete_feeds == set()
    spider.item_dropped(listed, NotStored("store unavailable"))
    assert spider.incomplete_feeds == {"http://127.0.0.1/feed.xml"}


def test_the_close_sequence_runs_in_order_past_a_failure_then_closes_the_thread(crawler):
    crawl, ran = CrawlStore.of(crawler), []
    thread = crawl.thread

    async def late(reason: str) -> None:
        ran.append(("late", reason, await thread.call(lambda: "store open")))

    def failing(reason: str) -> None:
        raise RuntimeError("broken")

    crawl.at_close(500, late)
    crawl.at_close(100, failing)
    crawl.at_close(100, lambda reason: ran.append(("early", reason)))
    asyncio.run(crawl.spider_closed("finished"))
    assert ran == [("early", "finished"), ("late", "finished", "store open")]
    with pytest.raises(RuntimeError):  # closed once every registered work is done
        thread.call_sync(lambda: None)


def test_the_confirmation_pipeline_is_not_configured_when_turned_off(tmp_path):
    crawler = get_crawler(FeedsSpider, project(NEWSCRAWL_CONFIRM_CHANGES=False))
    with pytest.raises(NotConfigured):
        ConfirmPipeline.from_crawler(crawler)


def test_a_pipeline_without_the_crawl_store_extension_fails_at_start(tmp_path):
    crawler = get_crawler(FeedsSpider, project(EXTENSIONS={}, EXTENSIONS_BASE={}))
    with pytest.raises(RuntimeError, match="CrawlStore is not in EXTENSIONS"):
        ChangeDetectionPipeline.from_crawler(crawler)
