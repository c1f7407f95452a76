"""The crawl's side of notifications: a Scrapy extension (``EXTENSIONS``).

Off (``NotConfigured``) when no endpoint is configured. Otherwise a malformed ``[[webhook]]``
or ``[[notify]]`` table stops the crawl at start; ``ChangeDetectionPipeline`` enqueues every
new version in the outbox (``newscrawl.outbox``) as it is written (``outbox_hooks``), and
when the spider closes (``crawlstore.CLOSE_NOTIFICATIONS``: after the run record is saved,
so the run's duration excludes it) the outbox is
delivered for at most ``NEWSCRAWL_NOTIFY_MAX_TIME`` seconds; what is left, or failed, goes
out at the next crawl's close or with ``scrapy notify``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.crawlstore import CLOSE_NOTIFICATIONS, CrawlStore
from newscrawl.endpoints import Endpoint, allow_private, load_endpoints
from newscrawl.outbox import Outbox, Policy, enqueue, enqueue_version
from newscrawl.senders import Senders
from newscrawl.store import Store, transient_error

logger = logging.getLogger(__name__)

Hook = Callable[[dict[str, Any]], Any]


def outbox_for(store: Store, settings: Any, endpoints: list[Endpoint]) -> Outbox:
    """The outbox as the settings configure it (shared by the crawl and ``scrapy notify``)."""
    senders = Senders(
        settings.get("USER_AGENT") or "", settings.getfloat("NEWSCRAWL_NOTIFY_TIMEOUT", 10.0)
    )
    return Outbox(
        store, endpoints, senders, Policy.from_settings(settings),
        public_url=settings.get("NEWSCRAWL_PUBLIC_URL") or "",
        allow_private=allow_private(settings),
    )  # fmt: skip


def summary(counts: Counter) -> str:
    return (
        f"notifications: {counts['sent']} sent, {counts['failed']} failed, "
        f"{counts['filtered']} filtered out, {counts['given_up']} given up; "
        f"{counts['waiting']} endpoints waiting to retry"
    )


def outbox_hooks(crawler: Crawler, db: Any) -> tuple[Hook | None, Hook | None]:
    """(on_version, on_event) for the tracker and the lifecycle: each new version and event
    enqueued in the outbox while the Notifier is on, else nothing."""
    if crawler.get_extension(Notifier) is None:
        return None, None
    return partial(enqueue_version, db), partial(enqueue, db)


class Notifier:
    def __init__(self, crawler: Crawler, endpoints: list[Endpoint]) -> None:
        self.crawler = crawler
        self.endpoints = endpoints
        self.max_time = crawler.settings.getfloat("NEWSCRAWL_NOTIFY_MAX_TIME", 60.0)
        self.outbox: Outbox | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Notifier:
        endpoints = load_endpoints(crawler.settings)
        if not endpoints:
            raise NotConfigured("no webhook or notification endpoint")
        notifier = cls(crawler, endpoints)
        crawler.signals.connect(notifier.spider_opened, signal=signals.spider_opened)
        return notifier

    async def spider_opened(self, spider: Spider) -> None:
        crawl = CrawlStore.of(self.crawler)
        crawl.at_close(CLOSE_NOTIFICATIONS, self.deliver)
        thread = crawl.thread
        self.outbox = await thread.call(
            outbox_for, thread.store, self.crawler.settings, self.endpoints
        )
        # An endpoint gets the events enqueued from its first crawl on, this one included.
        await thread.call(self.outbox.register)

    async def deliver(self, reason: str) -> None:
        """At the crawl's close (``CLOSE_NOTIFICATIONS``): the outbox, for at most
        ``NEWSCRAWL_NOTIFY_MAX_TIME`` seconds."""
        if self.outbox is None:
            return
        thread = CrawlStore.of(self.crawler).thread
        try:
            counts = await thread.call(self.outbox.deliver, self.max_time)
        except Exception as exc:
            if not transient_error(exc):
                raise
            logger.warning("notifications not delivered, store unavailable: %s", exc)
            return
        for name, count in counts.items():
            self.crawler.stats.set_value(f"newscrawl/notify/{name}", count)
        logger.info(summary(counts))
