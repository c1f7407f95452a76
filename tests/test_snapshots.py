"""The raw page of every version (newscrawl.snapshots): kept by real crawls byte for byte,
compressed against the previous snapshot, pruned, chunked, on the embedded and wire stores."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta

import pymongo
import pytest

from newscrawl import snapshots as snapshots_module
from newscrawl.extract import extract_article
from newscrawl.snapshots import RawPage, Snapshots
from newscrawl.store import Store
from tests.support.corpus import load_pages
from tests.support.mockserver import rss
from tests.support.mutations import edit_variants, noise_variants
from tests.support.wire import (
    WireServer,
    finish,
    outage_env,
    recheck_until_the_store_dies,
    serve_edited_pages,
    start_crawl,
    store_back,
)


def _timeline_pages() -> list:
    """Two corpus pages (every 11th, none by name) the extractor reads, with edits and noise."""
    rng = random.Random(0)
    usable = []
    for page in load_pages()[::11]:
        if extract_article(page.raw, page.url) is None:
            continue
        edits = edit_variants(page.html, page.record, rng)
        if len(edits) >= 2 and noise_variants(page.html, page.record, rng):
            usable.append(page)
    return usable[:2]


def test_crawl_keeps_the_bytes_served_for_every_version_and_none_for_unchanged_checks(
    site, crawl, open_store
):
    edited, quiet = _timeline_pages()
    rng = random.Random(1)
    edit_one, edit_two = edit_variants(edited.html, edited.record, rng)[:2]
    noise = noise_variants(quiet.html, quiet.record, rng)[0][1]
    paths = {"edited": "/news/edited.html", "quiet": "/news/quiet.html"}
    site.put("/feed.xml", rss("Local", [site.url(p) for p in paths.values()]))
    rounds = [
        {"edited": edited.html, "quiet": quiet.html},
        {"edited": edit_one[1], "quiet": noise},  # an edit (held); noise only (no version)
        {"quiet": quiet.html},  # the edit is still there: stored, with the page held
        {"edited": edit_two[1]},  # a second edit (held)
        {},  # nothing changes: 304s, the second edit stored
        {},  # 304s
    ]
    served: dict[str, list[bytes]] = {key: [] for key in paths}
    for number, pages in enumerate(rounds):
        for key, html in pages.items():
            site.put(paths[key], html)
            served[key].append(html.encode("utf-8"))
        crawl(*(["-a", "recheck=all"] if number else []))

    store = open_store()
    snapshots = Snapshots(store)
    url = site.url(paths["edited"])
    versions = store.history(url)
    kept = list(snapshots.find(url=url))
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [s["version"] for s in kept] == [1, 2, 3]
    assert [s["fetched_at"] for s in kept] == [v["fetched_at"] for v in versions]
    assert [snapshots.body(s) for s in kept] == served["edited"]
    last = site.pages[paths["edited"]]
    assert kept[-1]["etag"] == last.etag and kept[-1]["last_modified"] == last.last_modified
    assert kept[-1]["status"] == 200 and kept[-1]["response_url"] == url
    assert kept[-1]["content_type"] == "text/html; charset=utf-8" and kept[-1]["date"]
    assert kept[1]["base"] == kept[0]["_id"] and kept[2]["base"] == kept[1]["_id"]  # chain
    assert kept[1]["stored"] * 10 < kept[1]["size"]

    quiet_url = site.url(paths["quiet"])
    (only,) = snapshots.find(url=quiet_url)
    assert snapshots.body(only) == served["quiet"][0]
    assert len(store.history(quiet_url)) == 1


def test_keep_pages_off_stores_no_snapshot(site, crawl, open_store):
    (page, _) = _timeline_pages()
    site.put("/news/a.html", page.html)
    site.put("/feed.xml", rss("Local", [site.url("/news/a.html")]))
    crawl(settings={"NEWSCRAWL_KEEP_PAGES": "False"})
    store = open_store()
    assert len(store.history(site.url("/news/a.html"))) == 1
    assert store.db["pages"].count_documents({}) == 0


# in-process, on the Snapshots API --------------------------------------------------------
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _raw(body: bytes, minutes: int) -> RawPage:
    at = T0 + timedelta(minutes=minutes)
    return RawPage(body, "https://example.com/a", at, content_type="text/html")


def _history(count: int) -> list[bytes]:
    page = load_pages()[0].raw
    return [page.replace(b"</body>", f"<p>edit {i}</p></body>".encode()) for i in range(count)]


@pytest.fixture
def embedded(tmp_path) -> Store:
    store = Store.from_settings({"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")})
    yield store
    store.close()


def _keep_all(snapshots: Snapshots, bodies: list[bytes]) -> list[dict]:
    for i, body in enumerate(bodies):
        snapshots.keep("https://example.com/a", "Local", i + 1, _raw(body, i))
    return list(snapshots.find(url="https://example.com/a"))


def test_chains_are_bounded_and_every_body_reads_back(embedded, monkeypatch):
    monkeypatch.setattr(snapshots_module, "MAX_CHAIN", 3)
    snapshots = Snapshots(embedded)
    snapshots.ensure_indexes()
    bodies = _history(9)
    kept = _keep_all(snapshots, bodies)
    assert [s["chain"] for s in kept] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    assert [snapshots.body(s) for s in kept] == bodies


def test_keep_latest_prunes_and_restores_the_oldest_kept_on_its_own(embedded):
    snapshots = Snapshots(embedded, keep_latest=2)
    snapshots.ensure_indexes()
    bodies = _history(5)
    kept = _keep_all(snapshots, bodies)
    assert [s["version"] for s in kept] == [4, 5]
    assert kept[0]["base"] is None and kept[1]["base"] == kept[0]["_id"]
    assert [snapshots.body(s) for s in kept] == bodies[3:]


def test_a_body_too_big_for_one_document_is_chunked(embedded, monkeypatch):
    monkeypatch.setattr(snapshots_module, "CHUNK_SIZE", 1000)
    snapshots = Snapshots(embedded)
    snapshots.ensure_indexes()
    noise = random.Random(0).randbytes(4500)  # incompressible
    (doc,) = _keep_all(snapshots, [noise])
    assert doc["parts"] == 5 and embedded.db["page_chunks"].count_documents({}) == 5
    assert snapshots.body(doc) == noise


def test_snapshots_over_the_wire_protocol(tmp_path):
    uri = os.environ.get("MONGO_URI")
    server = None if uri else WireServer(tmp_path / "nx").start()
    try:
        client = pymongo.MongoClient(uri or server.uri, tz_aware=True)
        db_name = f"newscrawl_test_snap_{random.Random().randrange(10**9)}"
        store = Store(client, client[db_name])
        snapshots = Snapshots(store)
        snapshots.ensure_indexes()
        bodies = _history(3)
        kept = _keep_all(snapshots, bodies)
        assert [snapshots.body(s) for s in kept] == bodies
        assert snapshots.get("https://example.com/a", 2)["base"] == kept[0]["_id"]
        client.drop_database(db_name)
        client.close()
    finally:
        if server is not None:
            server.kill()


def test_pages_spooled_in_a_store_outage_get_their_snapshots_when_it_is_back(site, tmp_path):
    """As tests/test_wire.py's outage test: the store dies mid-crawl, the next run replays
    the spool; every version then has its page, byte for byte. Each edit is stored at the
    check that sees it, so its page is the one spooled (a held edit's page is in the store
    already, ``held_changes``)."""
    wire = WireServer(tmp_path / "nx").start()
    try:
        paths, pages = serve_edited_pages(site, 8)
        env = outage_env(site, tmp_path, wire)
        finish(start_crawl(env))
        edited = [page for _, page in pages]
        returncode, _ = recheck_until_the_store_dies(site, env, wire, paths, edited, 1, False)
        assert returncode == 2
        assert list((tmp_path / "local" / "spool").glob("pages-*.jsonl")), "no page spooled"

        store_back(site, wire, paths)
        finish(start_crawl(env, "-a", "recheck=all", NEWSCRAWL_HOLD_CHANGES="False"))
        assert not list((tmp_path / "local" / "spool").glob("pages-*.jsonl"))
        client = pymongo.MongoClient(wire.uri, tz_aware=True)
        store = Store(client, client.newscrawl_outage)
        snapshots = Snapshots(store)
        for path, (html, edited) in zip(paths, pages, strict=True):
            url = site.url(path)
            assert [v["version"] for v in store.history(url)] == [1, 2]
            kept = [snapshots.body(snapshots.get(url, n)) for n in (1, 2)]
            assert kept == [html.encode(), edited.encode()], path
        client.close()
    finally:
        wire.kill()


def test_a_first_page_is_compressed_against_its_sources_latest_and_survives_its_pruning(
    embedded,
):
    snapshots = Snapshots(embedded, keep_latest=1)
    snapshots.ensure_indexes()
    page, other = load_pages()[0].raw, load_pages()[-1].raw
    a, b, c = "https://example.com/a", "https://example.com/b", "https://other.example/c"
    snapshots.keep(a, "Local", 1, _raw(page, 0))
    first_b = snapshots.keep(b, "Local", 1, _raw(page.replace(b"</body>", b"<p>B</p></body>"), 1))
    assert first_b["base"] == snapshots.get(a, 1)["_id"]
    assert first_b["stored"] * 20 < len(page)
    unrelated = snapshots.keep(c, "Local", 1, _raw(other, 2))  # a prefix only where it helps
    assert unrelated["stored"] <= len(snapshots_module.compress_page(other, None))
    snapshots.keep(a, "Local", 2, _raw(page + b"<!-- v2 -->", 3))  # prunes a's version 1
    assert snapshots.get(a, 1) is None
    kept_b = snapshots.get(b, 1)
    assert kept_b["base"] is None
    assert snapshots.body(kept_b) == page.replace(b"</body>", b"<p>B</p></body>")
