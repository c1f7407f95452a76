"""A version or diff too large for one MongoDB document (16 MiB BSON) is stored compactly, and
one the store still refuses fails once, visibly, and is never retried.

The 16 MiB limit is enforced by the pymongo driver, so these run over the wire against an
nx-27017 server (see tests/test_wire.py) as well as on the embedded store.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

import pymongo
import pytest

from newscrawl import bounds
from newscrawl.bounds import MAX_DIFF_BYTES, bson_size, unpack_version
from newscrawl.normalize import content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.store import Store, as_utc
from newscrawl.tracker import CHANGED, NEW, UNCHANGED, Fetched, Tracker
from newscrawl.web import create_app
from tests.support.wire import WireServer

URL = "https://news.example/big"
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def text(size: int, seed: int) -> list[str]:
    """About ``size`` characters of prose-like paragraphs (Zipf-distributed made-up words)."""
    rng = random.Random(seed)
    vocabulary = [f"w{rng.randrange(10**6)}" for _ in range(20_000)]
    cumulative = list(accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
    words = rng.choices(vocabulary, cum_weights=cumulative, k=size * 10 // 79)
    return [" ".join(words[i : i + 80]).capitalize() + "." for i in range(0, len(words), 80)]


def page(title: str, paragraphs: list[str], at: datetime) -> Fetched:
    return Fetched(
        url=URL, source="Example", fetched_at=at, title=title, paragraphs=paragraphs,
        content_hash=content_hash(title, paragraphs), loose_hash=loose_hash(title, paragraphs),
    )  # fmt: skip


@pytest.fixture(scope="module")
def wire(tmp_path_factory) -> Iterator[WireServer]:
    server = WireServer(tmp_path_factory.mktemp("nx") / "data").start()
    yield server
    server.kill()


@pytest.fixture
def wire_store(wire: WireServer, request) -> Iterator[Store]:
    client = pymongo.MongoClient(wire.uri, tz_aware=True)
    database = f"bounds_{request.node.name[:40].replace('[', '_').replace(']', '')}"
    client.drop_database(database)
    store = Store(client, client[database])
    store.ensure_indexes()
    yield store
    client.drop_database(database)
    store.close()


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.from_settings({"NEWSCRAWL_DATA_DIR": str(tmp_path / "store")})
    yield store
    store.close()


@pytest.fixture(params=["wire", "embedded"])
def store(request) -> Store:
    return request.getfixturevalue(f"{request.param}_store")


def viewer(store: Store):
    """The viewer over ``store``. nx-27017 hands ``$set`` dates back as strings, which the
    viewer does not read: the article's are written back as dates first."""
    article = store.articles.find_one({"_id": URL})
    dates = {k: as_utc(v) for k, v in article.items() if k.endswith(("_checked", "_changed"))}
    store.articles.replace_one({"_id": URL}, {**article, **dates})
    return create_app(open_store=lambda: store).test_client()


def test_large_rewritten_article_gets_its_version_and_a_diff_the_viewer_shows(store):
    """4.5 MB of text rewritten: a full diff would be about 18 MB (both texts in its rows and
    again in its summaries). The version keeps its text compressed, the diff is stored
    compact and the viewer and feeds show it."""
    tracker = Tracker(store, RevisitPolicy())
    old, new = text(4_500_000, seed=1), text(4_500_000, seed=2)
    assert tracker.record(page("Big story", old, T0)).kind == NEW
    outcome = tracker.record(page("Big story, rewritten", new, T0 + timedelta(hours=1)))
    assert (outcome.kind, outcome.version, outcome.warnings) == (CHANGED, 2, ())

    stored = store.versions.find_one({"url": URL, "version": 2})
    assert stored["paragraphs"] == [] and "packed" in stored
    assert unpack_version(stored)["paragraphs"] == new
    diff = store.diffs.find_one({"url": URL, "version": 2})
    assert diff["truncated"] and bson_size(diff) <= MAX_DIFF_BYTES
    assert diff["words_added"] == sum(len(p.split()) for p in new)
    assert store.errors.count_documents({}) == 0
    # the next check of the same text has nothing left to write
    later = tracker.record(page("Big story, rewritten", new, T0 + timedelta(hours=2)))
    assert later.kind == UNCHANGED

    client = viewer(store)
    response = client.get("/diff.json", query_string={"url": URL, "from": 1, "to": 2})
    assert response.status_code == 200
    data = response.get_json()
    assert data["stored"] and data["truncated"]
    assert data["rows"][0]["new"][0][1].startswith(new[0][:60])
    html = client.get("/diff", query_string={"url": URL, "from": 1, "to": 2})
    assert html.status_code == 200 and "Too large to store in full" in html.get_data(as_text=True)
    feed = client.get("/changes.atom")
    assert feed.status_code == 200
    body = feed.get_data(as_text=True)
    assert "Too large to store in full" in body and new[0][:60] in body


