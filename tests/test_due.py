"""Due buckets: the claim looks due articles up by quarter-hour, and still finds old ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newscrawl.due import SWEEP_EVERY, bucket, schedule_fields
from newscrawl.lifecycle import Lifecycle, RemovalPolicy
from newscrawl.schedule import DAY, RevisitPolicy
from newscrawl.store import Store, open_database
from newscrawl.tracker import Tracker
from tests.support.fetched import T0, URL, page


@pytest.fixture
def tracker(open_store) -> Tracker:
    return Tracker(open_store(), RevisitPolicy())


def schedule(store: Store, url: str, at) -> None:
    store.articles.update_one({"_id": url}, {"$set": schedule_fields(at)}, upsert=True)


def claimed_urls(store: Store, now, limit: int = 10) -> list[str]:
    return [article["_id"] for article in store.claim_articles(now, limit, DAY)[1]]


def test_the_claim_takes_due_articles_only_most_overdue_first(tracker):
    store, now = tracker.store, T0 + timedelta(hours=3, minutes=5)
    for name, at in [("a", now - timedelta(minutes=20)), ("b", now - timedelta(hours=2)),
                     ("c", now + timedelta(minutes=5)), ("d", now + timedelta(hours=1)),
                     ("e", now - timedelta(seconds=1))]:  # fmt: skip
        schedule(store, f"{URL}{name}", at)
    assert bucket(now + timedelta(minutes=5)) == bucket(now)  # due later in the same bucket
    assert claimed_urls(store, now) == [f"{URL}b", f"{URL}a", f"{URL}e"]  # the sweep
    schedule(store, f"{URL}f", now - timedelta(minutes=1))
    assert claimed_urls(store, now + timedelta(minutes=1)) == [f"{URL}f"]  # by bucket


def test_articles_stored_without_a_bucket_get_one_when_the_store_opens(store_env, open_store):
    client, db = open_database(store_env)  # a store as written before due buckets
    db["articles"].insert_many(
        [{"_id": f"{URL}{i}", "source": "Example", "next_check": T0 + timedelta(hours=i)}
         for i in range(3)] + [{"_id": f"{URL}dormant", "source": "Example", "next_check": None}]
    )  # fmt: skip
    client.close()
    store = open_store()
    for article in store.articles.find({}):
        assert article.get("due_bucket") == bucket(article["next_check"])
    assert claimed_urls(store, T0 + timedelta(hours=1)) == [f"{URL}0", f"{URL}1"]
    assert claimed_urls(store, T0 + timedelta(hours=3)) == [f"{URL}2"]  # by bucket


def test_articles_overdue_for_longer_than_the_lookback_are_still_claimed_first(tracker):
    store, now = tracker.store, T0 + timedelta(days=20)
    schedule(store, f"{URL}recent", now - timedelta(minutes=10))
    assert claimed_urls(store, now) == [f"{URL}recent"]  # a sweep finding no backlog
    for days in (3, 5, 9):  # e.g. leases that expired long after their claim
        schedule(store, f"{URL}{days}", now - timedelta(days=days))
    later = now + timedelta(seconds=SWEEP_EVERY + 1)
    assert claimed_urls(store, later, limit=1) == [f"{URL}9"]
    # a sweep that found a backlog is not recorded: the next claims sweep until it is gone
    assert claimed_urls(store, later, limit=1) == [f"{URL}5"]
    assert claimed_urls(store, later, limit=1) == [f"{URL}3"]


def test_every_write_that_moves_a_schedule_keeps_its_bucket(tracker):
    store, lifecycle = tracker.store, Lifecycle(tracker.store, RemovalPolicy())
    policy = RevisitPolicy()

    def assert_bucketed() -> None:
        for article in store.articles.find({}):
            assert article.get("due_bucket") == bucket(article.get("next_check")), article

    tracker.record(page("T", ["One."]))  # new
    assert_bucketed()
    tracker.record(page("T", ["One."], at=T0 + timedelta(hours=1)))  # unchanged
    assert_bucketed()
    tracker.record(page("T", ["Two."], at=T0 + timedelta(hours=2)))  # changed
    assert_bucketed()
    store.record_error("article", URL, "Example", "http-500", "boom", T0 + timedelta(hours=3),
                       policy)  # fmt: skip
    assert_bucketed()
    for hours in range(4, 9):  # suspect, suspect, suspect, removed, still removed
        lifecycle.gone(URL, "Example", "http-404", T0 + timedelta(hours=hours))
        assert_bucketed()
    tracker.record(page("T", ["Two."], at=T0 + timedelta(days=2)))  # came back
    assert store.articles.find_one({"_id": URL})["status"] == "active"
    assert_bucketed()
    tracker.record(page("T", ["Two."], at=T0 + timedelta(days=50)))  # dormant: no schedule
    assert store.articles.find_one({"_id": URL})["due_bucket"] is None
    tracker.record(page("T", ["Other."], url=f"{URL}new", at=T0 + timedelta(days=50)))
    lifecycle.moved(f"{URL}new", URL, "Example", T0 + timedelta(days=51))
    assert_bucketed()
    assert store.articles.find_one({"_id": f"{URL}new"})["due_bucket"] is None
