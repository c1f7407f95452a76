"""Recent changes read by their numbers (``newscrawl.recent``): every stored change is numbered
in its lists at write time, a page is an index lookup of its own changes only, and a store
written before the numbering is numbered when it is opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newscrawl import events, queries, recent, record
from newscrawl.normalize import content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.tracker import Fetched, Tracker

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def fetched(url: str, source: str, words: list[str], at: datetime) -> Fetched:
    paragraphs = [" ".join(words) + "."]
    return Fetched(url=url, source=source, fetched_at=at, title="Title", paragraphs=paragraphs,
                   content_hash=content_hash("Title", paragraphs),
                   loose_hash=loose_hash("Title", paragraphs))  # fmt: skip


def track_changes(tracker: Tracker) -> None:
    """Three articles of two sources, each edited twice (one edit of A minor), an hour apart."""
    at = T0
    for n in range(3):
        url, source = f"https://news.example/{n}", "A" if n < 2 else "B"
        tracker.record(fetched(url, source, ["Ten", "people", "were", "hurt"], at))
    for edit in ("twelve", "fourteen"):
        for n in range(3):
            at += timedelta(hours=1)
            url, source = f"https://news.example/{n}", "A" if n < 2 else "B"
            words = [edit, "people", "were", "hurt"]
            if n == 0 and edit == "fourteen":  # punctuation only: a minor edit
                words = ["twelve", "people", "were", "hurt!"]
            tracker.record(fetched(url, source, words, at))


def expected(store, source=None, minor=False) -> list[tuple[str, int]]:
    query = queries.change_filter(source, None, minor)
    found = store.diffs.find(query).sort([("fetched_at", -1), ("url", 1), ("version", -1)])
    return [(d["url"], d["version"]) for d in found]


def shown(page: queries.Page) -> list[tuple[str, int]]:
    return [(c["url"], c["version"]) for c in page.items]


def test_each_list_of_recent_changes_pages_newest_first_by_number(open_store):
    store = open_store()
    track_changes(Tracker(store, RevisitPolicy()))
    assert store.diffs.count_documents({"minor": True}) == 1
    for source in (None, "A", "B"):
        for minor in (False, True):
            want = expected(store, source, minor)
            pages = [queries.recent_changes(store, source=source, minor=minor, page=n,
                                            per_page=2) for n in (1, 2, 3, 4)]  # fmt: skip
            assert [item for page in pages for item in shown(page)] == want, (source, minor)
            assert all(page.total == len(want) for page in pages)
    assert store.db[recent.COLLECTION].find_one({"_id": "major"})["n"] == 5


def test_a_page_of_recent_changes_reads_only_its_own_changes(open_store):
    store = open_store()
    track_changes(Tracker(store, RevisitPolicy()))
    filters = []
    find = store.diffs.find

    def watched(query, *args, **kwargs):
        filters.append(query)
        return find(query, *args, **kwargs)

    store.diffs.find = watched  # type: ignore[method-assign]
    page = queries.recent_changes(store, source="A", page=2, per_page=2)
    assert len(page.items) == 1 and page.total == 3
    # one lookup by the changes' numbers (indexed on both stores), no sort over the diffs
    assert filters == [{"rank_major_source": {"$in": [1], "$gte": 1, "$lte": 1}, "source": "A"}]


def test_a_store_written_before_the_numbering_is_numbered_when_opened(open_store):
    store = open_store()
    track_changes(Tracker(store, RevisitPolicy()))
    want = expected(store)
    store.diffs.update_many({}, {"$unset": {field: "" for field in recent.FIELDS}})
    store.db[recent.COLLECTION].delete_many({})
    store.db[record.COLLECTION].delete_one({"_id": record.REBUILT})
    store.db[record.COLLECTION].insert_one({"_id": "rebuilt"})  # the marker before numbering
    reopened = open_store()
    assert shown(queries.recent_changes(reopened, per_page=10)) == want
    assert reopened.diffs.count_documents({"rank": {"$exists": False}}) == 0
    assert reopened.db[record.COLLECTION].find_one({"_id": "rebuilt"}) is None


def test_the_newest_events_are_read_by_their_numbers(open_store):
    store = open_store()
    for n in range(5):
        at, source = T0 + timedelta(hours=n), "A" if n % 2 else "B"
        events.record_event(store.db, f"https://e.example/{n}", "removed", at, source, reason="x")
    events.record_event(store.db, "https://e.example/0", "moved", T0 + timedelta(hours=6), "B",
                        to="https://e.example/9")  # fmt: skip
    newest = events.recent_events(store.db, 3)
    assert [e["url"][-1] for e in newest] == ["0", "4", "3"]
    assert [e["url"][-1] for e in events.recent_events(store.db, 9, source="A")] == ["3", "1"]
    assert [e["kind"] for e in events.article_events(store.db, "https://e.example/9")] == ["moved"]
    assert "rank" not in events.describe(newest[0])
