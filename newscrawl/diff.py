"""Article version diffs, computed once at write time and stored as plain JSON.

Paragraphs are aligned first (on their hash form, so a typographic change still aligns),
paragraphs left over in a changed block are paired by similarity, and inside a pair the
sentences are aligned before words are diffed, which keeps the word diff small and local.

A segment is ``[tag, text]`` with tag ``"="``, ``"-"`` or ``"+"``: the ``"="`` and ``"-"``
texts of a row concatenate to the old paragraph exactly, ``"="`` and ``"+"`` to the new one.
Insert and delete rows of a paragraph that only moved carry ``"moved": True`` and are left out
of the ``added``/``removed`` summaries and the word counts.

``title`` holds the headline's segments, None when it did not change; ``other_headlines``
the changes to the page's other headlines (search, social, structured data), None when there
are none: one segment list per changed headline, an edited one paired with its old form.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import pairwise

from nupunkt import sent_spans
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from newscrawl.normalize import loose_key, normalize_for_hash

# A word with its trailing whitespace, or the leading whitespace of the text.
_TOKEN = re.compile(r"\S+\s*|^\s+")
# Minimum fuzz.ratio for two paragraphs of a changed block to be shown as one edited paragraph.
PAIR_THRESHOLD = 50.0
# Paragraphs per piece when a long changed block is paired piecewise (see _pair).
PAIR_WINDOW = 40

Segment = list[str]
Block = tuple[bool, int, int, int, int]


class _Timeout(Exception):
    """The time limit passed; the caller falls back to a coarse diff."""


class _Segments:
    """Accumulates equal text and (deleted, inserted) change groups in document order."""

    def __init__(self) -> None:
        # Alternating items: a str is equal text, a two-item list is [deleted, inserted].
        self.items: list[str | list[str]] = []

    def equal(self, text: str) -> None:
        if not text:
            return
        if self.items and isinstance(self.items[-1], str):
            self.items[-1] += text
        else:
            self.items.append(text)

    def change(self, deleted: str, inserted: str) -> None:
        if not (deleted or inserted):
            return
        if self.items and isinstance(self.items[-1], list):
            self.items[-1][0] += deleted
            self.items[-1][1] += inserted
        else:
            self.items.append([deleted, inserted])

    def segments(self) -> list[Segment]:
        """Merged segments after absorbing short equalities and sliding shared whitespace out."""
        out: list[Segment] = []
        for item in _absorb_short_equalities(self.items):
            if isinstance(item, str):
                _append(out, "=", item)
                continue
            deleted, inserted = item
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


def _absorb_short_equalities(items: list[str | list[str]]) -> list[str | list[str]]:
    """Turn an equality no longer than the changes on both sides into part of the change.

    Word-level LCS happily keeps a lone "the" between two rewritten clauses; showing the clause
    as one replacement reads better (the semantic cleanup of diff-match-patch, in one pass).
    """
    out: list[str | list[str]] = []
    for item in items:
        if (
            isinstance(item, list)
            and len(out) >= 2
            and isinstance(out[-1], str)
            and isinstance(out[-2], list)
            and len(out[-1].strip()) <= min(max(map(len, out[-2])), max(map(len, item)))
        ):
            eq = out.pop()
            before = out[-1]
            assert isinstance(before, list)
            before[0] += eq + item[0]
            before[1] += eq + item[1]
        else:
            out.append(list(item) if isinstance(item, list) else item)
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


def _blocks(old_keys: Sequence[str], new_keys: Sequence[str]) -> Iterator[Block]:
    """Opcodes as (equal, i1, i2, j1, j2) with consecutive non-equal opcodes merged."""
    pending: list[int] | None = None
    for tag, i1, i2, j1, j2 in Indel.opcodes(old_keys, new_keys):
        if tag == "equal":
            if pending:
                yield (False, *pending)
                pending = None
            yield True, i1, i2, j1, j2
        elif pending:
            pending[1], pending[3] = i2, j2
        else:
            pending = [i1, i2, j1, j2]
    if pending:
        yield (False, *pending)


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


def _diff_words(old: str, new: str, out: _Segments) -> None:
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    old_keys = [t.rstrip() for t in old_tokens]
    new_keys = [t.rstrip() for t in new_tokens]
    for equal, i1, i2, j1, j2 in _blocks(old_keys, new_keys):
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


def _diff_paragraph(old: str, new: str) -> tuple[list[Segment], list[str], list[str]]:
    """Segments of an edited paragraph, with the new and old sentences that changed."""
    out = _Segments()
    added: list[str] = []
    removed: list[str] = []
    old_sents, new_sents = _sentences(old), _sentences(new)
    old_keys = [normalize_for_hash(s) for s in old_sents]
    new_keys = [normalize_for_hash(s) for s in new_sents]
    for equal, i1, i2, j1, j2 in _blocks(old_keys, new_keys):
        if equal:
            for a, b in zip(old_sents[i1:i2], new_sents[j1:j2], strict=True):
                if a == b:
                    out.equal(a)
                else:
                    _diff_words(a, b, out)
            continue
        _diff_words("".join(old_sents[i1:i2]), "".join(new_sents[j1:j2]), out)
        removed.extend(old_sents[i1:i2])
        added.extend(new_sents[j1:j2])
    return out.segments(), added, removed


def _pair(old: Sequence[str], new: Sequence[str], deadline: float) -> list[tuple[int, int]]:
    """Similar (i, j) pairs of a changed block, in order.

    The pairing is quadratic, so a block long on both sides (every paragraph edited) is cut
    along its diagonal into pieces of about PAIR_WINDOW paragraphs, paired separately.
    """
    pieces = max(1, -(-min(len(old), len(new)) // PAIR_WINDOW))
    pairs = []
    for k in range(pieces):
        i1, i2 = k * len(old) // pieces, (k + 1) * len(old) // pieces
        j1, j2 = k * len(new) // pieces, (k + 1) * len(new) // pieces
        pairs.extend((i1 + i, j1 + j) for i, j in _pair_all(old[i1:i2], new[j1:j2], deadline))
    return pairs


def _pair_all(old: Sequence[str], new: Sequence[str], deadline: float) -> list[tuple[int, int]]:
    """Order-preserving pairs (i, j) maximising total similarity, each at least the threshold."""
    n, m = len(old), len(new)
    # best[i][j]: best total score using old[i:] and new[j:].
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        if time.perf_counter() > deadline:
            raise _Timeout
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            score = fuzz.ratio(old[i], new[j], score_cutoff=PAIR_THRESHOLD)
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
    old_keys: list[str], new_keys: list[str], deadline: float, coarse: bool
) -> Iterator[tuple[int | None, int | None]]:
    """Aligned (old, new) paragraph indexes; None on one side for an insert or delete."""
    for equal, i1, i2, j1, j2 in _absorb_short_anchors(_blocks(old_keys, new_keys)):
        if equal:
            yield from zip(range(i1, i2), range(j1, j2), strict=True)
            continue
        if coarse:
            count = min(i2 - i1, j2 - j1)
            pairs = [(k, k) for k in range(count)]
        else:
            pairs = _pair(old_keys[i1:i2], new_keys[j1:j2], deadline)
        yield from _block_rows(i1, i2, j1, j2, pairs)


class _Rows:
    """Builds paragraph rows and, per row, the (added, removed) texts for the summary."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.changes: list[tuple[list[str], list[str]]] = []

    def add(
        self, old: list[str], new: list[str], i: int | None, j: int | None, coarse: bool
    ) -> None:
        if i is not None and j is not None and old[i] == new[j]:
            self._append({"op": "equal", "old": i, "new": j}, [], [])
        elif j is None:
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
            segments, added, removed = _diff_paragraph(old[i], new[j])
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

    def summary(self) -> tuple[list[str], list[str]]:
        """Added and removed texts in document order, leaving out text that only moved."""
        added = [text.strip() for change in self.changes for text in change[0] if text.strip()]
        removed = [text.strip() for change in self.changes for text in change[1] if text.strip()]
        moved = Counter(map(normalize_for_hash, added)) & Counter(map(normalize_for_hash, removed))
        return _without(added, moved), _without(removed, moved)


