"""The ``feeds`` spider's polled documents: feeds, sitemaps (``newscrawl.sitemaps``),
robots.txt files and pages (feed autodiscovery, ``newscrawl.discovery``), asked
conditionally; what they list is compared with what they said before
(``newscrawl.listings``) and new articles are followed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from newscrawl import feedparsing
from newscrawl.discovery import feed_links
from newscrawl.listings import Listed, compare, remember
from newscrawl.sitemaps import INDEX, SitemapError, parse_sitemap, sitemaps_in_robots
from newscrawl.sources import Source
from newscrawl.spiders.articles import ArticleCallbacks
from newscrawl.spiders.http import conditional_request, failure_reason, header
from newscrawl.store import utcnow
from newscrawl.urls import canonical_url, on_domains

logger = logging.getLogger(__name__)

# A sitemap index may list indexes (not in the protocol, but publishers do): this deep at most.
MAX_SITEMAP_DEPTH = 2
# Kinds whose polls are counted (``newscrawl/feeds/polled`` is the run record's figure).
COUNTED_KINDS = ("feed", "sitemap")

Reader = Callable[[Response, Source], AsyncIterator[scrapy.Request]]


class PollingCallbacks(ArticleCallbacks):
    """Polled documents' requests and callbacks; ``FeedsSpider`` is built on it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A feed's ETag/Last-Modified are saved only when the run ends normally and every
        # new article it listed was fetched and stored: a 304 next time must not hide an
        # article that a crash, a timeout, the per-feed cap or a store error left behind.
        self.feed_validators: dict[str, dict[str, str | None]] = {}
        self.polled: set[str] = set()  # feeds, sitemaps, robots.txt and pages asked for

    async def poll_request(
        self, kind: str, url: str, source: Source, depth: int = 0
    ) -> scrapy.Request | None:
        """A conditional request for a feed, sitemap, robots.txt or page; None when this run
        asked for it already (two pages announcing one feed, an index listed twice)."""
        if url in self.polled:
            return None
        self.polled.add(url)
        state = await self.store.call(self.store.store.feed_state, url)
        return conditional_request(
            url, state, callback=self.parse_polled, errback=self.feed_failed, priority=10,
            meta={"source": source.name, "feed": url, "kind": kind, "depth": depth},
        )  # fmt: skip

    async def parse_polled(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """Every polled document: a 304 is recorded and what the document led to before is
        polled again, any other non-200 is an error, a 200 is read by its kind's reader."""
        url, kind = response.meta["feed"], response.meta["kind"]
        source = self.sources_by_name[response.meta["source"]]
        stats, thread = self.crawler.stats, self.store
        if kind in COUNTED_KINDS:
            stats.inc_value(f"newscrawl/{kind}s/polled")
        if response.status == 304:
            stats.inc_value(f"newscrawl/{kind}s/not_modified")
            await thread.call(thread.store.save_feed_poll, url, source.name, kind=kind,
                              last_polled=utcnow(), last_status=304)  # fmt: skip
            if kind != "feed":  # a feed leads to articles, not to other documents
                async for request in self._follow_found(response, kind, source):
                    yield request
            return
        if response.status != 200:
            message = f"{kind} not available"
            await self._feed_error(url, source, f"http-{response.status}", message, kind)
            return
        readers: dict[str, Reader] = {
            "feed": self._read_feed,
            "sitemap": self._read_sitemap,
            "robots": self._read_robots,
            "page": self._read_page,
        }
        async for request in readers[kind](response, source):
            yield request

    async def _follow_found(
        self, response: Response, kind: str, source: Source
    ) -> AsyncIterator[scrapy.Request]:
        """After a 304 from a sitemap index, robots.txt or page: poll what it led to before."""
        state = await self.store.call(self.store.store.feed_state, response.meta["feed"])
        # depth counts sitemap indexes only: what a page or robots.txt lists starts at 0
        depth = response.meta["depth"] + 1 if kind == "sitemap" else 0
        async for request in self._follow_polled(state.get("found") or [], source, depth):
            yield request

    async def _follow_polled(
        self, found: list[list[str]], source: Source, depth: int = 0
    ) -> AsyncIterator[scrapy.Request]:
        """Poll the documents a sitemap index, robots.txt or page led to."""
        for kind, url in found:
            request = await self.poll_request(kind, url, source, depth)
            if request is not None:
                yield request

    async def _read_feed(self, response: Response, source: Source) -> AsyncIterator[scrapy.Request]:
        feed, stats = response.meta["feed"], self.crawler.stats
        try:
            entries = feedparsing.parse_feed(response.body)
        except feedparsing.FeedError as exc:
            await self._feed_error(feed, source, "malformed-feed", str(exc))
            return
        listed: dict[str, Listed] = {}
        for entry in entries:
            url = canonical_url(entry.link)
            if url and source.follows(url) and url not in listed:
                listed[url] = Listed(title=entry.title)
        stats.inc_value("newscrawl/feeds/entries", len(entries))
        stats.inc_value("newscrawl/feeds/skipped_entries", len(entries) - len(listed))
        await self._save_poll(response, "feed", entries=len(entries))
        limit = self.settings.getint("NEWSCRAWL_FEED_NEW_LIMIT")
        for request in await self._follow_listed(feed, source, listed, limit):
            yield request

    async def _follow_listed(
        self, where: str, source: Source, listed: dict[str, Listed], limit: int,
        max_age: float | None = None,
    ) -> list[scrapy.Request]:  # fmt: skip
        """Requests for what a feed or sitemap lists: new articles (at most ``limit``; with
        ``max_age``, only those dated within it: an undated sitemap entry may be ten years
        old) and tracked ones whose date moved on; the titles and dates are kept for the
        next poll (``newscrawl.listings``)."""
        thread, now, stats = self.store, utcnow(), self.crawler.stats
        known, hints = await thread.call(compare, thread.store, where, source.name, listed, now)
        new = [u for u in listed if u not in known and u not in self.requested]
        if max_age is not None:
            cutoff = now - timedelta(seconds=max_age)
            recent = [u for u in new if (listed[u].date or cutoff) > cutoff]
            stats.inc_value("newscrawl/sitemaps/too_old", len(new) - len(recent))
            new = recent
        if len(new) > limit:
            stats.inc_value("newscrawl/feeds/new_deferred", len(new) - limit)
            logger.warning("%s: following %d of %d new articles", where, limit, len(new))
            new = new[:limit]
            self.incomplete_feeds.add(where)
        await thread.call(remember, thread.store, where, source.name,
                          {u: listed[u] for u in new}, now)  # fmt: skip
        logger.info("%s: %d entries, %d new articles", where, len(listed), len(new))
        requests = [self.article_request(url, source, feed=where) for url in new]
        for hint in hints:
            if hint.url not in self.requested:
                stats.inc_value("newscrawl/articles/lastmod_rechecks")
                data = {"where": where, "old": hint.old, "new": hint.new}
                requests.append(
                    self.article_request(hint.url, source, tracked=hint.article, hint=data)
                )
        return requests

    async def _save_poll(self, response: Response, kind: str, **fields: Any) -> None:
        """Record a polled document read in full; its validators are saved at the end."""
        url, source = response.meta["feed"], response.meta["source"]
        await self.store.call(
            self.store.store.save_feed_poll, url, source, kind=kind, last_polled=utcnow(),
            last_status=response.status, error=None, **fields,
        )  # fmt: skip
        self.feed_validators[url] = {
            "etag": header(response, b"ETag"),
            "last_modified": header(response, b"Last-Modified"),
        }

    async def _read_sitemap(
        self, response: Response, source: Source
    ) -> AsyncIterator[scrapy.Request]:
        url, settings, stats = response.meta["feed"], self.settings, self.crawler.stats
        max_urls = settings.getint("NEWSCRAWL_SITEMAP_MAX_URLS")
        try:
            sitemap = parse_sitemap(
                response.body, max_urls, settings.getint("NEWSCRAWL_SITEMAP_MAX_SIZE")
            )
        except SitemapError as exc:
            await self._feed_error(url, source, exc.reason, str(exc), "sitemap")
            return
        on_site = [e for e in sitemap.entries if on_domains(e.loc, source.domains)]
        max_age = settings.getfloat("NEWSCRAWL_SITEMAP_MAX_AGE")
        found: list[list[str]] = []
        if sitemap.kind == INDEX:
            if response.meta["depth"] >= MAX_SITEMAP_DEPTH:
                message = f"sitemap indexes nested over {MAX_SITEMAP_DEPTH} deep"
                await self._feed_error(url, source, "nested-index", message, "sitemap")
                return
            # newest first; an index of a decade of daily sitemaps is not read in full
            cutoff = utcnow() - timedelta(seconds=max_age)
            children = sorted((e for e in on_site if e.date is None or e.date >= cutoff),
                              key=lambda e: e.date or utcnow(), reverse=True)  # fmt: skip
            limit = settings.getint("NEWSCRAWL_SITEMAP_INDEX_LIMIT")
            found = [["sitemap", e.loc] for e in children[:limit]]
        await self._save_poll(response, "sitemap", entries=len(sitemap.entries), found=found,
                              news=any(e.title for e in sitemap.entries))  # fmt: skip
        if sitemap.truncated:
            message = f"more than {max_urls} entries: only the first {max_urls} read"
            await self._feed_error(url, source, "too-many-urls", message, "sitemap")
        offsite = len(sitemap.entries) - len(on_site)
        if offsite:
            message = f"{offsite} URLs off the source's domains {list(source.domains)} skipped"
            await self._feed_error(url, source, "offsite-urls", message, "sitemap")
        stats.inc_value("newscrawl/sitemaps/entries", len(sitemap.entries))
        async for follow in self._follow_polled(found, source, response.meta["depth"] + 1):
            yield follow
        if sitemap.kind == INDEX:
            return
        listed: dict[str, Listed] = {}
        for entry in on_site:
            article = canonical_url(entry.loc)
            if article and source.follows(article) and article not in listed:
                listed[article] = Listed(title=entry.title, date=entry.date)
        limit = settings.getint("NEWSCRAWL_SITEMAP_NEW_LIMIT")
        for request in await self._follow_listed(url, source, listed, limit, max_age):
            yield request

    async def _read_robots(
        self, response: Response, source: Source
    ) -> AsyncIterator[scrapy.Request]:
        """robots.txt of a source with ``sitemaps = "robots"`` (or of a page without feed
        links): its ``Sitemap:`` lines on the source's domains are polled as sitemaps."""
        url = response.meta["feed"]
        sitemaps = sitemaps_in_robots(response.body, response.url)
        on_site = [s for s in sitemaps if on_domains(s, source.domains)]
        found = [["sitemap", s] for s in on_site]
        await self._save_poll(response, "robots", found=found)
        if len(on_site) < len(sitemaps):
            offsite = sorted(set(sitemaps) - set(on_site))
            message = f"sitemaps off the source's domains skipped: {offsite}"
            await self._feed_error(url, source, "offsite-urls", message, "robots")
        elif not sitemaps:
            await self._feed_error(url, source, "no-sitemaps", "no Sitemap: lines", "robots")
        async for follow in self._follow_polled(found, source):
            yield follow

    async def _read_page(self, response: Response, source: Source) -> AsyncIterator[scrapy.Request]:
        """Feed autodiscovery: the page's ``<link rel="alternate">`` feeds, else the sitemaps
        of its host's robots.txt; what was found is kept on the page's record."""
        url = response.meta["feed"]
        if not isinstance(response, TextResponse):
            await self._feed_error(url, source, "not-html", "the page is not HTML", "page")
            return
        feed_urls = feed_links(response)
        found = [["feed", f] for f in feed_urls] or [
            ["robots", urljoin(response.url, "/robots.txt")]
        ]
        await self._save_poll(response, "page", found=found)
        logger.info("page %s: found %s", url, ", ".join(f"{k} {u}" for k, u in found))
        async for follow in self._follow_polled(found, source):
            yield follow

    async def feed_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        source, kind = self.sources_by_name[request.meta["source"]], request.meta["kind"]
        await self._feed_error(
            request.meta["feed"], source, failure_reason(failure), str(failure.value), kind
        )

    async def _feed_error(
        self, feed: str, source: Source, reason: str, message: str, kind: str = "feed"
    ) -> None:
        """One error record for a feed, sitemap, robots.txt or page; the crawl goes on."""
        thread, now = self.store, utcnow()
        logger.warning("%s %s (%s) failed: %s: %s", kind, feed, source.name, reason, message)
        self.crawler.stats.inc_value(f"newscrawl/{kind}s/errors/{reason}")
        await thread.call(thread.store.record_error, kind, feed, source.name, reason, message, now)
        await thread.call(
            thread.store.save_feed_poll, feed, source.name, kind=kind, last_polled=now,
            error=reason,
        )  # fmt: skip
