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

The stages, one module each: ``align`` (key sequences aligned in bounded work, the diff's
``Budget``), ``pairing`` (paragraphs of a changed block paired by similarity), ``words``
(an edited paragraph: sentences, then words), ``segments`` (segments built and merged),
``rows`` (paragraph rows, moves, summaries, word counts), ``headlines`` (title and other
headlines), ``compact`` (a diff cut to a store's document limit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from newscrawl.diff.align import Budget, Timeout
from newscrawl.diff.compact import compact_diff
from newscrawl.diff.headlines import diff_other_headlines, diff_title
from newscrawl.diff.rows import build_rows, loose_equal, word_count
from newscrawl.diff.segments import Segment
from newscrawl.normalize import loose_key, normalize_for_hash

__all__ = ["apply_diff", "compact_diff", "diff_article", "diff_versions", "headlines_changed"]


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
    budget = Budget(time.perf_counter() + time_limit)
    old_keys = [normalize_for_hash(p) for p in old_paragraphs]
    new_keys = [normalize_for_hash(p) for p in new_paragraphs]
    coarse = False
    try:
        rows = build_rows(old_paragraphs, new_paragraphs, old_keys, new_keys, budget, False)
    except Timeout:
        coarse = True
        budget.deadline = math.inf
        rows = build_rows(old_paragraphs, new_paragraphs, old_keys, new_keys, budget, True)
    budget.deadline = math.inf  # the headlines are short: always diffed word by word
    title = diff_title(old_title, new_title, budget)
    others = diff_other_headlines(old_other_headlines, new_other_headlines, budget)
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
        "words_added": word_count(rows.rows, "+"),
        "words_removed": word_count(rows.rows, "-"),
        "minor": changed and same_headlines and loose_equal(rows.rows, old_keys, new_keys),
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
