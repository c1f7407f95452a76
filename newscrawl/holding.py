"""Held changes: a re-check's new text becomes a version once the next check shows it too.

Furniture that an extractor keeps as article text (a "most read" list, related teasers, a
sign-up box, a rendered time) rewrites itself between checks, and on a single fetch it can
look like prose. The confirmation re-fetch (``newscrawl.confirm``) catches furniture that
rotates per request; furniture that changes between checks passes it. An editor's change,
by contrast, stays. So a tracked article's new text is first *held* (``held_changes``, one
document per article, with the page as served) and the article is re-checked after the
policy's initial interval. At that check, with S the stored text, A the held fetch and B
this one:

* B shows A's change (the same text, a 304 for A's validators, or ``persistent_change``:
  A's new blocks still there, the blocks A dropped still gone, a new headline kept): A is
  stored as the version, at A's time, with A's page as its evidence; B is then decided
  against it (unchanged, or held in turn);
* B is back to S (its text, or a 304 for S's validators), or shows none of A's change: A
  was transient. It is kept, as the blocks it added and dropped, in ``transient_changes``
  (evidence of what the page showed once), and B, if it differs from S, is held in its
  place.

An article's first fetch is stored at once (version 1), and so is the text of a removed
article that is back, and every change when ``NEWSCRAWL_HOLD_CHANGES`` is off. The cost: a
version is stored one check later than it was first seen (its ``fetched_at`` is the first
sight; ``confirmed_at`` the check that confirmed it), and an edit reverted before the next
check is a transient change, not a version.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from newscrawl.article import Fetched
from newscrawl.normalize import normalize_for_hash
from newscrawl.snapshots import LEVEL, RawPage, compress, decompress
from newscrawl.store import Store, as_utc
from newscrawl.unstable import rotated

HELD = "held_changes"
TRANSIENT = "transient_changes"


def _blocks(paragraphs: Sequence[str]) -> list[str]:
    return [normalize_for_hash(p) for p in paragraphs if p.strip()]


# (title, paragraphs, other headlines) of one text
Text = tuple[str, Sequence[str], Sequence[str]]


def _headlines(text: Text) -> set[str]:
    return {normalize_for_hash(h) for h in (text[0], *text[2]) if h.strip()}


def persistent_change(
    stored: Text, first: Text, second: Text, unstable: Counter[str] | None = None
) -> bool:
    """Whether the change from the stored text to the first fetch is also in the second.

    ``unstable``: the article's blocks seen rotating (``newscrawl.unstable``), left out of
    the evidence."""
    unstable = unstable or Counter()
    old_h, first_h, second_h = map(_headlines, (stored, first, second))
    if (first_h - old_h) & second_h or (old_h - first_h) - second_h:
        return True  # a headline wording both fetches show, or one both have dropped
    old, new, again = map(_blocks, (stored[1], first[1], second[1]))
    # Blocks of the first fetch that the second does not have in the same place rotate.
    stable: set[int] = set()
    for tag, i1, i2, _, _ in SequenceMatcher(None, new, again, autojunk=False).get_opcodes():
        if tag == "equal":
            stable.update(range(i1, i2))
    in_second = Counter(again)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if any(j in stable and not rotated(unstable, new[j]) for j in range(j1, j2)):
            return True  # new text that both fetches show
        gone = (block for block in old[i1:i2] if not rotated(unstable, block))
        if j1 == j2 and any(in_second[block] == 0 for block in gone):
            return True  # a stored block gone from both fetches
    return False


@dataclasses.dataclass(frozen=True)
class Held:
    """A fetch whose change waits for the next check, and the page it came from."""

    page: Fetched
    raw: RawPage | None


def text_of(doc: dict[str, Any] | Fetched) -> tuple[str, list[str], list[str]]:
    """(title, paragraphs, other headlines) of a version document or a fetch."""
    if isinstance(doc, Fetched):
        return doc.text()
    return doc["title"], list(doc["paragraphs"]), list(doc.get("other_headlines") or [])


def confirms(
    stored: dict[str, Any], held: Fetched, page: Fetched, unstable: Counter[str] | None = None
) -> bool:
    """Whether this fetch shows the held fetch's change from the stored version.

    A not-modified answer (a 304, or the same bytes again) confirms it only when its request
    was made against the held fetch (the raw hash, read with the validators, is the held
    page's): one made against the stored version (another node's re-check, read before the
    hold) says the page is back to that version."""
    if not page.content_hash:
        return bool(held.raw_hash) and page.raw_hash == held.raw_hash
    if page.content_hash == held.content_hash:
        return True
    return persistent_change(text_of(stored), text_of(held), text_of(page), unstable)


class Holding:
    """The ``held_changes`` and ``transient_changes`` collections."""

    def __init__(self, store: Store) -> None:
        self.held = store.db[HELD]
        self.transient = store.db[TRANSIENT]

    def hold(self, page: Fetched, raw: RawPage | None) -> None:
        """Keep this fetch (replacing an earlier held one) until the next check."""
        # _id in the document too: some MongoDB-compatible servers (nx-27017) do not take an
        # upsert's _id from its filter
        doc: dict[str, Any] = {"_id": page.url, "page": dataclasses.asdict(page), "raw": None}
        if raw is not None:
            doc["raw"] = {**dataclasses.asdict(raw), "body": compress(raw.body, level=LEVEL)}
        self.held.replace_one({"_id": page.url}, doc, upsert=True)

    def get(self, url: str, content_hash: str) -> Held | None:
        """The held fetch of this article with this hash (another one is stale: None)."""
        doc = self.held.find_one({"_id": url})
        if doc is None or doc["page"].get("content_hash") != content_hash:
            return None
        fields = {**doc["page"], "fetched_at": as_utc(doc["page"]["fetched_at"])}
        raw = None
        if doc.get("raw"):
            body = decompress(bytes(doc["raw"]["body"]))
            raw = RawPage(**{**doc["raw"], "body": body,
                             "fetched_at": as_utc(doc["raw"]["fetched_at"])})  # fmt: skip
        return Held(Fetched(**fields), raw)

    def prune(self, before: datetime) -> int:
        """Forget transient changes gone by ``before`` (``NEWSCRAWL_TRANSIENT_TTL``): a page
        whose furniture outlasts no check leaves one per check."""
        return self.transient.delete_many({"gone_by": {"$lt": before}}).deleted_count

    def release(self, url: str) -> None:
        self.held.delete_one({"_id": url})

    def drop_transient(self, stored: dict[str, Any], held: Fetched, gone_by: datetime) -> None:
        """Record a held change the next check no longer showed, as what it added and
        dropped against the stored version, and forget the held fetch."""
        old = {normalize_for_hash(p) for p in stored["paragraphs"]}
        new = {normalize_for_hash(p) for p in held.paragraphs}
        self.transient.insert_one({
            "url": held.url,
            "source": held.source,
            "first_seen": held.fetched_at,
            "gone_by": gone_by,
            "content_hash": held.content_hash,
            "title": held.title if held.title != stored["title"] else None,
            "added": [p for p in held.paragraphs if normalize_for_hash(p) not in old],
            "dropped": [p for p in stored["paragraphs"] if normalize_for_hash(p) not in new],
        })  # fmt: skip
        self.release(held.url)
