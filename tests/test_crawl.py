"""End to end: real ``scrapy crawl feeds`` runs against a local site whose pages change.

Pages are real publishers' pages from the corpus; noise goes around their articles, edits
go into them (``tests.support.mutations``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import timedelta

import pytest

from newscrawl.extract import extract_article
from newscrawl.normalize import content_hash
from newscrawl.store import as_utc, utcnow
from tests.support.crawling import REPO
from tests.support.mockserver import rss
from tests.support.mutations import edit_captured, edit_variants, noise_variants
from tests.support.pages import PAGES, serve


def versions_of(store, url: str) -> list[dict]:
    return store.history(url)


def stats_of(result: subprocess.CompletedProcess) -> str:
    return result.stderr


def test_first_crawl_stores_version_one_then_unchanged_recheck_stores_nothing(
    site, crawl, open_store
):
    urls = serve(site, [p.html for p in PAGES])
    crawl()
    store = open_store()
    assert sorted(a["_id"] for a in store.articles.find()) == sorted(urls)
    for url in urls:
        (version,) = versions_of(store, url)
        assert version["version"] == 1
        assert version["title"]
        assert len(version["paragraphs"]) >= 3
    article = store.articles.find_one({"_id": urls[0]})
    assert article["next_check"] > article["last_checked"]

    result = crawl("-a", "recheck=all")
    assert "'newscrawl/articles/unchanged': 3" in result.stderr
    assert "'newscrawl/feeds/not_modified': 1" in result.stderr
    assert "'newscrawl/articles/not_modified': 3" in result.stderr  # 304s: nothing extracted
    for path in ["/feed.xml", "/news/0.html"]:
        last = site.requests_for(path)[-1]
        assert last.status == 304 and last.headers.get("If-None-Match")
    assert all(len(versions_of(store, u)) == 1 for u in urls)


def test_recheck_of_identical_bytes_skips_extraction_without_conditional_get(
    site, crawl, open_store
):
    urls = serve(site, [p.html for p in PAGES])
    for i, page in enumerate(PAGES):
        site.put(f"/news/{i}.html", page.html, conditional=False)
    crawl()
    result = crawl("-a", "recheck=all")
    assert "'newscrawl/articles/same_bytes': 3" in result.stderr
    assert "'newscrawl/articles/unchanged': 3" in result.stderr
    store = open_store()
    assert all(len(versions_of(store, u)) == 1 for u in urls)
    article = store.articles.find_one({"_id": urls[0]})
    assert article["interval"] > 30 * 60  # the schedule moved on


def test_noise_around_the_article_makes_no_version(site, crawl, open_store):
    urls = serve(site, [p.html for p in PAGES])
    crawl()
    rng = random.Random(7)
    variants = [noise_variants(p.html, p.record, rng) for p in PAGES]
    kinds = sorted({name for page_variants in variants for name, _ in page_variants})
    assert len(kinds) >= 10
    rounds = 4
    for r in range(rounds):
        for i, page_variants in enumerate(variants):
            name, html = page_variants[(r * len(PAGES) + i) % len(page_variants)]
            site.put(f"/news/{i}.html", html)
        result = crawl("-a", "recheck=all")
        assert f"'newscrawl/articles/unchanged': {len(PAGES)}" in result.stderr, result.stderr
    store = open_store()
    assert [len(versions_of(store, u)) for u in urls] == [1] * len(urls)


# For the rules that decide between stored versions (reverts, the volatile cap): every change
# stored at the check that saw it, not held for the next (tests/test_holding.py has that).
STORE_AT_ONCE = {"NEWSCRAWL_HOLD_CHANGES": "False"}


def test_each_real_edit_makes_exactly_one_version_with_its_diff(site, crawl, open_store):
    urls = serve(site, [p.html for p in PAGES])
    crawl()
    rng = random.Random(11)
    edits = [{name: rest for name, *rest in edit_variants(p.html, p.record, rng)} for p in PAGES]
    kinds = ["word_changed", "number_changed", "headline_changed", "paragraph_added",
             "paragraph_removed"]  # fmt: skip
    store = open_store()
    expected_versions = 1
    for kind in kinds:
        edited = [i for i, e in enumerate(edits) if kind in e]
        assert edited, f"no corpus page supports {kind}"
        for i in edited:
            site.put(f"/news/{i}.html", edits[i][kind][0])
        crawl("-a", "recheck=all")  # the new text is held (NEWSCRAWL_HOLD_CHANGES) ...
        crawl("-a", "recheck=all")  # ... and stored when the next check shows it too
        expected_versions += 1
        for i in edited:
            history = versions_of(store, urls[i])
            assert [v["version"] for v in history] == list(range(1, len(history) + 1))
            latest = history[-1]
            _, title, paragraphs = edits[i][kind]
            headlines = [latest["title"], *latest["other_headlines"]]
            assert edit_captured(
                headlines, latest["paragraphs"], PAGES[i].record, title, paragraphs
            ), f"{kind} not captured on article {i}"
            diff = store.diffs.find_one({"url": urls[i], "version": latest["version"]})
            assert diff["from_version"] == latest["version"] - 1
            if kind == "headline_changed":
                assert diff["title"] or diff["other_headlines"]
            else:
                assert diff["added"] or diff["removed"]
        for i in set(range(len(PAGES))) - set(edited):
            site.put(f"/news/{i}.html", PAGES[i].html)
    for i, url in enumerate(urls):
        supported = sum(kind in edits[i] for kind in kinds)
        # one version per edit, plus one when the last edit was undone for unsupported kinds
        assert supported <= len(versions_of(store, url)) - 1 <= supported + 1


def test_revert_is_recorded_and_flip_flops_do_not_flood_history(site, crawl, open_store):
    page = PAGES[0]
    (_, edited, *_), *_ = edit_variants(page.html, page.record, random.Random(3))
    (url,) = serve(site, [page.html])
    crawl()
    for html in (edited, page.html, edited, page.html, edited, page.html, edited, edited):
        site.put("/news/0.html", html)
        crawl("-a", "recheck=all", settings=STORE_AT_ONCE)
    store = open_store()
    history = versions_of(store, url)
    assert [v["version"] for v in history] == [1, 2, 3]
    assert history[2]["revert_of"] == 1
    assert history[2]["content_hash"] == history[0]["content_hash"]
    article = store.articles.find_one({"_id": url})
    assert article["flip_flops"] >= 2
    # the page ends on the edited text: the article points at the version holding it
    assert article.get("current_version", article["versions"]) == 2
    assert article["content_hash"] == history[1]["content_hash"]


def test_removed_article_keeps_history_and_is_marked(site, crawl, open_store):
    (url,) = serve(site, [PAGES[0].html])
    crawl()
    site.put("/news/0.html", "gone", status=410, content_type="text/plain")
    # at the first 410 (tests/test_lifecycle.py: confirmed by re-checks by default)
    result = crawl("-a", "recheck=all", settings={"NEWSCRAWL_REMOVAL_CONFIRM_CHECKS": "0"})
    assert "'newscrawl/articles/removed': 1" in result.stderr
    store = open_store()
    article = store.articles.find_one({"_id": url})
    assert article["status"] == "removed"
    assert article["next_check"] > article["last_checked"] + timedelta(hours=23)  # watched
    assert len(versions_of(store, url)) == 1


def test_bad_inputs_are_recorded_and_the_crawl_goes_on(site, crawl, open_store):
    good = serve(site, [PAGES[0].html])
    site.put("/broken.xml", "<rss><channel><item><title>unterminated", content_type="text/xml")
    site.put("/empty.xml", b"", content_type="application/rss+xml")
    site.put("/html-feed.xml", "<html><body>Not a feed</body></html>")
    bad_links = ["/pdf", "/no-article", "/missing", "/slow", "/latin1"]
    site.put("/bad.xml", rss("bad", [site.url(p) for p in bad_links]))
    site.put("/pdf", b"%PDF-1.4 binary", content_type="application/pdf")
    site.put("/no-article", "<html><body><nav><a href='/'>Home</a></nav></body></html>")
    site.put("/slow", PAGES[1].html, delay=4)
    latin1 = PAGES[2].html.replace('charset="utf-8"', "").replace("charset=utf-8", "")
    site.put("/latin1", latin1.encode("utf-8"), content_type="text/html; charset=iso-8859-1")
    result = crawl(
        feeds=("/feed.xml", "/broken.xml", "/empty.xml", "/html-feed.xml", "/bad.xml"),
        settings={"DOWNLOAD_TIMEOUT": "2", "RETRY_TIMES": "0"},
    )
    store = open_store()
    assert len(versions_of(store, good[0])) == 1
    errors = {(e["url"].removeprefix(site.base), e["reason"]) for e in store.errors.find()}
    assert ("/broken.xml", "malformed-feed") in errors
    assert ("/empty.xml", "malformed-feed") in errors
    assert ("/html-feed.xml", "malformed-feed") in errors
    assert ("/pdf", "not-html") in errors
    assert ("/no-article", "no-article") in errors
    assert ("/missing", "http-404") in errors
    assert ("/slow", "timeout") in errors
    assert "Traceback" not in result.stderr
    # the page served with a lying charset is still tracked (w3lib prefers the BOM/meta/sniffing)
    assert store.articles.find_one({"_id": site.url("/latin1")}) is not None


def test_private_hosts_are_refused_by_default(site, crawl, open_store):
    serve(site, [PAGES[0].html])
    result = crawl(settings={"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "False"})
    assert "non-public address 127.0.0.1" in result.stderr
    store = open_store()
    assert store.articles.count_documents({}) == 0
    (error,) = store.errors.find()
    assert error["reason"] == "blocked-host"
    assert not site.log  # nothing reached the server, not even robots.txt


def test_redirected_article_is_tracked_under_its_feed_url(site, crawl, open_store):
    site.put("/moved.html", PAGES[0].html)
    site.put("/old.html", b"", status=301, headers={"Location": "/moved.html"})
    site.put("/feed.xml", rss("r", [site.url("/old.html")]))
    crawl()
    store = open_store()
    article = store.articles.find_one({"_id": site.url("/old.html")})
    assert article["response_url"] == site.url("/moved.html")


def test_urls_off_the_source_domains_and_skipped_paths_are_not_followed(site, crawl, open_store):
    site.put("/news/1.html", PAGES[0].html)
    site.put("/sport/2.html", PAGES[1].html)
    links = [site.url("/news/1.html"), site.url("/sport/2.html"), "http://example.com/x",
             "javascript:alert(1)", "file:///etc/passwd"]  # fmt: skip
    site.put("/feed.xml", rss("mixed", links))
    crawl(sources_extra='skip = ["/sport/"]')
    store = open_store()
    assert [a["_id"] for a in store.articles.find()] == [site.url("/news/1.html")]
    assert not site.requests_for("/sport/2.html")


def test_export_writes_one_json_line_per_article(site, crawl, open_store, store_env, tmp_path):
    page = PAGES[0]
    (_, edited, _, paragraphs), *_ = edit_variants(page.html, page.record, random.Random(5))
    (url,) = serve(site, [page.html])
    crawl()
    site.put("/news/0.html", edited)
    crawl("-a", "recheck=all")
    crawl("-a", "recheck=all")  # the edit, held by the check above, is stored
    out = tmp_path / "export.jsonl"
    env = {**__import__("os").environ, **store_env}
    subprocess.run(
        [sys.executable, "-m", "scrapy", "export", "-o", str(out)], cwd=REPO, env=env, check=True
    )
    (line,) = out.read_text().splitlines()
    record = json.loads(line)
    assert record["url"] == url and record["source"] == "Local"
    v1, v2 = record["versions"]
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["changes"] == {}
    assert v2["changes"]["added"] or v2["changes"]["removed"]
    assert v2["text"].split("\n\n") == open_store().history(url)[1]["paragraphs"]
    assert set(v2) >= {"version", "fetched_at", "title", "text", "content_hash", "changes"}
    assert (record["current_version"], record["volatile"], record["skipped_changes"]) == (
        2, False, 0
    )  # fmt: skip
    assert v2["skipped_before"] == 0


@pytest.mark.parametrize("recheck", ["due", "none"])
def test_recheck_modes_follow_the_schedule(site, crawl, open_store, recheck):
    serve(site, [PAGES[0].html])
    crawl()
    result = crawl("-a", f"recheck={recheck}")
    # nothing is due 30 minutes after the first check, and "none" never re-checks
    assert "'newscrawl/articles/rechecks': 0" in result.stderr
    assert "newscrawl/articles/unchanged" not in result.stderr


def test_an_article_failing_at_every_check_backs_off_then_is_no_longer_checked(
    site, crawl, open_store
):
    """A tracked article answering 500: each failed check doubles the delay to the next one;
    after failing for NEWSCRAWL_REVISIT_ERROR_STOP_AFTER it is ``failing`` and no longer
    requested; the run's end deletes error records older than NEWSCRAWL_ERRORS_TTL."""
    (url,) = serve(site, [PAGES[0].html])
    crawl()
    site.put("/news/0.html", "Internal Server Error", status=500, content_type="text/plain")
    ancient = {"at": utcnow() - timedelta(days=31), "kind": "feed", "url": site.url("/x"),
               "source": "Local", "reason": "http-500", "message": ""}  # fmt: skip
    open_store().errors.insert_one(ancient)
    delays = []
    for _ in range(3):
        crawl("-a", "recheck=all")
        article = open_store().articles.find_one({"_id": url})
        delays.append((as_utc(article["next_check"]) - as_utc(article["last_checked"])).seconds)
    assert delays == [1800, 3600, 7200]
    store = open_store()
    assert store.errors.count_documents({"url": url}) == 3
    assert store.errors.count_documents({"url": site.url("/x")}) == 0  # pruned at run end
    # a week of failures later
    week_ago = utcnow() - timedelta(days=7, minutes=1)
    store.articles.update_one({"_id": url}, {"$set": {"failing_since": week_ago}})
    crawl("-a", "recheck=all")
    article = open_store().articles.find_one({"_id": url})
    assert (article["status"], article["next_check"], article["errors"]) == ("failing", None, 4)
    requests = len(site.requests_for("/news/0.html"))
    result = crawl()
    assert "'newscrawl/articles/rechecks': 0" in result.stderr
    assert len(site.requests_for("/news/0.html")) == requests


