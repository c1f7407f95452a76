"""Search words: what the viewer's search looks articles up by, stored on each article.

``search_words`` holds the lower-cased, accent-folded tokens of the article's current headline
and of its address (host, path, query), indexed, so a search is an index lookup of the query's
tokens (all of them) instead of one regular expression per word over every article. The
tracker writes it with the headline; ``backfill`` gives it to articles stored before it existed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pymongo import ASCENDING, UpdateOne

FIELD = "search_words"
MAX_TOKEN = 64  # characters kept of one token (index keys stay small)
MAX_WORDS = 200  # tokens kept per article
# A run of letters/digits, or one CJK ideograph or kana (those scripts put no spaces between
# words, so each character is a token and a query's characters must all be in the headline).
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


def tokens(text: str) -> list[str]:
    """The search tokens of ``text`` in order: case- and accent-folded ("Élysée" -> "elysee")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )
    return [token[:MAX_TOKEN] for token in _TOKEN.findall(folded)]


def address_tokens(url: str) -> list[str]:
    """The tokens of an address without its scheme ("https" would match every article)."""
    return tokens(url.partition("://")[2] or url)


def search_words(url: str, title: str) -> list[str]:
    """The distinct tokens of the headline, then of the address (at most MAX_WORDS)."""
    return list(dict.fromkeys([*tokens(title or ""), *address_tokens(url)]))[:MAX_WORDS]


def backfill(articles: Any, batch: int = 1000) -> int:
    """Give ``search_words`` to the articles that lack it, then index it; returns how many.
    The index is made last, so a store that has it needs no backfill (``Store`` skips it)."""
    missing = articles.find({FIELD: {"$exists": False}}, {"title": 1})
    updates: list[UpdateOne] = []
    done = 0
    for doc in missing:
        words = search_words(doc["_id"], doc.get("title") or "")
        updates.append(UpdateOne({"_id": doc["_id"], FIELD: {"$exists": False}},
                                 {"$set": {FIELD: words}}))  # fmt: skip
        if len(updates) >= batch:
            done += articles.bulk_write(updates, ordered=False).modified_count
            updates = []
    if updates:
        done += articles.bulk_write(updates, ordered=False).modified_count
    articles.create_index([(FIELD, ASCENDING)])
    return done
