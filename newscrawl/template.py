"""Per-source template: the blocks a source repeats across its articles, learned from the store.

A sign-up line, a consent sentence, a "Follow us on …" footer the extractor keeps are the
same in every article of a source, and not any article's text: once a block has been stored
in versions of ``NEWSCRAWL_TEMPLATE_ARTICLES`` *other* articles of the source, it is template.
``newscrawl.furniture`` then treats template blocks (and text replacing only template blocks)
as furniture. The template is data, not code: one ``template_blocks`` document per (source,
block, article), written when a version is stored; nothing names a source or a block.

Both sides of a comparison use the template as it is at comparison time, so a block entering
or leaving the template never makes a version by itself.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from pymongo import ASCENDING, UpdateOne

from newscrawl.normalize import normalize_for_hash
from newscrawl.store import Store

COLLECTION = "template_blocks"
MAX_WORDS = 60  # longer blocks are an article's own prose: not worth remembering


def _key(block: str) -> str:
    return hashlib.sha256(block.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _blocks(paragraphs: Iterable[str]) -> dict[str, str]:
    """Key -> normalized block, for the blocks short enough to be template."""
    normalized = (normalize_for_hash(p) for p in paragraphs)
    return {_key(b): b for b in normalized if b and len(b.split()) <= MAX_WORDS}


class Templates:
    def __init__(self, store: Store, articles: int) -> None:
        self.collection = store.db[COLLECTION]
        self.articles = articles
        self.collection.create_index([("source", ASCENDING), ("key", ASCENDING)])

    def learn(self, source: str, url: str, paragraphs: Iterable[str]) -> None:
        """Remember which of the article's blocks it has (idempotent)."""
        writes = [
            UpdateOne(
                {"_id": _key(f"{source}\x1f{key}\x1f{url}")},
                {"$set": {"source": source, "key": key, "url": url}},
                upsert=True,
            )
            for key in _blocks(paragraphs)
        ]
        if writes:
            self.collection.bulk_write(writes, ordered=False)

    def blocks(self, source: str, url: str, paragraphs: Iterable[str]) -> frozenset[str]:
        """Which of ``paragraphs`` (normalized) are the source's template, for ``url``."""
        candidates = _blocks(paragraphs)
        if not candidates:
            return frozenset()
        query = {"source": source, "key": {"$in": list(candidates)}, "url": {"$ne": url}}
        counts = Counter(doc["key"] for doc in self.collection.find(query, {"key": 1}))
        return frozenset(candidates[k] for k, n in counts.items() if n >= self.articles)
