"""The body rescued from JSON-LD ``articleBody`` when the extraction found much less text."""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from newscrawl.extract.blocks import Block, body_blocks, count_words
from newscrawl.extract.filters import filter_blocks
from newscrawl.extract.metadata import Metadata, as_text
from newscrawl.normalize import loose_key

# Structured articleBody this many times longer than the extraction: the extractor missed text.
_BODY_RESCUE_RATIO = 1.5


def rescue_body(
    tree: lxml.html.HtmlElement, meta: Metadata, headlines: frozenset[str], extracted: list[str]
) -> list[str]:
    """The body, ``extracted`` unless the extraction found much less text than JSON-LD
    ``articleBody``.

    The page's own paragraphs that the structured body holds (they keep the page's
    paragraph breaks and subheadings); failing those, what the extraction found; and on a
    client-rendered page, whose text is only in its scripts (nothing found at all), the
    structured body itself, split at its line breaks.
    """
    if not meta.article_body or count_words(meta.article_body) <= _BODY_RESCUE_RATIO * count_words(
        extracted
    ):
        return extracted
    paragraphs = filter_blocks(_article_body_blocks(tree, meta.article_body or ""), headlines)
    if paragraphs or extracted:
        return paragraphs or extracted
    lines = _body_lines(meta.article_body_source)
    return filter_blocks([Block(line, 0) for line in lines], headlines)


# Paragraph breaks in a structured body: line breaks and HTML block tags.
_BODY_BREAKS = re.compile(r"\n|<br\s*/?>|</?(?:p|div|h[1-6]|li)\b[^>]*>", re.IGNORECASE)


def _body_lines(value: Any) -> list[str]:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return []
    lines = (as_text(line) for line in _BODY_BREAKS.split(value))
    return [line for line in lines if line]


def _article_body_blocks(tree: lxml.html.HtmlElement, article_body: str) -> list[Block]:
    """Blocks of the container of the page's paragraphs that JSON-LD ``articleBody`` holds.

    Used when the generic extractor found much less text than the publisher's own body: the
    structured body has no paragraph breaks and no subheadings, the page has both.
    """
    body_key = loose_key(article_body)
    found = [
        p
        for p in tree.iter("p")
        if len(key := loose_key(p.text_content())) >= 20 and key in body_key
    ]
    if len(found) < 2:
        return []
    container = found[0]
    while container is not None and not all(container in p.iterancestors() for p in found):
        container = container.getparent()
    return list(body_blocks(container)) if container is not None else []
