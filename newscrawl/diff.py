"""Article version diffs, computed once at write time and stored as plain JSON.

Paragraphs are aligned first (on their hash form, so a typographic change still aligns),
paragraphs left over in a changed block are paired by similarity, and inside a pair the
sentences are aligned before words are diffed, which keeps the word diff small and local.

A segment is ``[tag, text]`` with tag ``"="``, ``"-"`` or ``"+"``: the ``"="`` and ``"-"``
texts of a row concatenate to the old paragraph exactly, ``"="`` and ``"+"`` to the new one.
Insert and delete rows of a paragraph that only moved carry ``"moved": True`` and are left out
of the ``added``/``removed`` summaries and the word counts.

The work is bounded whatever the texts: past ``time_limit`` the diff is redone at paragraph
level; an alignment too large for one LCS (MAX_CELLS) is cut at anchors both sides share; an
edited paragraph beyond the diff's word-diff characters (WORD_DIFF_CHARS) is diffed between its
common ends, or shown whole. ``coarse`` says some of that happened. ``compact_diff`` cuts a
diff down to a store's document limit (``truncated``).

``title`` holds the headline's segments, None when it did not change; ``other_headlines``
the changes to the page's other headlines (search, social, structured data), None when there
are none: one segment list per changed headline, an edited one paired with its old form.
"""

from __future__ import annotations

import math
import re
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise

from nupunkt import sent_spans
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from newscrawl.normalize import _NOT_WORD, loose_key, normalize_for_hash

# A word with its trailing whitespace, or the leading whitespace of the text.
_TOKEN = re.compile(r"\S+\s*|^\s+")
# Minimum fuzz.ratio for two paragraphs of a changed block to be shown as one edited paragraph.
PAIR_THRESHOLD = 50.0
# Paragraphs per piece when a long changed block is paired piecewise (see _pair).
PAIR_WINDOW = 40
# Characters of edited paragraphs (old and new side) diffed word by word in one diff; an edited
# paragraph past it is shown whole ("-" and "+"), in linear time, and the diff is coarse.
WORD_DIFF_CHARS = 1_000_000
# Largest alignment given to one Indel.opcodes call, in cells (len(a) * len(b)): the call runs
# in C past any deadline and takes len(a) * len(b) / 8 bytes. Larger ones are split (_runs).
MAX_CELLS = 1 << 24
# Splitting rounds before a stretch that still has no anchors is left as one change.
MAX_SPLITS = 6
# Longest pair of paragraphs (len(a) * len(b) characters) compared character by character
# when pairing; longer ones are compared as bags of words, in linear time.
MAX_RATIO_CELLS = 25_000_000

Segment = list[str]
Block = tuple[bool, int, int, int, int]


class _Timeout(Exception):
    """The time limit passed; the caller falls back to a coarse diff."""


