"""Edits as a CMS renders them, beside ``tests.support.mutations``' first five kinds.

A CMS re-renders the whole article from its fields: a new paragraph comes out with its
neighbours' markup (same tag, classes and per-paragraph wrappers), a removed paragraph takes
its wrapper with it and can be any one, the last ones included, and a headline edit shows
wherever the headline is printed (``<title>``, ``<h1>`` and any other element printing it,
``og:``/``twitter:``/``<meta name=title>``, every JSON-LD string holding it). Word and number
edits near the article's end test that the extractor keeps its closing paragraphs.

Each kind is ``kind(html, record, rng) -> EditVariant | None``, like ``tests.support.mutations``'.
"""

from __future__ import annotations

import random
import re
from typing import Any

from newscrawl.normalize import clean_text
from tests.support.mutations import (
    BASIC_EDITS,
    NUMBER,
    REPLACEMENT_WORDS,
    EditVariant,
    _replace_in_text,
    article_paragraphs,
    edit_article_body,
    edit_jsonld,
    insert_paragraph,
    parse_html,
    serialize_html,
    text_key,
)

Record = dict[str, Any]
Rng = random.Random
_LETTER_WORD = re.compile(r"\b[^\W\d_]{5,}\b")
_META_TITLES = ("og:title", "twitter:title", "title", "headline", "sailthru.title")
END = 2  # "near the end": one of the article's last two paragraphs


def wrapper_of(paragraph: Any) -> Any:
    """The outermost element around ``paragraph`` holding nothing but its text."""
    key = text_key(paragraph.text_content())
    wrapper = paragraph
    for ancestor in paragraph.iterancestors():
        if ancestor.tag in ("body", "html") or text_key(ancestor.text_content()) != key:
            break
        wrapper = ancestor
    return wrapper


def _path(wrapper: Any, paragraph: Any) -> list[int]:
    """Child indexes from ``wrapper`` down to ``paragraph``."""
    path: list[int] = []
    while paragraph is not wrapper:
        parent = paragraph.getparent()
        path.insert(0, parent.index(paragraph))
        paragraph = parent
    return path


def _paragraph_added_cms(html: str, record: Record, rng: Rng) -> EditVariant | None:
    """A paragraph after any body paragraph (the last included), cloned from it with wrappers."""
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    if len(paras) < 2:
        return None
    index = rng.choice(sorted(paras)[1:])
    original = paras[index]
    wrapper = wrapper_of(original)
    path = _path(wrapper, original)
    html, expected = insert_paragraph(tree, record, rng, index, wrapper, path)
    return "paragraph_added_cms", html, record["title"], expected


def _remove(html: str, record: dict[str, Any], index: int) -> tuple[str, list[str]]:
    tree = parse_html(html)
    element = article_paragraphs(tree, record)[index]
    edit_article_body(tree, clean_text(element.text_content()), "")
    wrapper_of(element).drop_tree()  # keeps the tail text
    expected = list(record["paragraphs"])
    del expected[index]
    return serialize_html(tree), expected


def _paragraph_removed_cms(html: str, record: Record, rng: Rng) -> EditVariant | None:
    """Any body paragraph, the last included, removed with its wrapper."""
    paras = article_paragraphs(parse_html(html), record)
    if len(paras) < 3:
        return None
    edited, expected = _remove(html, record, rng.choice(sorted(paras)[1:]))
    return "paragraph_removed_cms", edited, record["title"], expected


def _paragraph_removed_end(html: str, record: Record, rng: Rng) -> EditVariant | None:
    """One of the article's last two paragraphs removed."""
    paras = article_paragraphs(parse_html(html), record)
    last = [i for i in sorted(paras) if i >= len(record["paragraphs"]) - END]
    if len(paras) < 3 or not last:
        return None
    edited, expected = _remove(html, record, rng.choice(last))
    return "paragraph_removed_end", edited, record["title"], expected


def _end_edit(html: str, record: dict[str, Any], rng: random.Random, pattern: re.Pattern[str],
              replace: Any, kind: str) -> EditVariant | None:  # fmt: skip
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    last = [
        i for i in sorted(paras)
        if i >= len(record["paragraphs"]) - END and pattern.search(paras[i].text_content())
    ]  # fmt: skip
    if not last:
        return None
    index = rng.choice(last)
    element = paras[index]
    old = clean_text(element.text_content())
    if not _replace_in_text(element, pattern, replace):
        return None
    expected = list(record["paragraphs"])
    expected[index] = clean_text(element.text_content())
    if expected[index] == old:
        return None
    edit_article_body(tree, old, expected[index])
    return kind, serialize_html(tree), record["title"], expected


def _end_word_changed(html: str, record: Record, rng: Rng) -> EditVariant | None:
    word = rng.choice(REPLACEMENT_WORDS)
    return _end_edit(html, record, rng, _LETTER_WORD, lambda _: word, "end_word_changed")


def _end_number_changed(html: str, record: Record, rng: Rng) -> EditVariant | None:
    def bump(number: str) -> str:
        return str(int(number) + rng.randrange(1, 9))

    return _end_edit(html, record, rng, NUMBER, bump, "end_number_changed")


def _printing(element: Any, key: str) -> list[Any]:
    """The smallest elements under ``element`` whose text holds ``key`` (scripts aside)."""
    found = []
    for child in element:
        skip = not isinstance(child.tag, str) or child.tag in ("script", "style")
        if not skip and key in text_key(child.text_content()):
            found += _printing(child, key) or [child]
    return found


def _headline_everywhere(html: str, record: Record, rng: Rng) -> EditVariant | None:
    """One headline word replaced wherever the headline is printed or declared."""
    title = clean_text(record["title"])
    words = _LETTER_WORD.findall(title)
    if not words:
        return None
    old = rng.choice(words)
    new = rng.choice(REPLACEMENT_WORDS).capitalize()
    pattern = re.compile(rf"\b{re.escape(old)}\b")
    title_key = text_key(title)
    tree = parse_html(html)
    for element in _printing(tree, title_key):
        for node in element.iter():
            for slot in ("text", "tail") if node is not element else ("text",):
                value = getattr(node, slot)
                if isinstance(value, str) and pattern.search(value):
                    setattr(node, slot, pattern.sub(new, value))
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content") or ""
        if key in _META_TITLES or title_key in text_key(content):
            meta.set("content", pattern.sub(new, content))

    def edit(node: dict[str, Any]) -> bool:
        changed = False
        for name, value in node.items():
            if isinstance(value, str) and title_key in text_key(value) and pattern.search(value):
                node[name] = pattern.sub(new, value)
                changed = True
        return changed

    edit_jsonld(tree, edit)
    expected = list(record["paragraphs"])
    return "headline_everywhere", serialize_html(tree), pattern.sub(new, title), expected


CMS_EDITS = (
    _paragraph_added_cms,
    _paragraph_removed_cms,
    _paragraph_removed_end,
    _headline_everywhere,
    _end_word_changed,
    _end_number_changed,
)
EDITS = (*BASIC_EDITS, *CMS_EDITS)
EDIT_KINDS = tuple(make.__name__.lstrip("_") for make in EDITS)


def edit_variants(html: str, record: Record, rng: Rng, makes: tuple = EDITS) -> list[EditVariant]:
    """(kind, html, expected_title, expected_paragraphs) for every edit kind (of ``makes``),
    CMS ones too."""
    return [variant for make in makes if (variant := make(html, record, rng)) is not None]