def test_a_page_changing_at_every_crawl_becomes_volatile_and_its_versions_are_capped(
    site, crawl, open_store
):
    """With the volatile settings given on the command line (2 changes of the last 3 checks,
    2 versions a day): the third and later changes in a day are counted, not stored, and the
    interval grows although the page changes."""
    page = PAGES[0]
    edits = edit_variants(page.html, page.record, random.Random(7))
    texts = [page.html] + [html for _, html, *_ in edits][:4]
    assert len(texts) == 5
    (url,) = serve(site, texts[:1])
    volatile = {"NEWSCRAWL_VOLATILE_CHECKS": "3", "NEWSCRAWL_VOLATILE_CHANGES": "2",
                "NEWSCRAWL_VOLATILE_MAX_VERSIONS_PER_DAY": "2", **STORE_AT_ONCE}  # fmt: skip
    crawl(settings=volatile)
    for html in texts[1:]:
        site.put("/news/0.html", html)
        result = crawl("-a", "recheck=all", settings=volatile)
    assert "'newscrawl/articles/skipped': 1" in result.stderr
    store = open_store()
    article = store.articles.find_one({"_id": url})
    assert len(versions_of(store, url)) == 2
    assert (article["volatile"], article["skipped_changes"], article["unstored_changes"]) == (
        True, 3, 3
    )  # fmt: skip
    assert article["interval"] > 30 * 60
    # The page stops changing; once the cap allows, the last text it showed is stored,
    # although no check saw it change again (the held change is not lost).
    crawl("-a", "recheck=all", settings=volatile)
    assert len(versions_of(store, url)) == 2  # still over the day's cap: held, not recounted
    assert store.articles.find_one({"_id": url})["skipped_changes"] == 3
    crawl(
        "-a", "recheck=all", settings={**volatile, "NEWSCRAWL_VOLATILE_MAX_VERSIONS_PER_DAY": "3"}
    )
    history = versions_of(store, url)
    assert len(history) == 3
    assert history[-1]["content_hash"] == content_hash(*extract_article(texts[4], url).text())
    assert store.articles.find_one({"_id": url})["unstored_changes"] == 0
