"""A few corpus pages served from a loopback site as one feed: what crawl tests track."""

from __future__ import annotations

import random

from newscrawl.extract import extract_article
from tests.support.corpus import load_pages, token_f1
from tests.support.mockserver import rss
from tests.support.mutations import edit_variants, noise_variants


def _spread(count: int = 3) -> list:
    """A spread of publishers (no page chosen by name): every 9th page of the sorted corpus
    that the mutation generator can mutate and that the extractor reads like the expected
    record (headline and F1 >= 0.95), so these tests check the tracker, not extraction
    accuracy; ``bench.accuracy`` and ``test_extract`` measure that on every page."""
    rng = random.Random(0)
    usable = []
    for page in load_pages()[::9]:
        article = extract_article(page.raw, page.url)
        if (
            article is not None
            and article.title == page.record["title"]
            and token_f1(article.paragraphs, page.record["paragraphs"])[2] >= 0.95
            and len(noise_variants(page.html, page.record, rng)) >= 10
            and len(edit_variants(page.html, page.record, rng)) >= 4
        ):
            usable.append(page)
    return usable[:count]


PAGES = _spread()


def serve(site, htmls: list[str], feed: str = "/feed.xml") -> list[str]:
    """Serve one HTML page per article plus a feed linking them (with tracking parameters)."""
    for i, html in enumerate(htmls):
        site.put(f"/news/{i}.html", html)
    links = [site.url(f"/news/{i}.html?utm_source=rss&utm_medium=feed") for i in range(len(htmls))]
    site.put(feed, rss("Local news", links), content_type="application/rss+xml")
    return [site.url(f"/news/{i}.html") for i in range(len(htmls))]
