"""Read-only web viewer over the store: recent changes, article histories, side-by-side diffs,
search, JSON for every page, and Atom/RSS feeds of changes (``scrapy serve``)."""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` imported when asked for: every ``scrapy`` command (``crawl`` too) loads
    the command modules, which need no Flask (their store reads are ``newscrawl.queries``)."""
    if name == "create_app":
        from newscrawl.web.app import create_app

        return create_app
    raise AttributeError(name)
