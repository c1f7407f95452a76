"""Per-article furniture: a change confined to short, non-sentence blocks is not an edit.

Page furniture that an extractor keeps as article text (a dateline with the time it was
rendered, "Updated 5 minutes ago", a view count, a credit line, a "Read more: …" teaser)
rewrites itself on every fetch while the article's prose around it stays the same. An
editor's change, by contrast, touches the prose or the headline. So a new text is *furniture
only* when, aligned block by block with the latest stored version, every block that changed,
appeared or disappeared is short and not a sentence, and at least one sentence is unchanged
around them. The tracker then stores no version (``newscrawl/articles/furniture``); the next
real edit is diffed against the latest version, so nothing is lost from its diff.

Headline changes (title, other headlines) are always edits.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from difflib import SequenceMatcher

from newscrawl.normalize import normalize_for_hash

MAX_WORDS = 12  # a block of more words is prose, whatever its punctuation
MAX_CHARS = 90  # the same for scripts written without spaces
# A sentence ends with terminal punctuation, possibly inside quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"’”»)\]]*$")
_MIN_SENTENCE_WORDS = 3
_MIN_SENTENCE_CHARS = 12


def is_sentence(text: str) -> bool:
    """Prose: a long block, or one of a few words ending like a sentence."""
    words = len(text.split())
    if words > MAX_WORDS or len(text) > MAX_CHARS:
        return True
    # Scripts written without spaces (Chinese, Japanese) count characters instead of words.
    long_enough = words >= _MIN_SENTENCE_WORDS or len(text) >= _MIN_SENTENCE_CHARS * max(words, 1)
    return bool(_SENTENCE_END.search(text.rstrip())) and long_enough


def furniture_only(
    old_title: str,
    old_paragraphs: Sequence[str],
    old_headlines: Sequence[str],
    new_title: str,
    new_paragraphs: Sequence[str],
    new_headlines: Sequence[str],
    edges: int | None = None,
    template: Collection[str] = frozenset(),
) -> bool:
    """Whether the new text differs from the old only in short non-sentence blocks (with
    ``edges``: only within that many blocks of the body's start or end).

    ``template`` holds the normalized blocks the source repeats across its articles
    (``newscrawl.template``): they count as furniture whatever their length, on both sides,
    and so does whatever takes the place of template blocks alone (reworded sign-up copy).
    """
    if normalize_for_hash(old_title) != normalize_for_hash(new_title):
        return False
    if sorted(map(normalize_for_hash, old_headlines)) != sorted(
        map(normalize_for_hash, new_headlines)
    ):
        return False
    old = [normalize_for_hash(p) for p in old_paragraphs if p.strip()]
    new = [normalize_for_hash(p) for p in new_paragraphs if p.strip()]
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    changed = False
    kept_sentence = False
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            kept = (p for p in old[i1:i2] if p not in template)
            kept_sentence = kept_sentence or any(is_sentence(p) for p in kept)
            continue
        changed = True
        gone = [p for p in old[i1:i2] if p not in template]
        came = [p for p in new[j1:j2] if p not in template]
        if tag == "replace" and not gone and len(came) <= i2 - i1:
            continue  # template blocks reworded in place
        if any(is_sentence(p) for p in (*gone, *came)):
            return False
        if (
            edges is not None
            and max(i1, j1) >= edges
            and max(len(old) - i2, len(new) - j2) >= edges
        ):
            return False
    return changed and kept_sentence
