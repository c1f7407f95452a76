"""Hostile inputs for ``test_hostile``: generated bombs and pathological pages, and a downloader
middleware that lets a crawl treat the loopback test site as if it were on the internet.

``PublicSiteMiddleware`` is the real ``PrivateHostMiddleware`` with one exception: requests
to the origin in ``NEWSCRAWL_TEST_PUBLIC_ORIGIN`` (the test site) pass. Everything else,
redirect targets included, gets the real check, so a crawl can show that a redirect from a
"public" page to loopback, private or metadata addresses is refused. ``PublicSiteResolver``
is the real ``GuardedResolver`` with the same exception (the site's host, by name).
"""

from __future__ import annotations

import gzip
import zlib
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler

from newscrawl.extract import extract_article
from newscrawl.middlewares import PrivateHostMiddleware
from newscrawl.netguard import GuardedResolver
from tests.corpus import CorpusPage, load_pages

MIDDLEWARES_SETTING = (
    '{"newscrawl.middlewares.PrivateHostMiddleware": null, '
    '"tests.hostile_site.PublicSiteMiddleware": 50, '
    '"newscrawl.middlewares.RefusedLookupMiddleware": 600}'
)


def public_site_settings(base: str) -> dict[str, str]:
    """Crawl settings with the real guard on, the site at ``base`` standing in for a public
    host (in the middleware and in the downloader's resolver)."""
    return {
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "False",
        "NEWSCRAWL_TEST_PUBLIC_ORIGIN": base.removeprefix("http://"),
        "DOWNLOADER_MIDDLEWARES": MIDDLEWARES_SETTING,
        "TWISTED_DNS_RESOLVER": "tests.hostile_site.PublicSiteResolver",
    }


class PublicSiteMiddleware(PrivateHostMiddleware):
    public_origin = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateHostMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.public_origin = crawler.settings.get("NEWSCRAWL_TEST_PUBLIC_ORIGIN", "")
        return middleware

    async def process_request(self, request: Request) -> None:
        if urlsplit(request.url).netloc == self.public_origin:
            return
        await super().process_request(request)


class PublicSiteResolver(GuardedResolver):
    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        origin = crawler.settings.get("NEWSCRAWL_TEST_PUBLIC_ORIGIN", "")
        resolver.exempt |= {origin.rsplit(":", 1)[0]}
        return resolver


@cache
def good_page() -> CorpusPage:
    """A corpus page the extractor reads as an article (the "good article" of every crawl)."""
    for page in load_pages():
        article = extract_article(page.raw, page.url)
        if article is not None and article.title and len(article.paragraphs) >= 3:
            return page
    raise AssertionError("no extractable page in the corpus")


def billion_laughs(levels: int = 9) -> bytes:
    """RSS whose title entity expands to 10**levels * 10 characters if a parser expands it."""
    entities = '<!ENTITY a0 "aaaaaaaaaa">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels + 1)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel>'
        f"<title>&a{levels};</title><item><title>&a{levels};</title>"
        "<link>http://example.invalid/never-followed-lol</link></item></channel></rss>"
    ).encode()


def external_entity_feed(secret_path: str, link: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret_path}">]>'
        f'<rss version="2.0"><channel><title>t</title><item><title>&x;</title>'
        f"<link>{link}</link></item></channel></rss>"
    ).encode()


def gzip_bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def deflate_bomb(size: int) -> bytes:
    return zlib.compress(b"\0" * size, 9)


def big_feed(items: int, link: str) -> bytes:
    """RSS with ``items`` entries; every link is ``link`` formatted with the item number."""
    body = "".join(
        f"<item><title>Story {i}</title><link>{link.format(i)}</link></item>" for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>big</title>'
        f"{body}</channel></rss>"
    ).encode()


def single_line_page(size: int = 10 * 1024 * 1024) -> str:
    """The good page on one line, padded to ``size`` characters by one huge paragraph."""
    html = good_page().html.replace("\r", " ").replace("\n", " ")
    padding = "<div hidden><p>" + "lorem ipsum " * (size // 12) + "</p></div>"
    return html.replace("</body>", padding + "</body>", 1)


def deeply_nested_page(depth: int = 100_000) -> str:
    return (
        "<html><head><title>Deep</title></head><body>"
        + "<div><span>" * depth
        + "<p>Text at the bottom of a very deep tree.</p>"
        + "</span></div>" * depth
        + "</body></html>"
    )


def timestamp_redos_paragraph(tokens: int, number: int = 1) -> str:
    """A short paragraph that looks like a dateline to ``newscrawl.extract.filters`` until its last
    character: each "at" matches two alternatives, so a backtracking regex tries 2**tokens
    ways before failing (under 80 characters, with a digit, so the filter does test it)."""
    return f"{number} " + "at " * tokens + "x"


def redos_page(paragraphs: int, tokens: int) -> str:
    body = "".join(
        f"<p>This is sentence number {i} of a perfectly ordinary news article about things.</p>"
        for i in range(8)
    )
    traps = "".join(f"<p>{timestamp_redos_paragraph(tokens, n)}</p>" for n in range(paragraphs))
    return (
        "<html><head><title>An ordinary headline</title></head><body><article>"
        f"<h1>An ordinary headline</h1>{body}{traps}</article></body></html>"
    )


def slow_extraction_page(paragraphs: int) -> str:
    """A legitimate but enormous article: ~95 bytes and ~0.25 ms of extraction per paragraph
    (60,000 paragraphs: 5.6 MB, about 15 s on this machine)."""
    body = "".join(
        f"<p>Paragraph number {i} says something quite long about the news of the day.</p>"
        for i in range(paragraphs)
    )
    return (
        "<html><head><title>A very long article</title></head><body><article>"
        f"<h1>A very long article</h1>{body}</article></body></html>"
    )
