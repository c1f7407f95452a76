"""The article record, one chain of field names from extraction to the version document.

``Article`` is a page's text as extraction gives it; ``Fetched`` adds what one fetch of it
is (address, source, time, hashes, validators) and is what the tracker takes and the spool
keeps; ``items.ArticleItem`` adds what only the spider and the pipelines pass along (the
raw body and its encoding, the feed, the outcome). Each is a dataclass extending the one before,
so ``ItemAdapter`` and ``dataclasses.asdict`` give every step the same fields and defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Self, TypedDict

from newscrawl.normalize import clean_text, content_hash, loose_hash


class Hashes(TypedDict):
    content_hash: str  # any change of the text
    loose_hash: str  # equal across minor edits: case, punctuation, whitespace


@dataclass
class Article:
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    byline: str | None = None
    published: str | None = None
    modified: str | None = None
    # The page's other headlines (search, social, structured data) that differ from ``title``:
    # part of the text, so that an edit to any headline the publisher shows makes a version.
    other_headlines: list[str] = field(default_factory=list)
    # The newscrawl.extract.EXTRACTOR_VERSION that produced the text, stamped by whoever runs
    # the extractor (ExtractPipeline, reextract); 0: nothing extracted (a "not modified" check).
    extractor: int = 0

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Self:
        """The record from the same-named fields of an item (``ItemAdapter``), a document or
        a larger record's ``asdict``; its lists copied."""
        record = {f.name: values[f.name] for f in fields(cls)}
        for name in ("paragraphs", "other_headlines"):
            record[name] = list(record[name])
        return cls(**record)

    def headlines(self) -> list[str]:
        return [self.title, *self.other_headlines]

    def text(self) -> tuple[str, list[str], list[str]]:
        """What the content hash covers: ``content_hash(*article.text())``."""
        return self.title, self.paragraphs, self.other_headlines

    def hashes(self) -> Hashes:
        """The text's hashes, as ``Fetched`` holds them."""
        text = self.text()
        return Hashes(content_hash=content_hash(*text), loose_hash=loose_hash(*text))

    def normalized(self) -> Self:
        """Display text as published, minus control characters and redundant whitespace;
        blocks left empty dropped."""
        return replace(
            self,
            title=clean_text(self.title),
            paragraphs=[p for p in map(clean_text, self.paragraphs) if p],
            other_headlines=[h for h in map(clean_text, self.other_headlines) if h],
        )


ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
# The text fields a version document stores, with the two hashes (not ``extractor``).
VERSION_TEXT = ("title", "other_headlines", "paragraphs", "byline", "published", "modified")
HASHES = ("content_hash", "loose_hash")


@dataclass(kw_only=True)
class Fetched(Article):
    """One fetched and extracted article, as the pipelines hand it to the tracker.

    An empty ``content_hash`` means "not modified" (304 or byte-identical body): nothing was
    extracted, only the schedule and validators move on.
    """

    url: str
    source: str
    fetched_at: datetime
    content_hash: str = ""
    loose_hash: str = ""
    response_url: str | None = None
    raw_hash: str = ""
    etag: str | None = None
    last_modified: str | None = None
    moved_from: str | None = None  # the tracked address that now redirects here
    rotating: bool = False  # newscrawl.confirm: the change was not in a second fetch

    def version_text(self) -> dict[str, Any]:
        """The fields of a version document that this fetch gives: its text and hashes."""
        return {name: getattr(self, name) for name in (*VERSION_TEXT, *HASHES)}
