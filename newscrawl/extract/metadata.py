"""Structured data: JSON-LD article node and meta tags (headline, byline, dates, description)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import lxml.html

from newscrawl.normalize import clean_text

_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "SatiricalArticle",
        "ScholarlyArticle",
        "TechArticle",
        "Report",
    }
)
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


@dataclass
class Metadata:
    headline: str | None = None
    article_body: str | None = None
    article_body_source: Any = None  # articleBody as the JSON-LD gives it, line breaks kept
    byline: str | None = None
    published: str | None = None
    modified: str | None = None
    og_title: str | None = None
    description: str | None = None
    meta_title: str | None = None

    @classmethod
    def read(cls, tree: lxml.html.HtmlElement) -> Metadata:
        meta = cls()
        node = _jsonld_article(tree)
        if node is not None:
            meta.headline = as_text(node.get("headline")) or as_text(node.get("name"))
            meta.article_body = as_text(node.get("articleBody"))
            meta.article_body_source = node.get("articleBody")
            meta.byline = _author_names(node.get("author"))
            meta.published = as_text(node.get("datePublished"))
            meta.modified = as_text(node.get("dateModified"))
        tags = _meta_tags(tree)
        meta.og_title = tags.get("og:title") or tags.get("twitter:title")
        meta.meta_title = tags.get("title")
        meta.description = tags.get("og:description") or tags.get("description")
        meta.byline = meta.byline or tags.get("author")
        meta.published = meta.published or tags.get("article:published_time")
        meta.modified = meta.modified or tags.get("article:modified_time")
        return meta


def _meta_tags(tree: lxml.html.HtmlElement) -> dict[str, str]:
    tags: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        value = clean_text(_unescape_twice_escaped(element.get("content") or ""))
        if key and value and key not in tags:
            tags[key] = value
    return tags


def _jsonld_article(tree: lxml.html.HtmlElement) -> dict[str, Any] | None:
    """The JSON-LD article node with a headline, preferring one that carries articleBody."""
    found: list[dict[str, Any]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        found.extend(node for node in _walk_jsonld(data) if node.get("headline"))
    if not found:
        return None
    return next((node for node in found if node.get("articleBody")), found[0])


def _walk_jsonld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk_jsonld(item, depth + 1)
    elif isinstance(data, dict):
        kind = data.get("@type")
        kinds = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()
        if kinds & _ARTICLE_TYPES:
            yield data
        if "@graph" in data:
            yield from _walk_jsonld(data["@graph"], depth + 1)


def as_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return clean_text(_unescape_twice_escaped(_TAG.sub(" ", str(value)))) or None
    return None


def _unescape_twice_escaped(text: str) -> str:
    """Entities left in text the parser already decoded (``&#039;`` from a CMS escaping
    twice); only complete ones, ending in ``;``, so "AT&T" or "&copy" in prose stay."""
    return _ENTITY.sub(lambda match: unescape(match.group()), text)


def _author_names(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = item.get("name") if isinstance(item, dict) else item
        text = as_text(name)
        if text and text not in names:
            names.append(text)
    return ", ".join(names) or None
