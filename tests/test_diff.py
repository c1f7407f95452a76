"""Tests for newscrawl.diff: behaviour on typical edits and properties of stored diffs."""

from __future__ import annotations

import json
import random
import time
from itertools import accumulate, pairwise
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.diff import align, apply_diff, compact_diff, diff_article
from newscrawl.diff.compact import CUT

LEDE = "Dr. Smith arrived in the U.S. on Monday. Prices rose 3.5% in May. He declined to comment."
BODY = [
    LEDE,
    "The council met on Tuesday evening to discuss the proposal.",
    "Residents have until the end of the month to respond.",
    "A final decision is expected in the spring.",
]


def ops(diff: dict) -> list[str]:
    return [row["op"] for row in diff["paragraphs"]]


def check_segments(segments: list[list[str]], old: str, new: str) -> None:
    """Sides rebuild exactly, segments are merged and no side is cut inside a word."""
    assert all(text for _, text in segments)
    assert all(a[0] != b[0] for a, b in zip(segments, segments[1:], strict=False))
    for skip, expected in (("+", old), ("-", new)):
        side = [text for tag, text in segments if tag != skip]
        assert "".join(side) == expected
        assert all(a[-1].isspace() or b[0].isspace() for a, b in pairwise(side))


def check_diff(old_title: str, old: list[str], new_title: str, new: list[str], diff: dict) -> None:
    """A diff is JSON-clean, its segments are consistent and it rebuilds the new version."""
    assert json.loads(json.dumps(diff)) == diff
    assert apply_diff(old_title, old, diff) == (new_title, new)
    if diff["title"] is not None:
        check_segments(diff["title"], old_title, new_title)
    for row in diff["paragraphs"]:
        if row["op"] == "replace":
            check_segments(row["segments"], old[row["old"]], new[row["new"]])
        elif row["op"] == "equal":
            assert old[row["old"]] == new[row["new"]]
    assert [r["old"] for r in diff["paragraphs"] if "old" in r] == list(range(len(old)))
    assert [r["new"] for r in diff["paragraphs"] if "new" in r] == list(range(len(new)))


def diff_checked(old_title: str, old: list[str], new_title: str, new: list[str]) -> dict:
    diff = diff_article(old_title, old, new_title, new)
    check_diff(old_title, old, new_title, new, diff)
    return diff


def test_identical_texts_have_no_changes() -> None:
    diff = diff_checked("Title", BODY, "Title", BODY)
    assert diff["title"] is None
    assert set(ops(diff)) == {"equal"}
    assert (diff["added"], diff["removed"], diff["words_added"], diff["words_removed"]) == (
        [],
        [],
        0,
        0,
    )
    assert not diff["minor"] and not diff["coarse"]


def test_headline_only_change() -> None:
    diff = diff_checked("Council delays vote", BODY, "Council cancels vote", BODY)
    assert diff["title"] == [["=", "Council "], ["-", "delays"], ["+", "cancels"], ["=", " vote"]]
    assert set(ops(diff)) == {"equal"}
    assert not diff["minor"]


def test_one_word_changed() -> None:
    new = [LEDE.replace("Monday", "Tuesday"), *BODY[1:]]
    diff = diff_checked("T", BODY, "T", new)
    assert ops(diff) == ["replace", "equal", "equal", "equal"]
    assert diff["paragraphs"][0]["segments"] == [
        ["=", "Dr. Smith arrived in the U.S. on "],
        ["-", "Monday."],
        ["+", "Tuesday."],
        ["=", " Prices rose 3.5% in May. He declined to comment."],
    ]
    assert diff["added"] == ["Dr. Smith arrived in the U.S. on Tuesday."]
    assert diff["removed"] == ["Dr. Smith arrived in the U.S. on Monday."]
    assert (diff["words_added"], diff["words_removed"]) == (1, 1)


def test_number_changed() -> None:
    new = [LEDE.replace("3.5%", "4.25%"), *BODY[1:]]
    diff = diff_checked("T", BODY, "T", new)
    segments = diff["paragraphs"][0]["segments"]
    assert ["-", "3.5%"] in segments and ["+", "4.25%"] in segments
    assert diff["added"] == ["Prices rose 4.25% in May."]
    assert not diff["minor"]


