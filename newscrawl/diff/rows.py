"""Paragraph rows of a diff (equal, insert, delete, replace, moved) and their summaries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from newscrawl.diff.align import Budget, absorb_short_anchors, aligned_blocks
from newscrawl.diff.pairing import pair
from newscrawl.diff.segments import whole
from newscrawl.diff.words import diff_paragraph
from newscrawl.normalize import loose_of_hash_form, normalize_for_hash


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
    old_keys: list[str], new_keys: list[str], budget: Budget, coarse: bool
) -> Iterator[tuple[int | None, int | None]]:
    """Aligned (old, new) paragraph indexes; None on one side for an insert or delete."""
    for equal, i1, i2, j1, j2 in absorb_short_anchors(aligned_blocks(old_keys, new_keys, budget)):
        if equal:
            yield from zip(range(i1, i2), range(j1, j2), strict=True)
            continue
        if coarse:
            count = min(i2 - i1, j2 - j1)
            pairs = [(k, k) for k in range(count)]
        else:
            pairs = pair(old_keys[i1:i2], new_keys[j1:j2], budget)
        yield from _block_rows(i1, i2, j1, j2, pairs)


class Rows:
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
        budget: Budget,
    ) -> None:
        if i is not None and j is not None and old[i] == new[j]:
            self._append({"op": "equal", "old": i, "new": j}, [], [])
        elif j is None:
            assert i is not None  # a row has a paragraph on one side at least
            segments = whole("-", old[i])
            self._append({"op": "delete", "old": i, "segments": segments}, [], [old[i]])
        elif i is None:
            segments = whole("+", new[j])
            self._append({"op": "insert", "new": j, "segments": segments}, [new[j]], [])
        elif coarse:
            segments = whole("-", old[i]) + whole("+", new[j])
            row = {"op": "replace", "old": i, "new": j, "segments": segments}
            self._append(row, [new[j]], [old[i]])
        else:
            segments, added, removed = diff_paragraph(old[i], new[j], budget)
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


def word_count(rows: list[dict], tag: str) -> int:
    return sum(
        len(text.split())
        for row in rows
        if not row.get("moved")
        for seg_tag, text in row.get("segments", ())
        if seg_tag == tag
    )


def loose_equal(rows: list[dict], old_keys: list[str], new_keys: list[str]) -> bool:
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
    return "".join(map(loose_of_hash_form, keys))


def build_rows(
    old: list[str],
    new: list[str],
    old_keys: list[str],
    new_keys: list[str],
    budget: Budget,
    coarse: bool,
) -> Rows:
    rows = Rows()
    for i, j in _row_pairs(old_keys, new_keys, budget, coarse):
        rows.add(old, new, i, j, coarse, budget)
        budget.check()
    rows.mark_moves(old_keys, new_keys)
    return rows
