"""A publisher's record as charts: bar geometry for server-side SVG (the pages allow no
scripts), from ``newscrawl.record``'s counters. Every bar carries its label and count, so the
SVG's titles and the page's JSON say what the picture shows."""

from __future__ import annotations

from typing import Any

from newscrawl import kinds as k
from newscrawl import record

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 36, 28, 12
COLOUR = "#2e6da4"
# Time from first sight, for the distribution: (label, upper bound in seconds).
_HOUR, _DAY = 3600, 86400
SPANS = (("< 1 h", _HOUR), ("1–3 h", 3 * _HOUR), ("3–6 h", 6 * _HOUR),
         ("6–12 h", 12 * _HOUR), ("12–24 h", _DAY), ("1–2 d", 2 * _DAY), ("2–7 d", 7 * _DAY),
         ("≥ 7 d", float("inf")))  # fmt: skip
KIND_NAMES = {
    k.HEADLINE: "headline", k.NUMBER: "number", k.QUOTE_ADDED: "quotation added",
    k.QUOTE_REMOVED: "quotation removed", k.QUOTE_ALTERED: "quotation altered",
    k.PARAGRAPH_ADDED: "paragraph added", k.PARAGRAPH_REMOVED: "paragraph removed",
    k.BYLINE: "byline", k.DATES: "dates", k.NOTICE: "notice", k.SILENT: "silent",
}  # fmt: skip
KIND_COLOURS = {k.HEADLINE: "#b03a2e", k.NOTICE: "#1e8449", k.SILENT: "#7d3c98"}


def columns(values: list[tuple[str, int]], every: int = 1) -> dict[str, Any]:
    """Vertical bars, one per (label, count); every ``every``-th label written under its bar,
    counted from the last."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    top = max([count for _, count in values] + [1])
    step = plot_w / max(1, len(values))
    bars = []
    for n, (label, count) in enumerate(values):
        height = round(plot_h * count / top, 1)
        bars.append({
            "label": label, "count": count, "x": round(LEFT + n * step + step * 0.1, 1),
            "width": round(step * 0.8, 1), "y": round(TOP + plot_h - height, 1),
            "height": height, "text_x": round(LEFT + n * step + step / 2, 1),
            "show_label": (len(values) - 1 - n) % every == 0,
        })  # fmt: skip
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP,
            "base": TOP + plot_h, "max": top, "colour": COLOUR}  # fmt: skip


def rows(values: list[tuple[str, int, str]]) -> dict[str, Any]:
    """Horizontal bars, one per (label, count, colour)."""
    label_w, row_h = 140, 20
    plot_w = WIDTH - label_w - 48
    top = max([count for _, count, _ in values] + [1])
    bars = []
    for n, (label, count, colour) in enumerate(values):
        bars.append({"label": label, "count": count, "colour": colour, "y": 6 + n * row_h,
                     "width": round(plot_w * count / top, 1)})  # fmt: skip
    return {"bars": bars, "width": WIDTH, "height": 12 + len(values) * row_h, "left": label_w,
            "row": row_h}  # fmt: skip


def edits_per_day(documents: list[dict[str, Any]], days: list[str]) -> dict[str, Any]:
    per_day = {day: 0 for day in days}
    for doc in documents:
        per_day[doc["day"]] = per_day.get(doc["day"], 0) + int(doc.get("edits") or 0)
    every = max(1, round(len(days) / 8))
    return columns([(day[5:], per_day[day]) for day in days], every)


def spans(histogram: dict[int, int]) -> list[tuple[str, int]]:
    """Articles per span of SPANS, each bucket put by its lower bound."""
    counts = dict.fromkeys((label for label, _ in SPANS), 0)
    for number, count in histogram.items():
        lower = record.BASE**number if number else 0
        label = next(label for label, bound in SPANS if lower < bound)
        counts[label] += count
    return list(counts.items())


def time_to_edit(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return columns(spans(record.histogram(documents, "first_edit")))


def kinds_of_edit(kinds: dict[str, int]) -> dict[str, Any]:
    return rows([(KIND_NAMES[kind], kinds.get(kind, 0), KIND_COLOURS.get(kind, COLOUR))
                 for kind in k.KINDS])  # fmt: skip


def charts(documents: list[dict[str, Any]], days: list[str], kinds: dict[str, int]) -> dict:
    return {
        "edits_per_day": edits_per_day(documents, days),
        "time_to_first_edit": time_to_edit(documents),
        "kinds": kinds_of_edit(kinds),
    }
