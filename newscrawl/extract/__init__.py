"""Article extraction: headline and body paragraphs, built to be stable under page noise.

The page is parsed once with lxml. Structured data (JSON-LD, meta tags) gives the headline,
byline and dates; trafilatura finds the body on the same tree, and a set of generic filters
then removes what changes between fetches without being an edit of the article: link-only
promos, "Read more" lines, timestamps, share counts, newsletter boxes, duplicates.

One stage per module, in the order ``_extract`` runs them:

- ``parse``: the page as an lxml tree; scripts, hidden text and social embeds removed
- ``metadata``: JSON-LD article node and meta tags
- ``headline``: the headline vote and the page's other headlines
- ``blocks``: trafilatura's body (or a ``body_css`` container) as text blocks
- ``structure``: the page's subheadings, lists and dropped prose put back; the article's region
- ``filters``: noise, duplicates and the headline out of the blocks
- ``rescue``: the body from JSON-LD ``articleBody`` when the extraction found much less
- ``standfirst``: the summary above the body when the extraction missed it
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from newscrawl.article import Article
from newscrawl.extract.blocks import css_blocks, trafilatura_blocks
from newscrawl.extract.filters import filter_blocks
from newscrawl.extract.headline import vote_headline
from newscrawl.extract.metadata import Metadata
from newscrawl.extract.parse import decode_body, drop_non_article, parse_html, remove
from newscrawl.extract.rescue import rescue_body
from newscrawl.extract.standfirst import find_standfirst, find_strapline
from newscrawl.extract.structure import restore_structure

logger = logging.getLogger(__name__)


# Bumped when a change to extraction changes the text of unchanged pages: the first check of
# an article by a newer extractor takes its text as the baseline (newscrawl.tracker.REBASELINE).
EXTRACTOR_VERSION = 5


def extract_article(
    html: str | bytes, url: str, overrides: Mapping[str, Any] | None = None
) -> Article | None:
    """The article on a page, or None when the page holds no article (no title or no body).

    Never raises: any failure on hostile input is logged and gives None.
    """
    try:
        return _extract(html, url, overrides or {})
    except Exception:  # the crawl must survive any page; the contract is "None, not raise"
        logger.exception("extraction failed for %s", url)
        return None


def extract_response(
    body: bytes, encoding: str, url: str, overrides: Mapping[str, Any] | None = None
) -> Article | None:
    """``extract_article`` on a response body in the encoding Scrapy chose for it. The
    extraction workers decode, so the crawl process neither decodes a page's text nor
    pickles it (a page's ``str`` is often twice its bytes). An encoding Python cannot
    decode with (``charset=base64``) leaves the bytes to ``parse_html``'s own detection."""
    try:
        html: str | bytes = decode_body(body, encoding)
    except (LookupError, ValueError):
        html = body
    return extract_article(html, url, overrides)


def _extract(html: str | bytes, url: str, overrides: Mapping[str, Any]) -> Article | None:
    """The stages in order; ``overrides`` is a source's ``extraction`` table (sources.py)."""
    tree = parse_html(html)
    if tree is None:
        return None
    for selector in overrides.get("drop_css") or ():
        for element in tree.cssselect(selector):
            remove(element)
    meta = Metadata.read(tree)
    title, other_headlines, not_body = vote_headline(tree, meta, overrides.get("title_css"))
    if not title:
        return None
    drop_non_article(tree)
    if overrides.get("body_css"):
        paragraphs = filter_blocks(css_blocks(tree, overrides["body_css"]), not_body)
    else:
        blocks = restore_structure(tree, trafilatura_blocks(tree, url))
        paragraphs = filter_blocks(blocks, not_body)
        paragraphs = rescue_body(tree, meta, not_body, paragraphs)
        summary = find_standfirst(tree, meta.description, paragraphs)
        if not summary and (strapline := find_strapline(tree, paragraphs)):
            summary = [strapline]
        paragraphs[:0] = summary
    if not paragraphs:
        return None
    return Article(
        title=title,
        paragraphs=paragraphs,
        byline=meta.byline,
        published=meta.published,
        modified=meta.modified,
        other_headlines=other_headlines,
    )
