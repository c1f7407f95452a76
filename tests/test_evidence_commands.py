"""``scrapy warc`` and ``scrapy reextract`` over a store filled by real crawls
(``tests.support.tracked``, whose crawls keep every version's raw page)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import datetime

from warcio.archiveiterator import ArchiveIterator

from newscrawl import record
from newscrawl.extract import extract_article
from newscrawl.reextract import Reextractor, history_of
from newscrawl.snapshots import Snapshots
from newscrawl.store import as_utc
from tests.support.commands import scrapy
from tests.support.mockserver import rss
from tests.support.tracked import minor_edit, tracked_pages, tracked_variant


def read_warc(path) -> list:
    records = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            records.append((record.rec_type, record.rec_headers, record.content_stream().read()))
    return records


def test_warc_round_trip_gives_the_exact_bytes_of_every_version(tracked, store, tmp_path):
    out = tmp_path / "all.warc.gz"
    result = scrapy(tracked.env, "warc", "-o", str(out))
    assert result.returncode == 0, result.stderr
    snapshots = Snapshots(store)
    expected = {(d["response_url"], as_utc(d["fetched_at"])): snapshots.body(d)
                for d in snapshots.find()}  # fmt: skip
    assert len(expected) == store.versions.count_documents({}) == 8
    records = read_warc(out)
    responses = [r for r in records if r[0] == "response"]
    requests = [r for r in records if r[0] == "request"]
    assert len(responses) == len(requests) == len(expected)
    got = {}
    for _, headers, payload in responses:
        digest = base64.b32encode(hashlib.sha1(payload).digest()).decode()
        assert headers.get_header("WARC-Payload-Digest") == f"sha1:{digest}"
        when = as_utc(datetime.fromisoformat(headers.get_header("WARC-Date")))
        got[(headers.get_header("WARC-Target-URI"), when)] = payload
    assert got == expected
    concurrent = {h.get_header("WARC-Concurrent-To") for _, h, _ in requests}
    assert concurrent == {h.get_header("WARC-Record-ID") for _, h, _ in responses}


def test_warc_of_one_article(tracked, tmp_path):
    out = tmp_path / "one.warc.gz"
    url = tracked.urls["headline"]
    result = scrapy(tracked.env, "warc", "-o", str(out), "--url", url + "?utm_source=x")
    assert result.returncode == 0, result.stderr
    uris = [h.get_header("WARC-Target-URI") for t, h, _ in read_warc(out) if t == "response"]
    assert uris == [url] * 3


# reextract ---------------------------------------------------------------------------------
def _crawled_history(site, crawl, open_store):
    """One article crawled through v1 original, v2 a word changed, v3 a comma dropped."""
    page = next(p for p in tracked_pages() if tracked_variant(p.html, p.record, "word_changed"))
    v2, record = tracked_variant(page.html, page.record, "word_changed")
    site.put("/feed.xml", rss("Local", [site.url("/news/a.html")]))
    for number, html in enumerate([page.html, v2, minor_edit(v2, record)]):
        site.put("/news/a.html", html)
        crawl(*(["-a", "recheck=all"] if number else []))
        if number:  # an edit is held by the check that sees it, stored by the next
            crawl("-a", "recheck=all")
    return open_store(), site.url("/news/a.html")


def _without_commas(html, url, overrides=None):
    """A deliberately different extractor: commas are not text."""
    article = extract_article(html, url, overrides)
    return dataclasses.replace(article, paragraphs=[p.replace(",", "") for p in article.paragraphs])


def test_reextract_reproduces_the_history_then_applies_an_extraction_change(
    site, crawl, open_store, store_env
):
    store, url = _crawled_history(site, crawl, open_store)
    old = store.history(url)
    old_diffs = list(store.diffs.find({"url": url}).sort("version", 1))
    assert len(old) == 3 and old[2]["minor"]

    same = Reextractor(store).plan(url)
    assert not same.changed and not same.skipped
    assert [v["content_hash"] for v in same.new] == [v["content_hash"] for v in old]
    assert [v["fetched_at"] for v in same.new] == [v["fetched_at"] for v in old]
    assert [(d["added"], d["removed"]) for d in same.new_diffs] == [
        (d["added"], d["removed"]) for d in old_diffs
    ]
    result = scrapy(store_env, "reextract", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "1 articles re-extracted: 0 changed" in result.stdout

    reextractor = Reextractor(store, extract=_without_commas)
    plan = reextractor.plan(url)
    assert plan.changed and plan.merged == [old[2]["fetched_at"]] and not plan.added
    assert "3 -> 2 versions" in plan.summary()
    assert len(store.history(url)) == 3  # planning writes nothing
    history = reextractor.apply(plan)
    assert [v["fetched_at"] for v in store.history(url)] == [v["fetched_at"] for v in old[:2]]
    assert store.diffs.count_documents({"url": url}) == 1
    assert store.articles.find_one({"_id": url})["versions"] == 2
    kept = history_of(store, history)
    assert [v["content_hash"] for v in kept] == [v["content_hash"] for v in old]
    assert [d["version"] for d in Snapshots(store).find(url=url)] == [1, 2, 2]
    assert store.db["reextract_versions"].count_documents({}) == 0

    # back to the crawl's extractor, from the command line: the comma edit is a version again
    result = scrapy(store_env, "reextract", url)
    assert result.returncode == 0, result.stderr
    assert "2 -> 3 versions; added " + old[2]["fetched_at"].isoformat() in result.stdout
    assert "1 articles re-extracted: 1 changed (1 versions added, 0 merged" in result.stdout
    assert [v["content_hash"] for v in store.history(url)] == [v["content_hash"] for v in old]
    assert len(store.articles.find_one({"_id": url})["histories"]) == 2
    # each source's record counts the history as it now is, once (newscrawl.record)
    days, _ = record.tally(store.db)
    counters = store.db[record.COLLECTION].find({"day": {"$exists": True}})
    assert {d["_id"]: d.get("edits", 0) for d in counters} == {
        day: counts.get("edits", 0) for day, counts in days.items()
    }


def test_reextract_skips_an_article_whose_pages_are_not_all_kept(site, crawl, open_store):
    store, url = _crawled_history(site, crawl, open_store)
    store.db["pages"].delete_one({"url": url, "version": 1})
    plan = Reextractor(store, extract=_without_commas).plan(url)
    assert plan.skipped and not plan.changed
    assert Reextractor(store).apply(plan) is None and len(store.history(url)) == 3


def test_reextract_selects_articles_by_source_and_date(tracked):
    result = scrapy(tracked.env, "reextract", "--dry-run", "--source", "Other Desk")
    assert result.returncode == 0, result.stderr
    assert "1 articles re-extracted: 0 changed" in result.stdout
    assert "dry run: nothing written" in result.stdout
    result = scrapy(tracked.env, "reextract", "--dry-run", "--since", "2999-01-01")
    assert "0 articles re-extracted" in result.stdout
    result = scrapy(tracked.env, "reextract", "--since", "yesterday")
    assert result.returncode == 2 and "--since must be an ISO date" in result.stderr