def _without(texts: list[str], drop: Counter[str]) -> list[str]:
    """``texts`` minus as many occurrences of each hash form as ``drop`` counts."""
    drop = drop.copy()
    out = []
    for text in texts:
        key = normalize_for_hash(text)
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


def _loose_equal(rows: list[dict], old: list[str], new: list[str]) -> bool:
    """Whether each stretch of changed rows keeps its loose key (punctuation/whitespace only).

    Only changed paragraphs are normalized; unlike comparing whole texts, a word that moves
    across an unchanged paragraph counts as a real change.
    """
    runs: list[tuple[list[str], list[str]]] = [([], [])]
    for row in rows:
        if row["op"] == "equal":
            runs.append(([], []))
            continue
        if "old" in row:
            runs[-1][0].append(old[row["old"]])
        if "new" in row:
            runs[-1][1].append(new[row["new"]])
    return all(loose_key(" ".join(a)) == loose_key(" ".join(b)) for a, b in runs if a or b)


def _build_rows(
    old: list[str],
    new: list[str],
    old_keys: list[str],
    new_keys: list[str],
    deadline: float,
    coarse: bool,
) -> _Rows:
    rows = _Rows()
    for i, j in _row_pairs(old_keys, new_keys, deadline, coarse):
        rows.add(old, new, i, j, coarse)
        if not coarse and time.perf_counter() > deadline:
            raise _Timeout
    rows.mark_moves(old_keys, new_keys)
    return rows


