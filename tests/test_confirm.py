"""The confirmation re-fetch (newscrawl/confirm.py): a change is stored only when a second
fetch shows it too. Real crawls of a corpus page against a loopback site whose page changes
on every request."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from newscrawl import unstable
from newscrawl.holding import persistent_change
from tests.support.corpus import load_pages
from tests.support.mockserver import Page, rss

PAGE = next(
    p for p in load_pages() if len(p.record["paragraphs"]) >= 6 and p.record["title"] in p.html
)
PATH = "/news/article.html"
# Sentences long enough that the furniture rule (newscrawl/furniture.py) counts them as prose:
# a teaser slot inside the article body that the server fills anew on every request.
TEASERS = [
    f"In other news, the council's plan for {topic} drew hundreds of residents to a "
    "meeting that ran late into the evening."
    for topic in ("the harbour", "new bus lanes", "school meals", "the old library")
]


def _with_slot(html: str, text: str) -> str:
    """``html`` with a paragraph ``text`` after the article's second paragraph."""
    second = PAGE.record["paragraphs"][1]
    anchor = html.find(second[:40])
    assert anchor > 0, "the page prints its second paragraph"
    end = html.find("</p>", anchor)
    return html[: end + 4] + f"<p>{text}</p>" + html[end + 4 :]


