"""The viewer's bounds (issue 15): searches bounded and indexed, store queries held to a time
limit on both stores, on-the-fly diffs bounded and cached, absolute links from the configured
public address only, and bad parameters answered 400. Most tests fill a store directly through
the store API with synthetic articles; the parameter and link tests use the crawled store."""

from __future__ import annotations

import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pymongo
import pytest
from pymongo import monitoring
from pymongo.errors import ExecutionTimeout

from newscrawl import queries
from newscrawl.search import FIELD, search_words
from newscrawl.store import Store, open_database
from newscrawl.web import create_app, timelimit
from tests.support.crawling import serving
from tests.support.tracked import Tracked
from tests.support.wire import WireServer

WORDS = ["council", "budget", "housing", "vote", "election", "police", "court", "school",
         "river", "storm", "minister", "hospital", "strike", "market", "energy", "transport",
         "festival", "museum", "bridge", "harbour"]  # fmt: skip


def synthetic(count: int, rng: random.Random, with_words: bool = True) -> list[dict[str, Any]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    docs = []
    for n in range(count):
        title = " ".join(rng.choices(WORDS, k=8)).capitalize() + f" {n}"
        url = f"https://news{n % 7}.example/{rng.choice(['news', 'world'])}/story-{n}"
        doc = {"_id": url, "url": url, "source": f"Desk {n % 7}", "title": title,
               "status": "active", "versions": 1, "first_seen": start,
               "last_changed": start + timedelta(minutes=n), "last_checked": start}  # fmt: skip
        if with_words:
            doc[FIELD] = search_words(url, title)
        docs.append(doc)
    return docs


@pytest.fixture
def big_store(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings of an embedded store holding 3,000 synthetic articles (and their indexes)."""
    env = {"NEWSCRAWL_DATA_DIR": str(tmp_path / "data"), "MONGO_DATABASE": "limits"}
    store = Store.from_settings(env)
    store.articles.insert_many(synthetic(3000, random.Random(0)))
    store.close()
    return env


def status_of(client: Any, path: str, **params: Any) -> tuple[int, Any]:
    response = client.get(path, query_string=params)
    return response.status_code, response.get_json()


# --- search ---------------------------------------------------------------------------------


def test_searches_out_of_bounds_get_a_400_saying_why(big_store):
    client = create_app(big_store).test_client()
    status, data = status_of(client, "/search.json", q=" ".join(WORDS * 2))
    assert status == 400 and "at most 32 words" in data["error"]
    status, data = status_of(client, "/search.json", q="a" * 501)
    assert status == 400 and "at most 500 characters" in data["error"]
    html = client.get("/search", query_string={"q": "x " * 100})
    assert html.status_code == 400 and "at most 32 words" in html.get_data(as_text=True)
    assert status_of(client, "/search.json", q=" ".join((WORDS * 2)[:32]))[0] == 200


def test_search_is_an_index_lookup_not_a_scan(big_store):
    """A long search (27 words) takes a fraction of one scan of the articles; the
    per-word regular expressions it replaced took more than two scans."""
    store = Store(*open_database(big_store))
    list(store.articles.find({}, {"_id": 1}))  # indexes built, caches warm

    def median(func: Any) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
        return sorted(times)[1]

    target = synthetic(3000, random.Random(0))[1000]
    query = " ".join(target["title"].split() * 3)  # 27 words, at most 9 distinct
    scan = median(lambda: list(store.articles.find({"title": {"$regex": "zzz"}})))
    search = median(lambda: queries.search(store, query))
    assert [a["_id"] for a in queries.search(store, query).items][:1] == [target["_id"]]
    assert search < scan / 5, (search, scan)
    store.close()


def test_search_folds_case_and_accents_and_finds_addresses(tmp_path):
    env = {"NEWSCRAWL_DATA_DIR": str(tmp_path / "data"), "MONGO_DATABASE": "words"}
    store = Store.from_settings(env)
    docs = synthetic(50, random.Random(1))
    docs[7]["title"] = "L’Élysée annonce un remaniement à Paris"
    docs[7][FIELD] = search_words(docs[7]["_id"], docs[7]["title"])
    store.articles.insert_many(docs)
    client = create_app(env).test_client()

    def found(q: str) -> list[str]:
        return [r["url"] for r in client.get("/search.json", query_string={"q": q}).get_json()
                ["results"]]  # fmt: skip

    assert found("elysee PARIS") == [docs[7]["_id"]]
    assert found("ÉLYSÉE remaniement") == [docs[7]["_id"]]
    assert found(docs[12]["_id"]) == [docs[12]["_id"]]  # the whole address
    assert found(docs[12]["_id"] + "?utm_source=share") == [docs[12]["_id"]]
    prefix = found("https://news3.example/")  # an address prefix: that host's articles
    assert prefix and all(u.startswith("https://news3.example/") for u in prefix)
    assert set(prefix) == {d["_id"] for d in docs if d["_id"].startswith("https://news3.")}
    assert docs[12]["_id"] in found("story 12 news5")  # address words, any order
    assert found(".*") == [] and found("(unbalanced") == []
    store.close()


def test_articles_stored_before_search_words_are_found_then_backfilled(tmp_path):
    env = {"NEWSCRAWL_DATA_DIR": str(tmp_path / "data"), "MONGO_DATABASE": "old"}
    store = Store(*open_database(env))
    old = synthetic(40, random.Random(2), with_words=False)
    store.articles.insert_many(old)
    client = create_app(env).test_client()
    query = " ".join(old[5]["title"].split()[-2:])  # a number only its headline has
    data = client.get("/search.json", query_string={"q": query}).get_json()
    assert old[5]["_id"] in [r["url"] for r in data["results"]]  # the fallback finds it
    store.close()
    reopened = Store.from_settings(env)  # what a crawl does at start: fills the words in
    assert reopened.articles.count_documents({FIELD: {"$exists": False}}) == 0
    assert queries.search(reopened, query).items[0]["_id"] == old[5]["_id"]
    reopened.close()


def test_four_heavy_searches_at_once_leave_the_changes_page_fast(big_store):
    """`scrapy serve` (waitress, 4 threads): 4 searches of 300 words and 4 of the broadest
    kind (one word in a third of the headlines), all at once, and a plain GET / still
    answers quickly."""

    def get(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=300) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with serving(big_store) as base:
        assert get(base + "/") == 200
        # Letters every headline has: each of the 300 words matches (the worst case before).
        heavy = [urllib.parse.quote(" ".join(random.Random(n).choices("aeinorst", k=300)))
                 for n in range(4)]  # fmt: skip
        statuses: list[int] = []
        searches = [
            threading.Thread(target=lambda q=q: statuses.append(get(f"{base}/search?q={q}")))
            for q in heavy + WORDS[:4]
        ]
        for search in searches:
            search.start()
        start = time.perf_counter()
        assert get(base + "/") == 200
        elapsed = time.perf_counter() - start
        for search in searches:
            search.join(timeout=300)
        assert elapsed < 5.0, f"GET / took {elapsed:.1f} s beside 8 searches"
        assert sorted(statuses) == [200] * 4 + [400] * 4


# --- time limit -----------------------------------------------------------------------------


def test_a_slow_query_on_the_embedded_store_stops_at_the_time_limit(big_store, caplog):
    store = Store(*open_database(big_store))
    timelimit.guard(store.client, [store.articles])
    with timelimit.deadline(0.0), pytest.raises(ExecutionTimeout):
        list(store.articles.find({"title": {"$regex": "zzz"}}))
    reopened = Store(*open_database(big_store))  # another connection writes
    reopened.articles.insert_one({"_id": "https://late.example/a", FIELD: ["late"]})
    with timelimit.deadline(0.0), pytest.raises(ExecutionTimeout):
        store.articles.find_one({FIELD: "late"})  # stopped: the time is up
    assert store.articles.find_one({FIELD: "late"})["_id"] == "https://late.example/a"
    assert store.articles.count_documents({}) == 3001  # nothing lost, nothing stale
    # Through the viewer: a search falling back to regular expressions over old articles.
    reopened.articles.update_many({}, {"$unset": {FIELD: ""}})
    client = create_app({**big_store, "NEWSCRAWL_VIEWER_TIME_LIMIT": "0.001"}).test_client()
    with caplog.at_level(logging.WARNING, logger="newscrawl.web.app"):
        status, data = status_of(client, "/search.json", q="council budget")
    assert status == 503 and "took too long" in data["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    store.close()
    reopened.close()


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:  # type: ignore[override]
        self.commands.append({"name": event.command_name, **event.command})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_every_query_of_a_request_carries_max_time_ms_to_mongodb(tmp_path, tracked):
    """Over the wire (nx-27017): each find/count/distinct a page sends has maxTimeMS."""
    server = WireServer(tmp_path / "wire").start()
    listener = Commands()
    client = pymongo.MongoClient(server.uri, event_listeners=[listener], tz_aware=True)
    try:
        source = Store.from_settings(tracked.env)
        store = Store(client, client["viewer"])
        for name in ("articles", "versions", "diffs", "source_days"):
            store.db[name].insert_many(list(source.db[name].find()))
        source.close()
        url = tracked.urls["headline"]
        app = create_app({"NEWSCRAWL_VIEWER_TIME_LIMIT": "7"}, open_store=lambda: store)
        web = app.test_client()
        listener.commands.clear()
        for path, params in [("/", {}), ("/article", {"url": url}),
                             ("/diff", {"url": url, "from": 1, "to": 3}),
                             ("/search", {"q": "news"}), ("/changes.atom", {}),
                             ("/source", {"name": "Local"}), ("/sources", {})]:  # fmt: skip
            assert web.get(path, query_string=params).status_code == 200, path
        reads = [c for c in listener.commands if c["name"] in ("find", "aggregate", "count",
                                                              "distinct")]  # fmt: skip
        assert len(reads) >= 10
        assert all(0 < c.get("maxTimeMS", 0) <= 7000 for c in reads), reads
    finally:
        client.close()
        server.kill()


# --- diffs on the fly -----------------------------------------------------------------------


def huge_paragraph_article(store: Store, words: int = 100_000) -> str:
    """An article of three versions whose one paragraph (about 650 KB) is edited each time."""
    rng = random.Random(4)
    text = [rng.choice(WORDS) for _ in range(words)]
    url = "https://huge.example/live"
    start = datetime(2024, 5, 1, tzinfo=UTC)
    for number in (1, 2, 3):
        for k in rng.sample(range(words), words // 10):
            text[k] = f"edit{number}"
        store.versions.insert_one({
            "url": url, "version": number, "source": "Huge", "title": f"Live {number}",
            "fetched_at": start + timedelta(hours=number), "paragraphs": ["Intro.", " ".join(text)],
            "other_headlines": [], "content_hash": f"h{number}", "loose_hash": f"l{number}",
            "minor": False, "revert_of": None,
        })  # fmt: skip
    store.articles.insert_one({"_id": url, "source": "Huge", "title": "Live 3", "versions": 3,
                               "first_seen": start, "last_changed": start})  # fmt: skip
    return url


def test_a_huge_paragraph_diff_on_the_fly_is_bounded_and_computed_once(tmp_path, monkeypatch):
    env = {"NEWSCRAWL_DATA_DIR": str(tmp_path / "data"), "MONGO_DATABASE": "huge"}
    store = Store.from_settings(env)
    url = huge_paragraph_article(store)
    assert len(store.versions.find_one({"url": url, "version": 1})["paragraphs"][1]) > 600_000
    computed = []
    diff_versions = queries.diff_versions

    def counted(*args: Any) -> dict:
        computed.append(args)
        return diff_versions(*args)

    monkeypatch.setattr(queries, "diff_versions", counted)
    client = create_app(env).test_client()
    start = time.perf_counter()
    first = client.get("/diff.json", query_string={"url": url, "from": 1, "to": 3})
    took = time.perf_counter() - start
    assert first.status_code == 200 and first.get_json()["stored"] is False
    assert first.get_json()["coarse"] is True  # changed paragraphs shown whole, and said so
    assert took < 5.0, f"the diff page took {took:.1f} s"
    second = client.get("/diff.json", query_string={"url": url, "from": 1, "to": 3})
    assert second.get_json() == first.get_json()
    assert len(computed) == 1  # the second request came from the cache
    page = client.get("/diff", query_string={"url": url, "from": 1, "to": 3})
    assert page.status_code == 200 and "Too long to compare word by word" in page.get_data(
        as_text=True
    )
    assert len(computed) == 1  # the HTML page shares the cached diff
    other = client.get("/diff.json", query_string={"url": url, "from": 2, "to": 3})
    assert other.status_code == 200 and len(computed) == 2  # another pair: computed, once
    store.close()


# --- links ----------------------------------------------------------------------------------

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "forged.example",
          "X-Forwarded-Proto": "gopher", "X-Forwarded-Prefix": "/phish"}  # fmt: skip


def feed_links(client: Any, path: str, headers: dict[str, str], **params: str) -> list[str]:
    response = client.get(path, query_string=params or None, headers=headers)
    assert response.status_code == 200
    parsed = feedparser.parse(response.get_data())
    found = [link.href for link in parsed.feed.links]
    if "link" in parsed.feed:
        found.append(parsed.feed.link)
    for entry in parsed.entries:
        found += [link.href for link in entry.links if link.get("rel") != "related"]
    return found


def test_feed_links_come_from_the_public_url_not_from_request_headers(tracked: Tracked):
    public = {**tracked.env, "NEWSCRAWL_PUBLIC_URL": "https://news.example.org/viewer/"}
    client = create_app(public).test_client()
    for path in ("/changes.atom", "/changes.rss"):
        found = feed_links(client, path, FORGED, source="Local")
        assert found and all(h.startswith("https://news.example.org/viewer/") for h in found)
        assert "https://news.example.org/viewer/changes" in " ".join(found)
    article = feed_links(client, "/article.atom", FORGED, url=tracked.urls["headline"])
    assert all(h.startswith("https://news.example.org/viewer/") for h in article)
    ids = {e.id for e in feedparser.parse(client.get("/changes.atom", headers=FORGED)
                                          .get_data()).entries}  # fmt: skip
    plain = create_app(tracked.env).test_client().get("/changes.atom").get_data()
    assert ids == {e.id for e in feedparser.parse(plain).entries}  # ids never depend on hosts


def test_forwarded_headers_count_only_from_configured_proxies(tracked: Tracked):
    default = feed_links(create_app(tracked.env).test_client(), "/changes.atom", FORGED)
    assert all(h.startswith("http://evil.example/") for h in default)  # Host; X-Forwarded-* not
    proxied = create_app({**tracked.env, "NEWSCRAWL_TRUSTED_PROXIES": "1"}).test_client()
    headers = {**FORGED, "X-Forwarded-Proto": "https"}
    behind = feed_links(proxied, "/changes.atom", headers)
    assert behind and all(h.startswith("https://forged.example/phish/") for h in behind)
    for bad in (
        {"NEWSCRAWL_PUBLIC_URL": "javascript:alert(1)"},
        {"NEWSCRAWL_PUBLIC_URL": "https://x.example/?a=1"},
        {"NEWSCRAWL_TRUSTED_PROXIES": "many"},
        {"NEWSCRAWL_TRUSTED_PROXIES": "-1"},
    ):
        with pytest.raises(ValueError, match="NEWSCRAWL_"):
            create_app({**tracked.env, **bad})


# --- parameters -----------------------------------------------------------------------------

BAD_NUMBERS = ["²", "-1", "0", "x", "1e3", "1.5", " ", "１", "٣", "9" * 10, "9" * 400, "0x1f",
               "+2", "1 2", "\x00", "%ff"]  # fmt: skip
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "%",
    "\ud800",
    "😀" * 50,
    "a" * 20_000,
    "http://[::1",
    "javascript:x",
    "../../etc/passwd",
    "$where",
    '{"$gt": ""}',
    "\u202e",
    "http://127.0.0.1:1/x?utm_x=1",
]
ROUTES = {  # route: {parameter: what it takes}
    "/": {"source": "text", "minor": "flag", "page": "number"},
    "/changes.json": {"source": "text", "minor": "flag", "page": "number"},
    "/article": {"url": "text"},
    "/article.json": {"url": "text"},
    "/diff": {"url": "text", "from": "number", "to": "number"},
    "/diff.json": {"url": "text", "from": "number", "to": "number"},
    "/search": {"q": "text", "page": "number"},
    "/search.json": {"q": "text", "page": "number"},
    "/changes.atom": {"source": "text", "minor": "flag"},
    "/changes.rss": {"source": "text", "minor": "flag"},
    "/article.atom": {"url": "text", "minor": "flag"},
    "/article.rss": {"url": "text", "minor": "flag"},
    "/source": {"name": "text", "days": "number"},
    "/source.json": {"name": "text", "days": "number"},
    "/sources": {"days": "number"},
    "/sources.json": {"days": "number"},
}


def test_every_parameter_of_every_route_answers_bad_values_without_a_server_error(
    tracked: Tracked, caplog
):
    client = create_app(tracked.env).test_client()
    good = {"url": tracked.urls["headline"], "q": "news", "from": "1", "to": "3",
            "name": "Local"}  # fmt: skip
    failures = []
    with caplog.at_level(logging.WARNING):
        for route, parameters in ROUTES.items():
            for name, kind in parameters.items():
                values = BAD_NUMBERS if kind == "number" else ODD_TEXT
                for value in values:
                    params = {**{k: good[k] for k in parameters if k in good}, name: value}
                    query = urllib.parse.urlencode(params, errors="surrogatepass")
                    status = client.get(f"{route}?{query}").status_code
                    expected = {400} if kind == "number" and value.strip() else {200, 400, 404}
                    if status not in expected:
                        failures.append((route, name, value[:20], status))
    assert not failures
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    for value in ("²", "-1", "9" * 30):
        response = client.get("/changes.json", query_string={"page": value})
        assert (
            response.status_code == 400
            and "'page' must be a whole number" in (response.get_json()["error"])
        )