def _diff_title(old: str, new: str) -> list[Segment] | None:
    if old == new:
        return None
    out = _Segments()
    _diff_words(old, new, out)
    return out.segments()


def _diff_other_headlines(old: Sequence[str], new: Sequence[str]) -> list[list[Segment]] | None:
    """Removed and added headlines, each removed one paired with the most similar added one
    when they are alike enough to be one edited headline."""
    new_keys = {normalize_for_hash(h) for h in new}
    old_keys = {normalize_for_hash(h) for h in old}
    removed = [h for h in old if normalize_for_hash(h) not in new_keys]
    added = [h for h in new if normalize_for_hash(h) not in old_keys]
    if not (removed or added):
        return None
    changes: list[list[Segment]] = []
    for headline in removed:
        match = max(added, key=lambda h: fuzz.ratio(headline, h), default=None)
        if match is not None and fuzz.ratio(headline, match) >= PAIR_THRESHOLD:
            added.remove(match)
            changes.append(_diff_title(headline, match) or [])
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
    (edited paragraphs become one "-" and one "+" segment) and ``coarse`` is True.
    """
    deadline = time.perf_counter() + time_limit
    old_keys = [normalize_for_hash(p) for p in old_paragraphs]
    new_keys = [normalize_for_hash(p) for p in new_paragraphs]
    coarse = False
    try:
        rows = _build_rows(old_paragraphs, new_paragraphs, old_keys, new_keys, deadline, False)
    except _Timeout:
        coarse = True
        rows = _build_rows(old_paragraphs, new_paragraphs, old_keys, new_keys, deadline, True)
    title = _diff_title(old_title, new_title)
    others = _diff_other_headlines(old_other_headlines, new_other_headlines)
    changed = title is not None or others is not None or any(r["op"] != "equal" for r in rows.rows)
    same_headlines = loose_key(old_title) == loose_key(new_title) and sorted(
        map(loose_key, old_other_headlines)
    ) == sorted(map(loose_key, new_other_headlines))
    added, removed = rows.summary()
    return {
        "title": title,
        "other_headlines": others,
        "paragraphs": rows.rows,
        "added": added,
        "removed": removed,
        "words_added": _word_count(rows.rows, "+"),
        "words_removed": _word_count(rows.rows, "-"),
        "minor": changed
        and same_headlines
        and _loose_equal(rows.rows, old_paragraphs, new_paragraphs),
        "coarse": coarse,
    }


def diff_versions(old: dict, new: dict) -> dict:
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
    )


def headlines_changed(diff: dict) -> bool:
    """Whether a stored diff changes the headline or another wording of it."""
    return bool(diff.get("title") or diff.get("other_headlines"))


def _side(segments: list[Segment], skip: str) -> str:
    return "".join(text for tag, text in segments if tag != skip)


def apply_diff(old_title: str, old_paragraphs: list[str], diff: dict) -> tuple[str, list[str]]:
    """Rebuild the new title and paragraphs from the old ones and a stored diff.

    Raises ValueError when an edited paragraph in the diff does not match ``old_paragraphs``,
    i.e. the diff was computed against another version.
    """
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
