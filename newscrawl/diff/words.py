"""An edited paragraph's diff: sentences aligned, then words inside the changed ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from nupunkt import sent_spans

from newscrawl.diff.align import Budget, aligned_blocks
from newscrawl.diff.segments import Segment, Segments, append_segment, whole
from newscrawl.normalize import normalize_for_hash

# A word with its trailing whitespace, or the leading whitespace of the text.
_TOKEN = re.compile(r"\S+\s*|^\s+")


def diff_words(old: str, new: str, out: Segments, budget: Budget) -> None:
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    old_keys = [t.rstrip() for t in old_tokens]
    new_keys = [t.rstrip() for t in new_tokens]
    for equal, i1, i2, j1, j2 in aligned_blocks(old_keys, new_keys, budget):
        olds, news = old_tokens[i1:i2], new_tokens[j1:j2]
        if not equal:
            out.change("".join(olds), "".join(news))
        elif olds == news:
            out.equal("".join(olds))
        else:
            for a, b in zip(olds, news, strict=True):
                word = a.rstrip()
                out.equal(word)
                out.change(a[len(word) :], b[len(word) :])


def _sentences(text: str) -> list[str]:
    """Sentences of ``text`` with their trailing whitespace; they concatenate to ``text``.

    Cuts are kept only after whitespace so that a word is never split between sentences.
    """
    spans = sent_spans(text)
    cuts = sorted(
        {start for start, _ in spans if 0 < start < len(text) and text[start - 1].isspace()}
    )
    return [text[a:b] for a, b in pairwise([0, *cuts, len(text)])]


def diff_paragraph(
    old: str, new: str, budget: Budget
) -> tuple[list[Segment], list[str], list[str]]:
    """Segments of an edited paragraph, with the new and old sentences that changed.

    A pair longer than the word-diff characters left is diffed between its common ends (cut at
    whitespace), and shown whole if what lies between is still too long.
    """
    if budget.spend(len(old) + len(new)):
        return _diff_sentences(old, new, budget)
    head, tail = _common_ends(old, new)
    if not budget.spend(len(old) + len(new) - 2 * (head + tail)):
        budget.coarse = True
        return whole("-", old) + whole("+", new), [new], [old]
    segments, added, removed = _diff_sentences(
        old[head : len(old) - tail], new[head : len(new) - tail], budget
    )
    out: list[Segment] = []
    for tag, text in [["=", old[:head]], *segments, ["=", old[len(old) - tail :]]]:
        append_segment(out, tag, text)
    return out, added, removed


def _common_ends(a: str, b: str) -> tuple[int, int]:
    """Lengths of the longest common head ending in whitespace and common tail starting with
    whitespace of ``a`` and ``b``, not overlapping."""
    longest = min(len(a), len(b))
    head = _bisect_length(longest, lambda n: a[:n] == b[:n])
    while head and not a[head - 1].isspace():
        head -= 1
    tail = _bisect_length(longest - head, lambda n: a[len(a) - n :] == b[len(b) - n :])
    while tail and not a[len(a) - tail].isspace():
        tail -= 1
    return head, tail


def _bisect_length(longest: int, fits: Callable[[int], bool]) -> int:
    """The largest n <= longest with fits(n), for a ``fits`` true up to some n and false after."""
    low, high = 0, longest
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _diff_sentences(
    old: str, new: str, budget: Budget
) -> tuple[list[Segment], list[str], list[str]]:
    """Sentences aligned, then words inside the sentences that changed."""
    out = Segments()
    added: list[str] = []
    removed: list[str] = []
    old_sents, new_sents = _sentences(old), _sentences(new)
    old_keys = [normalize_for_hash(s) for s in old_sents]
    new_keys = [normalize_for_hash(s) for s in new_sents]
    for equal, i1, i2, j1, j2 in aligned_blocks(old_keys, new_keys, budget):
        budget.check()
        if equal:
            for a, b in zip(old_sents[i1:i2], new_sents[j1:j2], strict=True):
                if a == b:
                    out.equal(a)
                else:
                    diff_words(a, b, out, budget)
            continue
        diff_words("".join(old_sents[i1:i2]), "".join(new_sents[j1:j2]), out, budget)
        removed.extend(old_sents[i1:i2])
        added.extend(new_sents[j1:j2])
    return out.segments(), added, removed
