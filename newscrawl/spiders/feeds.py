"""The ``feeds`` spider: poll every source's feeds, sitemaps and pages, fetch new articles,
re-check due ones (and those whose sitemap date moved).

Feeds, sitemaps (``newscrawl.sitemaps``), robots.txt files and pages (feed autodiscovery,
``newscrawl.discovery``) are all "polled documents": asked conditionally, one record each in
the ``feeds`` collection (``kind``; ``found``: the feeds or sitemaps they led to, followed
again when they answer 304), one error record per failure.

Arguments (``-a name=value``):

* ``recheck``: ``due`` (default) re-checks tracked articles whose next check has come,
  ``all`` re-checks every tracked article now, ``none`` only polls feeds.
* ``sources``: comma-separated source names to limit the run to.
* ``shard``: ``i/N`` polls only the i-th of N disjoint parts of the feeds (0-based), so N
  nodes share the feeds without overlap. Due articles need no shard: each run leases the
  ones it re-checks (``NEWSCRAWL_LEASE_SECONDS``), and a crashed run's leases expire.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newscrawl.crawlstore import CLOSE_SPIDER, CrawlStore, StoreThread
from newscrawl.discovery import feed_links
from newscrawl.feeds import FeedError, parse_feed
from newscrawl.items import ArticleItem
from newscrawl.lifecycle import Lifecycle, same_address, soft_404_redirect
from newscrawl.listings import Listed, compare, remember
from newscrawl.notifier import outbox_hooks
from newscrawl.pipelines import NotStored
from newscrawl.sitemaps import INDEX, SitemapError, parse_sitemap, sitemaps_in_robots
from newscrawl.sources import Source, SourcesError, load_sources
from newscrawl.store import transient_error, utcnow
from newscrawl.urls import canonical_url, on_domains

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
GONE = (404, 410)
RECHECK_MODES = ("due", "all", "none")
# Failures worth retrying at the next poll of the feed that listed the article.
TRANSIENT_REASONS = frozenset({"timeout", "dns", "connection-refused", "no-response"})
# A sitemap index may list indexes (not in the protocol, but publishers do): this deep at most.
MAX_SITEMAP_DEPTH = 2


class FeedsSpider(scrapy.Spider):
    name = "feeds"

    def __init__(
        self, recheck: str = "due", sources: str = "", shard: str = "0/1", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if recheck not in RECHECK_MODES:
            raise ValueError(f"recheck must be one of {RECHECK_MODES}, got {recheck!r}")
        self.recheck = recheck
        self.shard, self.shards = parse_shard(shard)
        self.lease_tokens: list[str] = []
        self.requested: set[str] = set()  # article URLs asked for in this run
        # A feed's ETag/Last-Modified are saved only when the run ends normally and every
        # new article it listed was fetched and stored: a 304 next time must not hide an
        # article that a crash, a timeout, the per-feed cap or a store error left behind.
        self.feed_validators: dict[str, dict[str, str | None]] = {}
        self.incomplete_feeds: set[str] = set()
        self.polled: set[str] = set()  # feeds, sitemaps, robots.txt and pages asked for
        self.only_sources = {s.strip() for s in sources.split(",") if s.strip()}
        self.sources_by_name: dict[str, Source] = {}
        self._crawl: CrawlStore | None = None
        self._lifecycle: Lifecycle | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FeedsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        path = crawler.settings.get("NEWSCRAWL_SOURCES") or None
        try:
            sources = load_sources(path)
        except SourcesError as exc:
            raise SourcesError(f"NEWSCRAWL_SOURCES: {exc}") from exc
        if spider.only_sources:
            unknown = spider.only_sources - {s.name for s in sources}
            if unknown:
                raise ValueError(f"unknown sources {sorted(unknown)}")
            sources = [s for s in sources if s.name in spider.only_sources]
        spider.sources_by_name = {s.name: s for s in sources}
        crawler.signals.connect(spider.item_dropped, signal=signals.item_dropped)
        return spider

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

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        """A page listed by a feed that was not stored: the feed is polled in full next time
        (its validators are not saved)."""
        if isinstance(exception, NotStored) and getattr(item, "feed", None):
            self.incomplete_feeds.add(item.feed)

    # start --------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.crawl.at_close(CLOSE_SPIDER, self.close_store_work)
        for source in self.sources_by_name.values():
            polled = [("feed", source.feeds), ("sitemap", source.sitemaps),
                      ("robots", source.robots_urls()), ("page", source.pages)]  # fmt: skip
            for kind, urls in polled:
                for url in urls:
                    if in_shard(url, self.shard, self.shards):
                        request = await self._poll(kind, url, source)
                        if request is not None:
                            yield request
        async for article in self._claim_rechecks():
            tracked_source = self.sources_by_name.get(article.get("source", ""))
            # an article re-checked on a sitemap hint already is not asked for twice
            if tracked_source is not None and article["_id"] not in self.requested:
                yield self._article_request(article["_id"], tracked_source, tracked=article)

    async def _claim_rechecks(self) -> AsyncIterator[dict[str, Any]]:
        """Lease due articles in batches as the crawl asks for more, so a run holds (and
        keeps in memory) only what it is about to fetch, and several nodes share the work."""
        self.crawler.stats.set_value("newscrawl/articles/rechecks", 0)
        if self.recheck == "none":
            return
        thread, settings = self.store, self.settings
        remaining = settings.getint("NEWSCRAWL_RECHECK_LIMIT")
        round_started = utcnow() if self.recheck == "all" else None
        while remaining > 0:
            token, batch = await thread.call(
                thread.store.claim_articles,
                utcnow(),
                min(settings.getint("NEWSCRAWL_CLAIM_BATCH"), remaining),
                settings.getfloat("NEWSCRAWL_LEASE_SECONDS"),
                everything_checked_before=round_started,
            )
            if not batch:
                return
            self.lease_tokens.append(token)
            self.crawler.stats.inc_value("newscrawl/articles/rechecks", len(batch))
            remaining -= len(batch)
            for article in batch:
                yield article

    async def close_store_work(self, reason: str) -> None:
        """Save complete feeds' validators, give back unchecked leases and prune old error
        records and listings (first in the crawl store's close sequence, ``CLOSE_SPIDER``;
        the store may be down, then leases expire by themselves)."""
        thread = self.store
        try:
            if reason == "finished":
                complete = {
                    feed: validators
                    for feed, validators in self.feed_validators.items()
                    if feed not in self.incomplete_feeds
                }
                await thread.call(thread.store.save_feed_validators, complete)
            released = 0
            for token in self.lease_tokens:
                released += await thread.call(thread.store.release_leases, token)
            if released:
                logger.info("released %d unchecked article leases (%s)", released, reason)
            pruned = await thread.call(
                thread.store.bound_errors, utcnow(),
                self.settings.getfloat("NEWSCRAWL_ERRORS_TTL"),
                self.settings.getint("NEWSCRAWL_ERRORS_MAX"),
            )  # fmt: skip
            if pruned:
                logger.info("deleted %d old error records", pruned)
            stop_after = timedelta(seconds=self.crawl.policy.stop_after)
            await thread.call(thread.store.prune_listings, utcnow() - stop_after)
        except Exception as exc:
            if not transient_error(exc):
                raise
            logger.warning("store unavailable at close (%s): leases expire by themselves", exc)

    async def _poll(
        self, kind: str, url: str, source: Source, depth: int = 0
    ) -> scrapy.Request | None:
        """A conditional request for a feed, sitemap, robots.txt or page; None when this run
        asked for it already (two pages announcing one feed, an index listed twice)."""
        if url in self.polled:
            return None
        self.polled.add(url)
        state = await self.store.call(self.store.store.feed_state, url)
        callbacks = {"feed": self.parse_feed, "sitemap": self.parse_sitemap,
                     "robots": self.parse_robots, "page": self.parse_page}  # fmt: skip
        return scrapy.Request(
            url,
            callback=callbacks[kind],
            errback=self.feed_failed,
            headers=conditional_headers(state),
            dont_filter=True,
            meta={"source": source.name, "feed": url, "kind": kind, "depth": depth},
            priority=10,
        )

    def _article_request(
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
        # dont_filter: the spider dedupes article URLs itself (``requested``), and Scrapy's
        # filter would silently drop the second hop of a redirect loop instead of failing it.
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            headers=conditional_headers(tracked),
            dont_filter=True,
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

    # feeds --------------------------------------------------------------------------------
    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        feed, source = response.meta["feed"], self.sources_by_name[response.meta["source"]]
        stats = self.crawler.stats
        stats.inc_value("newscrawl/feeds/polled")
        if not await self._poll_answered(response, "feed"):
            return
        try:
            entries = parse_feed(response.body)
        except FeedError as exc:
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
        requests = [self._article_request(url, source, feed=where) for url in new]
        for hint in hints:
            if hint.url not in self.requested:
                stats.inc_value("newscrawl/articles/lastmod_rechecks")
                data = {"where": where, "old": hint.old, "new": hint.new}
                requests.append(
                    self._article_request(hint.url, source, tracked=hint.article, hint=data)
                )
        return requests

    async def _poll_answered(self, response: Response, kind: str) -> bool:
        """Whether a polled document came with a body to read: a 304 is recorded (and what
        the document led to before is polled again), any other non-200 is an error."""
        url, source = response.meta["feed"], self.sources_by_name[response.meta["source"]]
        thread = self.store
        if response.status == 304:
            self.crawler.stats.inc_value(f"newscrawl/{kind}s/not_modified")
            await thread.call(thread.store.save_feed_poll, url, source.name, kind=kind,
                              last_polled=utcnow(), last_status=304)  # fmt: skip
            return False
        if response.status != 200:
            await self._feed_error(url, source, f"http-{response.status}", f"{kind} not available")
            return False
        return True

    async def _save_poll(self, response: Response, kind: str, **fields: Any) -> None:
        """Record a polled document read in full; its validators are saved at the end."""
        url, source = response.meta["feed"], response.meta["source"]
        await self.store.call(
            self.store.store.save_feed_poll, url, source, kind=kind, last_polled=utcnow(),
            last_status=response.status, error=None, **fields,
        )  # fmt: skip
        self.feed_validators[url] = {
            "etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified"),
        }

    async def _follow_found(self, response: Response, kind: str) -> AsyncIterator[scrapy.Request]:
        """After a 304 from a sitemap index, robots.txt or page: poll what it led to before."""
        url, source = response.meta["feed"], self.sources_by_name[response.meta["source"]]
        state = await self.store.call(self.store.store.feed_state, url)
        # depth counts sitemap indexes only: what a page or robots.txt lists starts at 0
        depth = response.meta["depth"] + 1 if kind == "sitemap" else 0
        for found_kind, found in state.get("found") or []:
            request = await self._poll(found_kind, found, source, depth)
            if request is not None:
                yield request

    # sitemaps, robots.txt, pages ------------------------------------------------------------
    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        url, source = response.meta["feed"], self.sources_by_name[response.meta["source"]]
        settings, stats = self.settings, self.crawler.stats
        stats.inc_value("newscrawl/sitemaps/polled")
        if not await self._poll_answered(response, "sitemap"):
            if response.status == 304:
                async for request in self._follow_found(response, "sitemap"):
                    yield request
            return
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
        for kind, child in found:
            follow = await self._poll(kind, child, source, response.meta["depth"] + 1)
            if follow is not None:
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

    async def parse_robots(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """robots.txt of a source with ``sitemaps = "robots"`` (or of a page without feed
        links): its ``Sitemap:`` lines on the source's domains are polled as sitemaps."""
        url, source = response.meta["feed"], self.sources_by_name[response.meta["source"]]
        if not await self._poll_answered(response, "robots"):
            if response.status == 304:
                async for request in self._follow_found(response, "robots"):
                    yield request
            return
        sitemaps = sitemaps_in_robots(response.body, response.url)
        on_site = [s for s in sitemaps if on_domains(s, source.domains)]
        await self._save_poll(response, "robots", found=[["sitemap", s] for s in on_site])
        if len(on_site) < len(sitemaps):
            offsite = sorted(set(sitemaps) - set(on_site))
            message = f"sitemaps off the source's domains skipped: {offsite}"
            await self._feed_error(url, source, "offsite-urls", message, "robots")
        elif not sitemaps:
            await self._feed_error(url, source, "no-sitemaps", "no Sitemap: lines", "robots")
        for sitemap in on_site:
            follow = await self._poll("sitemap", sitemap, source)
            if follow is not None:
                yield follow

    async def parse_page(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """Feed autodiscovery: the page's ``<link rel="alternate">`` feeds, else the sitemaps
        of its host's robots.txt; what was found is kept on the page's record."""
        url, source = response.meta["feed"], self.sources_by_name[response.meta["source"]]
        if not await self._poll_answered(response, "page"):
            if response.status == 304:
                async for request in self._follow_found(response, "page"):
                    yield request
            return
        if not isinstance(response, TextResponse):
            await self._feed_error(url, source, "not-html", "the page is not HTML", "page")
            return
        feeds = feed_links(response)
        found = [["feed", f] for f in feeds] or [["robots", urljoin(response.url, "/robots.txt")]]
        await self._save_poll(response, "page", found=found)
        logger.info("page %s: found %s", url, ", ".join(f"{k} {u}" for k, u in found))
        for kind, found_url in found:
            follow = await self._poll(kind, found_url, source)
            if follow is not None:
                yield follow

    async def feed_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        source, kind = self.sources_by_name[request.meta["source"]], request.meta["kind"]
        await self._feed_error(
            request.meta["feed"], source, _reason(failure), str(failure.value), kind
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

    # articles -----------------------------------------------------------------------------
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
            html=response.text,
            raw_hash=raw_hash,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            body=response.body,
            hint=response.meta["hint"],
            status=response.status,
            content_type=_header(response, b"Content-Type"),
            date=_header(response, b"Date"),
        )

    def _moved_to(self, url: str, source: Source, response: Response) -> str | None:
        """The canonical address a tracked article now redirects to, when it is another
        article's address the source follows (a slug changed with the headline); None when
        the page is served where it was before (or only the scheme, ``www.`` or a trailing
        slash changed)."""
        final = canonical_url(response.url)
        before = response.meta.get("response_url") or url
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
            etag=_header(response, b"ETag") or response.meta["etag"],
            last_modified=_header(response, b"Last-Modified") or response.meta["last_modified"],
        )

    async def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errbacks
        source = self.sources_by_name[request.meta["source"]]
        url = request.meta["article"]
        if failure.check(HttpError) and failure.value.response.status in GONE:
            status = failure.value.response.status
            await self._article_gone(url, source, f"http-{status}", request.meta)
            return
        reason = _reason(failure)
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


