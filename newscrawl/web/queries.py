"""Read-only queries behind the viewer, the feeds and the history/diff commands.

Only the pymongo API (find/sort/skip/limit/count_documents/distinct, ``$regex`` on escaped
input), so they run on MongoDB and on the embedded store alike. Nothing here writes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING

from newscrawl.diff import diff_versions, headlines_changed
from newscrawl.store import Store
from newscrawl.urls import canonical_url

PER_PAGE = 30
# Diff fields a list of changes needs: everything but the aligned paragraph rows.
_CHANGE_FIELDS = {"paragraphs": 0}
_VERSION_FIELDS = {"paragraphs": 0}


@dataclass(frozen=True)
class Page:
    """One page of results and where it sits among all of them."""

    items: list[dict[str, Any]]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


@dataclass(frozen=True)
class Comparison:
    """Two versions of one article and the diff between them (stored or computed)."""

    article: dict[str, Any]
    old: dict[str, Any]
    new: dict[str, Any]
    diff: dict[str, Any]
    stored: bool  # the stored diff of consecutive versions, not computed for this request


def change_filter(source: str | None = None, url: str | None = None, minor: bool = False) -> dict:
    """The diffs query for a list of changes; minor (punctuation/whitespace) ones left out
    unless asked for."""
    query: dict[str, Any] = {}
    if source:
        query["source"] = source
    if url:
        query["url"] = url
    if not minor:
        query["minor"] = {"$ne": True}
    return query


def recent_changes(
    store: Store,
    *,
    source: str | None = None,
    url: str | None = None,
    minor: bool = False,
    page: int = 1,
    per_page: int = PER_PAGE,
    with_rows: bool = False,
) -> Page:
    """Changes (one per new version), newest first, each with its article's ``headline``."""
    query = change_filter(source, url, minor)
    total = store.diffs.count_documents(query)
    cursor = (
        store.diffs.find(query, None if with_rows else _CHANGE_FIELDS)
        .sort([("fetched_at", DESCENDING), ("url", ASCENDING), ("version", DESCENDING)])
        .skip((page - 1) * per_page)
        .limit(per_page)
    )
    changes = list(cursor)
    titles = article_titles(store, {c["url"] for c in changes})
    for change in changes:
        change["headline"] = new_headline(change, titles.get(change["url"], ""))
    return Page(changes, page, per_page, total)


def article_titles(store: Store, urls: set[str]) -> dict[str, str]:
    """Latest headline of each article."""
    if not urls:
        return {}
    found = store.articles.find({"_id": {"$in": sorted(urls)}}, {"title": 1})
    return {a["_id"]: a.get("title") or "" for a in found}


def new_headline(change: dict[str, Any], latest_title: str) -> str:
    """The headline of the change's new version: the new side of the stored headline diff
    when the headline changed, else the article's latest headline."""
    if change.get("title"):
        return "".join(text for tag, text in change["title"] if tag != "-")
    return latest_title


def sources(store: Store) -> list[str]:
    return sorted(s for s in store.articles.distinct("source") if s)


def find_article(store: Store, url: str) -> dict[str, Any] | None:
    """The tracked article at ``url``, as given or in canonical form (tracking tags dropped)."""
    url = url.strip()
    article = store.articles.find_one({"_id": url})
    if article is None:
        canonical = canonical_url(url)
        if canonical and canonical != url:
            article = store.articles.find_one({"_id": canonical})
    return article


def version_list(store: Store, url: str) -> list[dict[str, Any]]:
    """The article's versions in order (without their text), each with its diff's summary
    fields (``words_added``, ``words_removed``, ``headline_changed``) from version 2 on."""
    diffs = {
        d["version"]: d
        for d in store.diffs.find(
            {"url": url},
            {"version": 1, "words_added": 1, "words_removed": 1, "title": 1, "other_headlines": 1},
        )
    }
    versions = list(store.versions.find({"url": url}, _VERSION_FIELDS).sort("version", ASCENDING))
    for version in versions:
        diff = diffs.get(version["version"])
        version["words_added"] = diff["words_added"] if diff else None
        version["words_removed"] = diff["words_removed"] if diff else None
        version["headline_changed"] = bool(diff and headlines_changed(diff))
    return versions


def compare(store: Store, article: dict[str, Any], old: int, new: int) -> Comparison | None:
    """Versions ``old`` < ``new`` of the article and their diff: the stored one when ``new`` was
    diffed against ``old``, else computed from the two stored versions. None if a version does
    not exist."""
    url = article["_id"]
    old_version = store.versions.find_one({"url": url, "version": old})
    new_version = store.versions.find_one({"url": url, "version": new})
    if old_version is None or new_version is None:
        return None
    # the stored diff of ``new`` is from the version the page showed before it: usually
    # new - 1, an earlier one after a flip-flop
    diff = store.diffs.find_one({"url": url, "version": new, "from_version": old})
    stored = diff is not None
    if diff is None:
        diff = diff_versions(old_version, new_version)
    return Comparison(article, old_version, new_version, diff, stored)


def search(store: Store, query: str, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Articles whose URL contains ``query`` (or is its canonical form), or whose headline
    contains all its words, most recently changed first."""
    words = query.split()
    if not words:
        return Page([], page, per_page, 0)

    def contains(text: str) -> dict[str, str]:
        return {"$regex": re.escape(text), "$options": "i"}

    alternatives = [{"_id": contains(query.strip())},
                    {"$and": [{"title": contains(w)} for w in words]}]  # fmt: skip
    canonical = canonical_url(query.strip())
    if canonical:
        alternatives.append({"_id": canonical})
    found = {"$or": alternatives}
    total = store.articles.count_documents(found)
    cursor = (
        store.articles.find(found)
        .sort([("last_changed", DESCENDING), ("_id", ASCENDING)])
        .skip((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(cursor), page, per_page, total)