def test_diff_the_store_refuses_fails_once_and_is_never_retried(wire_store, monkeypatch):
    """With no compaction (a bound above the server's limit) the driver refuses the diff: the
    failure is recorded once, logged, counted in the outcome, and later checks do not retry
    it; the viewer computes the diff instead."""
    monkeypatch.setattr(bounds, "MAX_DIFF_BYTES", 1 << 30)
    tracker = Tracker(wire_store, RevisitPolicy())
    old, new = text(4_500_000, seed=1), text(4_500_000, seed=2)
    tracker.record(page("Big story", old, T0))
    outcome = tracker.record(page("Big story", new, T0 + timedelta(hours=1)))
    assert (outcome.kind, outcome.version) == (CHANGED, 2)
    assert "diff-too-large" in outcome.warnings
    for hours in (2, 3):
        assert tracker.record(page("Big story", new, T0 + timedelta(hours=hours))).kind == UNCHANGED
    errors = list(wire_store.errors.find({"url": URL, "kind": "article"}))
    assert [e["reason"] for e in errors] == ["diff-too-large"]
    assert wire_store.diffs.count_documents({}) == 0
    article = wire_store.articles.find_one({"_id": URL})
    assert article["versions"] == 2 and article["content_hash"] == content_hash("Big story", new)

    response = viewer(wire_store).get("/diff.json", query_string={"url": URL, "from": 1, "to": 2})
    assert response.status_code == 200 and not response.get_json()["stored"]


def test_version_the_store_refuses_is_kept_without_its_text_once(wire_store, monkeypatch):
    """A version over the server's limit even compressed (here: compression turned off) is
    stored without its text and flagged, the error recorded once; the next check of the same
    text finds it stored."""
    monkeypatch.setattr(bounds, "MAX_VERSION_BYTES", 1 << 30)
    tracker = Tracker(wire_store, RevisitPolicy())
    tracker.record(page("Big story", ["A short first version."], T0))
    huge = text(17_000_000, seed=3)
    outcome = tracker.record(page("Big story", huge, T0 + timedelta(hours=1)))
    assert (outcome.kind, outcome.version) == (CHANGED, 2)
    assert "version-too-large" in outcome.warnings
    stored = wire_store.versions.find_one({"url": URL, "version": 2})
    assert stored["truncated"] and stored["paragraphs"] == []
    assert stored["content_hash"] == content_hash("Big story", huge)
    assert tracker.record(page("Big story", huge, T0 + timedelta(hours=2))).kind == UNCHANGED
    errors = list(wire_store.errors.find({"url": URL, "kind": "article"}))
    assert [e["reason"] for e in errors] == ["version-too-large"]
    diff = wire_store.diffs.find_one({"url": URL, "version": 2})
    assert [row["op"] for row in diff["paragraphs"]] == ["delete"]
    response = viewer(wire_store).get("/diff.json", query_string={"url": URL, "from": 1, "to": 2})
    assert response.status_code == 200
