"""Alignment of two key sequences in bounded work: LCS when it fits, else cut at anchors."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from rapidfuzz.distance import Indel

# Characters of edited paragraphs (old and new side) diffed word by word in one diff; an edited
# paragraph past it is shown whole ("-" and "+"), in linear time, and the diff is coarse.
WORD_DIFF_CHARS = 1_000_000
# Largest alignment given to one Indel.opcodes call, in cells (len(a) * len(b)): the call runs
# in C past any deadline and takes len(a) * len(b) / 8 bytes. Larger ones are split (_runs).
MAX_CELLS = 1 << 24
# Splitting rounds before a stretch that still has no anchors is left as one change.
MAX_SPLITS = 6

Block = tuple[bool, int, int, int, int]


class Timeout(Exception):
    """The time limit passed; the caller falls back to a coarse diff."""


class Budget:
    """The diff's deadline and word-diff characters left, and whether some text was left as
    one change to keep within them."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.chars = WORD_DIFF_CHARS
        self.coarse = False

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise Timeout

    def spend(self, chars: int) -> bool:
        """Take ``chars`` for a word diff if that many are left."""
        if chars > self.chars:
            return False
        self.chars -= chars
        return True


def aligned_blocks(
    old_keys: Sequence[str], new_keys: Sequence[str], budget: Budget
) -> Iterator[Block]:
    """Aligned stretches as (equal, i1, i2, j1, j2): equal runs, and the changes between them."""
    runs = _merged(_runs(old_keys, new_keys, budget))
    i = j = 0
    for ri, rj, size in [*runs, (len(old_keys), len(new_keys), 0)]:
        if ri > i or rj > j:
            yield False, i, ri, j, rj
        if size:
            yield True, ri, ri + size, rj, rj + size
        i, j = ri + size, rj + size


def _merged(runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for i, j, size in runs:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + size)
        else:
            out.append((i, j, size))
    return out


def _runs(
    a: Sequence[str], b: Sequence[str], budget: Budget, splits: int = 0
) -> list[tuple[int, int, int]]:
    """Equal runs (i, j, size) of ``a`` and ``b`` in order: their LCS when it fits MAX_CELLS.

    A larger alignment loses its common head and tail and is cut at anchors (patience diff:
    keys found once on each side, in an order both sides share); each piece is aligned the
    same way. A piece with no anchors left is one change, and the budget turns coarse.
    """
    if len(a) * len(b) <= MAX_CELLS:
        return [
            (op.src_start, op.dest_start, op.src_end - op.src_start)
            for op in Indel.opcodes(a, b)
            if op.tag == "equal"
        ]
    budget.check()
    n, m = len(a), len(b)
    head = 0
    while head < min(n, m) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    runs = [(0, 0, head)] if head else []
    mid_a, mid_b = a[head : n - tail], b[head : m - tail]
    if len(mid_a) * len(mid_b) <= MAX_CELLS:
        runs += [(head + i, head + j, k) for i, j, k in _runs(mid_a, mid_b, budget, splits)]
    elif splits < MAX_SPLITS and (anchors := _anchors(mid_a, mid_b)):
        i0 = j0 = 0
        for i, j in [*anchors, (len(mid_a), len(mid_b))]:
            if i > i0 and j > j0:
                piece = _runs(mid_a[i0:i], mid_b[j0:j], budget, splits + 1)
                runs += [(head + i0 + x, head + j0 + y, k) for x, y, k in piece]
            if i < len(mid_a):
                runs.append((head + i, head + j, 1))
            i0, j0 = i + 1, j + 1
    else:
        budget.coarse = True
    if tail:
        runs.append((n - tail, m - tail, tail))
    return runs


def _anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """(i, j) with a[i] == b[j], increasing on both sides: a longest chain of the keys, or of
    the runs of three keys, that occur exactly once in ``a`` and once in ``b``."""
    pairs: dict[int, int] = {}
    for keys_a, keys_b in ((a, b), (_trigrams(a), _trigrams(b))):
        once_b = _once(keys_b)
        for key, i in _once(keys_a).items():
            if key in once_b:
                pairs[i] = once_b[key]
    return _increasing(sorted(pairs.items()))


def _trigrams(keys: Sequence[str]) -> list[tuple[str, str, str]]:
    return list(zip(keys, keys[1:], keys[2:], strict=False))


def _once(keys: Sequence) -> dict:
    """Each key that occurs once, with its position."""
    seen: dict = {}
    for i, key in enumerate(keys):
        seen[key] = -1 if key in seen else i
    return {key: i for key, i in seen.items() if i >= 0}


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A longest subsequence of ``pairs`` (sorted on i) whose j increase too (patience sort)."""
    tails: list[int] = []  # tails[k]: smallest last j of an increasing chain of k + 1 pairs
    ends: list[int] = []  # ends[k]: index in pairs of that last pair
    back = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            ends.append(n)
        else:
            tails[k], ends[k] = j, n
        back[n] = ends[k - 1] if k else -1
    chain = []
    n = ends[-1] if ends else -1
    while n >= 0:
        chain.append(pairs[n])
        n = back[n]
    return chain[::-1]


def absorb_short_anchors(blocks: Iterator[Block]) -> list[Block]:
    """Merge two changed blocks around an equal run shorter than both of them.

    An LCS keeps a moved paragraph as the anchor when the paragraphs around it were edited;
    pairing the merged block by similarity instead shows the edits, and the move as a move.
    """
    out: list[Block] = []
    for block in blocks:
        if not block[0] and len(out) >= 2 and out[-1][0] and not out[-2][0]:
            _, i1, i2, _, _ = out[-1]
            _, a1, a2, b1, b2 = out[-2]
            _, _, c2, _, d2 = block
            size = min(max(a2 - a1, b2 - b1), max(c2 - block[1], d2 - block[3]))
            if i2 - i1 < size:
                out[-2:] = [(False, a1, c2, b1, d2)]
                continue
        out.append(block)
    return out