class _Budget:
    """The diff's deadline and word-diff characters left, and whether some text was left as
    one change to keep within them."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.chars = WORD_DIFF_CHARS
        self.coarse = False

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise _Timeout

    def spend(self, chars: int) -> bool:
        """Take ``chars`` for a word diff if that many are left."""
        if chars > self.chars:
            return False
        self.chars -= chars
        return True


class _Change:
    """Deleted and inserted text of one change group, kept as pieces and joined once."""

    __slots__ = ("deleted", "deleted_len", "inserted", "inserted_len")

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.inserted: list[str] = []
        self.deleted_len = self.inserted_len = 0

    def add(self, deleted: str, inserted: str) -> None:
        self.deleted.append(deleted)
        self.inserted.append(inserted)
        self.deleted_len += len(deleted)
        self.inserted_len += len(inserted)

    def longest(self) -> int:
        return max(self.deleted_len, self.inserted_len)


class _Segments:
    """Accumulates equal text and (deleted, inserted) change groups in document order.

    Text is kept as pieces and joined once, so a paragraph of many sentences stays linear.
    """

    def __init__(self) -> None:
        # Alternating items: a list is the pieces of equal text, a _Change a change group.
        self.items: list[list[str] | _Change] = []

    def equal(self, text: str) -> None:
        if not text:
            return
        if self.items and isinstance(self.items[-1], list):
            self.items[-1].append(text)
        else:
            self.items.append([text])

    def change(self, deleted: str, inserted: str) -> None:
        if not (deleted or inserted):
            return
        last = self.items[-1] if self.items else None
        if not isinstance(last, _Change):
            last = _Change()
            self.items.append(last)
        last.add(deleted, inserted)

    def segments(self) -> list[Segment]:
        """Merged segments after absorbing short equalities and sliding shared whitespace out."""
        out: list[Segment] = []
        for item in _absorb_short_equalities(self.items):
            if isinstance(item, str):
                _append(out, "=", item)
                continue
            deleted, inserted = "".join(item.deleted), "".join(item.inserted)
            head = _common_space_prefix(deleted, inserted)
            deleted, inserted = deleted[len(head) :], inserted[len(head) :]
            tail = _common_space_suffix(deleted, inserted)
            if tail:
                deleted, inserted = deleted[: -len(tail)], inserted[: -len(tail)]
            _append(out, "=", head)
            _append(out, "-", deleted)
            _append(out, "+", inserted)
            _append(out, "=", tail)
        return out


def _append(out: list[Segment], tag: str, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == tag:
        out[-1][1] += text
    else:
        out.append([tag, text])


def _absorb_short_equalities(items: list[list[str] | _Change]) -> list[str | _Change]:
    """Turn an equality no longer than the changes on both sides into part of the change.

    Word-level LCS happily keeps a lone "the" between two rewritten clauses; showing the clause
    as one replacement reads better (the semantic cleanup of diff-match-patch, in one pass).
    The change groups of ``items`` are extended in place.
    """
    out: list[str | _Change] = []
    for item in items:
        if isinstance(item, list):
            out.append("".join(item))
        elif (
            len(out) >= 2
            and isinstance(out[-1], str)
            and isinstance(out[-2], _Change)
            and len(out[-1].strip()) <= min(out[-2].longest(), item.longest())
        ):
            eq = out.pop()
            before = out[-1]
            assert isinstance(before, _Change)
            before.add(eq, eq)
            for deleted, inserted in zip(item.deleted, item.inserted, strict=True):
                before.add(deleted, inserted)
        else:
            out.append(item)
    return out


def _common_space_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y or not x.isspace():
            break
        n += 1
    return a[:n]


def _common_space_suffix(a: str, b: str) -> str:
    return _common_space_prefix(a[::-1], b[::-1])[::-1]


def _blocks(old_keys: Sequence[str], new_keys: Sequence[str], budget: _Budget) -> Iterator[Block]:
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
    a: Sequence[str], b: Sequence[str], budget: _Budget, splits: int = 0
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


def _absorb_short_anchors(blocks: Iterator[Block]) -> list[Block]:
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


def _diff_words(old: str, new: str, out: _Segments, budget: _Budget) -> None:
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    old_keys = [t.rstrip() for t in old_tokens]
    new_keys = [t.rstrip() for t in new_tokens]
    for equal, i1, i2, j1, j2 in _blocks(old_keys, new_keys, budget):
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


def _diff_paragraph(
    old: str, new: str, budget: _Budget
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
        return _whole("-", old) + _whole("+", new), [new], [old]
    segments, added, removed = _diff_sentences(
        old[head : len(old) - tail], new[head : len(new) - tail], budget
    )
    out: list[Segment] = []
    for tag, text in [["=", old[:head]], *segments, ["=", old[len(old) - tail :]]]:
        _append(out, tag, text)
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
    old: str, new: str, budget: _Budget
) -> tuple[list[Segment], list[str], list[str]]:
    """Sentences aligned, then words inside the sentences that changed."""
    out = _Segments()
    added: list[str] = []
    removed: list[str] = []
    old_sents, new_sents = _sentences(old), _sentences(new)
    old_keys = [normalize_for_hash(s) for s in old_sents]
    new_keys = [normalize_for_hash(s) for s in new_sents]
    for equal, i1, i2, j1, j2 in _blocks(old_keys, new_keys, budget):
        budget.check()
        if equal:
            for a, b in zip(old_sents[i1:i2], new_sents[j1:j2], strict=True):
                if a == b:
                    out.equal(a)
                else:
                    _diff_words(a, b, out, budget)
            continue
        _diff_words("".join(old_sents[i1:i2]), "".join(new_sents[j1:j2]), out, budget)
        removed.extend(old_sents[i1:i2])
        added.extend(new_sents[j1:j2])
    return out.segments(), added, removed


def _pair(old: Sequence[str], new: Sequence[str], budget: _Budget) -> list[tuple[int, int]]:
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


def _pair_all(old: Sequence[str], new: Sequence[str], budget: _Budget) -> list[tuple[int, int]]:
    """Order-preserving pairs (i, j) maximising total similarity, each at least the threshold."""
    n, m = len(old), len(new)
    similarity = _Similarity()
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


class _Similarity:
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


def _block_rows(
    i1: int, i2: int, j1: int, j2: int, pairs: list[tuple[int, int]]
) -> Iterator[tuple[int | None, int | None]]:
    """(old, new) rows of a changed block: unpaired deletes, then inserts, before each pair."""
    i, j = i1, j1
    for pi, pj in [*((i1 + a, j1 + b) for a, b in pairs), (i2, j2)]:
        yield from ((k, None) for k in range(i, pi))
        yield from ((None, k) for k in range(j, pj))
        if pi < i2 and pj < j2:
            yield pi, pj
        i, j = pi + 1, pj + 1


def _row_pairs(
    old_keys: list[str], new_keys: list[str], budget: _Budget, coarse: bool
) -> Iterator[tuple[int | None, int | None]]:
    """Aligned (old, new) paragraph indexes; None on one side for an insert or delete."""
    for equal, i1, i2, j1, j2 in _absorb_short_anchors(_blocks(old_keys, new_keys, budget)):
        if equal:
            yield from zip(range(i1, i2), range(j1, j2), strict=True)
            continue
        if coarse:
            count = min(i2 - i1, j2 - j1)
            pairs = [(k, k) for k in range(count)]
        else:
            pairs = _pair(old_keys[i1:i2], new_keys[j1:j2], budget)
        yield from _block_rows(i1, i2, j1, j2, pairs)


class _Rows:
    """Builds paragraph rows and, per row, the (added, removed) texts for the summary."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.changes: list[tuple[list[str], list[str]]] = []

    def add(
        self,
        old: list[str],
        new: list[str],
        i: int | None,
        j: int | None,
        coarse: bool,
        budget: _Budget,
    ) -> None:
        if i is not None and j is not None and old[i] == new[j]:
            self._append({"op": "equal", "old": i, "new": j}, [], [])
        elif j is None:
            assert i is not None  # a row has a paragraph on one side at least
            segments = _whole("-", old[i])
            self._append({"op": "delete", "old": i, "segments": segments}, [], [old[i]])
        elif i is None:
            segments = _whole("+", new[j])
            self._append({"op": "insert", "new": j, "segments": segments}, [new[j]], [])
        elif coarse:
            segments = _whole("-", old[i]) + _whole("+", new[j])
            row = {"op": "replace", "old": i, "new": j, "segments": segments}
            self._append(row, [new[j]], [old[i]])
        else:
            segments, added, removed = _diff_paragraph(old[i], new[j], budget)
            row = {"op": "replace", "old": i, "new": j, "segments": segments}
            self._append(row, added, removed)

    def _append(self, row: dict, added: list[str], removed: list[str]) -> None:
        self.rows.append(row)
        self.changes.append((added, removed))

    def mark_moves(self, old_keys: list[str], new_keys: list[str]) -> None:
        """Flag delete/insert rows whose paragraph reappears unchanged elsewhere."""
        deleted = Counter(old_keys[r["old"]] for r in self.rows if r["op"] == "delete")
        for row in self.rows:
            if row["op"] == "insert" and new_keys[row["new"]] and deleted[new_keys[row["new"]]]:
                deleted[new_keys[row["new"]]] -= 1
                row["moved"] = True
        inserted = Counter(new_keys[r["new"]] for r in self.rows if r.get("moved"))
        for row in self.rows:
            if row["op"] == "delete" and inserted[old_keys[row["old"]]]:
                inserted[old_keys[row["old"]]] -= 1
                row["moved"] = True

    def summary(self, keys: dict[str, str]) -> tuple[list[str], list[str]]:
        """Added and removed texts in document order, leaving out text that only moved.

        ``keys`` holds hash forms already computed (of whole paragraphs), and gets the new ones.
        """
        added = [text.strip() for change in self.changes for text in change[0] if text.strip()]
        removed = [text.strip() for change in self.changes for text in change[1] if text.strip()]
        for text in (*added, *removed):
            if text not in keys:
                keys[text] = normalize_for_hash(text)
        moved = Counter(keys[t] for t in added) & Counter(keys[t] for t in removed)
        if not moved:
            return added, removed
        return _without(added, moved, keys), _without(removed, moved, keys)


