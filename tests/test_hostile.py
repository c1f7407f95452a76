"""Hostile feeds and pages (issue #6, parts 3 and 6): each gets a per-feed or per-article
error record, the crawl goes on, a good article in the same crawl is still tracked, and no
single page stalls the crawl.

Crawl-level tests run real ``scrapy crawl feeds`` subprocesses against the loopback site;
unit tests cover what a crawl cannot reach (internal addresses, parse and extraction bounds).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from newscrawl.extract import extract_article
from newscrawl.feedparsing import FeedError, parse_feed
from newscrawl.middlewares import PrivateHostBlocked, PrivateHostMiddleware
from tests.support.crawling import REPO, crawl_command, write_sources
from tests.support.hostile_site import (
    big_feed,
    billion_laughs,
    deeply_nested_page,
    deflate_bomb,
    external_entity_feed,
    good_page,
    gzip_bomb,
    public_site_settings,
    redos_page,
    single_line_page,
    slow_extraction_page,
    timestamp_redos_paragraph,
)
from tests.support.mockserver import Site, rss

MB = 1024 * 1024
# Wall-clock bounds, generous for a loaded 2-core CI machine; a healthy crawl takes ~5-10 s.
CRAWL_BOUND = 60.0


def serve_good(site: Site) -> str:
    site.put("/news/good.html", good_page().html)
    site.put("/feed.xml", rss("good", [site.url("/news/good.html")]))
    return site.url("/news/good.html")


def errors_by_path(store: Any, site: Site) -> dict[str, str]:
    return {e["url"].removeprefix(site.base): e["reason"] for e in store.errors.find()}


def assert_accounted_for(store: Any, site: Site, good: str, paths: list[str]) -> dict[str, str]:
    """The good article is tracked, and every hostile path is tracked or has an error record;
    returns the error reasons by path."""
    assert_tracked(store, good)
    errors = errors_by_path(store, site)
    tracked = {a["_id"].removeprefix(site.base) for a in store.articles.find()}
    for path in paths:
        assert path in errors or path in tracked, path
    return errors


def error_for(store: Any, url: str) -> dict[str, Any]:
    found = list(store.errors.find({"url": url}))
    assert found, f"no error record for {url}: {[e['url'] for e in store.errors.find()]}"
    return found[-1]


def assert_tracked(store: Any, url: str) -> None:
    assert store.articles.find_one({"_id": url}) is not None, f"{url} not tracked"
    assert len(store.history(url)) == 1


def assert_clean_crawl(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert "'finish_reason': 'finished'" in result.stderr


# hostile feeds -----------------------------------------------------------------------------
def test_hostile_feeds_get_a_feed_error_each_and_the_crawl_goes_on(
    site, crawl, open_store, tmp_path
):
    good = serve_good(site)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    site.put("/lol.xml", billion_laughs(), content_type="application/rss+xml")
    site.put("/xxe.xml", external_entity_feed(str(secret), site.url("/news/xxe-&x;.html")))
    bomb = {"Content-Encoding": "gzip"}
    site.put("/gzip-bomb.xml", gzip_bomb(64 * MB), content_type="text/xml", headers=bomb)
    site.put("/endless.xml", rss("e", [good]), content_type="text/xml", endless=True)
    site.put("/trickle.xml", "<rss>", endless=True, filler=b" ", trickle=0.2)
    site.put("/loop-a.xml", b"", status=302, headers={"Location": "/loop-b.xml"})
    site.put("/loop-b.xml", b"", status=302, headers={"Location": "/loop-a.xml"})
    site.put("/binary.xml", os.urandom(64 * 1024), content_type="application/rss+xml")
    feeds = ("/feed.xml", "/lol.xml", "/xxe.xml", "/gzip-bomb.xml", "/endless.xml",
             "/trickle.xml", "/loop-a.xml", "/binary.xml")  # fmt: skip
    result = crawl(feeds=feeds, settings=hostile_settings())
    assert_clean_crawl(result)
    store = open_store()
    assert_tracked(store, good)
    errors = errors_by_path(store, site)
    assert "DOWNLOAD_MAXSIZE" in error_for(store, site.url("/gzip-bomb.xml"))["message"]
    assert errors["/endless.xml"] in ("too-large", "DownloadCancelledError")
    assert errors["/trickle.xml"] == "timeout"
    assert "max redirections" in error_for(store, site.url("/loop-a.xml"))["message"]
    assert errors["/binary.xml"] == "malformed-feed"
    # entities: the billion-laughs feed is read without expanding them (one entry, no
    # error, the crawl alive), and the external entity is never read from disk
    lol = store.feeds.find_one({"_id": site.url("/lol.xml")})
    assert lol["entries"] == 1 and lol.get("error") is None
    assert "TOPSECRET" not in result.stderr
    assert not any("TOPSECRET" in e["url"] for e in store.errors.find())
    assert not any("TOPSECRET" in a["_id"] for a in store.articles.find())


def hostile_settings(**extra: str) -> dict[str, str]:
    return {
        "DOWNLOAD_TIMEOUT": "3",
        "RETRY_TIMES": "0",
        "DOWNLOAD_MAXSIZE": str(2 * MB),
        "DOWNLOAD_WARNSIZE": str(1 * MB),
        **extra,
    }


# hostile pages -----------------------------------------------------------------------------
HOSTILE_PAGES: dict[str, dict[str, Any]] = {
    "/gzip-bomb": {"body": gzip_bomb(64 * MB), "headers": {"Content-Encoding": "gzip"}},
    "/deflate-bomb": {"body": deflate_bomb(64 * MB), "headers": {"Content-Encoding": "deflate"}},
    "/too-big": {"body": b"<html><body><p>" + b"x" * (3 * MB) + b"</p></body></html>"},
    "/endless": {"body": b"<html><body>", "endless": True},
    "/trickle": {"body": b"<html>", "endless": True, "filler": b"<p>", "trickle": 0.2},
    "/to-file": {"body": b"", "status": 302, "headers": {"Location": "file:///etc/passwd"}},
    "/to-data": {"body": b"", "status": 302, "headers": {"Location": "data:text/html,<h1>x"}},
    "/png": {"body": b"\x89PNG\r\n\x1a\n" + os.urandom(4096), "content_type": "image/png"},
    "/json": {"body": b'{"title": "not a page"}', "content_type": "application/json"},
    "/binary-as-html": {"body": os.urandom(64 * 1024)},
}


# Pages that still hold the good article, served with broken or lying charsets and
# injected NUL bytes / lone surrogates: each is tracked, or gets an error record.
def _broken_pages() -> dict[str, dict[str, Any]]:
    html = good_page().html
    utf8 = html.encode("utf-8")
    poisoned = html.replace("<p>", "<p>\x00&#xD800;&#0;", 5).encode("utf-8")
    return {
        "/lying-utf16": {"body": utf8, "content_type": "text/html; charset=utf-16"},
        "/bogus-charset": {"body": utf8, "content_type": "text/html; charset=x-no-such-thing"},
        "/invalid-utf8": {"body": utf8.replace(b"<p>", b"<p>\xff\xfe\xed\xa0\x80", 10)},
        "/nul-surrogates": {"body": poisoned.replace(b"<p>", b"<p>\xed\xa0\x80", 3)},
    }


def test_hostile_pages_get_an_article_error_each_and_the_crawl_goes_on(site, crawl, open_store):
    good = serve_good(site)
    pages = {**HOSTILE_PAGES, **_broken_pages()}
    for path, page in pages.items():
        site.put(path, page.pop("body"), **page)
    entry_paths = list(pages)
    site.put("/bad.xml", rss("bad", [site.url(p) for p in entry_paths]))
    started = time.monotonic()
    result = crawl(feeds=("/feed.xml", "/bad.xml"), settings=hostile_settings())
    assert time.monotonic() - started < CRAWL_BOUND
    assert_clean_crawl(result)
    store = open_store()
    errors = assert_accounted_for(store, site, good, entry_paths)
    for path in ("/gzip-bomb", "/deflate-bomb"):
        assert "DOWNLOAD_MAXSIZE" in error_for(store, site.url(path))["message"]
    for path in ("/too-big", "/endless"):  # cancelled at DOWNLOAD_MAXSIZE
        assert errors[path] in ("too-large", "DownloadCancelledError")
    assert errors["/trickle"] == "timeout"
    assert errors["/png"] == errors["/json"] == "not-html"
    assert errors["/binary-as-html"] in ("no-article", "not-html")
    for path in ("/to-file", "/to-data"):  # never followed to another scheme
        assert path in errors and store.articles.find_one({"_id": site.url(path)}) is None
    assert "root:" not in result.stderr
    for path in _broken_pages():  # stored text never carries NULs or lone surrogates
        for version in store.history(site.url(path)):
            text = version["title"] + "".join(version["paragraphs"])
            assert "\x00" not in text
            assert not any("\ud800" <= ch <= "\udfff" for ch in text)


def test_redirect_loop_on_an_article_gets_an_error_record(site, crawl, open_store):
    """Scrapy's duplicate filter would drop the loop's second visit silently; article
    requests bypass it, so the loop ends at REDIRECT_MAX_TIMES with an error record."""
    good = serve_good(site)
    site.put("/loop-a", b"", status=302, headers={"Location": "/loop-b"})
    site.put("/loop-b", b"", status=302, headers={"Location": "/loop-a"})
    site.put("/loop.xml", rss("loop", [site.url("/loop-a")]))
    crawl(feeds=("/feed.xml", "/loop.xml"), settings=hostile_settings())
    store = open_store()
    assert_tracked(store, good)
    assert "/loop-a" in errors_by_path(store, site)


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        ("DownloadCancelledError", "too-large"),
        ("DownloadConnectionRefusedError", "connection-refused"),
        ("CannotResolveHostError", "dns"),
        ("IgnoreRequest:max redirections reached", "too-many-redirects"),
        ("IgnoreRequest:Ignored response <200 x> because its body (65250 B compressed) "
         "exceeded DOWNLOAD_MAXSIZE (2097152 B) during decompression.", "too-large"),
    ],
)  # fmt: skip
def test_download_failures_get_a_clear_reason(exception: str, reason: str) -> None:
    import scrapy.exceptions
    from twisted.python.failure import Failure

    from newscrawl.spiders.http import failure_reason

    name, _, message = exception.partition(":")
    error = getattr(scrapy.exceptions, name)(message)
    assert failure_reason(Failure(error)) == reason


# internal addresses ------------------------------------------------------------------------
def blocks(url: str, allow_private: bool = False) -> bool:
    crawler = get_crawler(settings_dict={"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": allow_private})
    middleware = PrivateHostMiddleware.from_crawler(crawler)
    try:
        asyncio.run(middleware.process_request(Request(url)))
    except PrivateHostBlocked:
        return True
    return False


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://10.0.0.1/",
            "http://127.0.0.1:8080/", "http://localhost/", "http://[fd00:ec2::254]/",
            "http://192.168.0.1/", "http://100.64.0.1/", "http://0.0.0.0/",
            "http://[::ffff:169.254.169.254]/", "https://localhost./admin",
            "http://[::127.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/",
            "http://[fec0::1]/", "http://2130706433/"],
)  # fmt: skip
def test_requests_to_internal_addresses_are_blocked_unless_allowed(url: str) -> None:
    assert blocks(url)
    assert not blocks(url, allow_private=True)


def test_requests_to_public_addresses_pass() -> None:
    assert not blocks("http://93.184.216.34/news/1.html")
    assert not blocks("http://[2606:4700:4700::1111]/")


def test_redirects_to_internal_addresses_are_blocked_in_a_crawl(site, crawl, open_store):
    """The test site stands in for a public host (``PublicSiteMiddleware``); its articles
    redirect to metadata, loopback and private addresses, which the real check refuses."""
    good = serve_good(site)
    port = site.base.rsplit(":", 1)[1]
    targets = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-localhost": f"http://localhost:{port}/news/good.html",
        "/to-ipv6-loopback": f"http://[::1]:{port}/news/good.html",
        "/to-private": "http://10.0.0.1/",
    }
    for path, location in targets.items():
        site.put(path, b"", status=302, headers={"Location": location})
    site.put("/redirects.xml", rss("r", [site.url(p) for p in targets]))
    site.put("/feed-to-metadata.xml", b"", status=301,
             headers={"Location": "http://169.254.169.254/feed.xml"})  # fmt: skip
    settings = hostile_settings(**public_site_settings(site.base))
    result = crawl(
        feeds=("/feed.xml", "/redirects.xml", "/feed-to-metadata.xml"), settings=settings
    )
    store = open_store()
    assert_tracked(store, good)
    errors = errors_by_path(store, site)
    for path in [*targets, "/feed-to-metadata.xml"]:
        assert errors.get(path) == "blocked-host", (path, errors)
    assert "non-public address 169.254.169.254" in result.stderr
    # the loopback redirect targets never reached the site (only the public name did)
    assert [r.path for r in site.log].count("/news/good.html") == 1


# feeds and pages that cost time or memory --------------------------------------------------
def test_billion_laughs_feed_parses_quickly_without_expanding() -> None:
    started = time.perf_counter()
    entries = parse_feed(billion_laughs())
    assert time.perf_counter() - started < 10
    assert all(len(e.title) < 1000 for e in entries)


def test_100k_item_feed_parses_within_a_bounded_time() -> None:
    body = big_feed(100_000, "https://news.example/a/{}")
    started = time.perf_counter()
    entries = parse_feed(body)
    assert time.perf_counter() - started < 15  # ~0.7 s here
    assert len(entries) == 100_000


@pytest.mark.parametrize(
    "body", [b"\x00" * 1000, b"<rss>" + b"<item>" * 100_000, b"<rss>\xed\xa0\x80</rss>",
             b'<?xml version="1.0" encoding="utf-16"?><rss/>', b"<rss version='2.0'>\x00</rss>",
             # found by fuzz/fuzz_feeds.py: feedparser raised UnicodeDecodeError / ValueError
             b'<?xml version="1.0" encoding="utf-8\xcc"?><feed xmlns="http://www.w3.org/2005/Atom">'
             b"<entry><link hr\x01\x00ef='https://ex.com/a'/></entry></feed>",
             b'<?xml version="1.0" encoding="ut\x00f-8"?><rss version="2.0"><item></rss>',
             # found by atheris: feedparser gave an entry's links as strings
             b'<?xml version="1.0" nk>htpt://\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00license\x00\x00\x00\x00\x00\x00\x00'
             b'\x00example.invalid/</link><item><title>Story 0</title><links/p'
             b':>htt/ex.com/a</link></item><item><t\x03\x00\x00\x00\x00\x00\x00\x00ry 1</title><lin'
             b'k>https://ex.com/b?x=1&amp;amp;y=2</link></item></channel></'
             b'rss>'],
    ids=["nuls", "100k-open-items", "lone-surrogate", "lying-encoding", "nul-in-rss",
         "broken-xml-declaration", "nul-in-xml-declaration", "links-as-strings"],
)  # fmt: skip
def test_garbage_feeds_raise_feed_error_or_parse(body: bytes) -> None:
    with contextlib.suppress(FeedError):  # anything else (a crash) fails the test
        assert isinstance(parse_feed(body), list)


def test_100k_item_feed_does_not_explode_the_crawl(site, crawl, open_store):
    good = serve_good(site)
    site.put("/big.xml", big_feed(100_000, "https://elsewhere.example/a/{}"))
    started = time.monotonic()
    result = crawl(feeds=("/feed.xml", "/big.xml"))
    assert time.monotonic() - started < CRAWL_BOUND
    assert_clean_crawl(result)
    store = open_store()
    assert_tracked(store, good)
    assert store.feeds.find_one({"_id": site.url("/big.xml")})["entries"] == 100_000
    assert "'newscrawl/feeds/skipped_entries': 100000" in result.stderr


def test_a_run_follows_a_bounded_number_of_new_articles_per_feed(site, crawl):
    site.put("/many.xml", big_feed(60, site.url("/a/{}")))
    crawl(feeds=("/many.xml",), settings={"NEWSCRAWL_FEED_NEW_LIMIT": "10", "RETRY_TIMES": "0"})
    assert len([r for r in site.log if r.path.startswith("/a/")]) <= 10


def test_pathological_pages_neither_crash_nor_stall_the_crawl(site, crawl, open_store):
    """10 MB on one line, 100k-deep nesting, and a page whose extraction outlasts
    NEWSCRAWL_EXTRACT_TIMEOUT (~15 s of work, limit 2 s): each is tracked or recorded, and
    the good article in the same crawl is tracked."""
    good = serve_good(site)
    site.put("/one-line", single_line_page())
    site.put("/deep", deeply_nested_page())
    site.put("/slow-extract", slow_extraction_page(paragraphs=60_000))
    paths = ["/one-line", "/deep", "/slow-extract"]
    site.put("/patho.xml", rss("p", [site.url(p) for p in paths]))
    started = time.monotonic()
    result = crawl(feeds=("/feed.xml", "/patho.xml"), settings={"NEWSCRAWL_EXTRACT_TIMEOUT": "2"})
    assert time.monotonic() - started < CRAWL_BOUND
    assert_clean_crawl(result)
    store = open_store()
    errors = assert_accounted_for(store, site, good, paths)
    assert errors["/slow-extract"] == "extract-timeout"


def test_a_page_whose_extraction_never_ends_cannot_stall_the_crawl(site, store_env, tmp_path):
    """The timed-out worker is killed, not waited for, at the timeout and at close."""
    good = serve_good(site)
    site.put("/endless-extract", slow_extraction_page(paragraphs=150_000))  # ~40 s of work
    site.put("/redos.xml", rss("r", [site.url("/endless-extract")]))
    finished = run_crawl_bounded(
        site, store_env, tmp_path, ("/feed.xml", "/redos.xml"),
        {"NEWSCRAWL_EXTRACT_TIMEOUT": "2"}, bound=25.0,
    )  # fmt: skip
    assert finished, "the crawl was still running after 25 s"
    assert good


def run_crawl_bounded(
    site: Site,
    store_env: dict[str, str],
    tmp_path: Path,
    feeds: tuple[str, ...],
    settings: dict[str, str],
    bound: float,
) -> bool:
    """Runs a crawl; True if it exits within ``bound`` s, else kills its process group."""
    sources = write_sources(tmp_path / "sources.toml", site, list(feeds))
    env = {**os.environ, **store_env, "NEWSCRAWL_SOURCES": str(sources),
           "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True"}  # fmt: skip
    with subprocess.Popen(
        crawl_command(settings=settings), cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    ) as process:  # fmt: skip
        try:
            process.wait(timeout=bound)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return False


class _TookTooLong(BaseException):
    """Not an Exception: extract_article's catch-all must not swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise _TookTooLong

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def finishes_within(seconds: float, fn: Callable[[], object]) -> bool:
    try:
        with time_limit(seconds):
            fn()
    except _TookTooLong:
        return False
    return True


