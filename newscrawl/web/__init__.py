"""Read-only web viewer over the store: recent changes, article histories, side-by-side diffs,
search, JSON for every page, and Atom/RSS feeds of changes (``scrapy serve``)."""

from newscrawl.web.app import create_app

__all__ = ["create_app"]