def _edited(html: str) -> str:
    """A real edit: a number or a word of the fourth paragraph changed where it is printed."""
    paragraph = PAGE.record["paragraphs"][3]
    words = re.findall(r"[A-Za-z]{5,}", paragraph)
    word = words[len(words) // 2]
    start = html.find(paragraph[:30])
    at = html.find(word, start)
    return html[:at] + "Rewritten" + html[at + len(word) :]


def _serve_rotating(site, htmls: list[str]) -> None:
    site.put_rotating(PATH, [Page(h.encode(), conditional=False) for h in htmls])


@pytest.fixture
def tracked(site, crawl, open_store):
    """The article crawled once with the first teaser in its slot: version 1."""
    site.put(PATH, _with_slot(PAGE.html, TEASERS[0]), conditional=False)
    site.put("/feed.xml", rss("Local", [site.url(PATH)]), content_type="application/rss+xml")
    crawl()
    store = open_store()
    assert len(store.history(site.url(PATH))) == 1
    return store


def _rechecks(crawl, times: int, **settings: str) -> str:
    return "".join(crawl("-a", "recheck=all", settings=settings).stderr for _ in range(times))


def test_furniture_rotating_on_every_request_makes_no_version(site, crawl, tracked):
    _serve_rotating(site, [_with_slot(PAGE.html, t) for t in TEASERS[1:]])
    log = _rechecks(crawl, 3)
    assert len(tracked.history(site.url(PATH))) == 1
    assert log.count("'newscrawl/confirm/rotating': 1") == 3


def test_without_confirmation_the_same_rotation_makes_versions(site, crawl, tracked):
    """The control: the page above is a phantom maker for a tracker that fetches once."""
    _serve_rotating(site, [_with_slot(PAGE.html, t) for t in TEASERS[1:]])
    _rechecks(crawl, 3, NEWSCRAWL_CONFIRM_CHANGES="False", NEWSCRAWL_HOLD_CHANGES="False")
    assert len(tracked.history(site.url(PATH))) == 4


def test_an_edit_on_a_rotating_page_is_stored_once_with_the_edit(site, crawl, tracked):
    edited = _edited(PAGE.html)
    _serve_rotating(site, [_with_slot(edited, t) for t in TEASERS[1:]])
    log = _rechecks(crawl, 3)
    history = tracked.history(site.url(PATH))
    assert len(history) == 2, [v["paragraphs"][3] for v in history]
    assert any("Rewritten" in p for p in history[1]["paragraphs"])
    assert "'newscrawl/confirm/confirmed': 1" in log


def test_a_page_cut_short_on_one_request_makes_no_version(site, crawl, tracked):
    full = _with_slot(PAGE.html, TEASERS[0])
    last = PAGE.record["paragraphs"][-2]
    cut = full[: full.find(last[:30])]  # the server stopped sending before the last paragraphs
    _serve_rotating(site, [cut, full])
    log = _rechecks(crawl, 2)
    assert len(tracked.history(site.url(PATH))) == 1
    # the cut page is confirmed transient once; served again, its bytes are known: unchanged
    assert log.count("'newscrawl/confirm/transient': 1") == 1


def test_a_failed_confirmation_fetch_keeps_the_edit(site, crawl, tracked):
    edited = _with_slot(_edited(PAGE.html), TEASERS[0])
    site.put_rotating(PATH, [Page(edited.encode(), conditional=False),
                             Page(b"busy", status=503, conditional=False)])  # fmt: skip
    log = crawl("-a", "recheck=all", settings={"RETRY_ENABLED": "False"}).stderr
    assert "'newscrawl/confirm/unconfirmed': 1" in log
    assert len(tracked.history(site.url(PATH))) == 1  # held for the next check, not dropped
    crawl("-a", "recheck=all", settings={"RETRY_ENABLED": "False"})  # the edit is still there
    history = tracked.history(site.url(PATH))
    assert len(history) == 2 and any("Rewritten" in p for p in history[1]["paragraphs"])


def test_unchanged_rechecks_cost_no_second_request(site, crawl, tracked):
    before = len(site.requests_for(PATH))
    crawl("-a", "recheck=all")
    assert len(site.requests_for(PATH)) - before == 1


OLD = ["First sentence of the story, as it was published.", "A teaser that rotates, one.",
       "The closing sentence of the story, unchanged."]  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "title", "persistent"),
    [
        # a slot rotating: different in each fetch
        ([OLD[0], "A teaser that rotates, two.", OLD[2]],
         [OLD[0], "A teaser that rotates, three.", OLD[2]], ("T", "T"), False),
        # an added paragraph that both fetches show, beside the rotating slot
        ([OLD[0], "A new paragraph, added.", "A teaser that rotates, two.", OLD[2]],
         [OLD[0], "A new paragraph, added.", "A teaser that rotates, three.", OLD[2]],
         ("T", "T"), True),
        # a paragraph removed in both fetches
        ([OLD[0], OLD[1]], [OLD[0], OLD[1]], ("T", "T"), True),
        # a paragraph missing from the first fetch only
        ([OLD[0], OLD[1]], OLD, ("T", "T"), False),
        # a new headline both fetches agree on
        (OLD, OLD, ("New", "New"), True),
        # a headline rotating between fetches (an A/B test): the other one is the stored one
        (OLD, OLD, ("New A", "T"), False),
    ],
)  # fmt: skip
def test_persistent_change_tells_edits_from_rotation(first, second, title, persistent):
    stored = ("T", OLD, ["T - Site"])
    changed = persistent_change(stored, (title[0], first, []), (title[1], second, ["T - Site"]))
    assert changed is persistent


def test_a_new_headline_both_fetches_print_somewhere_is_an_edit():
    """The extracted headline may rotate with the page's furniture (the vote between <title>,
    <h1> and og: tags): a new wording in both fetches, in any slot, is still the edit."""
    stored = ("Old headline", OLD, ["Old headline | Site"])
    first = ("New headline | Site", OLD, ["New headline"])
    second = ("New headline", OLD, ["New headline | Site"])
    assert persistent_change(stored, first, second)


# A fact box inside the article whose server rewords one line per request, in turn: each
# line has a common wording and a rare one.
FACTS = [
    (f"Fact {n}: the council spent {n} million on the {topic} scheme over the last decade.",
     f"Fact {n}: the council spent {n} million on its {topic} programme in recent years.")
    for n, topic in enumerate(("harbour", "bus lane", "school meal", "library"), start=1)
]  # fmt: skip


