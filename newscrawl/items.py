"""Items passed from the spider through the pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from newscrawl.article import Fetched


@dataclass(kw_only=True)
class ArticleItem(Fetched):
    """A fetched article page: the tracker's ``Fetched`` record (the article's text, filled
    by ExtractPipeline, NormalizePipeline and HashPipeline) and what only the spider and the
    pipelines pass along."""

    feed: str | None = None  # the feed (or sitemap) that listed a new article
    # why a tracked article is checked ahead of schedule: its sitemap date moved
    # ({"where": sitemap URL, "old": date, "new": date}; see newscrawl.listings)
    hint: dict | None = None
    # The response's encoding as Scrapy found it (headers, BOM, <meta>, or sniffed): the
    # extraction decodes ``body`` with it
    encoding: str = ""
    # Re-check shortcuts: a 304, or a body byte-identical to the last one (``raw_hash``), is
    # "not modified" and skips extraction, normalization and hashing.
    not_modified: bool = False
    # The response as received, for its snapshot (newscrawl.snapshots)
    body: bytes = b""
    status: int = 200
    content_type: str | None = None
    date: str | None = None
    # ChangeDetectionPipeline
    outcome: str = ""
    version: int = 0
