"""The base of the ``feeds`` spider: what every callback shares (the crawl's store, the
sources, the article URLs asked for) and the article requests and callbacks: a page to
track, not modified, moved to a new address, gone, or failed with an error record."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newscrawl.crawlstore import CrawlStore, StoreThread
from newscrawl.items import ArticleItem
from newscrawl.lifecycle import Lifecycle, same_address, soft_404_redirect
from newscrawl.notifier import outbox_hooks
from newscrawl.sources import Source
from newscrawl.spiders.http import conditional_request, failure_reason, header
from newscrawl.store import utcnow
from newscrawl.urls import canonical_url, on_domains

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
GONE = (404, 410)
# Failures worth retrying at the next poll of the feed that listed the article.
TRANSIENT_REASONS = frozenset({"timeout", "dns", "connection-refused", "no-response"})


class ArticleCallbacks(scrapy.Spider):
    """Article requests and their callbacks; ``FeedsSpider`` is built on it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requested: set[str] = set()  # article URLs asked for in this run
        # Feeds whose validators are not saved at the end: polled in full next time.
        self.incomplete_feeds: set[str] = set()
        self.sources_by_name: dict[str, Source] = {}
        self._crawl: CrawlStore | None = None
        self._lifecycle: Lifecycle | None = None

    @property
    def crawl(self) -> CrawlStore:
        """The crawl's store (an extension, built after the spider: found at first use)."""
        if self._crawl is None:
            self._crawl = CrawlStore.of(self.crawler)
        return self._crawl

    @property
    def store(self) -> StoreThread:
        return self.crawl.thread

    @property
    def lifecycle(self) -> Lifecycle:
        """Gone and removed articles, on the store thread."""
        if self._lifecycle is None:
            store = self.store.store
            _, on_event = outbox_hooks(self.crawler, store.db)
            self._lifecycle = Lifecycle(store, self.crawl.removal_policy, on_event)
        return self._lifecycle

    def article_request(
        self,
        url: str,
        source: Source,
        tracked: dict[str, Any] | None = None,
        feed: str | None = None,
        hint: dict[str, Any] | None = None,
    ) -> scrapy.Request:
        """Request for an article; a tracked one is asked conditionally (ETag/Last-Modified).
        ``hint``: the sitemap date that moved, when that is why a tracked one is asked."""
        tracked = tracked or {}
        self.requested.add(url)
        return conditional_request(
            url,
            tracked,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={
                "source": source.name,
                "article": url,
                "tracked": bool(tracked),
                "raw_hash": tracked.get("raw_hash"),
                "feed": feed,
                "etag": tracked.get("etag"),
                "last_modified": tracked.get("last_modified"),
                "hint": hint,
                "response_url": tracked.get("response_url"),
            },
        )

    async def parse_article(
        self, response: Response
    ) -> AsyncIterator[ArticleItem | scrapy.Request]:
        url, source = response.meta["article"], self.sources_by_name[response.meta["source"]]
        if response.status in GONE:
            await self._article_gone(url, source, f"http-{response.status}", response.meta)
            return
        moved_to = None
        if on_domains(response.url, source.domains):
            soft_404 = soft_404_redirect(url, response.url)
            if soft_404:
                await self._article_gone(url, source, soft_404, response.meta)
                return
            moved_to = self._moved_to(url, source, response)
            if moved_to and response.status == 304:  # validators of the old address
                yield self._unconditional(response)
                return
        if response.status == 304 and response.meta["tracked"]:
            self.crawler.stats.inc_value("newscrawl/articles/not_modified")
            yield self._not_modified(url, source, response, response.meta["raw_hash"])
            return
        content_type = (response.headers.get(b"Content-Type", b"text/html") or b"").lower()
        if not isinstance(response, TextResponse) or not content_type.startswith(HTML_TYPES):
            message = f"content type {content_type.decode('latin-1')!r} is not HTML"
            await self.crawl.record_article_error(url, source.name, "not-html", message)
            return
        if not on_domains(response.url, source.domains):
            message = f"redirected off the source's domains to {response.url}"
            await self.crawl.record_article_error(url, source.name, "offsite-redirect", message)
            return
        self.crawler.stats.inc_value("newscrawl/articles/fetched")
        raw_hash = hashlib.sha256(response.body).hexdigest()
        if raw_hash == response.meta["raw_hash"] and not moved_to:
            self.crawler.stats.inc_value("newscrawl/articles/same_bytes")
            yield self._not_modified(url, source, response, raw_hash)
            return
        yield ArticleItem(
            url=moved_to or url,
            moved_from=url if moved_to else None,
            source=source.name,
            fetched_at=utcnow(),
            response_url=response.url,
            feed=response.meta["feed"],
            encoding=response.encoding,
            raw_hash=raw_hash,
            etag=header(response, b"ETag"),
            last_modified=header(response, b"Last-Modified"),
            body=response.body,
            hint=response.meta["hint"],
            status=response.status,
            content_type=header(response, b"Content-Type"),
            date=header(response, b"Date"),
        )

    def _moved_to(self, url: str, source: Source, response: Response) -> str | None:
        """The canonical address a tracked article now redirects to, when it is another
        article's address the source follows (a slug changed with the headline); None when
        the page is served where it was before (or only the scheme, ``www.`` or a trailing
        slash changed)."""
        before = response.meta.get("response_url") or url
        if response.url in (url, before):
            return None
        final = canonical_url(response.url)
        if not response.meta["tracked"] or final is None or not source.follows(final):
            return None
        if same_address(final, url) or same_address(final, before):
            return None
        return final

    def _unconditional(self, response: Response) -> scrapy.Request:
        """The moved article's new address again, without the old address's validators
        (its 304 has no page to track)."""
        meta = {key: response.meta[key] for key in ("source", "article", "tracked", "feed", "hint")}
        meta.update(raw_hash=None, etag=None, last_modified=None,
                    response_url=response.meta.get("response_url"))  # fmt: skip
        return scrapy.Request(
            response.url, callback=self.parse_article, errback=self.article_failed,
            dont_filter=True, meta=meta,
        )  # fmt: skip

    def _not_modified(
        self, url: str, source: Source, response: Response, raw_hash: str | None
    ) -> ArticleItem:
        """An item that skips extraction: the page is the one already seen."""
        return ArticleItem(
            url=url,
            source=source.name,
            fetched_at=utcnow(),
            response_url=response.url,
            not_modified=True,
            raw_hash=raw_hash or "",
            hint=response.meta["hint"],
            # a 304 may omit the validators: keep the ones the request was sent with
            etag=header(response, b"ETag") or response.meta["etag"],
            last_modified=header(response, b"Last-Modified") or response.meta["last_modified"],
        )

    async def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        source = self.sources_by_name[request.meta["source"]]
        url = request.meta["article"]
        if failure.check(HttpError) and failure.value.response.status in GONE:
            status = failure.value.response.status
            await self._article_gone(url, source, f"http-{status}", request.meta)
            return
        reason = failure_reason(failure)
        feed = request.meta.get("feed")
        if feed and (reason in TRANSIENT_REASONS or reason.startswith("http-5")):
            self.incomplete_feeds.add(feed)  # poll the feed in full next time, to retry
        await self.crawl.record_article_error(url, source.name, reason, str(failure.value))

    async def _article_gone(
        self, url: str, source: Source, reason: str, meta: dict[str, Any]
    ) -> None:
        """A sign that the article is gone (404/410, a redirect to the home or a section
        page): a tracked article is confirmed removed by re-checks (newscrawl.lifecycle),
        an untracked address gets an error record."""
        self.crawler.stats.inc_value(f"newscrawl/articles/gone/{reason}")
        if not meta["tracked"]:
            await self.crawl.record_article_error(url, source.name, reason, "not found")
            return
        result = await self.store.call(self.lifecycle.gone, url, source.name, reason, utcnow())
        self.crawler.stats.inc_value(f"newscrawl/articles/{result}")
        logger.info("%s: %s (%s); history kept", result, url, reason)
