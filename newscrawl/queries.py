"""The store's read queries behind the viewer, the feeds and the commands (history, diff,
card, export): no Flask here, so a command imports no web framework.

Only the pymongo API (find/sort/skip/limit/count_documents/distinct, ``$regex`` on escaped
input), so they run on MongoDB and on the embedded store alike. Nothing here writes. Each query
gets what is left of the request's time limit as ``max_time_ms`` (see ``timelimit``).

Each query is shaped so that an index answers it on both stores, whatever the store's size
(docs/scaling.md): lookups by key or ``$in``; the lists of recent changes read by the
changes' numbers (``newscrawl.recent``), not sorted over every diff; sources from the small
``source_days`` collection, not from the articles.

It is longer than the house's ~400 lines on purpose: every read the viewer and the commands
make is here, in one file, so that one look shows each query beside its index and its time
limit (issue #16 asked for the queries in one place; docs/scaling.md lists them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING

from newscrawl import events, recent, record
from newscrawl.bounds import unpack_version
from newscrawl.diff import diff_versions, headlines_changed
from newscrawl.search import FIELD, address_tokens, tokens
from newscrawl.store import Store, as_utc
from newscrawl.urls import canonical_url
from newscrawl.web.diffcache import DiffCache
from newscrawl.web.timelimit import remaining_ms

PER_PAGE = 30
# A search has at most this many characters and words, and lists at most
# MAX_MATCHES articles (the most recently changed).
MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 32
MAX_MATCHES = 1000
# Versions compared on the fly get this long for a word-level diff before it turns coarse
# (paragraph level); a paragraph longer than MAX_WORD_DIFF_CHARS is compared coarsely at once.
DIFF_TIME_LIMIT = 1.0
MAX_WORD_DIFF_CHARS = 100_000
_NEVER = datetime.min.replace(tzinfo=UTC)
# Diff fields a list of changes needs: everything but the aligned paragraph rows.
# Passed as copies: the embedded store adds "_id" to a projection it is given, which would
# turn these exclusions into a mixed projection for the next (MongoDB) query.
_CHANGE_FIELDS = {"paragraphs": 0}
_VERSION_FIELDS = {"paragraphs": 0, "packed": 0}
_CHANGE_ORDER = [("fetched_at", DESCENDING), ("url", ASCENDING), ("version", DESCENDING)]
# A filtered feed of changes looks at most at this many of the latest changes.
MAX_FILTER_SCAN = 2000
SCAN_STEP = 200  # changes read at a time while scanning
EXPORT_BATCH = 500  # articles read at a time by ``articles_oldest_first``


@dataclass(frozen=True)
class Page:
    """One page of results and where it sits among all of them."""

    items: list[dict[str, Any]]
    number: int
    per_page: int
    total: int
    capped: bool = False  # more matched than ``total`` (searches list at most MAX_MATCHES)

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


def change_filter(
    source: str | None = None,
    url: str | None = None,
    minor: bool = False,
    min_score: float | None = None,
) -> dict:
    """The diffs query for a list of changes; minor (punctuation/whitespace) ones left out
    unless asked for; with ``min_score``, only changes scored at least that
    (``newscrawl.significance``; a diff stored before scores existed has none)."""
    query: dict[str, Any] = {}
    if min_score is not None:
        query["significance"] = {"$gte": min_score}
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
    min_score: float | None = None,
    order: str = "time",
) -> Page:
    """Changes (one per new version), newest first or (``order="significance"``) most
    significant first, each with its article's ``headline``.

    Newest first and unscored, of all sources or of one, the page is read by the changes'
    numbers (``newscrawl.recent``): in the order they were stored, each page sorted by time.
    """
    projection = None if with_rows else dict(_CHANGE_FIELDS)
    if url is None and min_score is None and order == "time":
        changes, total = _numbered(store, source, minor, (page - 1) * per_page, per_page,
                                   projection)  # fmt: skip
        _add_headlines(store, changes)
        return Page(changes, page, per_page, total)
    query = change_filter(source, url, minor, min_score)
    total = store.diffs.count_documents(query, **_max_time())
    keys = [("fetched_at", DESCENDING), ("url", ASCENDING), ("version", DESCENDING)]
    if order == "significance":
        keys.insert(0, ("significance", DESCENDING))
    cursor = (
        store.diffs.find(query, projection)
        .sort(keys)
        .skip((page - 1) * per_page)
        .limit(per_page)
        .max_time_ms(remaining_ms())
    )
    changes = list(cursor)
    _add_headlines(store, changes)
    return Page(changes, page, per_page, total)


def _numbered(
    store: Store,
    source: str | None,
    minor: bool,
    skip: int,
    count: int,
    projection: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], int]:
    """(the ``count`` changes after the newest ``skip`` of a list of recent changes, sorted
    by time; the list's length), by their numbers."""
    field, key = recent.list_of(source, minor)
    top = recent.length(store.db, key, max_time_ms=remaining_ms())
    if skip >= top:
        return [], top
    query = recent.page_filter(field, top, skip, count, source)
    cursor = store.diffs.find(query, projection, max_time_ms=remaining_ms())
    return list(cursor.sort(_CHANGE_ORDER)), top


def _add_headlines(store: Store, changes: list[dict[str, Any]]) -> None:
    titles = article_titles(store, {c["url"] for c in changes})
    for change in changes:
        change["headline"] = new_headline(change, titles.get(change["url"], ""))


def counted_changes(
    store: Store,
    keep: Callable[[dict[str, Any]], bool],
    *,
    source: str | None = None,
    url: str | None = None,
    minor: bool = False,
    min_score: float | None = None,
    limit: int = PER_PAGE,
    scan: int = MAX_FILTER_SCAN,
) -> list[dict[str, Any]]:
    """The newest ``limit`` changes that ``keep`` (a per-source filter, see
    ``newscrawl.filters``) lets through, with their rows and ``headline``: the latest
    ``scan`` changes are looked at, summaries only (by their numbers, as ``recent_changes``,
    when unscored and of all sources or one), then the kept ones read in full."""
    kept = []
    for change in _latest_summaries(store, source, url, minor, min_score, scan):
        if keep(change):
            kept.append(change["_id"])
            if len(kept) == limit:
                break
    found = store.diffs.find({"_id": {"$in": kept}}, max_time_ms=remaining_ms())
    docs = {doc["_id"]: doc for doc in found}
    changes = [docs[key] for key in kept if key in docs]
    _add_headlines(store, changes)
    return changes


def _latest_summaries(
    store: Store,
    source: str | None,
    url: str | None,
    minor: bool,
    min_score: float | None,
    scan: int,
) -> Iterator[dict[str, Any]]:
    """The newest ``scan`` changes, without their rows, newest first."""
    if url is None and min_score is None:
        for skip in range(0, scan, SCAN_STEP):
            count = min(SCAN_STEP, scan - skip)
            changes, total = _numbered(store, source, minor, skip, count, dict(_CHANGE_FIELDS))
            yield from changes
            if skip + count >= total:
                return
        return
    yield from (
        store.diffs.find(change_filter(source, url, minor, min_score), dict(_CHANGE_FIELDS))
        .sort(_CHANGE_ORDER)
        .limit(scan)
        .max_time_ms(remaining_ms())
    )


def events_of(store: Store, url: str) -> list[dict[str, Any]]:
    """The article's lifecycle events (``newscrawl.events``), oldest first."""
    return events.article_events(store.db, url, max_time_ms=remaining_ms())


def latest_events(store: Store, source: str | None = None, limit: int = 50) -> list[dict]:
    """The newest events (of one source), each with its article's ``headline``."""
    found = events.recent_events(store.db, limit, source=source, max_time_ms=remaining_ms())
    titles = article_titles(store, {e["url"] for e in found})
    for event in found:
        event["headline"] = titles.get(event["url"], "")
    return found


def article_titles(store: Store, urls: set[str]) -> dict[str, str]:
    """Latest headline of each article."""
    if not urls:
        return {}
    found = store.articles.find(
        {"_id": {"$in": sorted(urls)}}, {"title": 1}, max_time_ms=remaining_ms()
    )
    return {a["_id"]: a.get("title") or "" for a in found}


def new_headline(change: dict[str, Any], latest_title: str) -> str:
    """The headline of the change's new version: the new side of the stored headline diff
    when the headline changed, else the article's latest headline."""
    if change.get("title"):
        return "".join(text for tag, text in change["title"] if tag != "-")
    return latest_title


def sources(store: Store) -> list[str]:
    """Sources with counters (``newscrawl.record``: a small collection, one document per
    source and day; no scan of the articles)."""
    cursor = store.db[record.COLLECTION].find({"day": {"$exists": True}}, {"source": 1})
    return sorted(s for s in cursor.max_time_ms(remaining_ms()).distinct("source") if s)


def articles_oldest_first(store: Store, source: str | None = None) -> Iterator[dict[str, Any]]:
    """Every tracked article (of one ``source``), first seen first (``scrapy export``).

    MongoDB walks its ``first_seen`` index. The embedded store would sort with a comparison
    function in Python (0.5 ms a document): its articles' times are sorted here on plain
    keys, then read EXPORT_BATCH at a time by key."""
    query = {"source": source} if source else {}
    if isinstance(store.client, pymongo.MongoClient):
        yield from store.articles.find(query).sort("first_seen", ASCENDING)
        return
    found = store.articles.find(query, {"first_seen": 1})
    urls = [doc["_id"] for doc in sorted(found, key=lambda doc: _moment(doc.get("first_seen")))]
    for start in range(0, len(urls), EXPORT_BATCH):
        wanted = urls[start : start + EXPORT_BATCH]
        docs = {doc["_id"]: doc for doc in store.articles.find({"_id": {"$in": wanted}})}
        yield from (docs[url] for url in wanted if url in docs)


def diffs_by_version(store: Store, url: str) -> dict[int, dict[str, Any]]:
    """The article's stored diffs, rows included, by the version they lead to."""
    return {d["version"]: d for d in store.diffs.find({"url": url}, max_time_ms=remaining_ms())}


def find_article(store: Store, url: str) -> dict[str, Any] | None:
    """The tracked article at ``url``, as given or in canonical form (tracking tags dropped)."""
    url = url.strip()
    article = store.articles.find_one({"_id": url}, max_time_ms=remaining_ms())
    if article is None:
        canonical = canonical_url(url)
        if canonical and canonical != url:
            article = store.articles.find_one({"_id": canonical}, max_time_ms=remaining_ms())
    return article


def version_list(store: Store, url: str) -> list[dict[str, Any]]:
    """The article's versions in order (without their text), each with its diff's summary
    fields (``words_added``, ``words_removed``, ``headline_changed``, ``kinds``) from version
    2 on."""
    diffs = {
        d["version"]: d
        for d in store.diffs.find(
            {"url": url},
            {
                "version": 1,
                "words_added": 1,
                "words_removed": 1,
                "title": 1,
                "other_headlines": 1,
                "kinds": 1,
            },  # fmt: skip
            max_time_ms=remaining_ms(),
        )
    }
    found = store.versions.find({"url": url}, dict(_VERSION_FIELDS), max_time_ms=remaining_ms())
    versions = list(found.sort("version", ASCENDING))
    for version in versions:
        diff = diffs.get(version["version"])
        version["words_added"] = diff["words_added"] if diff else None
        version["words_removed"] = diff["words_removed"] if diff else None
        version["headline_changed"] = bool(diff and headlines_changed(diff))
        version["kinds"] = diff.get("kinds") if diff else None
    return versions


def compare(
    store: Store,
    article: dict[str, Any],
    old: int,
    new: int,
    *,
    cache: DiffCache | None = None,
    time_limit: float = DIFF_TIME_LIMIT,
) -> Comparison | None:
    """Versions ``old`` < ``new`` of the article and their diff: the stored one for consecutive
    versions, else computed from the two stored versions (bounded by ``time_limit`` and kept in
    ``cache``). None if a version does not exist."""
    url = article["_id"]
    old_version = unpack_version(
        store.versions.find_one({"url": url, "version": old}, max_time_ms=remaining_ms())
    )
    new_version = unpack_version(
        store.versions.find_one({"url": url, "version": new}, max_time_ms=remaining_ms())
    )
    if old_version is None or new_version is None:
        return None
    # the stored diff of ``new`` is from the version the page showed before it: usually
    # new - 1, an earlier one after a flip-flop
    diff = store.diffs.find_one(
        {"url": url, "version": new, "from_version": old}, max_time_ms=remaining_ms()
    )
    stored = diff is not None
    if diff is None:
        key = (url, old, new, old_version.get("content_hash"), new_version.get("content_hash"))
        diff = cache.get(key) if cache is not None else None
        if diff is None:
            diff = bounded_diff(old_version, new_version, time_limit)
            if cache is not None:
                cache.put(key, diff, _text_size(old_version) + _text_size(new_version))
    return Comparison(article, old_version, new_version, diff, stored)


def bounded_diff(old: dict[str, Any], new: dict[str, Any], time_limit: float) -> dict[str, Any]:
    """``diff_versions`` within ``time_limit``; coarse at once when a paragraph is too long
    for a word diff in that time."""
    longest = max(map(len, [*old["paragraphs"], *new["paragraphs"], ""]))
    return diff_versions(old, new, 0.0 if longest > MAX_WORD_DIFF_CHARS else time_limit)


def _text_size(version: dict[str, Any]) -> int:
    return len(version.get("title") or "") + sum(map(len, version["paragraphs"]))


def _max_time() -> dict[str, Any]:
    """``count_documents``' time limit argument (none without a deadline)."""
    ms = remaining_ms()
    return {} if ms is None else {"maxTimeMS": ms}


class BadQuery(ValueError):
    """A search out of bounds (too long, too many words): the viewer answers 400."""


def search_filter(query: str) -> dict[str, Any] | None:
    """The articles query for a search, None when it has no words.

    Words are looked up in the indexed ``search_words`` (all of them: headline and address
    words, any order, any case, accents ignored). A query that is an http(s) address finds
    the articles whose address starts with it, or is its canonical form; its complete words
    narrow the lookup through the index.
    """
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(f"A search is at most {MAX_QUERY_CHARS} characters long.")
    words = tokens(query)
    is_address = not any(c.isspace() for c in query) and query.lower().startswith(
        ("http://", "https://")
    )
    if not is_address and len(words) > MAX_QUERY_WORDS:
        raise BadQuery(f"A search has at most {MAX_QUERY_WORDS} words.")
    words = list(dict.fromkeys(words))
    if not words:
        return None
    if not is_address:
        return {"$and": [{FIELD: word} for word in words]}
    narrowing = address_tokens(query)
    if query[-1].isalnum():  # the last word may be cut short
        narrowing = narrowing[:-1]
    pattern = f"^{re.escape(query)}"
    canonical = canonical_url(query)
    if canonical and canonical != query:
        pattern = f"^(?:{re.escape(query)}|{re.escape(canonical)}$)"
        narrowing = [word for word in narrowing if word in set(address_tokens(canonical))]
    found: dict[str, Any] = {"_id": {"$regex": pattern}}
    if narrowing:
        found["$and"] = [{FIELD: word} for word in dict.fromkeys(narrowing)][-MAX_QUERY_WORDS:]
    return found


def search(
    store: Store, query: str, page: int = 1, per_page: int = PER_PAGE, *, legacy: bool = False
) -> Page:
    """Articles matching ``query`` (see ``search_filter``), most recently changed first, at
    most MAX_MATCHES of them. With ``legacy``, articles stored before ``search_words`` existed
    are searched too, by regular expressions (slow: only until the next crawl fills them in).
    """
    found = search_filter(query)
    if found is None:
        return Page([], page, per_page, 0)
    if legacy:
        found = {"$or": [found, {FIELD: {"$exists": False}, **_legacy_filter(query)}]}
    # One pass over the matches for their order and number; then only this page's documents.
    ids = _recent_first(store, found)
    capped = len(ids) > MAX_MATCHES
    ids = ids[:MAX_MATCHES]
    wanted = ids[(page - 1) * per_page : page * per_page]
    docs = {
        doc["_id"]: doc
        for doc in store.articles.find({"_id": {"$in": wanted}}, max_time_ms=remaining_ms())
    }
    items = [docs[url] for url in wanted if url in docs]
    return Page(items, page, per_page, len(ids), capped)


def _recent_first(store: Store, found: dict[str, Any]) -> list[str]:
    """Addresses of the matching articles, most recently changed first, MAX_MATCHES + 1 at most."""
    cursor = store.articles.find(found, {"last_changed": 1}, max_time_ms=remaining_ms())
    if isinstance(store.client, pymongo.MongoClient):  # the server sorts, and stops early
        order = [("last_changed", DESCENDING), ("_id", ASCENDING)]
        return [doc["_id"] for doc in cursor.sort(order).limit(MAX_MATCHES + 1)]
    # The embedded store sorts with a comparison function in Python, 0.5 ms a document:
    # sorting its matches here on plain keys takes a hundredth of that.
    docs = sorted(cursor, key=lambda doc: doc["_id"])
    docs.sort(key=lambda doc: _moment(doc.get("last_changed")), reverse=True)
    return [doc["_id"] for doc in docs[: MAX_MATCHES + 1]]


def _moment(value: Any) -> datetime:
    """A stored time as a sort key; a missing one sorts before every time, as in MongoDB."""
    return as_utc(value) if value else _NEVER


def _legacy_filter(query: str) -> dict[str, Any]:
    """The search as it was before ``search_words``: address or headline containing the text."""

    def contains(text: str) -> dict[str, str]:
        return {"$regex": re.escape(text), "$options": "i"}

    words = query.split()[:MAX_QUERY_WORDS]
    return {"$or": [{"_id": contains(query.strip())},
                    {"$and": [{"title": contains(w)} for w in words]}]}  # fmt: skip


def lacks_search_words(store: Store) -> bool:
    """Whether some article was stored before ``search_words`` existed (not backfilled yet)."""
    missing = store.articles.find_one({FIELD: {"$exists": False}}, {"_id": 1},
                                      max_time_ms=remaining_ms())  # fmt: skip
    return missing is not None