def _with_facts(html: str, rare: int) -> str:
    """``html`` with the fact box after the second paragraph, line ``rare`` in its rare
    wording."""
    lines = "".join(f"<p>{pair[1] if n == rare else pair[0]}</p>" for n, pair in enumerate(FACTS))
    second = PAGE.record["paragraphs"][1]
    end = html.find("</p>", html.find(second[:40]))
    return html[: end + 4] + lines + html[end + 4 :]


def test_an_edit_is_stored_on_a_page_whose_learnt_rotation_is_discounted(site, crawl, open_store):
    """The blocks each check's two fetches disagreed on (newscrawl/unstable.py) are the
    page's rotation, no evidence of an edit; a sentence the editor rewrites is still one."""
    _serve_rotating(site, [_with_facts(PAGE.html, n) for n in range(len(FACTS))])
    site.put("/feed.xml", rss("Local", [site.url(PATH)]), content_type="application/rss+xml")
    crawl()
    store = open_store()
    _rechecks(crawl, 6)
    versions = len(store.history(site.url(PATH)))
    article = store.articles.find_one({"_id": site.url(PATH)})
    learnt = unstable.counts(article)
    assert len(learnt) == 2 * len(FACTS) and min(learnt.values()) >= unstable.SEEN_AGAIN

    _serve_rotating(site, [_with_facts(_edited(PAGE.html), n) for n in range(len(FACTS))])
    _rechecks(crawl, 2)
    history = store.history(site.url(PATH))
    assert len(history) == versions + 1
    assert any("Rewritten" in p for p in history[-1]["paragraphs"])


ROTATED = ["Fact one, in its common wording, says the scheme cost a million.",
           "Fact one, in a rare wording, says the scheme cost one million."]  # fmt: skip


def test_a_block_seen_rotating_at_two_checks_is_no_evidence_of_an_edit():
    # the stored version has the rare wording; both fetches show the common one
    stored = ("T", [OLD[0], ROTATED[1], OLD[2]], [])
    fetches = [("T", [OLD[0], ROTATED[0], OLD[2]], [])] * 2
    assert persistent_change(stored, *fetches)  # two fetches alone: an edit
    seen = Counter(unstable.disagreeing([ROTATED[0]], [ROTATED[1]]) * 2)
    assert not persistent_change(stored, *fetches, seen)


def test_a_new_block_seen_rotating_once_still_counts_as_an_edit():
    """An edit made between a check's two fetches puts its text in one of them only: it is
    recorded once, and the next check's two fetches of it are an edit."""
    stored = ("T", OLD, [])
    edited = ("T", [OLD[0], "A sentence the editor rewrote, now longer.", OLD[2]], [])
    seen = Counter(unstable.disagreeing(OLD, edited[1]))
    assert persistent_change(stored, edited, edited, seen)


def test_a_stored_block_gone_from_both_fetches_is_no_edit_once_seen_rotating_twice():
    stored = ("T", OLD, [])
    dropped = ("T", [OLD[0], OLD[2]], [])
    once = Counter(unstable.disagreeing([OLD[1]], []))
    # a removal made between one check's two fetches is recorded once: still an edit
    assert persistent_change(stored, dropped, dropped, once)
    assert not persistent_change(stored, dropped, dropped, once + once)


def test_remember_keeps_the_disagreeing_blocks_of_each_check_newest_last(open_store):
    store = open_store()
    store.articles.insert_one({"_id": "https://news.example/a"})
    first = unstable.remember(store, "https://news.example/a", [OLD[0], OLD[1]], [OLD[0]])
    assert first == Counter({unstable.block_key(OLD[1]): 1})
    second = unstable.remember(store, "https://news.example/a", [OLD[1]], [OLD[2]])
    assert second[unstable.block_key(OLD[1])] == 2 and second[unstable.block_key(OLD[2])] == 1
    for n in range(unstable.KEEP):
        unstable.remember(store, "https://news.example/a", [f"Block {n}."], [])
    kept = store.articles.find_one({"_id": "https://news.example/a"})["unstable_blocks"]
    assert len(kept) == unstable.KEEP and kept[-1] == unstable.block_key("Block 199.")
    assert unstable.remember(store, "https://news.example/missing", ["x"], []) == Counter()
