"""Sitemap parsing: sitemap indexes, plain and Google News sitemaps, gzipped or not, from
bytes already downloaded.

lxml reads them the way Scrapy's own ``scrapy.utils.sitemap.Sitemap`` does (``iterparse``,
``resolve_entities=False``, elements cleared as they are read; only ``<url>``/``<sitemap>``
ends are reported, which is faster: README "Sitemaps"), but a sitemap with a
document type declaration is refused outright: a sitemap has no use for one, and entity
declarations are what "billion laughs" expansion needs (lxml's ``recover`` would otherwise
silently drop what it cannot resolve). Scrapy's class also flattens ``<news:news>``, whose
``news:title`` and ``news:publication_date`` this module keeps. Gzipped bodies are inflated
with Scrapy's ``gunzip`` under a size limit (a gzip bomb stops at the limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import lxml.etree
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import sitemap_urls_from_robots

INDEX, URLSET = "sitemapindex", "urlset"
_GZIP_MAGIC = b"\x1f\x8b"
_NEWS = "/schemas/sitemap-news/"
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class SitemapError(ValueError):
    """The body is not a sitemap this module reads; ``reason`` is the short code recorded."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None
    title: str = ""  # news:title
    published: datetime | None = None  # news:publication_date

    @property
    def date(self) -> datetime | None:
        """The latest date the sitemap gives: the change hint and the age on first sight."""
        dates = [d for d in (self.lastmod, self.published) if d is not None]
        return max(dates) if dates else None


@dataclass(frozen=True)
class Sitemap:
    kind: str  # INDEX (entries are sitemaps) or URLSET (entries are pages)
    entries: list[SitemapEntry]
    truncated: bool = False  # more than ``max_urls`` entries: the rest were not read


def inflate(body: bytes, max_size: int) -> bytes:
    """The body, gunzipped if it is gzip, at most ``max_size`` bytes (0: no limit)."""
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except _DecompressionMaxSizeExceeded:
            raise SitemapError(
                "too-large", f"gzipped sitemap inflates past {max_size} bytes"
            ) from None
        except (OSError, EOFError) as exc:
            raise SitemapError("malformed-sitemap", f"broken gzip data: {exc}") from None
    if max_size and len(body) > max_size:
        raise SitemapError("too-large", f"sitemap of {len(body)} bytes, over {max_size}")
    return body


def parse_sitemap(body: bytes, max_urls: int, max_size: int = 0) -> Sitemap:
    """The entries of a sitemap or sitemap index; SitemapError when it cannot be read."""
    body = inflate(body, max_size)
    if _DOCTYPE.search(body):
        raise SitemapError("malformed-sitemap", "document type or entity declaration refused")
    events = lxml.etree.iterparse(
        BytesIO(body), events=("end",), tag=("{*}url", "{*}sitemap", "url", "sitemap"),
        recover=True, resolve_entities=False, no_network=True, remove_comments=True,
        remove_pis=True, collect_ids=False, huge_tree=False,
    )  # fmt: skip
    kind, truncated = "", False
    entries: list[SitemapEntry] = []
    try:
        for _, elem in events:
            root = elem.getparent()
            if not kind:
                kind = _root_kind(body) if root is None else _local(root)
            if root is None:
                break  # an entry as the root element: not a sitemap
            if len(entries) >= max_urls:
                truncated = True
                break
            entry = _entry(elem)
            elem.clear()
            while elem.getprevious() is not None:
                del root[0]
            if entry is not None:
                entries.append(entry)
    except lxml.etree.XMLSyntaxError as exc:
        if not entries:
            raise SitemapError("malformed-sitemap", f"not XML: {exc}") from None
    kind = kind or _root_kind(body)
    if kind not in (INDEX, URLSET):
        raise SitemapError("malformed-sitemap", f"root element <{kind}> is not a sitemap")
    return Sitemap(kind, entries, truncated)


def _root_kind(body: bytes) -> str:
    """The root element's name when no entry gave it (an empty or broken sitemap)."""
    parser = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise SitemapError("malformed-sitemap", f"not XML: {exc}") from None
    if root is None:
        raise SitemapError("malformed-sitemap", "not XML: no root element")
    return _local(root)


def sitemaps_in_robots(body: bytes, base_url: str) -> list[str]:
    """``Sitemap:`` URLs of a robots.txt (Scrapy's reader), in order, without repeats."""
    return list(dict.fromkeys(sitemap_urls_from_robots(body, base_url)))


def parse_date(text: str) -> datetime | None:
    """A W3C datetime (``2026-01-02``, ``2026-01-02T03:04:05+01:00``, ``...Z``) in UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _local(elem: lxml.etree._Element) -> str:
    tag = elem.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _entry(elem: lxml.etree._Element) -> SitemapEntry | None:
    fields: dict[str, str] = {}
    for child in elem.iter():
        name = _local(child)
        if name in ("title", "publication_date") and _NEWS not in child.tag:
            continue  # an image:title or video:title is not the headline
        if name in ("loc", "lastmod", "title", "publication_date") and name not in fields:
            fields[name] = (child.text or "").strip()
    if not fields.get("loc"):
        return None
    return SitemapEntry(
        loc=fields["loc"],
        lastmod=parse_date(fields.get("lastmod", "")),
        title=" ".join(fields.get("title", "").split()),
        published=parse_date(fields.get("publication_date", "")),
    )
