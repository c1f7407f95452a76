"""The headline vote and the page's other headlines."""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

import lxml.html

from newscrawl.extract.metadata import Metadata
from newscrawl.extract.parse import element_text
from newscrawl.normalize import loose_key

_HEADLINE_WORD = re.compile(r"\w{4,}")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")


class Headlines(NamedTuple):
    """The result of the headline vote."""

    title: str
    other_headlines: list[str]  # see ``other_headlines``
    # The loose keys of every headline the page states: none of them is body text.
    not_body: frozenset[str]


def vote_headline(tree: lxml.html.HtmlElement, meta: Metadata, title_css: str | None) -> Headlines:
    """The headline most of the page's sources agree on (ties: JSON-LD, og:title, h1,
    <title>), the page's other headlines (see ``other_headlines``), and the loose keys of
    every headline the page states (none of them is body text)."""
    if title_css:
        for element in tree.cssselect(title_css):
            text = element_text(element)
            if text:
                return Headlines(text, [], frozenset({loose_key(text)}))
    h1 = next((t for t in (element_text(e) for e in tree.iterfind(".//h1")) if t), None)
    title_element = tree.find(".//title")
    document_title = (
        _strip_site_suffix(element_text(title_element)) if title_element is not None else None
    )
    candidates = [c for c in (meta.headline, meta.og_title, h1, document_title) if c]
    if not candidates:
        title = meta.meta_title or ""
        return Headlines(title, [], frozenset({loose_key(title)}))
    votes = Counter(loose_key(c) for c in candidates)
    title = max(candidates, key=lambda c: votes[loose_key(c)])  # max keeps the first of equals
    # An outvoted headline is a variant (SEO or social headline), not body text; one that ties
    # with the title may be the headline readers see: it stays in the body when the
    # extraction has it.
    key = loose_key(title)
    keys = frozenset(k for k, n in votes.items() if k == key or n < votes[key])
    return Headlines(title, other_headlines(title, candidates), keys)


def other_headlines(title: str, candidates: list[str]) -> list[str]:
    """The page's other wordings of its headline, first seen first.

    Left out: a wording only in case or punctuation different from one already kept; one
    contained in the title or containing it (a headline piece cut at a separator, an
    og:title with the site name added), whose edits the title shows; and one sharing no word
    with the title (a login dialog's ``<h1>``), which is not a headline of this article.
    """
    title_key = loose_key(title).lower()
    title_words = set(_HEADLINE_WORD.findall(title.lower()))
    seen, others = {title_key}, []
    for candidate in candidates:
        key = loose_key(candidate).lower()
        if key in seen or key in title_key or title_key in key:
            continue
        if title_words.isdisjoint(_HEADLINE_WORD.findall(candidate.lower())):
            continue
        seen.add(key)
        others.append(candidate)
    return others


def _strip_site_suffix(title: str) -> str:
    parts = _TITLE_SEPARATORS.split(title)
    return max(parts, key=len) if len(parts) > 1 else title
