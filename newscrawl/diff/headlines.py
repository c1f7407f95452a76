"""Diffs of the headline and of the page's other headlines."""

from __future__ import annotations

from collections.abc import Sequence

from newscrawl.diff.align import Budget
from newscrawl.diff.pairing import Similarity
from newscrawl.diff.segments import Segment, Segments
from newscrawl.diff.words import diff_words
from newscrawl.normalize import normalize_for_hash


def diff_title(old: str, new: str, budget: Budget) -> list[Segment] | None:
    if old == new:
        return None
    out = Segments()
    diff_words(old, new, out, budget)
    return out.segments()


def diff_other_headlines(
    old: Sequence[str], new: Sequence[str], budget: Budget
) -> list[list[Segment]] | None:
    """Removed and added headlines, each removed one paired with the most similar added one
    when they are alike enough to be one edited headline."""
    new_keys = {normalize_for_hash(h) for h in new}
    old_keys = {normalize_for_hash(h) for h in old}
    removed = [h for h in old if normalize_for_hash(h) not in new_keys]
    added = [h for h in new if normalize_for_hash(h) not in old_keys]
    if not (removed or added):
        return None
    changes: list[list[Segment]] = []
    similarity = Similarity()
    for headline in removed:
        match = max(added, key=lambda h: similarity(headline, h), default=None)
        if match is not None and similarity(headline, match):
            added.remove(match)
            changes.append(diff_title(headline, match, budget) or [])
        else:
            changes.append([["-", headline]])
    changes += [[["+", headline]] for headline in added]
    return changes
