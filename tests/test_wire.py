"""Several crawler processes on one store over the MongoDB wire protocol.

The store is a real server process spoken to by pymongo: MongoDB itself when ``MONGO_URI``
is set, otherwise nx-27017 (a wire-protocol server on SQLite) started here on loopback.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pymongo
import pytest

from newscrawl.extract import extract_article
from newscrawl.normalize import content_hash
from newscrawl.store import Store, utcnow
from tests.support.corpus import CorpusPage, load_pages
from tests.support.crawling import write_sources
from tests.support.mockserver import rss
from tests.support.mutations import edit_variants
from tests.support.wire import (
    WireServer,
    finish,
    outage_env,
    recheck_until_the_store_dies,
    serve_edited_pages,
    start_crawl,
    stat,
    store_back,
)

ARTICLES = 24


@pytest.fixture
def wire_server(tmp_path: Path) -> Iterator[WireServer]:
    server = WireServer(tmp_path / "nx").start()
    yield server
    server.kill()


@pytest.fixture
def wire_uri(wire_server: WireServer) -> str:
    """A real MongoDB when MONGO_URI is set, else the nx-27017 server."""
    return os.environ.get("MONGO_URI") or wire_server.uri


def _changes_text(page: CorpusPage, edited: str) -> bool:
    """Whether the edit changes the extracted text (this test is about sharing the store, so
    it uses only edits the extractor sees; the accuracy benchmark measures the others)."""
    before, after = extract_article(page.raw, page.url), extract_article(edited, page.url)
    return bool(before and after) and content_hash(*before.text()) != content_hash(*after.text())


def test_three_crawlers_share_one_store_and_take_over_a_killed_ones_leases(
    site, tmp_path, wire_uri
):
    rng = random.Random(1)
    pages = [
        (p.html, edits[0][1])
        for p in load_pages()
        if (edits := edit_variants(p.html, p.record, rng)) and _changes_text(p, edits[0][1])
    ]
    paths = [f"/story/{i}.html" for i in range(ARTICLES)]
    for i, path in enumerate(paths):
        site.put(path, pages[i % len(pages)][0])
    feeds = ["/a.xml", "/b.xml", "/c.xml"]
    for feed in feeds:  # every feed lists every article: all three crawlers race for each
        site.put(feed, rss(feed, [site.url(p) for p in paths]))
    database = f"newscrawl_wire_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "MONGO_URI": wire_uri,
        "MONGO_DATABASE": database,
        "NEWSCRAWL_SOURCES": str(write_sources(tmp_path / "s.toml", site, feeds)),
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
    }
    client = pymongo.MongoClient(wire_uri)
    db = client[database]
    try:
        # 1. three crawlers at once discover the same articles
        logs = [finish(p) for p in [start_crawl(env) for _ in range(3)]]
        assert db.articles.count_documents({}) == ARTICLES
        for path in paths:
            versions = sorted(v["version"] for v in db.versions.find({"url": site.url(path)}))
            assert versions == [1], f"{path}: {versions}"
        assert sum(stat(log, "new") for log in logs) == ARTICLES

        # 2. edit every article; a crawler claims them all, then dies mid-crawl
        for i, path in enumerate(paths):
            site.put(path, pages[i % len(pages)][1], delay=30)
        doomed = start_crawl(env, "-a", "recheck=all", NEWSCRAWL_LEASE_SECONDS="12")
        deadline = time.monotonic() + 60
        while db.articles.count_documents({"lease_owner": {"$ne": None}}) < ARTICLES:
            assert time.monotonic() < deadline, "the first crawler never claimed the articles"
            time.sleep(0.2)
        doomed.kill()  # SIGKILL
        claimed_at = time.monotonic()  # (a little after the claim: the lease ends sooner)

        # while its leases last, nobody else re-checks those articles
        for path in paths:
            site.put(path, site.pages[path].body)  # same edited page, no delay
        early = finish(start_crawl(env, "-a", "recheck=all"))
        assert time.monotonic() - claimed_at < 12, "too slow to test the lease: raise it"
        assert stat(early, "rechecks") == 0

        # 3. after the leases expire, two crawlers split the work between them
        time.sleep(max(0.0, 12.5 - (time.monotonic() - claimed_at)))
        logs = [finish(p) for p in [start_crawl(env, "-a", "recheck=all") for _ in range(2)]]
        assert sum(stat(log, "rechecks") for log in logs) == ARTICLES
        assert sum(stat(log, "held") for log in logs) == ARTICLES  # each edit held once
        # 4. the next check, by whichever crawler claims the article, stores the held edit
        logs = [finish(p) for p in [start_crawl(env, "-a", "recheck=all") for _ in range(2)]]
        assert sum(stat(log, "changed") for log in logs) == ARTICLES
        for path in paths:
            versions = sorted(v["version"] for v in db.versions.find({"url": site.url(path)}))
            assert versions == [1, 2], f"{path}: {versions}"
        assert db.diffs.count_documents({}) == ARTICLES
        assert db.articles.count_documents({"lease_owner": {"$ne": None}}) == 0
    finally:
        client.drop_database(database)
        client.close()


def test_store_outage_mid_crawl_loses_nothing_and_exits_non_zero(site, tmp_path, wire_server):
    paths, pages = serve_edited_pages(site, 12)
    env = outage_env(site, tmp_path, wire_server)
    finish(start_crawl(env))
    client = pymongo.MongoClient(wire_server.uri)
    assert client.newscrawl_outage.versions.count_documents({}) == len(pages)
    client.close()

    # every article edited; pages come slowly, and the store dies after the first new version
    edited = [page for _, page in pages]
    returncode, err = recheck_until_the_store_dies(site, env, wire_server, paths, edited, 2)
    assert returncode == 2, err[-3000:]
    assert "store unavailable after 2 retries" in err
    spooled = list((tmp_path / "local" / "spool").glob("pending-*.jsonl"))
    assert spooled, "nothing was spooled"

    # the store comes back: the next run writes the spool, then finishes the re-checks
    store_back(site, wire_server, paths)
    log = finish(start_crawl(env, "-a", "recheck=all"))
    assert "'newscrawl/spool/replayed': " in log
    assert not list((tmp_path / "local" / "spool").glob("pending-*.jsonl"))
    client = pymongo.MongoClient(wire_server.uri)
    db = client.newscrawl_outage
    for path in paths:
        versions = sorted(v["version"] for v in db.versions.find({"url": site.url(path)}))
        assert versions == [1, 2], f"{path}: {versions}"
    assert db.diffs.count_documents({}) == len(pages)
    client.close()


def test_errors_get_a_ttl_index_on_mongodb_and_old_records_are_pruned(wire_uri):
    """Over the real driver: ``bound_errors`` (run at every crawl's end) makes the TTL index
    MongoDB expires ``errors`` by, follows a changed TTL, and deletes what is already old."""
    database = f"newscrawl_wire_{uuid.uuid4().hex[:8]}"
    store = Store.from_settings({"MONGO_URI": wire_uri, "MONGO_DATABASE": database})
    try:
        now = utcnow()
        for days in (40, 1):
            store.record_error("feed", f"https://x.example/{days}", "X", "http-500", "",
                               now - timedelta(days=days))  # fmt: skip
        assert store.bound_errors(now, ttl=30 * 86400, keep=0) == 1
        assert [e["url"] for e in store.errors.find()] == ["https://x.example/1"]

        def ttls() -> list[int]:
            indexes = store.errors.index_information().values()
            return [i["expireAfterSeconds"] for i in indexes if "expireAfterSeconds" in i]

        assert ttls() == [30 * 86400]
        store.bound_errors(now, ttl=7 * 86400, keep=0)
        assert ttls() == [7 * 86400]
    finally:
        store.client.drop_database(database)
        store.close()
