"""The summary above the body when the extraction missed it: the standfirst (the meta
description as the page shows it) or the strapline under the headline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import lxml.html
from lxml import etree
from rapidfuzz import fuzz

from newscrawl.extract.blocks import count_words, has_block_descendant
from newscrawl.extract.parse import element_text
from newscrawl.normalize import loose_key

# Minimum fuzz.ratio between a page element and the meta description to be its standfirst.
_STANDFIRST_SIMILARITY = 90


def find_standfirst(
    tree: lxml.html.HtmlElement, description: str | None, paragraphs: list[str]
) -> list[str]:
    """The summary shown on the page above the body, when the extraction missed it: one
    paragraph, or several when the page spreads it over consecutive ``<p>``s.

    The meta description counts only when the page displays it, verbatim or nearly: a
    publisher editing the standfirst on the page often leaves the meta tag alone, and the
    page's wording is the one readers see. The element is found by the description's first
    or last words, so an edit at either end still finds it.
    """
    if not description or not paragraphs:
        return []
    key, body = loose_key(description), loose_key(" ".join(paragraphs[:3]))
    if len(key) < 40 or key in body:
        return []
    for end, preceding in ((description[:24], False), (description[-24:], True)):
        for text in tree.xpath("//body//text()[contains(., $end)]", end=end):
            element = text.getparent()  # of a tail text: the element it follows
            if text.is_tail:
                element = element.getparent()
            run = _shown(element, key, preceding)
            if not run:
                continue
            if any(loose_key(e.text_content()) in body for e in run):
                return []  # the page's wording (or part of it) is in the body already
            return [element_text(e) for e in run]
    return []


def _shown(element: etree._Element, key: str, preceding: bool) -> list[etree._Element]:
    """The element that shows the description ``key``, or the run of consecutive ``<p>``s
    from it (onwards, or backwards when ``preceding``) that does, in page order; [] if none."""
    run, shown = [element], loose_key(element.text_content())
    siblings = element.itersiblings(preceding=preceding) if element.tag == "p" else iter(())
    while shown != key and fuzz.ratio(shown, key) < _STANDFIRST_SIMILARITY:
        sibling = next(siblings, None)
        part = loose_key(sibling.text_content()) if sibling is not None else ""
        if sibling is None or sibling.tag != "p" or not part or len(shown) >= len(key):
            return []
        run.append(sibling)
        shown = part + shown if preceding else shown + part
    return run[::-1] if preceding else run


# Class names publishers give the summary line under the headline.
_STRAPLINE_CLASSES = frozenset(
    {
        "standfirst",
        "strapline",
        "dek",
        "deck",
        "subheadline",
        "sub-headline",
        "subtitle",
        "lead",
        "intro",
        "preamble",
        "epigraph",
        "summary",
        "excerpt",
    }
)
_CLASS_PART = re.compile(r"[-_]+")


def _class_names(element: etree._Element) -> set[str]:
    """An element's class names and the last part of each (``article__preamble`` also
    names ``preamble``; ``lead-image`` does not name ``lead``)."""
    names = set((element.get("class") or "").lower().split())
    return names | {_CLASS_PART.split(name)[-1] for name in names}


def find_strapline(tree: lxml.html.HtmlElement, paragraphs: list[str]) -> str:
    """The summary line under the headline, found by the class names publishers give it,
    between the ``<h1>`` and the body's first paragraph, when the extraction missed it and
    the meta description is not it."""
    h1 = next((e for e in tree.iterfind(".//body//h1") if element_text(e)), None)
    if h1 is None or not paragraphs:
        return ""
    body = loose_key(" ".join(paragraphs[:3]))
    first = paragraphs[0]
    for node in _after(h1):
        if not isinstance(node.tag, str):
            continue
        if node.tag == "p" and element_text(node) == first:
            return ""  # the body starts: a summary comes before it
        classes = _class_names(node)
        if node.tag in ("p", "div", "h2", "span") and classes & _STRAPLINE_CLASSES:
            if has_block_descendant(node):
                continue  # a box holding paragraphs (the body's, a teaser's) is not a line
            text = element_text(node)
            if count_words(text) >= 4 and loose_key(text) not in body:
                return text
    return ""


def _after(h1: etree._Element) -> Iterator[etree._Element]:
    """The elements after the headline and after the headline's wrapper, in page order: a
    headline is often wrapped on its own, and the summary line follows the wrapper."""
    parent = h1.getparent()
    for node in (h1, parent) if parent is not None else (h1,):
        for sibling in node.itersiblings():
            yield from sibling.iter()
