"""Change detection against the store: numbering, reverts, flip-flops, minor edits, races."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from newscrawl.due import SWEEPS, record_sweep, schedule_fields
from newscrawl.normalize import content_hash, loose_hash
from newscrawl.queries import compare
from newscrawl.schedule import DAY, RevisitPolicy
from newscrawl.store import Store, as_utc
from newscrawl.tracker import (
    CHANGED,
    FLIP_FLOP,
    NEW,
    REBASELINE,
    REVERT,
    SKIPPED,
    UNCHANGED,
    Fetched,
    Tracker,
)
from newscrawl.web import create_app
from tests.support.fetched import T0, URL, page
from tests.support.processes import run_together


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
    assert kinds == [NEW, CHANGED, REVERT, FLIP_FLOP, FLIP_FLOP, FLIP_FLOP, FLIP_FLOP]
    versions = tracker.store.history(URL)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[2]["revert_of"] == 1
    assert tracker.store.articles.find_one({"_id": URL})["flip_flops"] == 4


def test_after_a_suppressed_toggle_the_article_shows_what_the_page_says_now(tracker, store_env):
    """A->B->A->B, then B for 30 more checks: no version is added, and the article points at
    the stored version with B's text (not A's, the latest stored); the next edit is diffed
    against B, what the page said before it."""
    a, b = page("Headline A", ["Original text."]), page("Headline B", ["Edited text."])
    for i, fetched in enumerate([a, b, a, b] + [b] * 30):
        tracker.record(replace(fetched, fetched_at=T0 + timedelta(hours=i)))
    store = tracker.store
    assert store.versions.count_documents({"url": URL}) == 3
    article = store.articles.find_one({"_id": URL})
    shown = store.versions.find_one({"url": URL, "version": article["current_version"]})
    assert shown["content_hash"] == b.content_hash == article["content_hash"]
    assert article["title"] == "Headline B"
    viewer = create_app(store_env).test_client()
    shown = viewer.get("/article.json", query_string={"url": URL}).get_json()
    assert (shown["title"], shown["current_version"]) == ("Headline B", 2)
    html = viewer.get("/article", query_string={"url": URL}).get_data(as_text=True)
    assert "<td>2<br><small>on the page now</small></td>" in html
    # the page going back to A points the article at A again, still without a version
    assert tracker.record(replace(a, fetched_at=T0 + timedelta(days=2))).kind == FLIP_FLOP
    article = store.articles.find_one({"_id": URL})
    assert (article["current_version"], article["title"]) == (3, "Headline A")
    assert tracker.record(replace(b, fetched_at=T0 + timedelta(days=3))).kind == FLIP_FLOP
    edited = page("Headline C", ["Edited text, again."], at=T0 + timedelta(days=4))
    assert (tracker.record(edited).kind, store.versions.count_documents({})) == (CHANGED, 4)
    diff = store.diffs.find_one({"url": URL, "version": 4})
    assert diff["from_version"] == 2 and diff["removed"] == ["Edited text."]
    assert store.history(URL)[-1]["previous_hash"] == b.content_hash
    # the viewer uses the stored diff only for the versions it was computed between
    assert compare(store, article, 2, 4).stored
    three_to_four = compare(store, article, 3, 4)
    assert not three_to_four.stored and three_to_four.diff["removed"] == ["Original text."]


def test_an_article_left_showing_the_wrong_side_by_the_old_rule_is_repaired(tracker):
    """Stored before current_version existed: the article is pointed at the page's text at
    its next check, even when that check finds the page unchanged."""
    a, b = page("Headline A", ["Original text."]), page("Headline B", ["Edited text."])
    for fetched in (a, b, a):
        tracker.record(fetched)
    tracker.store.articles.update_one(
        {"_id": URL},
        {"$set": {"content_hash": b.content_hash}, "$unset": {"current_version": ""}},
    )  # what the old flip-flop rule left after A->B->A->B
    assert tracker.record(replace(b, fetched_at=T0 + timedelta(hours=1))).kind == UNCHANGED
    article = tracker.store.articles.find_one({"_id": URL})
    assert (article["current_version"], article["title"]) == (2, "Headline B")


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
    # Three writers replaying the same fetches out of step toggle the texts at most checks,
    # which the volatile rule would cap; this test is about version numbers, so no cap.
    tracker = Tracker(store, RevisitPolicy(volatile_versions_per_day=1_000_000))
    start.wait()
    for paragraphs in TEXTS:
        for url in urls:
            tracker.record(page("Headline", paragraphs, url=url))
    store.close()


def test_concurrent_writers_never_double_or_skip_a_version(store_env, open_store):
    urls = [f"https://news.example/race/{i}" for i in range(15)]
    run_together(_writer, (store_env, urls), 3)
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


def test_a_round_lists_due_articles_once_and_claims_only_those_still_due_and_free(tracker):
    for i, minutes in enumerate([20, 0, 10, 30]):
        tracker.record(page("T", [f"x{i}"], at=T0 + timedelta(minutes=minutes), url=f"{URL}{i}"))
    store, now = tracker.store, T0 + timedelta(hours=2)
    listed = store.due_articles(now, limit=10)
    assert listed == [f"{URL}1", f"{URL}2", f"{URL}0", f"{URL}3"]  # most overdue first
    assert store.due_articles(now, limit=2) == listed[:2]
    # after the listing, another node leases one and checks another
    store.claim_articles(now, 1, 600, among=[f"{URL}2"])
    tracker.record(page("T", ["x0"], at=now, url=f"{URL}0"))
    _, claimed = store.claim_articles(now, 10, 600, among=listed)
    assert [a["_id"] for a in claimed] == [f"{URL}1", f"{URL}3"]
    assert store.due_articles(now, limit=10) == []  # leased ones are not listed


ROUNDS = 5  # each round a race: without a lock, about half of them lease some article twice


def _claimer(settings: dict[str, str], start: Any, out: Any) -> None:
    store = Store.from_settings(settings)
    for _ in range(ROUNDS):
        start.wait(120)  # all claim at once the round's articles
        claimed = []
        while batch := store.claim_articles(T0, limit=5, lease_seconds=DAY)[1]:
            claimed += [article["_id"] for article in batch]
        out.put(claimed)
    store.close()


def test_concurrent_claimers_never_lease_an_article_twice(store_env, open_store):
    store, claimers = open_store(), 4
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(claimers + 1), ctx.Queue()
    workers = [
        ctx.Process(target=_claimer, args=(store_env, start, out), daemon=True)
        for _ in range(claimers)
    ]
    for worker in workers:
        worker.start()
    for round_ in range(ROUNDS):
        store.articles.delete_many({})  # a small store: the claimers stay in step
        urls = [f"https://news.example/due/{round_}/{i}" for i in range(200)]
        store.articles.insert_many([{"_id": url, "source": "Example", **schedule_fields(T0)}
                                    for url in urls])  # fmt: skip
        start.wait(120)
        claims = [url for _ in workers for url in out.get(timeout=120)]
        assert sorted(claims) == sorted(urls)  # each article leased by exactly one claimer
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0


NEW_COLLECTIONS = 30  # without the open lock, most runs fail one within ten


def _first_user(settings: dict[str, str], start: Any) -> None:
    store = Store.from_settings(settings)
    for i in range(NEW_COLLECTIONS):
        start.wait(120)  # all reach the collection at once, as claimers reach due_sweeps
        record_sweep(store.db, f"articles_{i}", T0)
    store.close()


def test_processes_reaching_a_new_collection_together_all_use_it(store_env, open_store):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    workers = [ctx.Process(target=_first_user, args=(store_env, start)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0  # neither "database is locked" nor a duplicate key
    sweeps = open_store().db[SWEEPS]
    assert sorted(d["_id"] for d in sweeps.find()) == sorted(
        f"articles_{i}" for i in range(NEW_COLLECTIONS)
    )


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


# -- growth bounds: volatile articles -------------------------------------------------------


def check_at_each_next_check(tracker: Tracker, text: Callable[[int], str], days: float) -> int:
    """Re-check the article whenever it is due for ``days``, the page reading ``text(i)`` at
    the i-th check; returns the number of checks."""
    end, checks = T0 + timedelta(days=days), 0
    while True:
        article = tracker.store.articles.find_one({"_id": URL})
        due = as_utc(article["next_check"]) if article else T0
        if due > end:
            return checks
        tracker.record(page("Live: the latest", [text(checks)], at=due))
        checks += 1


def test_a_page_changing_at_every_check_is_volatile_backs_off_and_caps_its_versions(tracker):
    checks = check_at_each_next_check(tracker, lambda i: f"Update number {i}.", days=10)
    store = tracker.store
    article = store.articles.find_one({"_id": URL})
    assert article["volatile"] is True
    assert article["interval"] == 24 * 60 * 60  # grown to the policy's max despite changing
    history = store.history(URL)
    assert checks < 60 and len(history) < 40  # was 480 of each in 10 days
    volatile_from = T0 + timedelta(days=1)  # after 8 changes at 30-minute checks
    for version in history:  # then at most 6 versions in any 24 hours
        window = [v for v in history if timedelta(0) <= v["fetched_at"] - version["fetched_at"]
                  < timedelta(days=1)]  # fmt: skip
        assert len(window) <= 6 or version["fetched_at"] < volatile_from
    # every change is accounted for: stored, or counted where it was skipped
    assert article["skipped_changes"] == checks - len(history) > 0
    skipped = sum(v["skipped_before"] for v in history) + article["unstored_changes"]
    assert skipped == article["skipped_changes"]


def test_a_volatile_article_that_settles_is_scheduled_as_usual_again(tracker):
    policy = tracker.policy
    for i in range(policy.volatile_checks):
        tracker.record(page("Live", [f"Update {i}."], at=T0 + timedelta(hours=i)))
    assert tracker.store.articles.find_one({"_id": URL})["volatile"] is True
    # the first check of the final text is a change; then 6 of the last 10 checks unchanged
    still = [page("Live", ["Final text."], at=T0 + timedelta(days=1, hours=i)) for i in range(7)]
    for fetched in still:
        tracker.record(fetched)
    assert tracker.store.articles.find_one({"_id": URL})["volatile"] is False
    tracker.record(page("Live", ["Final text, corrected."], at=T0 + timedelta(days=2)))
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["interval"] == policy.initial  # a change resets the interval again


def test_a_rarely_edited_article_is_never_volatile(tracker):
    check_at_each_next_check(tracker, lambda i: f"Text {i // 5}.", days=3)
    article = tracker.store.articles.find_one({"_id": URL})
    assert article["volatile"] is False and article.get("skipped_changes", 0) == 0


# -- growth bounds: failing articles and the errors collection -------------------------------


def test_failed_checks_back_off_and_end_in_failing_and_a_success_resets_them(tracker):
    store, policy = tracker.store, tracker.policy
    tracker.record(page("T", ["Text."]))
    delays = []
    while (article := store.articles.find_one({"_id": URL}))["next_check"] is not None:
        due = as_utc(article["next_check"])
        store.record_error("article", URL, "Example", "http-500", "server error", due, policy)
        after = store.articles.find_one({"_id": URL})
        if after["next_check"] is not None:
            delays.append((as_utc(after["next_check"]) - due).total_seconds())
    hour = 3600
    assert delays[:7] == [hour / 2, hour, 2 * hour, 4 * hour, 8 * hour, 16 * hour, 24 * hour]
    assert set(delays[6:]) == {24 * hour}
    assert article["status"] == "failing"
    failing_for = as_utc(article["last_checked"]) - as_utc(article["failing_since"])
    assert failing_for >= timedelta(days=7)
    failures = store.errors.count_documents({"url": URL, "kind": "article"})
    assert failures == article["errors"] == len(delays) + 1 < 15  # was 336 in 7 days
    # a later successful check (recheck=all) puts it back on the schedule
    tracker.record(page("T", ["Text."], at=as_utc(article["last_checked"]) + timedelta(days=1)))
    article = store.articles.find_one({"_id": URL})
    assert (article["status"], article["errors"], article["failing_since"]) == ("active", 0, None)
    assert article["next_check"] is not None


def test_errors_are_bounded_by_age_and_count(tracker):
    store, now = tracker.store, T0 + timedelta(days=60)
    for day in range(60):
        at = T0 + timedelta(days=day, hours=1)
        store.record_error("feed", f"https://news.example/feed{day}", "Example", "http-500", "", at)
    assert store.bound_errors(now, ttl=30 * 86400, keep=0) == 30
    assert min(as_utc(e["at"]) for e in store.errors.find()) > now - timedelta(days=30)
    # over the cap: down to 90% of it, the newest kept
    assert store.bound_errors(now, ttl=30 * 86400, keep=10) == 21
    kept = sorted(e["url"] for e in store.errors.find())
    assert kept == sorted(f"https://news.example/feed{day}" for day in range(51, 60))
    assert store.bound_errors(now, ttl=0, keep=0) == 0  # both bounds off


def test_a_volatile_page_back_on_its_stored_text_after_a_skipped_change_adds_no_version(
    open_store,
):
    policy = RevisitPolicy(volatile_checks=4, volatile_changes=3, volatile_versions_per_day=3)
    tracker = Tracker(open_store(), policy)
    texts = ["A.", "B.", "C.", "D.", "C."]  # D is the 4th version in a day: skipped
    kinds = [
        tracker.record(page("Live", [text], at=T0 + timedelta(hours=i))).kind
        for i, text in enumerate(texts)
    ]
    assert kinds == [NEW, CHANGED, CHANGED, SKIPPED, FLIP_FLOP]
    article = tracker.store.articles.find_one({"_id": URL})
    assert (article["current_version"], article["versions"]) == (3, 3)
    assert article["content_hash"] == content_hash("Live", ["C."])
    assert (article["skipped_changes"], article["unstored_changes"]) == (1, 1)
    edited = tracker.record(page("Live", ["E."], at=T0 + timedelta(days=2)))
    assert (edited.kind, tracker.store.history(URL)[-1]["skipped_before"]) == (CHANGED, 1)
