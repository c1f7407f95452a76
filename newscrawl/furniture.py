"""Per-article furniture: a change confined to short, non-sentence blocks is not an edit.

Page furniture that an extractor keeps as article text (a dateline with the time it was
rendered, "Updated 5 minutes ago", a view count, a credit line, a "Read more: …" teaser)
rewrites itself on every fetch while the article's prose around it stays the same. An
editor's change, by contrast, touches the prose or the headline. So a new text is *furniture
only* when, aligned block by block with the latest stored version, every block that changed,
appeared or disappeared is short and not a sentence, and at least one sentence is unchanged
around them. The tracker then stores no version (``newscrawl/articles/furniture``); the next
real edit is diffed against the latest version, so nothing is lost from its diff.

Headline changes (title, other headlines) are always edits, and so is a lone changed, added or
removed *crosshead* (a short heading-like line, see ``is_crosshead``) between two unchanged
sentences: an editor rewords or drops a subheading, while furniture sits at the body's edges or
moves together with other blocks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from newscrawl.normalize import normalize_for_hash

MAX_WORDS = 12  # a block of more words is prose, whatever its punctuation
MAX_CHARS = 90  # the same for scripts written without spaces
# A sentence ends with terminal punctuation, possibly inside quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"’”»)\]]*$")
_MIN_SENTENCE_WORDS = 3
# A sentence end after a lowercase word, followed by more text ("… the plan. Opponents",
# "…した。ガザでは"), not an abbreviation ("U.S. stocks", "Dr. Smith").
_INNER_END = re.compile(r"[^\W\d_A-Z]{2}[.!?…]\s+\w|[。！？]\w")
_MIN_SENTENCE_CHARS = 12
CROSSHEAD_MAX_WORDS = 8
# A heading ends without sentence or list punctuation (a colon lead-in may).
_NOT_HEADING_END = re.compile(r"[.!?…。！？,;、，；]$")
_LABEL = re.compile(r"[:：|»›]")


def is_sentence(text: str) -> bool:
    """Prose: a long block, two sentences, a lead-in line ending with a colon, or one of a
    few words ending like a sentence."""
    words = len(text.split())
    if words > MAX_WORDS or len(text) > MAX_CHARS or _INNER_END.search(text):
        return True
    if text.rstrip().endswith(":") and words >= _MIN_SENTENCE_WORDS:
        return True
    # Scripts written without spaces (Chinese, Japanese) count characters instead of words.
    long_enough = words >= _MIN_SENTENCE_WORDS or len(text) >= _MIN_SENTENCE_CHARS * max(words, 1)
    return bool(_SENTENCE_END.search(text.rstrip())) and long_enough


def is_crosshead(text: str) -> bool:
    """A subheading: a few words of mostly letters, no digits (a dateline, a count, a price),
    starting with a capital (or a letter of a script without case), not ending like a
    sentence or a list item, and no label or separator inside ("Read more: …", "News | …")."""
    text = text.strip()
    if not text or is_sentence(text) or len(text.split()) > CROSSHEAD_MAX_WORDS:
        return False
    if _NOT_HEADING_END.search(text) or any(c.isdigit() for c in text):
        return False
    if _LABEL.search(text.rstrip(":：")):  # a label before a teaser: "Read more: …"
        return False
    first = text[0]
    if not first.isalpha() or first.islower():
        return False
    return sum(c.isalpha() for c in text) >= 0.6 * len(text)


def _lone_crosshead_change(old: Sequence[str], new: Sequence[str], opcodes: list) -> bool:
    """The whole change is one block or fewer on each side, a crosshead, between two
    unchanged sentences."""
    changes = [op for op in opcodes if op[0] != "equal"]
    if len(changes) != 1:
        return False
    _, i1, i2, j1, j2 = changes[0]
    if i2 - i1 > 1 or j2 - j1 > 1 or i1 == 0 or i2 >= len(old):
        return False
    between_prose = is_sentence(old[i1 - 1]) and is_sentence(old[i2])
    return between_prose and any(map(is_crosshead, (*old[i1:i2], *new[j1:j2])))


def furniture_only(
    old_title: str,
    old_paragraphs: Sequence[str],
    old_headlines: Sequence[str],
    new_title: str,
    new_paragraphs: Sequence[str],
    new_headlines: Sequence[str],
    edges: int | None = None,
) -> bool:
    """Whether the new text differs from the old only in short non-sentence blocks (with
    ``edges``: only within that many blocks of the body's start or end)."""
    if normalize_for_hash(old_title) != normalize_for_hash(new_title):
        return False
    if sorted(map(normalize_for_hash, old_headlines)) != sorted(
        map(normalize_for_hash, new_headlines)
    ):
        return False
    old = [normalize_for_hash(p) for p in old_paragraphs if p.strip()]
    new = [normalize_for_hash(p) for p in new_paragraphs if p.strip()]
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    changed = False
    kept_sentence = False
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            kept_sentence = kept_sentence or any(is_sentence(p) for p in old[i1:i2])
            continue
        changed = True
        if any(is_sentence(p) for p in (*old[i1:i2], *new[j1:j2])):
            return False
        if (
            edges is not None
            and max(i1, j1) >= edges
            and max(len(old) - i2, len(new) - j2) >= edges
        ):
            return False
    return changed and kept_sentence and not _lone_crosshead_change(old, new, opcodes)