def test_paragraph_added_and_removed() -> None:
    added = "Opposition members walked out of the meeting in protest."
    new = [BODY[0], added, BODY[1], BODY[3]]
    diff = diff_checked("T", BODY, "T", new)
    assert ops(diff) == ["equal", "insert", "equal", "delete", "equal"]
    assert diff["added"] == [added]
    assert diff["removed"] == [BODY[2]]
    assert diff["words_added"] == len(added.split())


def test_paragraph_moved() -> None:
    new = [BODY[3], *BODY[:3]]
    diff = diff_checked("T", BODY, "T", new)
    moved = [row for row in diff["paragraphs"] if row["op"] != "equal"]
    assert [row["op"] for row in moved] == ["insert", "delete"]
    assert all(row["moved"] for row in moved)
    assert diff["added"] == diff["removed"] == []
    assert diff["words_added"] == diff["words_removed"] == 0


def test_moved_paragraph_does_not_hide_edits_around_it() -> None:
    old = [LEDE, BODY[1], BODY[2]]
    new = [BODY[2], LEDE.replace("Monday", "Sunday"), BODY[1] + " It ended late."]
    diff = diff_checked("T", old, "T", new)
    assert [row["op"] for row in diff["paragraphs"]] == ["insert", "replace", "replace", "delete"]
    assert diff["added"] == ["Dr. Smith arrived in the U.S. on Sunday.", "It ended late."]


def test_paragraph_split() -> None:
    first, second = "Dr. Smith arrived in the U.S. on Monday.", "Prices rose 3.5% in May."
    diff = diff_checked("T", [f"{first} {second}", BODY[1]], "T", [first, second, BODY[1]])
    assert [row["op"] for row in diff["paragraphs"]][-1] == "equal"
    assert "replace" in ops(diff) and "insert" in ops(diff)
    assert diff["added"] == diff["removed"] == []
    assert diff["minor"]


def test_punctuation_and_whitespace_change_is_minor() -> None:
    new = [LEDE.replace("comment.", "comment!").replace("in May", "in  May"), *BODY[1:]]
    diff = diff_checked("T", BODY, "T", new)
    assert diff["minor"]


def test_typographic_change_is_minor_and_not_summarised() -> None:
    old = ['He said "no" to the plan.']
    new = ["He said \u201cno\u201d to the plan."]
    diff = diff_checked("T", old, "T", new)
    assert diff["minor"]
    assert diff["added"] == diff["removed"] == []


def test_word_change_is_not_minor() -> None:
    diff = diff_checked("T", ["The vote passed."], "T", ["The vote failed."])
    assert not diff["minor"]


def test_whitespace_attaches_to_words() -> None:
    diff = diff_checked("T", ["one two three"], "T", ["one two three four"])
    assert diff["paragraphs"][0]["segments"] == [["=", "one two three"], ["+", " four"]]


def test_empty_title_and_paragraphs() -> None:
    diff_checked("", [], "", [])
    diff = diff_checked("", [], "Title", ["Body."])
    assert diff["title"] == [["+", "Title"]]
    assert ops(diff) == ["insert"]
    diff = diff_checked("Title", ["Body.", ""], "", [])
    assert diff["title"] == [["-", "Title"]]
    assert ops(diff) == ["delete", "delete"]
    assert diff["removed"] == ["Body."]


def test_huge_text_falls_back_when_time_limit_is_tiny() -> None:
    old = [f"Paragraph {i} says that item {i} costs {i * 3} pounds today." for i in range(700)]
    new = [p.replace("today", "now") for p in old]
    diff = diff_article("T", old, "T", new, time_limit=0.0)
    check_diff("T", old, "T", new, diff)
    assert diff["coarse"]
    row = diff["paragraphs"][0]
    assert row["segments"] == [["-", old[0]], ["+", new[0]]]
    assert diff_article("T", old, "T", new)["coarse"] is False


def long_paragraph(words: int, seed: int = 1, sentences: bool = True) -> str:
    """``words`` words of Zipf-distributed made-up vocabulary, in sentences of 8-30 words."""
    rng = random.Random(seed)
    vocabulary = [f"w{rng.randrange(10**6)}" for _ in range(20_000)]
    cumulative = list(accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
    out: list[str] = []
    while len(out) < words:
        sentence = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randrange(8, 31))
        if sentences:
            sentence[0] = sentence[0].capitalize()
            sentence[-1] += "."
        out.extend(sentence)
    return " ".join(out[:words])


