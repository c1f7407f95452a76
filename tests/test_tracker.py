"""Change detection against the store: numbering, reverts, flip-flops, minor edits, races."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from newscrawl.normalize import content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.store import Store
from newscrawl.tracker import (
    CHANGED,
    FLIP_FLOP,
    NEW,
    REBASELINE,
    REVERT,
    UNCHANGED,
    Fetched,
    Tracker,
)

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
URL = "https://news.example/a"


def page(title: str, paragraphs: list[str], at: datetime = T0, url: str = URL) -> Fetched:
    return Fetched(
        url=url,
        source="Example",
        fetched_at=at,
        title=title,
        paragraphs=paragraphs,
        content_hash=content_hash(title, paragraphs),
        loose_hash=loose_hash(title, paragraphs),
    )


@pytest.fixture
def tracker(open_store) -> Tracker:
    return Tracker(open_store(), RevisitPolicy())


def test_first_sight_stores_version_one_and_schedules_a_recheck(tracker):
    outcome = tracker.record(page("Title", ["One.", "Two."]))
    assert (outcome.kind, outcome.version) == (NEW, 1)
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["versions"] == 1
    assert article["first_seen"] == T0
    assert article["next_check"] == T0 + timedelta(minutes=30)
    assert tracker.store.diffs.count_documents({}) == 0


def test_unchanged_text_only_moves_the_schedule(tracker):
    tracker.record(page("Title", ["One."]))
    later = T0 + timedelta(minutes=31)
    outcome = tracker.record(page("Title", ["One."], at=later))
    assert outcome.kind == UNCHANGED
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["interval"] == pytest.approx(30 * 60 * 1.2)
    assert article["next_check"] == later + timedelta(seconds=30 * 60 * 1.2)
    assert tracker.store.versions.count_documents({}) == 1


def test_typographic_variants_do_not_make_a_version(tracker):
    tracker.record(page("It's \u201cnews\u201d", ["A \u2014 B\u00a0C."]))
    outcome = tracker.record(page('It\u2019s "news"', ["A - B C."]))
    assert outcome.kind == UNCHANGED


def test_edit_stores_next_version_with_diff_and_resets_interval(tracker):
    tracker.record(page("Title", ["Ten people were hurt.", "Police attended."]))
    tracker.record(
        page("Title", ["Ten people were hurt.", "Police attended."], at=T0 + timedelta(hours=1))
    )
    at = T0 + timedelta(hours=11)
    outcome = tracker.record(
        page("New title", ["Twelve people were hurt.", "Police attended."], at)
    )
    assert (outcome.kind, outcome.version, outcome.minor) == (CHANGED, 2, False)
    diff = tracker.store.diffs.find_one({"url": URL, "version": 2})
    assert diff["from_version"] == 1
    assert diff["title"] is not None
    assert diff["added"] == ["Twelve people were hurt."]
    assert diff["removed"] == ["Ten people were hurt."]
    assert diff["previous_fetched_at"] == T0
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["interval"] == 30 * 60
    assert article["title"] == "New title"
    assert article["last_changed"] == at


def test_punctuation_only_change_is_kept_but_flagged_minor(tracker):
    tracker.record(page("Title", ["Hello world"]))
    outcome = tracker.record(page("Title", ["Hello, world."]))
    assert (outcome.kind, outcome.version, outcome.minor) == (CHANGED, 2, True)
    assert tracker.store.diffs.find_one({"version": 2})["minor"] is True


def test_return_to_earlier_text_is_a_revert_and_flip_flops_are_counted(tracker):
    a, b = page("T", ["Original text."]), page("T", ["Edited text."])
    kinds = [tracker.record(p).kind for p in (a, b, a, b, a, b, a)]
    assert kinds == [NEW, CHANGED, REVERT, FLIP_FLOP, UNCHANGED, FLIP_FLOP, UNCHANGED]
    versions = tracker.store.history(URL)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[2]["revert_of"] == 1
    assert tracker.store.articles.find_one({"_id": URL})["flip_flops"] == 2


def test_article_goes_dormant_after_stop_after_without_change(tracker):
    tracker.record(page("T", ["x"]))
    outcome = tracker.record(page("T", ["x"], at=T0 + timedelta(days=41)))
    assert outcome.kind == UNCHANGED
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["next_check"] is None
    assert article["status"] == "dormant"


def test_claims_take_due_articles_most_overdue_first_and_only_once(tracker):
    for i, minutes in enumerate([20, 0, 10]):
        tracker.record(page("T", [f"x{i}"], at=T0 + timedelta(minutes=minutes), url=f"{URL}{i}"))
    store, now = tracker.store, T0 + timedelta(hours=2)
    token, claimed = store.claim_articles(now, limit=10, lease_seconds=600)
    assert [a["_id"] for a in claimed] == [f"{URL}1", f"{URL}2", f"{URL}0"]
    assert store.claim_articles(now, limit=10, lease_seconds=600)[1] == []  # all leased
    # after the lease expires (a crashed crawler), another run gets them
    later = now + timedelta(seconds=601)
    assert len(store.claim_articles(later, limit=10, lease_seconds=600)[1]) == 3


def test_claims_respect_schedule_and_released_leases_are_claimable(tracker):
    for i, minutes in enumerate([0, 10]):
        tracker.record(page("T", [f"x{i}"], at=T0 + timedelta(minutes=minutes), url=f"{URL}{i}"))
    store = tracker.store
    token, claimed = store.claim_articles(T0 + timedelta(minutes=35), 10, 600)
    assert [a["_id"] for a in claimed] == [f"{URL}0"]
    assert store.release_leases(token) == 1
    assert len(store.claim_articles(T0 + timedelta(minutes=35), 10, 600)[1]) == 1
    everything = store.claim_articles(
        T0, 10, 600, everything_checked_before=T0 + timedelta(hours=1)
    )
    assert [a["_id"] for a in everything[1]] == [f"{URL}1"]  # the other one, not yet due


def test_recheck_all_claims_each_article_once_per_round(tracker):
    for i in range(3):
        tracker.record(page("T", [f"x{i}"], url=f"{URL}{i}"))
    store, round_started = tracker.store, T0 + timedelta(hours=1)
    _, first = store.claim_articles(round_started, 2, 600, everything_checked_before=round_started)
    for article in first:  # checked in this round: their leases end
        tracker.record(page("T", [article["_id"][-1:]], url=article["_id"], at=round_started))
    _, rest = store.claim_articles(round_started, 10, 600, everything_checked_before=round_started)
    assert {a["_id"] for a in first} | {a["_id"] for a in rest} == {f"{URL}{i}" for i in range(3)}
    assert len(rest) == 1  # the two already re-checked are not claimed again


def test_recording_a_check_ends_the_lease(tracker):
    tracker.record(page("T", ["x"]))
    token, _ = tracker.store.claim_articles(T0 + timedelta(hours=1), 10, 600)
    tracker.record(page("T", ["x"], at=T0 + timedelta(hours=1)))
    assert tracker.store.release_leases(token) == 0


# -- several processes writing at once -------------------------------------------------------

TEXTS = [["First text."], ["Second text, edited."], ["Third text."], ["Fourth, final text."]]


def _writer(settings: dict[str, str], urls: list[str], start: multiprocessing.Event) -> None:
    store = Store.from_settings(settings)
    tracker = Tracker(store, RevisitPolicy())
    start.wait()
    for paragraphs in TEXTS:
        for url in urls:
            tracker.record(page("Headline", paragraphs, url=url))
    store.close()


def test_concurrent_writers_never_double_or_skip_a_version(store_env, open_store):
    urls = [f"https://news.example/race/{i}" for i in range(15)]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=_writer, args=(store_env, urls, start)) for _ in range(3)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    store = open_store()
    hashes = {content_hash("Headline", t) for t in TEXTS}
    for url in urls:
        history = store.history(url)
        numbers = [v["version"] for v in history]
        assert numbers == list(range(1, len(numbers) + 1)), f"gap or double in {numbers}"
        assert {v["content_hash"] for v in history} == hashes
        for before, after in zip(history, history[1:], strict=False):
            assert before["content_hash"] != after["content_hash"]
        assert store.diffs.count_documents({"url": url}) == len(history) - 1
    assert store.articles.count_documents({}) == len(urls)


def test_a_version_whose_writer_died_before_its_diff_is_completed_on_the_next_check(tracker):
    tracker.record(page("T", ["First."]))
    tracker.record(page("T", ["Second."]))
    # simulate kill -9 between the version insert and the diff/article writes
    tracker.store.diffs.delete_many({})
    tracker.store.articles.update_one({"_id": URL}, {"$set": {"versions": 1, "content_hash": "x"}})
    outcome = tracker.record(page("T", ["Second."], at=T0 + timedelta(hours=1)))
    assert (outcome.kind, outcome.version) == (UNCHANGED, 2)
    diff = tracker.store.diffs.find_one({"url": URL, "version": 2})
    assert diff["added"] == ["Second."] and diff["removed"] == ["First."]
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["versions"] == 2
    assert article["content_hash"] == content_hash("T", ["Second."])


def test_a_sudden_drop_in_body_length_is_stored_but_flagged(tracker):
    long_body = [f"Sentence number {i} of a long article about the news." for i in range(30)]
    assert tracker.record(page("T", long_body)).warnings == ()
    outcome = tracker.record(page("T", ["Subscribe to read this article in full today please."]))
    assert outcome.kind == CHANGED
    assert outcome.warnings == ("short-body", "body-drop")
    assert tracker.store.history(URL)[-1]["warnings"] == ["short-body", "body-drop"]
    reasons = {e["reason"] for e in tracker.store.errors.find({"kind": "extraction"})}
    assert reasons == {"short-body", "body-drop"}


def test_a_normal_edit_raises_no_health_warning(tracker):
    body = [f"Sentence number {i} of a long article about the news." for i in range(30)]
    tracker.record(page("T", body))
    assert tracker.record(page("T", body[:-3])).warnings == ()


def test_an_edit_of_another_headline_alone_is_a_new_version(tracker):
    def fetched(social: str, at: datetime) -> Fetched:
        text = ("Title", ["Body text."], [social])
        return Fetched(
            url=URL, source="Example", fetched_at=at, title="Title", paragraphs=["Body text."],
            other_headlines=[social], content_hash=content_hash(*text),
            loose_hash=loose_hash(*text),
        )  # fmt: skip

    tracker.record(fetched("Social headline about the funding row", T0))
    outcome = tracker.record(
        fetched("Social headline about the giveaway row", T0 + timedelta(hours=1))
    )
    assert (outcome.kind, outcome.version, outcome.minor) == (CHANGED, 2, False)
    assert tracker.store.history(URL)[-1]["other_headlines"] == [
        "Social headline about the giveaway row"
    ]
    diff = tracker.store.diffs.find_one({"url": URL, "version": 2})
    assert diff["title"] is None and diff["paragraphs"] == [{"op": "equal", "old": 0, "new": 0}]
    assert ["+", "giveaway"] in diff["other_headlines"][0]


def test_the_first_check_by_a_newer_extractor_is_a_rebaseline_not_a_version(tracker):
    """An article stored by an earlier extractor (no ``extractor`` field) fetched now with a
    different extraction of the same page: the new text becomes the baseline without a
    version; an edit after that is a version as usual."""
    tracker.record(page("Title", ["Body text."]))
    tracker.store.articles.update_one({"_id": URL}, {"$unset": {"extractor": ""}})
    tracker.store.versions.update_one({"url": URL}, {"$unset": {"other_headlines": ""}})

    def fetched(body: str, at: datetime) -> Fetched:
        text = ("Title", [body], ["Social headline"])
        return Fetched(
            url=URL, source="Example", fetched_at=at, title="Title", paragraphs=[body],
            other_headlines=["Social headline"], extractor=2, content_hash=content_hash(*text),
            loose_hash=loose_hash(*text),
        )  # fmt: skip

    now = fetched("Body text.", T0 + timedelta(hours=1))
    assert tracker.record(now).kind == REBASELINE
    article = tracker.store.articles.find_one({"_id": URL})
    assert (article["content_hash"], article["extractor"], article["versions"]) == (
        now.content_hash, 2, 1
    )  # fmt: skip
    assert tracker.record(fetched("Body text.", T0 + timedelta(hours=2))).kind == UNCHANGED
    edited = tracker.record(fetched("Body text, edited.", T0 + timedelta(hours=3)))
    assert (edited.kind, edited.version) == (CHANGED, 2)
    diff = tracker.store.diffs.find_one({"url": URL, "version": 2})
    assert diff["other_headlines"] is None and diff["paragraphs"][0]["op"] == "replace"
