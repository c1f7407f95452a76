"""An article's life after publication, through real crawls of a local site: gone (404,
soft 404s), confirmed removed by re-checks, still watched, back again, moved to a new slug;
and the events that record it in the viewer, the feeds of changes and ``scrapy history``."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import feedparser

from newscrawl import events
from newscrawl.events import article_events, describe
from newscrawl.lifecycle import not_found_page, same_address, soft_404_redirect
from newscrawl.store import as_utc, utcnow
from newscrawl.web import create_app
from tests.support.corpus import intl_corpus_dir, load_pages
from tests.support.crawling import REPO
from tests.support.mockserver import rss
from tests.support.mutations import edit_variants
from tests.support.pages import PAGES, serve

# One re-check confirms a removal; re-checks are due at once (interval 0).
CONFIRM_ONCE = {"NEWSCRAWL_REMOVAL_CONFIRM_CHECKS": "1", "NEWSCRAWL_REMOVAL_CONFIRM_INTERVAL": "0"}
AT_ONCE = {"NEWSCRAWL_REMOVAL_CONFIRM_CHECKS": "0"}
NOT_FOUND = """<html><head><title>Page not found | Local News</title></head><body>
<nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/sport/">Sport</a></nav>
<main><h1>Page not found</h1>
<p>Sorry, the page you were looking for does not exist or has been moved.</p>
<p>Try our <a href="/">home page</a> or search for what you need.</p></main>
<footer>Local News</footer></body></html>"""
HOME = """<html><head><title>Local News</title></head><body><h1>Local News</h1>
<ul><li><a href="/news/a.html">A story</a></li><li><a href="/news/b.html">Another</a></li></ul>
</body></html>"""


def history(store_env: dict[str, str], url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "history", url], cwd=REPO,
        env={**os.environ, **store_env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def test_a_404_is_confirmed_by_a_recheck_then_removed_watched_slowly_and_retracked_when_back(
    site, crawl, open_store, store_env
):
    page = PAGES[0]
    (url,) = serve(site, [page.html])
    crawl()
    store = open_store()
    # one 404, then the page is back: a blip, never a removal
    site.put("/news/0.html", "not found", status=404, content_type="text/plain")
    result = crawl("-a", "recheck=all", settings=CONFIRM_ONCE)
    assert "'newscrawl/articles/suspect': 1" in result.stderr
    article = store.articles.find_one({"_id": url})
    assert article["status"] == "active" and article["gone"]["checks"] == 1
    site.put("/news/0.html", page.html)
    crawl("-a", "recheck=due", settings=CONFIRM_ONCE)  # the confirming re-check is due now
    article = store.articles.find_one({"_id": url})
    assert article["status"] == "active" and article["gone"] is None
    assert article_events(store.db, url) == []

    # gone at two checks in a row: removed, dated from the first
    site.put("/news/0.html", "not found", status=404, content_type="text/plain")
    crawl("-a", "recheck=all", settings=CONFIRM_ONCE)
    first_gone = as_utc(store.articles.find_one({"_id": url})["gone"]["since"])
    result = crawl("-a", "recheck=due", settings=CONFIRM_ONCE)
    assert "'newscrawl/articles/removed': 1" in result.stderr
    article = store.articles.find_one({"_id": url})
    assert article["status"] == "removed" and article["http_status"] == 404
    assert as_utc(article["removed_at"]) == first_gone
    # still watched, at the slow rate (NEWSCRAWL_REMOVED_RECHECK_INTERVAL, a day)
    wait = as_utc(article["next_check"]) - utcnow()
    assert timedelta(hours=23) < wait <= timedelta(days=1)
    (removed,) = article_events(store.db, url)
    assert (removed["kind"], removed["reason"], removed["checks"]) == ("removed", "http-404", 2)
    assert len(store.history(url)) == 1

    # back, edited: a new version at the time it came back, and a "reappeared" event
    (_, edited, *_), *_ = edit_variants(page.html, page.record, random.Random(5))
    site.put("/news/0.html", edited)
    before = utcnow()
    result = crawl("-a", "recheck=all")
    v1, v2 = store.history(url)
    assert before <= as_utc(v2["fetched_at"]) <= utcnow()
    article = store.articles.find_one({"_id": url})
    assert article["status"] == "active" and article["removed_at"] is None
    assert as_utc(article["next_check"]) - utcnow() <= timedelta(minutes=30)
    removed, back = article_events(store.db, url)
    assert (back["kind"], back["version"], back["changed"]) == ("reappeared", 2, True)

    # shown in the viewer, the feeds of changes and scrapy history, in the events' order
    web = create_app(store_env).test_client()
    page_json = web.get("/article.json", query_string={"url": url}).get_json()
    assert [e["kind"] for e in page_json["events"]] == ["removed", "reappeared"]
    assert page_json["events"][0]["summary"].startswith("Removed: the page answered 404")
    html = web.get("/article", query_string={"url": url}).get_data(as_text=True)
    assert "Removed: the page answered 404" in html and "Back after its removal" in html
    changes = web.get("/changes.json").get_json()
    assert [e["kind"] for e in changes["events"]] == ["reappeared", "removed"]
    for path, params in [("/article.atom", {"url": url}), ("/changes.rss", {}),
                         ("/changes.atom", {"source": "Local"})]:  # fmt: skip
        parsed = feedparser.parse(web.get(path, query_string=params).get_data())
        titles = [entry.title for entry in parsed.entries]
        assert any("Back after its removal, with a new text (version 2)" in t for t in titles)
        assert any("Removed: the page answered 404" in t for t in titles)
        assert any(t.endswith("(version 2)") for t in titles)  # the change itself
    out = history(store_env, url)
    assert out.index("removed ") < out.index("reappeared ")
    assert "Back after its removal, with a new text (version 2)" in out


def test_soft_404s_redirect_to_home_or_section_and_not_found_pages_remove_articles(
    site, crawl, open_store
):
    urls = serve(site, [p.html for p in PAGES])
    site.put("/", HOME)
    site.put("/news/", HOME)
    fresh = site.url("/news/fresh.html")  # "page not found" at first sight: never tracked
    site.put("/news/fresh.html", NOT_FOUND)
    site.put("/extra.xml", f'<rss version="2.0"><channel><title>x</title><item><link>{fresh}'
             "</link></item></channel></rss>", content_type="application/rss+xml")  # fmt: skip
    crawl(feeds=("/feed.xml", "/extra.xml"))
    store = open_store()
    assert store.articles.find_one({"_id": fresh}) is None
    assert store.errors.find_one({"url": fresh})["reason"] == "not-found-page"

    site.put("/news/0.html", b"", status=302, headers={"Location": "/"})
    site.put("/news/1.html", NOT_FOUND)
    site.put("/news/2.html", b"", status=301, headers={"Location": "/news/"})
    result = crawl("-a", "recheck=all", settings=AT_ONCE)
    assert "'newscrawl/articles/removed': 3" in result.stderr
    reasons = {}
    for url in urls:
        article = store.articles.find_one({"_id": url})
        assert article["status"] == "removed", url
        (event,) = article_events(store.db, url)
        reasons[url] = event["reason"]
        assert len(store.history(url)) == 1  # the error page is no version
    assert list(reasons.values()) == ["redirect-home", "not-found-page", "redirect-section"]


def test_an_article_moved_to_a_new_slug_is_linked_not_tracked_twice(site, crawl, open_store):
    first, second = PAGES[0], PAGES[1]
    old_urls = serve(site, [first.html, second.html])
    crawl()
    store = open_store()
    # 0 moves with its headline edited and its new slug in the feed; 1 moves byte-identical
    # (its old validators would get a 304 at the new address) and the feed keeps the old link
    (_, retitled, *_), *_ = [
        v for v in edit_variants(first.html, first.record, random.Random(2))
        if v[0] == "headline_changed"
    ]  # fmt: skip
    site.put("/news/new-slug-0.html", retitled)
    site.put("/news/new-slug-1.html", second.html)
    site.put("/news/0.html", b"", status=301, headers={"Location": "/news/new-slug-0.html"})
    site.put("/news/1.html", b"", status=301, headers={"Location": "/news/new-slug-1.html"})
    new_urls = [site.url("/news/new-slug-0.html"), site.url("/news/new-slug-1.html")]
    feed = [site.url("/news/new-slug-0.html"), site.url("/news/1.html")]
    site.put("/feed.xml", rss("Local news", feed), content_type="application/rss+xml")
    crawl("-a", "recheck=all")
    assert store.articles.count_documents({}) == 4  # two old addresses, two new: no duplicate
    for old, new in zip(old_urls, new_urls, strict=True):
        article = store.articles.find_one({"_id": old})
        assert (article["status"], article["moved_to"], article["next_check"]) == (
            "moved", new, None
        )  # fmt: skip
        moved = store.articles.find_one({"_id": new})
        assert moved["moved_from"] == [old] and moved["status"] == "active"
        (event,) = article_events(store.db, old)
        assert (event["kind"], event["to"]) == ("moved", new)
        assert article_events(store.db, new) == [event]  # seen from the new address too
        assert [v["version"] for v in store.history(new)] == [1]
        assert len(store.history(old)) == 1  # the old history is kept where it was
    assert store.history(new_urls[0])[0]["title"] != store.history(old_urls[0])[0]["title"]

    # the old addresses are no longer checked; the new ones are, once each
    requests = {u: len(site.requests_for(u.removeprefix(site.base))) for u in old_urls}
    result = crawl("-a", "recheck=all")
    assert "'newscrawl/articles/rechecks': 2" in result.stderr
    assert {u: len(site.requests_for(u.removeprefix(site.base))) for u in old_urls} == requests
    assert len(article_events(store.db, old_urls[0])) == 1


def test_not_found_pages_are_recognised_in_several_languages_and_no_corpus_article_is_one():
    for title, body in [
        ("Page not found", ["Sorry, we couldn't find that page."]),
        ("Fehler 404", ["Die angeforderte Seite wurde nicht gefunden."]),
        ("Oups", ["Page introuvable. Retour à l'accueil."]),
        ("Página no encontrada", []),
        ("Страница не найдена", ["Вернуться на главную"]),
        ("お探しのページは見つかりませんでした", []),
        ("Hata", ["Sayfa bulunamadı"]),
        ("Stránka nenalezena", []),
    ]:
        assert not_found_page(title, body), title
    long_body = ["A report on error pages says the page not found message is common. " * 20]
    assert not not_found_page("Why websites fail", long_body)
    assert not not_found_page("Lost and found: a cat comes home", ["It was missing for a week."])
    pages = load_pages() + load_pages(intl_corpus_dir())  # 223 real articles, 20+ languages
    assert not [p.name for p in pages if not_found_page(p.record["title"], p.record["paragraphs"])]


def test_redirects_to_the_home_or_a_section_page_are_soft_404s_and_other_redirects_are_not():
    story = "https://www.example.com/news/world/2024/05/big-story-123"
    assert soft_404_redirect(story, "https://www.example.com/") == "redirect-home"
    assert soft_404_redirect(story, "https://example.com/index.html") == "redirect-home"
    assert soft_404_redirect(story, "https://www.example.com/news/world/") == "redirect-section"
    assert soft_404_redirect(story, "https://www.example.com/news") == "redirect-section"
    for elsewhere in ["https://www.example.com/news/world/2024/05/big-story-renamed-123",
                      "https://www.example.com/?p=123",  # WordPress articles live at /?p=
                      "https://other.example.org/",  # another site: an off-site redirect
                      "http://example.com/news/world/2024/05/big-story-123/"]:  # fmt: skip
        assert soft_404_redirect(story, elsewhere) is None, elsewhere
    assert same_address(story, "http://example.com/news/world/2024/05/big-story-123/?utm_x=1")
    assert not same_address(story, "https://www.example.com/news/world/2024/05/other-story")


def test_an_event_of_a_kind_without_its_own_wording_reads_as_its_name_and_data(monkeypatch):
    monkeypatch.delitem(events.DESCRIBE, "headline-variant")  # as a kind added later would be
    event = {"url": "https://x.example/a", "kind": "headline-variant", "at": utcnow(),
             "source": "X", "title": "A new headline in the feed",
             "feed": "https://x.example/rss"}  # fmt: skip
    assert describe(event) == (
        "Headline variant: title: A new headline in the feed, feed: https://x.example/rss"
    )


def test_headline_variants_and_sitemap_dates_read_as_sentences():
    variant = {"url": "https://x.example/a", "kind": "headline-variant", "at": utcnow(),
               "source": "X", "old": "Old title", "new": "New title",
               "where": "https://x.example/rss"}  # fmt: skip
    assert describe(variant) == (
        "Headline in https://x.example/rss changed from “Old title” to “New title”"
    )
    hint = {
        **variant,
        "kind": "lastmod-moved",
        "old": datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
        "new": datetime(2026, 1, 2, 10, 0, tzinfo=UTC),
        "where": "https://x.example/sm.xml",
    }
    assert describe(hint) == (
        "Sitemap date moved from 2026-01-01T09:30+00:00 to 2026-01-02T10:00+00:00 in "
        "https://x.example/sm.xml, text unchanged"
    )
    moved = {"url": "https://x.example/a", "kind": "moved", "at": utcnow(), "source": "X",
             "to": "https://x.example/b"}  # fmt: skip
    assert describe(moved) == "Moved to https://x.example/b"
    assert describe(moved, "https://x.example/b") == "Moved here from https://x.example/a"
