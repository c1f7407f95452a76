"""Per-article furniture: changes confined to short non-sentence blocks make no version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newscrawl.furniture import furniture_only, is_crosshead, is_sentence
from newscrawl.normalize import content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.tracker import CHANGED, FURNITURE, UNCHANGED, Fetched, Tracker

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
URL = "https://news.example/a"
PROSE = [
    "The council approved the new housing plan on Tuesday after a long debate.",
    "Opponents said the scheme would add traffic to roads that are already full.",
    "A final vote on the budget is expected next month, officials said.",
]
DATELINE = "5:45 AM PST 11/19/2019 by Jane Doe"


def only(old: list[str], new: list[str], **kwargs) -> bool:
    return furniture_only("Title", old, [], "Title", new, [], **kwargs)


def test_sentences_and_furniture_lines_are_told_apart():
    assert is_sentence(PROSE[0])
    assert is_sentence("Prices rose again.")  # three words ending like a sentence
    assert not is_sentence(DATELINE)
    assert not is_sentence("Updated 12 minutes ago")
    assert not is_sentence("Key points")
    assert is_sentence("東京都は新しい住宅計画を発表した。")  # no spaces: characters count
    assert not is_sentence("Photo: Reuters.")
    assert is_sentence("According to a copy of the filing obtained by the paper:")  # a lead-in
    assert is_sentence("Fire crews arrived. Two people")  # a sentence end inside the block
    assert not is_sentence("U.S. stocks rise")  # an abbreviation is no sentence end


def test_a_reworded_dateline_or_counter_around_unchanged_prose_is_furniture():
    assert only([DATELINE, *PROSE], ["6:02 AM PST 11/19/2019 by Jane Doe", *PROSE])
    assert only([*PROSE, "1,204 views"], [*PROSE, "1,377 views"])
    assert only(PROSE, [PROSE[0], "Read more: Rail fares rise", *PROSE[1:]])  # inserted line
    assert only([DATELINE, *PROSE], PROSE)  # and one that disappears


def test_a_sentence_edit_added_or_removed_paragraph_is_an_edit():
    edited = [PROSE[0].replace("Tuesday", "Monday"), *PROSE[1:]]
    assert not only(PROSE, edited)
    assert not only(PROSE, [*PROSE, "Officials declined to comment further on Wednesday."])
    assert not only(PROSE, PROSE[:-1])
    # A furniture line changing in the same fetch does not hide the sentence edit.
    assert not only([DATELINE, *PROSE], ["6:02 AM PST", *edited])


def test_crossheads_are_told_apart_from_datelines_labels_and_list_items():
    assert is_crosshead("Looking ahead")
    assert is_crosshead("What the council decided")
    assert is_crosshead("Sources:")
    assert is_crosshead("住宅計画の今後")  # a script without case
    assert not is_crosshead(DATELINE)  # digits: a dateline, a count, a price
    assert not is_crosshead("Advertisement 3")
    assert not is_crosshead("Read more: Rail fares rise")  # a teaser's label
    assert not is_crosshead("read more")  # lowercase
    assert not is_crosshead("Bread, milk, eggs,")  # a list item
    assert not is_crosshead("Follow us on social media for all the latest breaking news")  # long
    assert not is_crosshead(PROSE[0])


def test_a_lone_crosshead_changed_added_or_removed_between_prose_is_an_edit():
    body = [PROSE[0], "Looking ahead", *PROSE[1:]]
    assert not only(body, [PROSE[0], "What comes next", *PROSE[1:]])  # reworded
    assert not only(body, PROSE)  # removed
    assert not only(PROSE, body)  # added
    # At the body's edge, or with digits, the same kind of line is furniture.
    assert only(["Looking ahead", *PROSE], ["What comes next", *PROSE])
    assert only([PROSE[0], "Updated 3 hours ago", *PROSE[1:]], PROSE)
    assert only(PROSE, [PROSE[0], "Related: Rail fares rise", *PROSE[1:]])  # a teaser
    # Moving together with other blocks (an extraction shift), it is furniture too.
    two = [PROSE[0], "Looking ahead", PROSE[1], "The vote", PROSE[2]]
    assert only(two, PROSE)


def test_a_headline_change_is_an_edit_even_with_only_furniture_changed_in_the_body():
    assert not furniture_only("Title", PROSE, [], "New title", PROSE, [])
    assert not furniture_only("Title", PROSE, ["Social"], "Title", PROSE, ["Social v2"])


def test_a_text_without_unchanged_prose_is_not_judged_furniture():
    """All-short bodies (a live ticker, a photo gallery) give the rule nothing to stand on."""
    assert not only(["Goal 12'", "Half time"], ["Goal 12'", "Full time"])


def test_edges_limit_furniture_to_the_start_and_end_of_the_body():
    middle = [*PROSE[:2], "Advertisement 3", PROSE[2], *PROSE]
    changed = [*PROSE[:2], "Advertisement 4", PROSE[2], *PROSE]
    assert only(middle, changed)
    assert not only(middle, changed, edges=2)
    assert only([DATELINE, *PROSE], ["6:02 AM PST", *PROSE], edges=2)


def fetched(paragraphs: list[str], at: datetime, title: str = "Title") -> Fetched:
    return Fetched(
        url=URL, source="Example", fetched_at=at, title=title, paragraphs=paragraphs,
        content_hash=content_hash(title, paragraphs), loose_hash=loose_hash(title, paragraphs),
    )  # fmt: skip


@pytest.fixture
def tracker(open_store) -> Tracker:
    return Tracker(open_store(), RevisitPolicy())


def test_tracker_stores_no_version_for_furniture_and_diffs_the_next_edit_against_the_last(
    tracker,
):
    tracker.record(fetched([DATELINE, *PROSE], T0))
    outcome = tracker.record(fetched(["6:02 AM PST", *PROSE], T0 + timedelta(hours=1)))
    assert outcome.kind == FURNITURE and outcome.version == 1
    assert tracker.store.versions.count_documents({"url": URL}) == 1
    # The same furniture again is plainly unchanged; the original furniture is too.
    assert tracker.record(fetched(["6:02 AM PST", *PROSE], T0 + timedelta(hours=2))).kind in (
        UNCHANGED
    )
    # Back on the stored text: unchanged (not a flip-flop: the page showed version 1 all along).
    back = tracker.record(fetched([DATELINE, *PROSE], T0 + timedelta(hours=3)))
    assert (back.kind, back.version) == (UNCHANGED, 1)
    assert not tracker.store.articles.find_one({"_id": URL}).get("flip_flops")
    assert tracker.store.versions.count_documents({"url": URL}) == 1
    edited = [*PROSE[:2], "A final vote on the budget is expected in June, officials said."]
    outcome = tracker.record(fetched(["7:10 AM PST", *edited], T0 + timedelta(hours=4)))
    assert (outcome.kind, outcome.version) == (CHANGED, 2)
    diff = tracker.store.diffs.find_one({"url": URL, "version": 2})
    assert diff["from_version"] == 1


def test_tracker_without_the_furniture_rule_stores_every_new_hash(open_store):
    tracker = Tracker(open_store(), RevisitPolicy(), furniture=False)
    tracker.record(fetched([DATELINE, *PROSE], T0))
    outcome = tracker.record(fetched(["6:02 AM PST", *PROSE], T0 + timedelta(hours=1)))
    assert (outcome.kind, outcome.version) == (CHANGED, 2)


def test_the_benchmark_rescores_cached_extractions_with_each_rule():
    """``bench.accuracy --cache``: rules are scored again from the kept extractions: a
    furniture-only variant is no phantom of the furniture rule, an edit it sees is a version
    (wrong when its text was not captured), one it does not see is missed."""
    from bench.accuracy import PageResult, score_rules
    from newscrawl.extract import Article

    original = Article("Title", [DATELINE, *PROSE])
    furniture = Article("Title", ["6:10 AM PST 11/19/2019 by Jane Doe", *PROSE])
    edited = Article("Title", [DATELINE, *PROSE[:2], "A final vote is expected in June."])
    result = PageResult("p", "corpus", "pub", *[1.0] * 7, True, 1.0, original=original)
    result.variants = [("timestamps", furniture, None), ("word", edited, True),
                       ("number", edited, False), ("removed", original, True)]  # fmt: skip
    rules = score_rules(result).rules
    assert rules["furniture"] == {"phantom": [], "missed": ["removed"], "wrong": ["number"]}
