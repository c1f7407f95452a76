"""Fetched pages built in the test process, as the pipelines hand them to the tracker."""

from __future__ import annotations

from datetime import UTC, datetime

from newscrawl.normalize import content_hash, loose_hash
from newscrawl.store import utcnow
from newscrawl.tracker import Fetched

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
URL = "https://news.example/a"


def page(title: str, paragraphs: list[str], at: datetime = T0, url: str = URL) -> Fetched:
    """An extracted article of source "Example", hashed as the hash pipeline does."""
    return Fetched(
        url=url,
        source="Example",
        fetched_at=at,
        title=title,
        paragraphs=paragraphs,
        content_hash=content_hash(title, paragraphs),
        loose_hash=loose_hash(title, paragraphs),
    )


def spooled_page(url: str, text: str) -> Fetched:
    """A page of source "Local" fetched now, with non-ASCII text, as a spool line holds it."""
    paragraphs = [text, "A second paragraph, — with non-ASCII text: café, naïve, 東京."]
    return Fetched(
        url=url, source="Local", fetched_at=utcnow(), title="Title",
        paragraphs=paragraphs, content_hash=content_hash("Title", paragraphs),
        loose_hash=loose_hash("Title", paragraphs),
    )  # fmt: skip
