"""Stored diffs laid out for reading: two columns, headline first, paragraphs aligned.

Each side of a row is a list of segments ``[tag, text]``: the old side holds ``=`` and ``-``
segments, the new side ``=`` and ``+``; a side is None where the paragraph does not exist
(inserted or deleted). The same rows feed the HTML page, its JSON and the terminal diff.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

Segments = list[list[str]]


@dataclass(frozen=True)
class Row:
    op: str  # "equal", "insert", "delete" or "replace" (as stored)
    old: Segments | None
    new: Segments | None
    moved: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _side(segments: Segments, drop: str) -> Segments:
    return [[tag, text] for tag, text in segments if tag != drop]


def headline_row(diff: dict[str, Any], old_title: str, new_title: str) -> Row:
    """The headline as a row: marked words when it changed, the same text on both sides if not."""
    segments = diff.get("title")
    if not segments:
        return Row("equal", [["=", old_title]], [["=", new_title]])
    return Row("replace", _side(segments, "+"), _side(segments, "-"))


def other_headline_rows(diff: dict[str, Any]) -> list[Row]:
    """Each changed search/social headline as a row: an edit, a removal or an addition."""
    rows = []
    for segments in diff.get("other_headlines") or ():
        old, new = _side(segments, "+"), _side(segments, "-")
        op = "replace" if old and new else "delete" if old else "insert"
        rows.append(Row(op, old or None, new or None))
    return rows


def paragraph_rows(
    diff: dict[str, Any], old_paragraphs: list[str], new_paragraphs: list[str]
) -> list[Row]:
    """The stored rows with the text of unchanged paragraphs filled in from the versions."""
    rows = []
    for row in diff["paragraphs"]:
        op, moved = row["op"], bool(row.get("moved"))
        if op == "equal":
            rows.append(Row(op, [["=", old_paragraphs[row["old"]]]],
                            [["=", new_paragraphs[row["new"]]]]))  # fmt: skip
        elif op == "insert":
            rows.append(Row(op, None, _side(row["segments"], "-"), moved))
        elif op == "delete":
            rows.append(Row(op, _side(row["segments"], "+"), None, moved))
        else:
            rows.append(Row(op, _side(row["segments"], "+"), _side(row["segments"], "-"), moved))
    return rows


def changed_rows(diff: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored rows that changed something, for views built from the diff alone (feeds)."""
    return [row for row in diff["paragraphs"] if row["op"] != "equal"]
