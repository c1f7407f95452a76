"""Extraction health: signs that a publisher's page changed shape under the extractor.

A site redesign rarely fails loudly: the extractor still returns *something*, only much
shorter (a teaser, a cookie notice). Such versions are stored, since a real edit can cut an
article too, but flagged so an operator sees them in the crawl stats, the ``errors``
collection (kind ``extraction``) and ``scrapy status``.
"""

from __future__ import annotations

SHORT_BODY_WORDS = 40  # below this, a body is implausibly short for a news article
DROP_RATIO = 0.5  # a new version under half the words of the previous one...
DROP_MIN_WORDS = 150  # ...of an article that had at least this many


def word_count(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def extraction_warnings(paragraphs: list[str], previous: list[str] | None) -> list[str]:
    """``short-body`` and/or ``body-drop`` for a version about to be stored."""
    words = word_count(paragraphs)
    warnings = []
    if words < SHORT_BODY_WORDS:
        warnings.append("short-body")
    if previous is not None:
        before = word_count(previous)
        if before >= DROP_MIN_WORDS and words < DROP_RATIO * before:
            warnings.append("body-drop")
    return warnings