def test_a_short_dateline_like_paragraph_is_filtered_in_linear_time() -> None:
    page = redos_page(paragraphs=1, tokens=25)  # 2**25 paths for a backtracking regex
    assert finishes_within(2.0, lambda: extract_article(page, "https://news.example/a"))


@pytest.mark.parametrize(
    "html",
    [single_line_page(), deeply_nested_page(), "\x00" * 10_000, "<p>\ud800\udfff</p>" * 1000,
     "<html>" + "<table><tr><td>" * 20_000 + "x", "<!--" * 100_000, "&#0;&#xD800;" * 10_000],
    ids=["10MB-line", "100k-deep", "nuls", "surrogates", "tables", "comments", "char-refs"],
)  # fmt: skip
def test_pathological_html_extracts_or_gives_none_quickly(html: str) -> None:
    article: list[object] = []
    assert finishes_within(20.0, lambda: article.append(extract_article(html, "https://n.ex/a")))
    result = article[0]
    if result is not None:
        text = result.title + "".join(result.paragraphs)
        assert "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


def test_timestamp_redos_input_really_is_a_dateline_candidate() -> None:
    """Guards the test above: the trap paragraph is short and has a digit, so it is tested."""
    text = timestamp_redos_paragraph(25)
    assert len(text) < 80 and any(c.isdigit() for c in text)