def edited(text: str, share: float, seed: int = 2) -> str:
    """``text`` with ``share`` of its words replaced."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * share)):
        words[i] = f"edited{i}"
    return " ".join(words)


@pytest.mark.parametrize(
    ("words", "sentences"), [(50_000, True), (200_000, True), (50_000, False), (200_000, False)]
)
def test_time_limit_holds_inside_one_huge_paragraph(words: int, sentences: bool) -> None:
    """One paragraph of 50,000 or 200,000 words with 10% of them edited (a page that is one
    block of text): the diff keeps to its time limit (0.5 s; the bound is for a 2-core machine
    loaded several times over) and still rebuilds the new version."""
    old = long_paragraph(words, sentences=sentences)
    new = edited(old, 0.1)
    start = time.perf_counter()
    diff = diff_article("T", [old], "T", [new])
    elapsed = time.perf_counter() - start
    check_diff("T", [old], "T", [new], diff)
    assert elapsed < 3.0, f"{elapsed:.1f} s"


def test_long_paragraph_without_sentences_is_still_diffed_word_by_word() -> None:
    """Too long for one alignment (20,000 words, no sentence to cut it at): aligned piecewise
    between words both sides share, it shows exactly the edited words."""
    old = long_paragraph(20_000, sentences=False)
    words = old.split(" ")
    for i in (10, 7_000, 19_990):
        words[i] = "CHANGED"
    new = " ".join(words)
    diff = diff_article("T", [old], "T", [new], time_limit=60)
    check_diff("T", [old], "T", [new], diff)
    assert not diff["coarse"]
    segments = diff["paragraphs"][0]["segments"]
    assert [text for tag, text in segments if tag == "+"] == ["CHANGED"] * 3
    assert diff["words_added"] == diff["words_removed"] == 3


def test_paragraph_with_one_word_edited_at_its_end_is_linear() -> None:
    """200,000 words and one edit: joining the unchanged text is linear, not quadratic (CPU
    time, measured without the time limit)."""
    old = long_paragraph(200_000)
    new = old + " More."
    start = time.process_time()
    diff = diff_article("T", [old], "T", [new], time_limit=60)
    assert time.process_time() - start < 2.0
    check_diff("T", [old], "T", [new], diff)
    assert not diff["coarse"]
    assert diff["paragraphs"][0]["segments"][-1] == ["+", " More."]


# Small vocabulary so that texts share words and sentences; unicode, punctuation, whitespace.
WORDS = st.sampled_from(
    ["the", "The", "vote", "3.5%", "Dr.", "U.S.", "said.", "é", "日本", "naïve", "—", "“x”", "a,"]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\u00a0", ". "])
TEXT = st.lists(st.tuples(WORDS, SEPARATORS), max_size=12).map(
    lambda pairs: "".join(w + s for w, s in pairs)
) | st.text(max_size=30)
PARAGRAPHS = st.lists(TEXT, max_size=6)


@settings(max_examples=300, deadline=None)
@given(TEXT, PARAGRAPHS, TEXT, PARAGRAPHS)
def test_diff_rebuilds_new_version(old_title, old, new_title, new) -> None:
    diff_checked(old_title, old, new_title, new)


@settings(max_examples=150, deadline=None)
@given(PARAGRAPHS, st.data())
def test_diff_of_an_edit_rebuilds_new_version(old, data) -> None:
    """Edits of an existing version (the usual case), not two unrelated texts."""
    new = list(old)
    for _ in range(data.draw(st.integers(0, 3))):
        index = data.draw(st.integers(0, len(new)))
        action = data.draw(st.sampled_from(["insert", "delete", "edit"]))
        if action == "insert" or index == len(new):
            new.insert(index, data.draw(TEXT))
        elif action == "delete":
            del new[index]
        else:
            new[index] = new[index] + data.draw(TEXT)
    diff_checked("T", old, "T", new)


@settings(max_examples=100, deadline=None)
@given(TEXT, PARAGRAPHS)
def test_identical_inputs_give_empty_change_set(title, paragraphs) -> None:
    diff = diff_checked(title, paragraphs, title, list(paragraphs))
    assert diff["title"] is None
    assert set(ops(diff)) <= {"equal"}
    assert diff["added"] == diff["removed"] == []
    assert not diff["minor"]


@settings(max_examples=300, deadline=None)
@given(PARAGRAPHS, st.data())
def test_bounded_diff_rebuilds_new_version(old, data) -> None:
    """With tiny budgets every alignment is cut at anchors or left as one change, and edited
    paragraphs are diffed between their common ends or shown whole: the diff still rebuilds
    the new version."""
    new = [p + data.draw(TEXT) if data.draw(st.booleans()) else p for p in old]
    new += data.draw(PARAGRAPHS)
    chars = data.draw(st.sampled_from([0, 10, 40, 10**6]))
    with (
        mock.patch.object(align, "MAX_CELLS", 4),
        mock.patch.object(align, "WORD_DIFF_CHARS", chars),
    ):
        diff_checked("T", old, "T", new)


def test_other_headline_edits_are_paired_and_marked_word_by_word() -> None:
    diff = diff_article(
        "Council delays vote", BODY, "Council delays vote", BODY,
        old_other_headlines=["Council delays vote after funding row", "Vote delayed"],
        new_other_headlines=["Council delays vote after giveaway row", "Housing vote delayed",
                             "A third headline"],
    )  # fmt: skip
    assert diff["title"] is None
    edited, reworded, added = diff["other_headlines"]
    assert edited == [
        ["=", "Council delays vote after "], ["-", "funding"], ["+", "giveaway"], ["=", " row"]
    ]  # fmt: skip
    assert "".join(t for tag, t in reworded if tag != "+") == "Vote delayed"
    assert "".join(t for tag, t in reworded if tag != "-") == "Housing vote delayed"
    assert added == [["+", "A third headline"]]
    assert not diff["minor"]


def test_unchanged_or_punctuation_only_other_headlines() -> None:
    same = diff_article("T", BODY, "T", BODY, old_other_headlines=["A b"],
                        new_other_headlines=["A b"])  # fmt: skip
    assert same["other_headlines"] is None
    minor = diff_article("T", BODY, "T", BODY, old_other_headlines=["A b"],
                         new_other_headlines=["A, b."])  # fmt: skip
    assert minor["other_headlines"] is not None and minor["minor"]


def test_unrelated_other_headlines_are_a_removal_and_an_addition() -> None:
    diff = diff_article(
        "T", BODY, "T", BODY,
        old_other_headlines=["Council delays vote"], new_other_headlines=["Storm hits coast"],
    )  # fmt: skip
    assert diff["other_headlines"] == [[["-", "Council delays vote"]], [["+", "Storm hits coast"]]]


def test_compact_diff_keeps_each_change_with_some_context() -> None:
    """A diff cut down to fit a size limit keeps the changed words with a little of the text
    around them, marks the cuts and says it is truncated; it no longer rebuilds."""
    old = long_paragraph(100_000)
    words = old.split(" ")
    words[50_000] = "CHANGED"
    new = " ".join(words)
    diff = diff_article("T", [old, "Gone."], "T", [new], time_limit=60)
    compact = compact_diff(diff, lambda d: len(json.dumps(d)) < 20_000)
    assert len(json.dumps(compact)) < 20_000
    assert compact["truncated"] and not diff.get("truncated")
    assert (compact["words_added"], compact["words_removed"]) == (1, 2)
    segments = compact["paragraphs"][0]["segments"]
    assert ["+", "CHANGED"] in segments
    assert segments[0][1].startswith(CUT) and segments[-1][1].endswith(CUT)
    assert compact["paragraphs"][1] == {"op": "delete", "old": 1, "segments": [["-", "Gone."]]}
    with pytest.raises(ValueError, match="truncated"):
        apply_diff("T", [old, "Gone."], compact)


def test_compact_diff_drops_rows_when_clipping_is_not_enough() -> None:
    old = [f"Paragraph {i} reads one way." for i in range(3_000)]
    new = [f"Paragraph {i} reads another way." for i in range(3_000)]
    diff = diff_article("T", old, "T", new)
    compact = compact_diff(diff, lambda d: len(json.dumps(d)) < 50_000)
    assert len(json.dumps(compact)) < 50_000
    assert 0 < len(compact["paragraphs"]) < 3_000
    assert compact["paragraphs"] == diff["paragraphs"][: len(compact["paragraphs"])]
