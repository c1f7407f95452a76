"""A diff cut down to a store's document limit (``truncated``)."""

from __future__ import annotations

from collections.abc import Callable

from newscrawl.diff.segments import Segment, append_segment

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
            append_segment(out, "=", CUT)
            break
        if tag == "=" and len(text) > 2 * context + len(CUT):
            before = text[:context] if k else ""
            after = text[-context:] if k < len(segments) - 1 else ""
            text = before + CUT + after
        elif tag != "=":
            text = _clip(text, clip)
        append_segment(out, tag, text)
        used += len(text)
    return out
