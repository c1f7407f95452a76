"""Feed autodiscovery: the RSS/Atom feeds a home or section page announces with
``<link rel="alternate" type="application/rss+xml" href="...">`` (and Atom's type)."""

from __future__ import annotations

from scrapy.http import TextResponse

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml"}
)
# A page announcing more feeds than this is not a page to take feeds from wholesale.
MAX_FEEDS = 20


def feed_links(response: TextResponse) -> list[str]:
    """Absolute http(s) URLs of the feeds a page links as alternates, in page order."""
    found: list[str] = []
    for link in response.xpath("//link[@href]"):
        rel = (link.attrib.get("rel") or "").lower().split()
        kind = (link.attrib.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        url = response.urljoin(link.attrib["href"].strip())
        if url.startswith(("http://", "https://")) and url not in found:
            found.append(url)
    return found[:MAX_FEEDS]
