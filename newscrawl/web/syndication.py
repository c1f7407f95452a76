"""Atom 1.0 and RSS 2.0 documents of changes, written with lxml.

Every text goes through ``xml_safe`` first: characters XML 1.0 cannot carry (C0 controls,
lone surrogates, U+FFFE/U+FFFF) are dropped, so a feed is well-formed whatever was stored.
Entry HTML is a string, escaped by the serializer (``type="html"``), never embedded markup.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from newscrawl.web.humanize import as_utc, iso

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _XML_INVALID.sub("", text)


def stable_id(key: str) -> str:
    """A permanent Atom/RSS id for ``key`` (name-based UUID: the same on every host)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'newscrawl:' + key)}"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    link: str  # the change in the viewer
    related: str  # the live article
    category: str  # the source
    summary: str
    html: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    self_url: str
    page_url: str  # the same changes as a web page
    updated: datetime
    entries: list[Entry]


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def atom(feed: Feed) -> bytes:
    """The feed as Atom 1.0 (RFC 4287)."""
    a = f"{{{ATOM_NS}}}"
    root = etree.Element(f"{a}feed", nsmap={None: ATOM_NS})
    _add(root, f"{a}id", feed.id)
    _add(root, f"{a}title", feed.title)
    _add(root, f"{a}updated", iso(feed.updated))
    _add(root, f"{a}link", rel="self", type="application/atom+xml", href=feed.self_url)
    _add(root, f"{a}link", rel="alternate", type="text/html", href=feed.page_url)
    _add(_add(root, f"{a}author"), f"{a}name", "newscrawl")
    _add(root, f"{a}generator", "newscrawl")
    for entry in feed.entries:
        item = _add(root, f"{a}entry")
        _add(item, f"{a}id", entry.id)
        _add(item, f"{a}title", entry.title)
        _add(item, f"{a}updated", iso(entry.updated))
        _add(item, f"{a}published", iso(entry.updated))
        _add(item, f"{a}link", rel="alternate", type="text/html", href=entry.link)
        _add(item, f"{a}link", rel="related", type="text/html", href=entry.related)
        _add(item, f"{a}category", term=entry.category)
        _add(item, f"{a}summary", entry.summary)
        _add(item, f"{a}content", entry.html, type="html")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def rss(feed: Feed) -> bytes:
    """The feed as RSS 2.0, with an ``atom:link rel="self"`` as validators recommend."""
    root = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS})
    channel = _add(root, "channel")
    _add(channel, "title", feed.title)
    _add(channel, "link", feed.page_url)
    _add(channel, "description", feed.title)
    _add(channel, f"{{{ATOM_NS}}}link", rel="self", type="application/rss+xml", href=feed.self_url)
    _add(channel, "lastBuildDate", format_datetime(as_utc(feed.updated)))
    _add(channel, "generator", "newscrawl")
    for entry in feed.entries:
        item = _add(channel, "item")
        _add(item, "title", entry.title)
        _add(item, "link", entry.link)
        _add(item, "guid", entry.id, isPermaLink="false")
        _add(item, "pubDate", format_datetime(as_utc(entry.updated)))
        _add(item, "category", entry.category)
        _add(item, "description", entry.html)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