def conditional_headers(validators: dict[str, Any]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from a stored ETag / Last-Modified."""
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _reason(failure: Failure) -> str:
    """Short machine-readable cause: http-500, timeout, dns, blocked-host, too-large, ..."""
    if failure.check(HttpError):
        return f"http-{failure.value.response.status}"
    name = type(failure.value).__name__
    if name == "IgnoreRequest":
        message = str(failure.value)
        if "redirections" in message:
            return "too-many-redirects"
        if "DOWNLOAD_MAXSIZE" in message:
            return "too-large"
        if "robots.txt" in message:
            return "robots-txt"
        return "ignored"
    return FAILURE_REASONS.get(name, name)


# Exception class names (Twisted's and Scrapy 2.19's) -> reason recorded in ``errors``.
FAILURE_REASONS = {
    "PrivateHostBlocked": "blocked-host",
    "TimeoutError": "timeout",
    "DownloadTimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DNSLookupError": "dns",
    "CannotResolveHostError": "dns",
    "ConnectionRefusedError": "connection-refused",
    "DownloadConnectionRefusedError": "connection-refused",
    "DownloadCancelledError": "too-large",
    "ResponseNeverReceived": "no-response",
    "ResponseFailed": "no-response",
}


def parse_shard(value: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N), with 0 <= i < N."""
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise ValueError(f"shard must look like i/N (e.g. 0/3), got {value!r}") from None
    if not 0 <= index < count:
        raise ValueError(f"shard index must be in 0..{count - 1}, got {value!r}")
    return index, count


def in_shard(feed: str, index: int, count: int) -> bool:
    """Stable partition of feed URLs: the same on every node, whatever the file's order."""
    digest = hashlib.sha1(feed.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % count == index
