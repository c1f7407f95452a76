"""Diff segments: equal text and change groups accumulated in document order, then merged."""

from __future__ import annotations

Segment = list[str]


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


class Segments:
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
                append_segment(out, "=", item)
                continue
            deleted, inserted = "".join(item.deleted), "".join(item.inserted)
            head = _common_space_prefix(deleted, inserted)
            deleted, inserted = deleted[len(head) :], inserted[len(head) :]
            tail = _common_space_suffix(deleted, inserted)
            if tail:
                deleted, inserted = deleted[: -len(tail)], inserted[: -len(tail)]
            append_segment(out, "=", head)
            append_segment(out, "-", deleted)
            append_segment(out, "+", inserted)
            append_segment(out, "=", tail)
        return out


def append_segment(out: list[Segment], tag: str, text: str) -> None:
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


def whole(tag: str, text: str) -> list[Segment]:
    return [[tag, text]] if text else []
