"""How much a change matters, from its stored diff: a score from 0 to 100 and one line.

The score adds the change's size (words added and removed, on a log scale), its kinds
(``newscrawl.kinds``) and its position (the lead paragraph weighs more; the headline is a
kind). A number or a quotation changed without a correction notice weighs more again; a
minor change (punctuation, whitespace) is scaled down to a tenth. A diff stored before kinds
existed is scored on its size, headline and lead alone.

``significance(diff_doc)`` is what other modules call; the tracker stores its value on each
diff (``significance``), which the viewer sorts and filters on.
"""

from __future__ import annotations

import math
from typing import Any

from newscrawl import kinds as k

# Points for the size of a change: SIZE_POINTS at SIZE_WORDS words changed, log-scaled.
SIZE_POINTS = 25.0
SIZE_WORDS = 200
WEIGHTS = {
    k.HEADLINE: 25.0,
    k.NUMBER: 15.0,
    k.QUOTE_ALTERED: 15.0,
    k.QUOTE_REMOVED: 12.0,
    k.QUOTE_ADDED: 8.0,
    k.PARAGRAPH_REMOVED: 10.0,
    k.PARAGRAPH_ADDED: 6.0,
    k.BYLINE: 5.0,
    k.DATES: 5.0,
    k.NOTICE: 10.0,
}
LEAD_POINTS = 10.0  # an edit of the first paragraph
SILENT_POINTS = 10.0  # a number or a quotation changed, and no notice says so
MINOR_SCALE = 0.1

_PHRASES = {
    k.QUOTE_ADDED: "a quotation added",
    k.QUOTE_REMOVED: "a quotation removed",
    k.QUOTE_ALTERED: "a quotation altered",
    k.PARAGRAPH_ADDED: "a paragraph added",
    k.PARAGRAPH_REMOVED: "a paragraph removed",
    k.BYLINE: "the byline changed",
    k.DATES: "the publication date changed",
}


def _kinds(diff: dict[str, Any]) -> set[str]:
    found = set(diff.get("kinds") or ())
    if diff.get("title") is not None:
        found.add(k.HEADLINE)
    return found


def lead_changed(diff: dict[str, Any]) -> bool:
    """Whether the first paragraph of either version was edited, added or removed."""
    return any(
        row["op"] != "equal" and not row.get("moved") and 0 in (row.get("old"), row.get("new"))
        for row in diff.get("paragraphs") or ()
    )


def significance(diff: dict[str, Any]) -> float:
    """The change's score, 0 to 100 (see the module docstring)."""
    found = _kinds(diff)
    words = int(diff.get("words_added") or 0) + int(diff.get("words_removed") or 0)
    score = SIZE_POINTS * min(1.0, math.log1p(words) / math.log1p(SIZE_WORDS))
    score += sum(WEIGHTS.get(kind, 0.0) for kind in found)
    if lead_changed(diff):
        score += LEAD_POINTS
    if k.SILENT in found and found & {k.NUMBER, k.QUOTE_ALTERED, k.QUOTE_REMOVED}:
        score += SILENT_POINTS
    if diff.get("minor"):
        score *= MINOR_SCALE
    return round(min(100.0, score), 1)


def explain(diff: dict[str, Any]) -> str:
    """One line for the diff page: "headline and a number changed (12 → 14), no correction
    notice"."""
    found = _kinds(diff)
    changed = [name for kind, name in ((k.HEADLINE, "headline"), (k.NUMBER, "a number"))
               if kind in found]  # fmt: skip
    if lead_changed(diff):
        changed.append("the lead paragraph")
    parts = []
    if changed:
        numbers = diff.get("numbers") or []
        extra = f" ({', '.join(numbers[:3])})" if numbers and k.NUMBER in found else ""
        parts.append(f"{_join(changed)} changed{extra}")
    parts += [phrase for kind, phrase in _PHRASES.items() if kind in found]
    if not parts:
        parts.append("punctuation or spacing changed" if diff.get("minor") else "wording changed")
    line = ", ".join(parts)
    if k.NOTICE in found:
        return f"{line}, with a correction or update notice"
    if "kinds" in diff and not diff.get("minor"):
        return f"{line}, no correction notice"
    return line


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def score_fields(diff: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict:
    """The fields a diff document stores for its kinds and score."""
    fields = k.edit_kinds(diff, old, new)
    fields["significance"] = significance({**diff, **fields})
    return fields
