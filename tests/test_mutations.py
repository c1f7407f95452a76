"""The benchmark's generators: furniture noise keeps the article, CMS edits change it as a CMS
would, and publishers fall into stable folds."""

from __future__ import annotations

import json
import random

import pytest

from newscrawl.normalize import clean_text
from tests.support.corpus import fold, intl_corpus_dir, load_pages
from tests.support.edits import CMS_EDITS, edit_variants
from tests.support.mutations import article_paragraphs, jsonld_nodes, parse_html, text_key
from tests.support.noise import REWORDED, furniture_slots, noise_variant

PAGES = load_pages()[::9] + load_pages(intl_corpus_dir())[::29]


def _page_text(html: str) -> str:
    tree = parse_html(html)
    for element in tree.xpath("//script|//style"):
        element.drop_tree()
    return text_key(tree.text_content())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_reworded_furniture_changes_the_page_but_keeps_every_expected_text(page):
    for kind in REWORDED:
        variant = noise_variant(page.html, page.record, kind, random.Random(f"t:{kind}"))
        if variant is None:
            continue
        assert _page_text(variant) != _page_text(page.html), kind
        tree = parse_html(variant)
        kept = article_paragraphs(tree, page.record)
        assert kept.keys() == article_paragraphs(parse_html(page.html), page.record).keys(), kind


def test_furniture_slots_leave_out_the_standfirst_and_pieces_of_paragraphs():
    html = (
        '<html><head><meta name="description" content="A short summary of the story">'
        "</head><body><nav><a href='/'>Home</a><a href='/w'>World news</a></nav>"
        "<h1>Big headline</h1><p class='dek'>A short summary of the story</p>"
        "<article><p>First paragraph with <a href='/x'>a link</a> inside it.</p>"
        "<p>Second paragraph of the article text.</p><figcaption>Photo: Agency</figcaption>"
        "</article><footer>© 2024 Example Media</footer></body></html>"
    )
    record = {
        "title": "Big headline",
        "paragraphs": [
            "First paragraph with a link inside it.",
            "Second paragraph of the article text.",
        ],
    }
    texts = {clean_text(getattr(*slot)) for slot in furniture_slots(parse_html(html), record)}
    assert texts == {"Home", "World news", "Photo: Agency", "© 2024 Example Media"}


def test_a_cms_paragraph_is_cloned_with_its_wrapper_and_classes():
    html = (
        "<html><body><h1>T</h1><div class='body'>"
        + "".join(
            f"<div class='para-wrap'><p class='text'>Paragraph number {w} of the story here.</p>"
            "</div>"
            for w in ("one", "two", "three")
        )
        + "</div></body></html>"
    )
    paragraphs = [f"Paragraph number {w} of the story here." for w in ("one", "two", "three")]
    record = {"title": "T", "paragraphs": paragraphs}
    (kind, edited, _, expected) = CMS_EDITS[0](html, record, random.Random(1))
    assert kind == "paragraph_added_cms" and len(expected) == 4
    tree = parse_html(edited)
    wrappers = tree.xpath("//div[@class='para-wrap']")
    assert len(wrappers) == 4
    assert all(w[0].tag == "p" and w[0].get("class") == "text" for w in wrappers)
    assert [clean_text(w.text_content()) for w in wrappers] == expected


def test_a_removed_paragraph_takes_its_wrapper_and_can_be_the_last():
    html = "<html><body><h1>T</h1>" + "".join(
        f"<div class='w'><p>Paragraph {n} of the story.</p></div>" for n in range(4)
    ) + "</body></html>"  # fmt: skip
    record = {"title": "T", "paragraphs": [f"Paragraph {n} of the story." for n in range(4)]}
    kinds = {}
    for seed in range(12):
        for make in CMS_EDITS[1:3]:
            kind, edited, _, expected = make(html, record, random.Random(seed))
            tree = parse_html(edited)
            assert len(tree.xpath("//div[@class='w']")) == 3
            kinds.setdefault(kind, set()).add(next(iter(set(record["paragraphs"]) - set(expected))))
    assert "Paragraph 3 of the story." in kinds["paragraph_removed_cms"]
    assert kinds["paragraph_removed_end"] <= {
        "Paragraph 2 of the story.",
        "Paragraph 3 of the story.",
    }


def test_a_headline_edit_shows_everywhere_the_headline_is_printed():
    title = "Council approves housing plan"
    jsonld = json.dumps({"@type": "NewsArticle", "headline": title, "name": title})
    html = (
        f"<html><head><title>{title} - Example News</title>"
        f'<meta property="og:title" content="{title}">'
        f'<meta name="twitter:title" content="{title} | Example">'
        f'<script type="application/ld+json">{jsonld}</script></head>'
        f"<body><nav>Home</nav><h1>{title}</h1><ul class='crumbs'><li>{title}</li></ul>"
        "<p>Body paragraph one of the story.</p><p>Body paragraph two.</p></body></html>"
    )
    record = {
        "title": title,
        "paragraphs": ["Body paragraph one of the story.", "Body paragraph two."],
    }
    make = next(m for m in CMS_EDITS if m.__name__ == "_headline_everywhere")
    _, edited, new_title, _ = make(html, record, random.Random(2))
    assert new_title != title
    tree = parse_html(edited)
    printed = [
        tree.findtext(".//title"), tree.findtext(".//h1"), tree.findtext(".//li"),
        *(m.get("content") for m in tree.iter("meta")),
    ]  # fmt: skip
    assert all(new_title in text for text in printed), printed
    data = json.loads(tree.xpath("//script")[0].text)
    assert {node["headline"] for node in jsonld_nodes(data)} == {new_title}


def test_every_edit_kind_applies_to_most_pages_of_both_corpora():
    counts = {}
    for page in PAGES:
        for kind, *_ in edit_variants(page.html, page.record, random.Random(page.name)):
            counts[kind] = counts.get(kind, 0) + 1
    assert all(counts.get(make.__name__.lstrip("_"), 0) >= len(PAGES) // 2 for make in CMS_EDITS)


def test_publisher_folds_are_stable_and_spread():
    assert fold("BBC", 5) == fold(" bbc ", 5)
    assert [fold("BBC", 5), fold("Le Monde", 5)] == [fold("BBC", 5), fold("Le Monde", 5)]
    publishers = {p.publisher for p in load_pages(intl_corpus_dir())}
    sizes = [sum(fold(p, 5) == n for p in publishers) for n in range(5)]
    assert min(sizes) >= len(publishers) // 10, sizes
