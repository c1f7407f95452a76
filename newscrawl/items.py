"""Items passed from the spider through the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ArticleItem:
    """A fetched article page. The spider fills the first block; pipelines fill the rest."""

    url: str  # canonical URL, the article's identity
    source: str
    fetched_at: datetime
    moved_from: str | None = None  # a tracked article's old address, now redirecting to url
    response_url: str = ""  # where the page was finally served from (after redirects)
    feed: str | None = None  # the feed (or sitemap) that listed a new article
    # why a tracked article is checked ahead of schedule: its sitemap date moved
    # ({"where": sitemap URL, "old": date, "new": date}; see newscrawl.listings)
    hint: dict | None = None
    html: str = ""  # emptied by ExtractPipeline once the article is extracted
    # Re-check shortcuts: a 304, or a body byte-identical to the last one, is "not modified"
    # and skips extraction, normalization and hashing.
    not_modified: bool = False
    raw_hash: str = ""
    etag: str | None = None
    last_modified: str | None = None
    # The response as received, for its snapshot (newscrawl.snapshots)
    body: bytes = b""
    status: int = 200
    content_type: str | None = None
    date: str | None = None
    # ExtractPipeline
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    byline: str | None = None
    published: str | None = None
    modified: str | None = None
    other_headlines: list[str] = field(default_factory=list)  # see newscrawl.extract.Article
    extractor: int = 0  # newscrawl.extract.EXTRACTOR_VERSION
    # HashPipeline
    content_hash: str = ""
    loose_hash: str = ""
    # ConfirmPipeline: a second fetch did not show the change (newscrawl.confirm)
    rotating: bool = False
    # ChangeDetectionPipeline
    outcome: str = ""
    version: int = 0
