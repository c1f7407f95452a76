"""Kinds of edit and significance on diffs the tracker stored from real corpus pages (both
corpora, several languages), edited by ``tests.support.kind_edits`` whose labels are written by
hand; and their use by the viewer over a store filled by real crawls
(``tests.support.tracked``)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest

from newscrawl.extract import extract_article
from newscrawl.kinds import KINDS, quotations
from newscrawl.normalize import content_hash, loose_hash
from newscrawl.schedule import RevisitPolicy
from newscrawl.significance import explain, significance
from newscrawl.tracker import Fetched, Tracker
from tests.support.corpus import intl_corpus_dir, load_pages
from tests.support.crawling import REPO
from tests.support.kind_edits import labelled_variants, language
from tests.support.mutations import BASIC_EDITS
from tests.support.viewer import chromium, run_chromium

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
EVERY = 20  # pages of the first corpus sampled: every 20th, none chosen by name


def sample() -> list:
    """Every EVERY-th page of the first corpus and the first page of each language of the
    international one."""
    first: dict[str, object] = {}
    for page in load_pages(intl_corpus_dir()):
        first.setdefault(language(page.name, page.record), page)
    return load_pages()[::EVERY] + list(first.values())


def fetched(url: str, html: str, at: datetime) -> Fetched | None:
    article = extract_article(html, url)
    if article is None:
        return None
    return Fetched(
        url=url, source="Corpus", fetched_at=at, title=article.title,
        paragraphs=article.paragraphs, byline=article.byline, published=article.published,
        modified=article.modified, other_headlines=article.other_headlines,
        content_hash=content_hash(article.title, article.paragraphs, article.other_headlines),
        loose_hash=loose_hash(article.title, article.paragraphs, article.other_headlines),
    )  # fmt: skip


@dataclass
class Stored:
    page: str
    language: str
    edit: str
    expected: frozenset[str]
    dont_care: frozenset[str]
    diff: dict


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> list[Stored]:
    """Each sampled page tracked twice per edit (original, then edited): the stored diffs.
    The CMS-style edits of tests.support.edits are left to bench.edit_kinds (time)."""
    from newscrawl.store import Store

    directory = tmp_path_factory.mktemp("kinds")
    store = Store.from_settings({"NEWSCRAWL_DATA_DIR": str(directory), "MONGO_URI": ""})
    tracker = Tracker(store, RevisitPolicy())
    out = []
    for page in sample():
        rng = random.Random(page.name)
        original = fetched(page.url, page.html, T0)
        if original is None:
            continue
        variants = labelled_variants(page.name, page.html, page.record, rng, BASIC_EDITS)
        for n, labelled in enumerate(variants):
            url = f"{page.url}#edit-{n}"
            first = replace(original, url=url)
            second = fetched(url, labelled.html, T0 + timedelta(hours=2))
            if second is None:
                continue
            tracker.record(first)
            tracker.record(second)
            diff = store.diffs.find_one({"url": url, "version": 2})
            if diff is not None:  # None: the edit made no version (extraction missed it)
                out.append(Stored(page.name, language(page.name, page.record), labelled.edit,
                                  labelled.expected, labelled.dont_care, diff))  # fmt: skip
    yield out
    store.close()


def test_stored_diffs_carry_kinds_numbers_and_a_score(stored):
    assert len(stored) > 150
    for item in stored:
        assert set(item.diff["kinds"]) <= set(KINDS)
        assert 0 <= item.diff["significance"] <= 100
        assert item.diff["significance"] == significance(item.diff)


def test_kinds_match_hand_labels_on_pages_in_many_languages(stored):
    """Per kind, on the sampled pages of both corpora: precision and recall as the README's
    figures (bench.edit_kinds) say, within sampling error."""
    languages = {item.language for item in stored}
    assert len(languages - {"en"}) >= 5, languages
    counts = {kind: Counter() for kind in KINDS}
    for item in stored:
        found = set(item.diff["kinds"])
        for kind in set(KINDS) - item.dont_care:
            if kind in item.expected:
                counts[kind]["tp" if kind in found else "fn"] += 1
            elif kind in found:
                counts[kind]["fp"] += 1
    for kind in set(KINDS) - {"byline", "dates"}:
        c = counts[kind]
        assert c["tp"] >= 5, (kind, c)
        # end to end: an extraction that loses a neighbouring paragraph shows in the kinds
        assert c["tp"] / (c["tp"] + c["fp"]) >= 0.8, (kind, c)
        assert c["tp"] / (c["tp"] + c["fn"]) >= 0.85, (kind, c)


def test_a_changed_number_is_kept_as_old_to_new(stored):
    changed = [i for i in stored if i.edit == "number_changed" and "number" in i.diff["kinds"]]
    assert len(changed) >= 5
    for item in changed:
        olds = [s[1] for r in item.diff["paragraphs"] if r["op"] == "replace"
                for s in r["segments"] if s[0] == "-"]  # fmt: skip
        news = [s[1] for r in item.diff["paragraphs"] if r["op"] == "replace"
                for s in r["segments"] if s[0] == "+"]  # fmt: skip
        old, new = re.match(r"(\S+) → (\S+)", item.diff["numbers"][0]).groups()
        assert old != new
        assert any(old in text for text in olds) and any(new in text for text in news)


def test_a_correction_notice_in_the_page_language_makes_the_change_not_silent(stored):
    notices = [i for i in stored if i.edit == "notice_1"]
    assert {i.language for i in notices} >= {"en", "de", "fr"}
    for item in notices:
        assert "notice" in item.diff["kinds"], (item.page, item.diff["added"])
        assert "silent" not in item.diff["kinds"]
        assert "correction or update notice" in explain(item.diff)


def test_a_silent_number_or_headline_change_outscores_a_word_change(stored):
    by_page: dict[str, dict[str, float]] = {}
    for item in stored:
        if item.edit != "word_changed" or item.diff["kinds"] == ["silent"]:  # not in a quote
            by_page.setdefault(item.page, {})[item.edit] = item.diff["significance"]
    compared = 0
    for scores in by_page.values():
        if {"word_changed", "number_changed", "headline_changed"} <= scores.keys():
            assert scores["number_changed"] > scores["word_changed"]
            assert scores["headline_changed"] > scores["word_changed"]
            compared += 1
    assert compared >= 5


def test_quotations_are_found_in_each_language_convention():
    text = ('He said “yes we can”, she said „nein danke“, « oui merci », »ja tak«, '
            "「そうです」 and \"plain quote\".")  # fmt: skip
    assert quotations(text) == ["yes we can", "nein danke", "oui merci", "ja tak", "そうです",
                                "plain quote"]  # fmt: skip


def test_explanation_names_headline_number_and_missing_notice():
    diff = {"title": [["-", "12"], ["+", "14"], ["=", " dead"]], "paragraphs": [],
            "kinds": ["headline", "number", "silent"], "numbers": ["12 → 14 dead"],
            "words_added": 1, "words_removed": 1}  # fmt: skip
    assert explain(diff) == "headline and a number changed (12 → 14 dead), no correction notice"


def test_byline_and_publication_date_are_kinds_the_modification_date_is_not():
    from newscrawl.diff import diff_versions
    from newscrawl.kinds import edit_kinds

    old = {"title": "Storm hits coast", "paragraphs": ["Rain fell.", "Roads closed."],
           "byline": "A. Writer", "published": "2026-03-01T08:00:00Z",
           "modified": "2026-03-01T08:00:00Z"}  # fmt: skip
    new = {**old, "paragraphs": ["Rain fell.", "Roads closed again."],
           "modified": "2026-03-01T10:00:00Z"}  # fmt: skip
    assert edit_kinds(diff_versions(old, new), old, new)["kinds"] == ["silent"]
    moved = {**new, "byline": "A. Writer and B. Reporter", "published": "2026-03-01T09:00:00Z"}
    assert edit_kinds(diff_versions(old, moved), old, moved)["kinds"] == [
        "byline", "dates", "silent"
    ]  # fmt: skip


# --- the viewer, over real crawls ---------------------------------------------------------


def test_crawled_diffs_have_kinds_and_a_minor_change_is_not_silent(store, tracked):
    headline = {d["version"]: d for d in store.diffs.find({"url": tracked.urls["headline"]})}
    added = {d["version"]: d for d in store.diffs.find({"url": tracked.urls["added"]})}
    assert "headline" in headline[2]["kinds"] and "silent" in headline[2]["kinds"]
    assert "headline" not in headline[3]["kinds"]
    assert "paragraph_added" in added[2]["kinds"]
    assert added[3]["minor"] and "silent" not in added[3]["kinds"]
    assert added[3]["significance"] < 5 < added[2]["significance"]
    assert headline[2]["significance"] > headline[3]["significance"]


def test_changes_sort_by_significance_and_filter_with_min(client, store):
    ranked = client.get("/changes.json", query_string={"sort": "significance"}).get_json()
    scores = [c["significance"] for c in ranked["changes"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    cut = scores[1]
    kept = client.get("/changes.json", query_string={"min": cut}).get_json()["changes"]
    assert len(kept) == sum(s >= cut for s in scores)
    assert all(c["explanation"] for c in kept)
    for kind in ("atom", "rss"):
        feed = client.get(f"/changes.{kind}", query_string={"min": cut}).get_data(as_text=True)
        assert feed.count("<entry>" if kind == "atom" else "<item>") == len(kept)
    assert client.get("/changes", query_string={"min": "lots"}).status_code == 400
    assert client.get("/changes", query_string={"sort": "random"}).status_code == 400


def test_diff_page_explains_the_change_in_one_line(client, tracked):
    html = client.get("/diff", query_string={"url": tracked.urls["headline"], "from": 1,
                                             "to": 2}).get_data(as_text=True)  # fmt: skip
    assert re.search(r'class="explanation">.*headline[^<]* changed', html, re.S)
    computed = client.get("/diff.json", query_string={"url": tracked.urls["headline"],
                                                      "from": 1, "to": 3}).get_json()  # fmt: skip
    assert "headline" in computed["kinds"] and computed["significance"] > 0


# --- the NewsEdits export -----------------------------------------------------------------


def test_newsedits_export_opens_with_sqlite3_and_matches_the_json_lines_versions(tracked, tmp_path):
    env = {**os.environ, **tracked.env}
    db, jsonl = tmp_path / "edits.db", tmp_path / "export.jsonl"
    for args in (["--format", "newsedits", "-o", str(db)], ["-o", str(jsonl)]):
        result = subprocess.run([sys.executable, "-m", "scrapy", "export", *args], cwd=REPO,
                                env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr
    shell = subprocess.run(["sqlite3", str(db), ".schema entryversion"], capture_output=True,
                           text=True) if shutil.which("sqlite3") else None  # fmt: skip
    if shell is not None:
        assert "CREATE TABLE entryversion" in shell.stdout
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM entryversion ORDER BY entry_id, version").fetchall()
    assert {"entry_id", "version", "created", "title", "url", "num_versions",
            "summary"} <= set(rows[0].keys())  # fmt: skip
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    expected = [
        (n, v["version"], v["fetched_at"], v["title"], r["url"], len(r["versions"]),
         v["text"].split("\n\n"))
        for n, r in enumerate(records, 1) for v in r["versions"]
    ]  # fmt: skip
    got = [(r["entry_id"], r["version"], r["created"], r["title"], r["url"], r["num_versions"],
            r["summary"].split("</p><p>")) for r in rows]  # fmt: skip
    assert got == expected and len(got) == 8
    assert subprocess.run([sys.executable, "-m", "scrapy", "export", "--format", "newsedits",
                           "-o", "-"], cwd=REPO, env=env, capture_output=True,
                          timeout=60).returncode != 0  # fmt: skip


# --- the article timeline -----------------------------------------------------------------


def test_article_page_shows_versions_on_a_time_axis_with_their_kinds(client, tracked, store):
    url = tracked.urls["headline"]
    data = client.get("/article.json", query_string={"url": url}).get_json()["timeline"]
    assert [m["version"] for m in data["marks"]] == [1, 2, 3]
    xs = [m["x"] for m in data["marks"]]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    assert "headline" in data["marks"][1]["kinds"] and data["marks"][1]["tag"] == "headline"
    assert data["summary"].startswith("changed twice in ") and "headline once" in data["summary"]
    html = client.get("/article", query_string={"url": url}).get_data(as_text=True)
    svg = lxml.html.fromstring(html).cssselect("figure.timeline svg")[0]
    assert len(svg.cssselect("circle")) == 3
    assert "Changed twice in" in html and "<script" not in html


def test_timeline_renders_in_headless_chromium(served, tracked, tmp_path):  # noqa: F811
    binary = chromium()
    page = f"{served}/article?url={tracked.urls['headline']}"
    dom = lxml.html.fromstring(run_chromium(binary, "--dump-dom", page).stdout)
    assert len(dom.cssselect("figure.timeline svg circle")) == 3
    shot = Path(os.environ.get("NEWSCRAWL_TIMELINE_SCREENSHOT") or tmp_path / "timeline.png")
    run_chromium(binary, f"--screenshot={shot}", "--window-size=1000,700", "--hide-scrollbars",
                 page)  # fmt: skip
    assert shot.read_bytes().startswith(b"\x89PNG")
