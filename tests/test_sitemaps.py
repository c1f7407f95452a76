"""Sitemaps, feed autodiscovery and headline variants: real ``scrapy crawl feeds`` runs
against a loopback site serving a sitemap index, a gzipped Google News sitemap whose dates
and titles change, pages announcing feeds, a robots.txt, and hostile sitemaps."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from xml.sax.saxutils import escape

import pytest

from newscrawl.extract import extract_article
from newscrawl.sitemaps import SitemapError, parse_sitemap
from newscrawl.web import create_app
from tests.support.corpus import load_pages
from tests.support.crawling import REPO
from tests.support.hostile_site import gzip_bomb, public_site_settings
from tests.support.mockserver import free_port

NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MB = 1024 * 1024


@cache
def articles() -> list[bytes]:
    """Three corpus pages the extractor reads as articles."""
    found = []
    for page in load_pages():
        article = extract_article(page.raw, page.url)
        if article is not None and article.title and len(article.paragraphs) >= 3:
            found.append(page.raw)
        if len(found) == 3:
            return found
    raise AssertionError("not enough extractable pages in the corpus")


def w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def news_sitemap(entries: list[tuple[str, datetime, str]]) -> bytes:
    """A Google News sitemap: (URL, lastmod, news:title) per article."""
    urls = "".join(
        f"<url><loc>{escape(loc)}</loc><lastmod>{w3c(lastmod)}</lastmod><news:news>"
        "<news:publication><news:name>Local</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>{w3c(lastmod)}</news:publication_date>"
        f"<news:title>{escape(title)}</news:title></news:news></url>"
        for loc, lastmod, title in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="{NEWS_NS}">'
        f"{urls}</urlset>"
    ).encode()


def plain_sitemap(locs: list[str], lastmod: datetime) -> bytes:
    urls = "".join(f"<url><loc>{escape(loc)}</loc><lastmod>{w3c(lastmod)}</lastmod></url>"
                   for loc in locs)  # fmt: skip
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>"
    ).encode()


def sitemap_index(children: list[tuple[str, datetime]]) -> str:
    listed = "".join(f"<sitemap><loc>{escape(loc)}</loc><lastmod>{w3c(lastmod)}</lastmod>"
                     "</sitemap>" for loc, lastmod in children)  # fmt: skip
    return (
        '<?xml version="1.0"?><sitemapindex '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{listed}</sitemapindex>'
    )


def titled_rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(link)}</link></item>"
                      for link, t in items)  # fmt: skip
    channel = f"<channel><title>Local</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def events_of(store, url: str, kind: str) -> list[dict]:
    return list(store.db["events"].find({"url": url, "kind": kind}))


def scrapy(store_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO,
                          env={**os.environ, **store_env}, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


# parsing ------------------------------------------------------------------------------------
def test_a_gzipped_news_sitemap_gives_locations_dates_and_news_titles():
    body = news_sitemap([("https://ex.com/a", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "A  b")])
    (entry,) = parse_sitemap(gzip.compress(body), max_urls=10, max_size=MB).entries
    assert entry.loc == "https://ex.com/a"
    assert entry.title == "A b"
    assert entry.date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aa">]><urlset/>', "malformed-sitemap"),
        (b"<html><body>not a sitemap</body></html>", "malformed-sitemap"),
        (b"", "malformed-sitemap"),
        (gzip_bomb(4 * MB), "too-large"),
    ],
    ids=["entities", "html", "empty", "gzip-bomb"],
)
def test_what_is_not_a_readable_sitemap_raises_with_a_reason(body, reason):
    with pytest.raises(SitemapError) as raised:
        parse_sitemap(body, max_urls=10, max_size=MB)
    assert raised.value.reason == reason


def test_listings_unchanged_for_long_are_pruned_and_recent_ones_kept(open_store):
    store, now = open_store(), datetime.now(UTC)
    store.save_listing(
        "https://ex.com/feed", "https://ex.com/old", "S", seen_at=now - timedelta(days=41)
    )
    store.save_listing("https://ex.com/feed", "https://ex.com/new", "S", seen_at=now)
    assert store.prune_listings(now - timedelta(days=40)) == 1
    assert [doc["url"] for doc in store.listings.find()] == ["https://ex.com/new"]


# crawls -------------------------------------------------------------------------------------
def test_sitemap_index_news_sitemap_lastmod_hints_and_headline_variants(site, crawl, open_store):
    now = datetime.now(UTC)
    for i, html in enumerate(articles()[:2]):
        site.put(f"/news/{i}.html", html)
    site.put("/news/old.html", articles()[2])
    a, b, old = (site.url(p) for p in ("/news/0.html", "/news/1.html", "/news/old.html"))
    index, news = site.url("/sitemap-index.xml"), site.url("/sitemap-news.xml.gz")

    def serve(entries):
        site.put("/sitemap-news.xml.gz", gzip.compress(news_sitemap(entries)),
                 content_type="application/x-gzip")  # fmt: skip

    site.put("/sitemap-index.xml", sitemap_index(
        [(news, now), (site.url("/sitemap-2019.xml"), now - timedelta(days=2000))]
    ))  # fmt: skip
    site.put("/sitemap-2019.xml", plain_sitemap([old], now - timedelta(days=2000)))
    listed = [(a, now - timedelta(hours=2), "First headline"),
              (b, now - timedelta(hours=1), "Second headline"),
              (old, now - timedelta(days=10), "Old news"),
              ("http://elsewhere.invalid/news/x.html", now, "Off the domains")]  # fmt: skip
    serve(listed)
    sources = f'sitemaps = ["{index}"]'
    crawl(feeds=(), sources_extra=sources)
    store = open_store()
    # only the recent articles on the source's domains; old sitemaps and articles left alone
    assert sorted(x["_id"] for x in store.articles.find()) == [a, b]
    assert not site.requests_for("/sitemap-2019.xml") and not site.requests_for("/news/old.html")
    assert store.errors.find_one({"url": news})["reason"] == "offsite-urls"
    record = store.feeds.find_one({"_id": news})
    assert record["kind"] == "sitemap" and record["news"] and record["entries"] == 4

    # a's lastmod moves without a text change, b's news:title changes: one re-check, no version
    listed[0] = (a, now, "First headline")
    listed[1] = (b, now - timedelta(hours=1), "Second headline, tested")
    serve(listed)
    result = crawl("-a", "recheck=none", sources_extra=sources, feeds=())
    assert "newscrawl/articles/lastmod_rechecks': 1" in result.stderr
    assert len(site.requests_for("/news/0.html")) == 2
    assert len(site.requests_for("/news/1.html")) == 1  # a title is no reason to re-fetch
    (moved,) = events_of(store, a, "lastmod-moved")
    assert moved["where"] == news and moved["new"] > moved["old"]
    (variant,) = events_of(store, b, "headline-variant")
    assert (variant["old"], variant["new"]) == ("Second headline", "Second headline, tested")
    assert variant["where"] == news
    assert [len(store.history(url)) for url in (a, b)] == [1, 1]

    # nothing changed: the index answers 304, and the sitemap it led to is asked again (304)
    crawl("-a", "recheck=none", sources_extra=sources, feeds=())
    assert site.requests_for("/sitemap-index.xml")[-1].status == 304
    assert site.requests_for("/sitemap-news.xml.gz")[-1].status == 304
    assert len(site.requests_for("/news/0.html")) == 2
    assert not events_of(store, a, "headline-variant")


def test_pages_lead_to_their_feeds_or_robots_sitemaps_and_feed_title_changes_are_events(
    site, crawl, open_store, store_env
):
    for i, html in enumerate(articles()):
        site.put(f"/news/{i}.html", html)
    a, b, c = (site.url(f"/news/{i}.html") for i in range(3))
    home, section = site.url("/"), site.url("/world/")
    site.put("/", '<html><head><link rel="alternate" type="application/rss+xml" '
             'title="Top" href="/feed.xml"></head><body>Home</body></html>')  # fmt: skip
    site.put("/world/", "<html><head><title>World</title></head><body>none</body></html>")
    site.put("/feed.xml", titled_rss([(a, "A headline"), (b, "B headline")]),
             content_type="application/rss+xml")  # fmt: skip
    site.put("/robots.txt", f"User-agent: *\nAllow: /\nSitemap: {site.url('/sitemap.xml')}\n",
             content_type="text/plain")  # fmt: skip
    site.put("/sitemap.xml", plain_sitemap([c], datetime.now(UTC)))
    sources = f'pages = ["{home}", "{section}"]'
    crawl(feeds=(), sources_extra=sources)
    store = open_store()
    assert sorted(x["_id"] for x in store.articles.find()) == [a, b, c]
    assert store.feeds.find_one({"_id": home})["found"] == [["feed", site.url("/feed.xml")]]
    assert store.feeds.find_one({"_id": section})["found"] == [["robots", site.url("/robots.txt")]]
    robots = store.feeds.find_one({"_id": site.url("/robots.txt")})
    assert robots["found"] == [["sitemap", site.url("/sitemap.xml")]]
    status = scrapy(store_env, "status")
    assert f"page {home}: feed {site.url('/feed.xml')}" in status.stdout, status.stdout

    # the feed A/B-tests a headline: an event, no fetch of the page for it, no version
    site.put("/feed.xml", titled_rss([(a, "A headline, variant two"), (b, "B headline")]),
             content_type="application/rss+xml")  # fmt: skip
    crawl("-a", "recheck=none", feeds=(), sources_extra=sources)
    (variant,) = events_of(store, a, "headline-variant")
    assert (variant["old"], variant["new"]) == ("A headline", "A headline, variant two")
    assert variant["where"] == site.url("/feed.xml")
    assert not events_of(store, b, "headline-variant")
    assert len(store.history(a)) == 1 and len(site.requests_for("/news/0.html")) == 1
    history = scrapy(store_env, "history", a)
    assert "headline-variant" in history.stdout and "A headline, variant two" in history.stdout
    page = create_app(store_env).test_client().get("/article", query_string={"url": a})
    html = page.get_data(as_text=True)
    assert "headline-variant" in html and "A headline, variant two" in html


def billion_laughs_sitemap(levels: int = 9) -> bytes:
    entities = '<!ENTITY a0 "aaaaaaaaaa">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels + 1)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE urlset [{entities}]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>http://127.0.0.1/&a{levels};</loc></url></urlset>"
    ).encode()


def test_hostile_sitemaps_get_an_error_each_and_the_crawl_goes_on(site, crawl, open_store):
    now = datetime.now(UTC)
    site.put("/news/good.html", articles()[0])
    good = site.url("/news/good.html")
    site.put("/good.xml", plain_sitemap([good], now))
    site.put("/lol.xml", billion_laughs_sitemap())
    old = [site.url(f"/old/{i}.html") for i in range(50_001)]
    site.put("/many.xml", plain_sitemap(old, now - timedelta(days=30)))
    site.put("/bomb.xml.gz", gzip_bomb(64 * MB), content_type="application/x-gzip")
    site.put("/offsite.xml", plain_sitemap(["http://elsewhere.invalid/a.html"], now))
    flood = [site.url(f"/flood/{i}.html") for i in range(30)]
    site.put("/flood.xml", plain_sitemap(flood, now))
    undated = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s</loc>'
    site.put("/undated.xml", undated % site.url("/old/undated.html").encode() + b"</url></urlset>")
    private = f"http://127.0.0.1:{free_port()}/sitemap.xml"  # not the "public" site: internal
    hostile = ["/lol.xml", "/many.xml", "/bomb.xml.gz", "/offsite.xml", "/missing.xml"]
    urls = [site.url(p) for p in ("/good.xml", "/undated.xml", "/flood.xml", *hostile)]
    sitemaps = ", ".join(f'"{u}"' for u in [*urls, private])
    settings = {**public_site_settings(site.base), "NEWSCRAWL_SITEMAP_NEW_LIMIT": "5"}
    result = crawl(feeds=(), sources_extra=f"sitemaps = [{sitemaps}]", settings=settings)
    assert "'finish_reason': 'finished'" in result.stderr
    store = open_store()
    assert [x["_id"] for x in store.articles.find()] == [good]
    reasons = {e["url"]: e["reason"] for e in store.errors.find({"kind": "sitemap"})}
    assert reasons == {
        site.url("/lol.xml"): "malformed-sitemap",
        site.url("/many.xml"): "too-many-urls",
        site.url("/bomb.xml.gz"): "too-large",
        site.url("/offsite.xml"): "offsite-urls",
        site.url("/missing.xml"): "http-404",
        private: "blocked-host",
    }
    assert store.feeds.find_one({"_id": site.url("/missing.xml")})["kind"] == "sitemap"
    # 50,000 old URLs, and one undated (it may be as old): none followed; of 30 new, 5
    assert not [r for r in site.log if r.path.startswith("/old/")]
    assert len([r for r in site.log if r.path.startswith("/flood/")]) == 5
