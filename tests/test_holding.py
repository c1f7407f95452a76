"""Held changes: a re-check's new text is stored once the next check shows it too."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from newscrawl.holding import HELD as HELD_COLLECTION
from newscrawl.holding import TRANSIENT, Holding
from newscrawl.schedule import RevisitPolicy
from newscrawl.snapshots import RawPage
from newscrawl.tracker import CHANGED, HELD, NEW, UNCHANGED, Tracker
from tests.support.fetched import T0, URL, page

BODY = ["The council met on Monday to discuss the plan.", "Residents spoke for an hour."]
EDITED = [BODY[0], "Residents spoke for two hours, the minutes say.", *BODY[1:]]
PROMO = [*BODY, "Sign up for our morning newsletter and never miss a story."]
MINUTE = timedelta(minutes=1)


@pytest.fixture
def tracker(open_store) -> Tracker:
    return Tracker(open_store(), RevisitPolicy(), hold=True)


def at(minutes: int):
    return T0 + minutes * MINUTE


def raw(body: bytes, minutes: int) -> RawPage:
    return RawPage(body=body, response_url=URL, fetched_at=at(minutes))


def test_a_change_is_held_at_first_and_stored_at_its_first_sight_when_the_next_check_shows_it(
    tracker,
):
    assert tracker.record(page("T", BODY)).kind == NEW
    held = tracker.record(page("T", EDITED, at=at(40)), raw=raw(b"<p>edited</p>", 40))
    assert (held.kind, held.version) == (HELD, 1)
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["versions"] == 1 and article["content_hash"] == page("T", BODY).content_hash
    assert article["next_check"] == at(40) + timedelta(seconds=RevisitPolicy().initial)

    confirmed = tracker.record(page("T", EDITED, at=at(70)))
    assert (confirmed.kind, confirmed.version) == (CHANGED, 2)
    assert confirmed.evidence is not None and confirmed.evidence.body == b"<p>edited</p>"
    history = tracker.store.history(URL)
    assert [v["paragraphs"] for v in history] == [BODY, EDITED]
    assert history[1]["fetched_at"] == at(40)  # when the edit was first seen
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["last_checked"] == at(70) and not article.get("held_hash")
    assert tracker.store.db[HELD_COLLECTION].count_documents({}) == 0
    assert tracker.store.diffs.count_documents({"url": URL, "version": 2}) == 1


def test_a_change_gone_by_the_next_check_makes_no_version_and_is_kept_as_transient(tracker):
    tracker.record(page("T", BODY))
    assert tracker.record(page("T", PROMO, at=at(40))).kind == HELD
    assert tracker.record(page("T", BODY, at=at(70))).kind == UNCHANGED
    assert len(tracker.store.history(URL)) == 1
    (transient,) = tracker.store.db[TRANSIENT].find({"url": URL})
    assert transient["added"] == [PROMO[-1]] and transient["dropped"] == []
    assert (transient["first_seen"], transient["gone_by"]) == (at(40), at(70))
    assert tracker.store.db[HELD_COLLECTION].count_documents({}) == 0


def test_furniture_that_changes_at_every_check_never_makes_a_version(tracker):
    tracker.record(page("T", BODY))
    for check in range(1, 6):
        teaser = f"Most read: story number {check} of the day is this one, says the site."
        assert tracker.record(page("T", [*BODY, teaser], at=at(40 * check))).kind == HELD
    assert len(tracker.store.history(URL)) == 1
    assert tracker.store.db[TRANSIENT].count_documents({"url": URL}) == 4


def not_modified(minutes: int, raw_hash: str, etag: str):
    """A 304 (or the same bytes again) to a request sent with this raw hash and ETag."""
    fetched = page("T", [], at=at(minutes))
    return replace(fetched, content_hash="", loose_hash="", raw_hash=raw_hash, etag=etag)


def test_a_not_modified_answer_to_the_held_fetch_validators_confirms_it(tracker):
    tracker.record(replace(page("T", BODY), raw_hash="r1", etag='"v1"'))
    tracker.record(replace(page("T", EDITED, at=at(40)), raw_hash="r2", etag='"v2"'))
    assert tracker.store.articles.find_one({"_id": URL})["etag"] == '"v2"'
    assert tracker.record(not_modified(70, "r2", '"v2"')).kind == CHANGED
    assert [v["paragraphs"] for v in tracker.store.history(URL)] == [BODY, EDITED]


def test_a_not_modified_answer_to_the_stored_versions_validators_does_not_confirm(tracker):
    # another node's re-check read the article before the hold: its 304 says the page is
    # the stored version again, so the held change was transient
    tracker.record(replace(page("T", BODY), raw_hash="r1", etag='"v1"'))
    tracker.record(replace(page("T", PROMO, at=at(40)), raw_hash="r2", etag='"v2"'))
    assert tracker.record(not_modified(70, "r1", '"v1"')).kind == UNCHANGED
    assert [v["paragraphs"] for v in tracker.store.history(URL)] == [BODY]
    assert tracker.store.db[TRANSIENT].count_documents({"url": URL}) == 1
    article = tracker.store.articles.find_one({"_id": URL})
    assert not article.get("held_hash") and article["etag"] == '"v1"'


def test_an_edit_that_persists_under_new_furniture_is_stored_and_the_furniture_held(tracker):
    tracker.record(page("T", BODY))
    tracker.record(page("T", EDITED, at=at(40)))
    outcome = tracker.record(page("T", [*EDITED, PROMO[-1]], at=at(70)))
    assert (outcome.kind, outcome.version) == (CHANGED, 2)
    assert tracker.store.history(URL)[-1]["paragraphs"] == EDITED
    assert tracker.store.articles.find_one({"_id": URL})["held_hash"] == (
        page("T", [*EDITED, PROMO[-1]]).content_hash
    )
    assert tracker.record(page("T", EDITED, at=at(100))).kind == UNCHANGED
    assert len(tracker.store.history(URL)) == 2


def test_a_new_held_text_replaces_one_the_next_check_did_not_show(tracker):
    tracker.record(page("T", BODY))
    tracker.record(page("T", PROMO, at=at(40)))
    assert tracker.record(page("T", EDITED, at=at(70))).kind == HELD
    assert tracker.record(page("T", EDITED, at=at(100))).kind == CHANGED
    history = tracker.store.history(URL)
    assert [v["paragraphs"] for v in history] == [BODY, EDITED]
    assert history[1]["fetched_at"] == at(70)


def test_a_headline_change_is_held_like_any_other(tracker):
    tracker.record(page("Council delays vote", BODY))
    assert tracker.record(page("Council approves plan", BODY, at=at(40))).kind == HELD
    assert tracker.record(page("Council approves plan", BODY, at=at(70))).kind == CHANGED
    assert tracker.store.history(URL)[-1]["title"] == "Council approves plan"


def test_without_holding_a_change_is_stored_at_once(open_store):
    tracker = Tracker(open_store(), RevisitPolicy(), hold=False)
    tracker.record(page("T", BODY))
    assert tracker.record(page("T", EDITED, at=at(40))).kind == CHANGED


def test_a_held_page_is_kept_whole_with_its_raw_bytes(tracker):
    tracker.record(page("T", BODY))
    body = "<html><p>caf\u00e9</p></html>".encode() * 500
    tracker.record(page("T", EDITED, at=at(40)), raw=raw(body, 40))
    held = Holding(tracker.store).get(URL, page("T", EDITED).content_hash)
    assert held is not None and held.raw is not None
    assert held.raw.body == body and held.raw.fetched_at == at(40)
    assert held.page == page("T", EDITED, at=at(40))
    assert Holding(tracker.store).get(URL, "another hash") is None


def test_a_page_changing_at_every_check_becomes_volatile_with_holding_on(tracker):
    """Each check that holds a new text counts as a change, once (the check that confirms
    the previous one and holds the next records one check, not two), so a live page is
    found volatile and its versions are capped and its checks spaced out."""
    tracker.record(page("T", BODY))
    for n in range(1, 13):
        tracker.record(page("T", [*BODY, f"Update {n}: the council answered a question."],
                            at=at(40 * n)))  # fmt: skip
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["volatile"] and len(article["recent_changes"]) == 10
    assert sum(article["recent_changes"]) >= RevisitPolicy().volatile_changes
    assert article["versions"] <= 1 + RevisitPolicy().volatile_versions_per_day
    assert float(article["interval"]) > RevisitPolicy().initial


def test_a_change_held_before_an_extractor_upgrade_is_stored_then_the_text_rebaselined(tracker):
    tracker.record(replace(page("T", BODY), extractor=4))
    tracker.record(replace(page("T", EDITED, at=at(40)), extractor=4))  # held
    upgraded = tracker.record(replace(page("T", [*EDITED, "A line only v5 keeps."], at=at(70)),
                                      extractor=5))  # fmt: skip
    assert upgraded.kind == CHANGED and upgraded.version == 2
    (_, stored) = tracker.store.history(URL)
    assert stored["paragraphs"] == EDITED and stored["fetched_at"] == at(40)
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["extractor"] == 5 and article["versions"] == 2


def test_a_held_fetch_older_than_the_stored_texts_extractor_is_released(tracker):
    tracker.record(replace(page("T", BODY), extractor=4))
    tracker.record(replace(page("T", EDITED, at=at(40)), extractor=4))  # held
    # the history re-extracted by extractor 5 since (``scrapy reextract``)
    tracker.store.articles.update_one({"_id": URL}, {"$set": {"extractor": 5}})
    again = tracker.record(replace(page("T", EDITED, at=at(70)), extractor=5))
    assert again.kind == HELD and len(tracker.store.history(URL)) == 1
    held = Holding(tracker.store).get(URL, page("T", EDITED).content_hash)
    assert held is not None and held.page.extractor == 5  # held anew, by extractor 5


# Real crawls: the spider, the pipelines and the store, against a loopback site. ----------
PATH = "/news/article.html"
HOLD = {"NEWSCRAWL_HOLD_CHANGES": "True"}  # the default, given so these tests keep their subject


def _html(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><head><title>Council delays vote</title></head><body><article>"
        f"<h1>Council delays vote</h1>{body}</article></body></html>"
    )


LONG = [
    f"Paragraph {n} of the story says what the council decided on Monday, and why it "
    "matters to the residents who came to the meeting at the town hall."
    for n in range(6)
]


@pytest.fixture
def crawled(site, crawl, open_store):
    """The article crawled once: version 1."""
    from tests.support.mockserver import rss

    site.put(PATH, _html(LONG))
    site.put("/feed.xml", rss("Local", [site.url(PATH)]), content_type="application/rss+xml")
    crawl()
    return open_store()


def test_a_crawled_edit_is_held_then_stored_with_the_page_first_served(site, crawl, crawled):
    edited = _html([*LONG[:3], "A paragraph added by the editor after publication, a new fact.",
                    *LONG[3:]])  # fmt: skip
    site.put(PATH, edited)
    first = crawl("-a", "recheck=all", settings=HOLD).stderr
    assert "'newscrawl/articles/held': 1" in first
    assert len(crawled.history(site.url(PATH))) == 1
    crawl("-a", "recheck=all", settings=HOLD)
    history = crawled.history(site.url(PATH))
    assert len(history) == 2 and "added by the editor" in " ".join(history[1]["paragraphs"])
    snapshot = crawled.db["pages"].find_one({"url": history[1]["url"], "version": 2})
    assert snapshot is not None and snapshot["fetched_at"] == history[1]["fetched_at"]
    assert crawled.db[TRANSIENT].count_documents({}) == 0


def test_a_crawled_change_gone_by_the_next_check_is_transient(site, crawl, crawled):
    site.put(PATH, _html([*LONG, "Subscribe to our daily newsletter to get stories like this."]))
    crawl("-a", "recheck=all", settings=HOLD)
    site.put(PATH, _html(LONG))
    crawl("-a", "recheck=all", settings=HOLD)
    assert len(crawled.history(site.url(PATH))) == 1
    assert crawled.db[TRANSIENT].count_documents({}) == 1


def test_transient_changes_older_than_their_ttl_are_deleted_at_the_crawls_end(site, crawl, crawled):
    site.put(PATH, _html([*LONG, "Subscribe to our daily newsletter to get stories like this."]))
    crawl("-a", "recheck=all", settings=HOLD)
    site.put(PATH, _html(LONG))
    crawl("-a", "recheck=all", settings=HOLD)  # the promo is gone: one transient change
    (recent,) = crawled.db[TRANSIENT].find()
    old = {**recent, "_id": "old", "gone_by": recent["gone_by"] - timedelta(days=31)}
    crawled.db[TRANSIENT].insert_one(old)
    crawl("-a", "recheck=all", settings={**HOLD, "NEWSCRAWL_TRANSIENT_TTL": str(30 * 86400)})
    assert [doc["_id"] for doc in crawled.db[TRANSIENT].find()] == [recent["_id"]]
    crawled.db[TRANSIENT].insert_one(old)
    crawl("-a", "recheck=all", settings={**HOLD, "NEWSCRAWL_TRANSIENT_TTL": "0"})  # kept
    assert crawled.db[TRANSIENT].count_documents({}) == 2
