"""What one article rotates: blocks two fetches of it a moment apart disagreed on.

A page that rewords furniture on every request (a fact box, a "most read" list drawn from a
pool, an A/B-tested teaser) shows it as one of a few wordings per fetch. The confirmation
re-fetch (``newscrawl.confirm``) tells such a change from an edit by the blocks its two
fetches agree on, but it can be fooled by the stored version: when that version caught a
rare wording and both new fetches happen to show a common one, the block looks edited.

So every confirmation that finds its two fetches disagreeing records, in the article
document (``unstable_blocks``, the last ``KEEP`` keys), the blocks that one fetch had and
the other did not. ``persistent_change`` then leaves out of its evidence a block seen
rotating at two checks or more (``SEEN_AGAIN``), whether new in both fetches or gone from
both: a text this page has shown, withdrawn and shown again. An edit that lands between the
two fetches of one check (a paragraph added or removed) is seen in disagreement only once,
so it still counts at the next check.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from newscrawl.normalize import normalize_for_hash
from newscrawl.store import Store

FIELD = "unstable_blocks"
KEEP = 200  # keys kept per article, newest last (about 3 KB)
SEEN_AGAIN = 2  # checks a block must have been seen rotating at to be discounted


def block_key(text: str) -> str:
    """A short key of a block's hash form."""
    return hashlib.sha1(normalize_for_hash(text).encode("utf-8")).hexdigest()[:12]


def disagreeing(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Keys of the blocks one fetch has and the other has not, each once."""
    one, two = ({block_key(p) for p in blocks if p.strip()} for blocks in (first, second))
    return sorted(one ^ two)


def counts(article: dict[str, Any] | None) -> Counter[str]:
    """How many checks each recorded block was seen rotating at."""
    return Counter((article or {}).get(FIELD) or [])


def remember(store: Store, url: str, first: Sequence[str], second: Sequence[str]) -> Counter[str]:
    """Record the blocks two fetches of a check disagreed on; the article's counts after."""
    article = store.articles.find_one({"_id": url}, {FIELD: 1})
    keys = disagreeing(first, second)
    if article is None or not keys:
        return counts(article)
    kept = [*(article.get(FIELD) or []), *keys][-KEEP:]
    store.articles.update_one({"_id": url}, {"$set": {FIELD: kept}})
    return Counter(kept)


def rotated(unstable: Counter[str], block: str) -> bool:
    """Whether this block was seen rotating at ``SEEN_AGAIN`` checks or more."""
    return bool(unstable) and unstable[block_key(block)] >= SEEN_AGAIN