def _without(texts: list[str], drop: Counter[str], keys: dict[str, str]) -> list[str]:
    """``texts`` minus as many occurrences of each hash form as ``drop`` counts."""
    drop = drop.copy()
    out = []
    for text in texts:
        key = keys[text]
        if drop[key]:
            drop[key] -= 1
        else:
            out.append(text)
    return out


def _whole(tag: str, text: str) -> list[Segment]:
    return [[tag, text]] if text else []


def _word_count(rows: list[dict], tag: str) -> int:
    return sum(
        len(text.split())
        for row in rows
        if not row.get("moved")
        for seg_tag, text in row.get("segments", ())
        if seg_tag == tag
    )


def _loose_equal(rows: list[dict], old_keys: list[str], new_keys: list[str]) -> bool:
    """Whether each stretch of changed rows keeps its loose key (punctuation/whitespace only),
    from the paragraphs' hash forms (the loose key of joined texts is the join of theirs).

    Only changed paragraphs count; unlike comparing whole texts, a word that moves across an
    unchanged paragraph counts as a real change.
    """
    runs: list[tuple[list[str], list[str]]] = [([], [])]
    for row in rows:
        if row["op"] == "equal":
            runs.append(([], []))
            continue
        if "old" in row:
            runs[-1][0].append(old_keys[row["old"]])
        if "new" in row:
            runs[-1][1].append(new_keys[row["new"]])
    return all(_loose(a) == _loose(b) for a, b in runs if a or b)


