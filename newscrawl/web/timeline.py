"""An article's versions on a time axis, as data for a server-side SVG (the pages allow no
scripts) and one summary line: "changed 3 times in about 11 hours, headline twice"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newscrawl import kinds as k
from newscrawl.web.humanize import as_utc, duration_in_words, stamp

WIDTH, HEIGHT, MARGIN = 640, 96, 28
AXIS_Y = 56
# Colour of a version's mark by its most telling kind (first match); the first version grey.
COLOURS = (
    (k.HEADLINE, "#b03a2e", "headline"),
    (k.NOTICE, "#1e8449", "notice"),
    (k.NUMBER, "#d68910", "number"),
    (k.QUOTE_ALTERED, "#d68910", "quotation"),
    (k.QUOTE_REMOVED, "#d68910", "quotation"),
    (k.QUOTE_ADDED, "#d68910", "quotation"),
)
PLAIN, FIRST = "#2e6da4", "#888888"
_TIMES = {1: "once", 2: "twice"}


def _times(count: int) -> str:
    return _TIMES.get(count, f"{count} times")


def timeline(versions: list[dict[str, Any]]) -> dict[str, Any]:
    """Marks (x, colour, label, kinds) per version, the axis' end labels and the summary.

    ``versions`` are ``queries.version_list`` documents: ``fetched_at``, and ``kinds`` and
    ``headline_changed`` from version 2 on.
    """
    if not versions:
        return {"marks": [], "summary": "", "width": WIDTH, "height": HEIGHT}
    times = [as_utc(v["fetched_at"]) for v in versions]
    start, end = times[0], times[-1]
    span = (end - start).total_seconds()
    marks = []
    for n, (version, moment) in enumerate(zip(versions, times, strict=True)):
        found = set(version.get("kinds") or ())
        if version.get("headline_changed"):
            found.add(k.HEADLINE)
        colour, tag = (FIRST, "first seen") if n == 0 else (PLAIN, "")
        for kind, kind_colour, name in COLOURS if n else ():
            if kind in found:
                colour, tag = kind_colour, name
                break
        offset = (moment - start).total_seconds() / span if span else 0.5
        marks.append({
            "x": round(MARGIN + offset * (WIDTH - 2 * MARGIN), 1),
            "version": version["version"],
            "colour": colour,
            "tag": tag,
            "kinds": [kind for kind in k.KINDS if kind in found],
            "when": stamp(moment),
        })  # fmt: skip
    changes = len(versions) - 1
    headlines = sum(1 for m in marks[1:] if k.HEADLINE in m["kinds"])
    return {
        "marks": marks,
        "width": WIDTH,
        "height": HEIGHT,
        "axis_y": AXIS_Y,
        "margin": MARGIN,
        "start": stamp(start),
        "end": stamp(end),
        "summary": summary(changes, start, end, headlines),
    }


def summary(changes: int, start: datetime, end: datetime, headlines: int) -> str:
    if not changes:
        return "not changed since first seen"
    line = f"changed {_times(changes)} in {duration_in_words(end - start)}"
    if headlines:
        line += f", headline {_times(headlines)}"
    return line
