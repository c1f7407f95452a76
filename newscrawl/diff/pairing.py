"""Pairing the paragraphs of a changed block by similarity, as edited paragraphs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rapidfuzz import fuzz

from newscrawl.diff.align import Budget

# Minimum fuzz.ratio for two paragraphs of a changed block to be shown as one edited paragraph.
PAIR_THRESHOLD = 50.0
# Paragraphs per piece when a long changed block is paired piecewise (see pair).
PAIR_WINDOW = 40
# Longest pair of paragraphs (len(a) * len(b) characters) compared character by character
# when pairing; longer ones are compared as bags of words, in linear time.
MAX_RATIO_CELLS = 25_000_000


def pair(old: Sequence[str], new: Sequence[str], budget: Budget) -> list[tuple[int, int]]:
    """Similar (i, j) pairs of a changed block, in order.

    The pairing is quadratic, so a block long on both sides (every paragraph edited) is cut
    along its diagonal into pieces of about PAIR_WINDOW paragraphs, paired separately.
    """
    pieces = max(1, -(-min(len(old), len(new)) // PAIR_WINDOW))
    pairs: list[tuple[int, int]] = []
    for k in range(pieces):
        i1, i2 = k * len(old) // pieces, (k + 1) * len(old) // pieces
        j1, j2 = k * len(new) // pieces, (k + 1) * len(new) // pieces
        pairs.extend((i1 + i, j1 + j) for i, j in _pair_all(old[i1:i2], new[j1:j2], budget))
    return pairs


def _pair_all(old: Sequence[str], new: Sequence[str], budget: Budget) -> list[tuple[int, int]]:
    """Order-preserving pairs (i, j) maximising total similarity, each at least the threshold."""
    n, m = len(old), len(new)
    similarity = Similarity()
    # best[i][j]: best total score using old[i:] and new[j:].
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            budget.check()
            score = similarity(old[i], new[j])
            row[j] = max(below[j], row[j + 1], below[j + 1] + score if score else 0.0)
    pairs = []
    i = j = 0
    while i < n and j < m:
        if best[i][j] == best[i + 1][j]:
            i += 1
        elif best[i][j] == best[i][j + 1]:
            j += 1
        else:
            pairs.append((i, j))
            i, j = i + 1, j + 1
    return pairs


class Similarity:
    """fuzz.ratio of two texts when at least PAIR_THRESHOLD, else 0; texts too long to compare
    character by character (MAX_RATIO_CELLS) are compared as bags of words instead."""

    def __init__(self) -> None:
        self._bags: dict[str, Counter[str]] = {}

    def __call__(self, a: str, b: str) -> float:
        if len(a) * len(b) <= MAX_RATIO_CELLS:
            return fuzz.ratio(a, b, score_cutoff=PAIR_THRESHOLD)
        bag_a, bag_b = self._bag(a), self._bag(b)
        total = bag_a.total() + bag_b.total()
        score = 200 * (bag_a & bag_b).total() / total if total else 100.0
        return score if score >= PAIR_THRESHOLD else 0.0

    def _bag(self, text: str) -> Counter[str]:
        if text not in self._bags:
            self._bags[text] = Counter(text.split())
        return self._bags[text]