def _loose(keys: list[str]) -> str:
    """``loose_key`` of the joined texts whose hash forms are ``keys``."""
    return "".join(_NOT_WORD.sub("", key) for key in keys)


def _build_rows(
    old: list[str],
    new: list[str],
    old_keys: list[str],
    new_keys: list[str],
    budget: _Budget,
    coarse: bool,
) -> _Rows:
    rows = _Rows()
    for i, j in _row_pairs(old_keys, new_keys, budget, coarse):
        rows.add(old, new, i, j, coarse, budget)
        budget.check()
    rows.mark_moves(old_keys, new_keys)
    return rows


def _diff_title(old: str, new: str, budget: _Budget) -> list[Segment] | None:
    if old == new:
        return None
    out = _Segments()
    _diff_words(old, new, out, budget)
    return out.segments()


def _diff_other_headlines(
    old: Sequence[str], new: Sequence[str], budget: _Budget
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
    similarity = _Similarity()
    for headline in removed:
        match = max(added, key=lambda h: similarity(headline, h), default=None)
        if match is not None and similarity(headline, match):
            added.remove(match)
            changes.append(_diff_title(headline, match, budget) or [])
        else:
            changes.append([["-", headline]])
    changes += [[["+", headline]] for headline in added]
    return changes


def diff_article(
    old_title: str,
    old_paragraphs: list[str],
    new_title: str,
    new_paragraphs: list[str],
    *,
    old_other_headlines: Sequence[str] = (),
    new_other_headlines: Sequence[str] = (),
    time_limit: float = 0.5,
) -> dict:
    """JSON-ready diff between two versions of an article (see the module docstring).

    Past ``time_limit`` seconds the paragraphs are diffed again at paragraph level only
    (edited paragraphs become one "-" and one "+" segment) and ``coarse`` is True; it is True
    too when a stretch too long to align word by word (MAX_CELLS) had to stay one change.
    """
    budget = _Budget(time.perf_counter() + time_limit)
    old_keys = [normalize_for_hash(p) for p in old_paragraphs]
    new_keys = [normalize_for_hash(p) for p in new_paragraphs]
    coarse = False
    try:
        rows = _build_rows(old_paragraphs, new_paragraphs, old_keys, new_keys, budget, False)
    except _Timeout:
        coarse = True
        budget.deadline = math.inf
        rows = _build_rows(old_paragraphs, new_paragraphs, old_keys, new_keys, budget, True)
    budget.deadline = math.inf  # the headlines are short: always diffed word by word
    title = _diff_title(old_title, new_title, budget)
    others = _diff_other_headlines(old_other_headlines, new_other_headlines, budget)
    coarse = coarse or budget.coarse
    changed = title is not None or others is not None or any(r["op"] != "equal" for r in rows.rows)
    same_headlines = loose_key(old_title) == loose_key(new_title) and sorted(
        map(loose_key, old_other_headlines)
    ) == sorted(map(loose_key, new_other_headlines))
    keys = dict(zip(old_paragraphs, old_keys, strict=True))
    keys.update(zip(new_paragraphs, new_keys, strict=True))
    added, removed = rows.summary(keys)
    return {
        "title": title,
        "other_headlines": others,
        "paragraphs": rows.rows,
        "added": added,
        "removed": removed,
        "words_added": _word_count(rows.rows, "+"),
        "words_removed": _word_count(rows.rows, "-"),
        "minor": changed and same_headlines and _loose_equal(rows.rows, old_keys, new_keys),
        "coarse": coarse,
    }


def diff_versions(old: dict, new: dict, time_limit: float = 0.5) -> dict:
    """``diff_article`` of two stored version documents.

    A version stored before other headlines were kept has no ``other_headlines``: the diff
    then makes no claim about them (the new version's are taken as the old ones too).
    """
    return diff_article(
        old["title"],
        old["paragraphs"],
        new["title"],
        new["paragraphs"],
        old_other_headlines=old.get("other_headlines", new.get("other_headlines", [])),
        new_other_headlines=new.get("other_headlines", []),
        time_limit=time_limit,
    )


def headlines_changed(diff: dict) -> bool:
    """Whether a stored diff changes the headline or another wording of it."""
    return bool(diff.get("title") or diff.get("other_headlines"))


def _side(segments: list[Segment], skip: str) -> str:
    return "".join(text for tag, text in segments if tag != skip)


def apply_diff(old_title: str, old_paragraphs: list[str], diff: dict) -> tuple[str, list[str]]:
    """Rebuild the new title and paragraphs from the old ones and a stored diff.

    Raises ValueError when an edited paragraph in the diff does not match ``old_paragraphs``,
    i.e. the diff was computed against another version, or when the diff is truncated.
    """
    if diff.get("truncated"):
        raise ValueError("a truncated diff does not rebuild the new version")
    title = old_title if diff["title"] is None else _side(diff["title"], "-")
    paragraphs = []
    for row in diff["paragraphs"]:
        op = row["op"]
        if op == "equal":
            paragraphs.append(old_paragraphs[row["old"]])
        elif op in ("insert", "replace"):
            if op == "replace" and _side(row["segments"], "+") != old_paragraphs[row["old"]]:
                raise ValueError(f"diff does not apply to old paragraph {row['old']}")
            paragraphs.append(_side(row["segments"], "-"))
    return title, paragraphs


# Cut marks of a compact diff, and the longest text (characters) it keeps at each step.
CUT = " … "
CLIP_STEPS = (2000, 400, 80)
# Texts kept in each of a compact diff's added/removed summaries, and other headlines.
COMPACT_TEXTS = 50


def compact_diff(diff: dict, fits: Callable[[dict], bool]) -> dict:
    """``diff`` cut down until ``fits`` (a store's document limit), with ``truncated`` True.

    Long unchanged stretches inside edited paragraphs keep some context either side, long
    removed/added texts their beginning (each cut marked with CUT); when even that does not
    fit, rows are dropped from the end. The word counts stay those of the whole diff. A
    truncated diff does not rebuild the new version (``apply_diff`` refuses it); the versions
    hold the full texts.
    """
    rows = len(diff["paragraphs"])
    compact = diff
    for clip in CLIP_STEPS:
        compact = _clipped(diff, clip, rows)
        if fits(compact):
            return compact
    while rows:
        rows //= 2
        compact = _clipped(diff, CLIP_STEPS[-1], rows)
        if fits(compact):
            break
    return compact


def _clipped(diff: dict, clip: int, rows: int) -> dict:
    others = diff["other_headlines"]
    return {
        **diff,
        "title": diff["title"] and _clip_segments(diff["title"], clip),
        "other_headlines": others and [_clip_segments(s, clip) for s in others[:COMPACT_TEXTS]],
        "paragraphs": [
            row
            if row["op"] == "equal"
            else {**row, "segments": _clip_segments(row["segments"], clip)}
            for row in diff["paragraphs"][:rows]
        ],
        "added": [_clip(text, clip) for text in diff["added"][:COMPACT_TEXTS]],
        "removed": [_clip(text, clip) for text in diff["removed"][:COMPACT_TEXTS]],
        "truncated": True,
    }


def _clip(text: str, clip: int) -> str:
    return text if len(text) <= clip else text[:clip] + CUT


def _clip_segments(segments: list[Segment], clip: int) -> list[Segment]:
    """Segments with unchanged stretches cut to ``clip // 10`` characters of context beside
    the changes, changes to ``clip`` characters, and all of it to about 4 * clip."""
    context = max(clip // 10, 20)
    out: list[Segment] = []
    used = 0
    for k, (tag, text) in enumerate(segments):
        if used > 4 * clip:
            _append(out, "=", CUT)
            break
        if tag == "=" and len(text) > 2 * context + len(CUT):
            before = text[:context] if k else ""
            after = text[-context:] if k < len(segments) - 1 else ""
            text = before + CUT + after
        elif tag != "=":
            text = _clip(text, clip)
        _append(out, tag, text)
        used += len(text)
    return out
