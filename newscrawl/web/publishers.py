"""The data of each publisher's record page (``/source``) and of the one across sources
(``/sources``), from ``newscrawl.record``'s daily counters: figures, charts and links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from newscrawl import queries, record
from newscrawl.store import Store
from newscrawl.web import charts
from newscrawl.web.humanize import duration_in_words
from newscrawl.web.timelimit import remaining_ms


def _figures(documents: list[dict[str, Any]]) -> dict[str, Any]:
    found = record.figures(documents)
    for name in ("time_to_first_edit", "time_to_last_edit"):
        timing = found[name]
        for key in ("median", "p90"):
            seconds = timing[key]
            timing[f"{key}_words"] = (
                duration_in_words(timedelta(seconds=seconds)) if seconds is not None else None
            )
    return found


def source_record(store: Store, name: str, days: int) -> dict[str, Any] | None:
    """One source's record over the last ``days`` days; None for a source never counted."""
    period = record.period_days(days)
    documents = record.read_days(store.db, period, name, max_time_ms=remaining_ms())
    if not documents and name not in queries.sources(store):
        return None
    found = _figures(documents)
    return {"source": name, "days": days, "since": period[0], "until": period[-1], **found,
            "charts": charts.charts(documents, period, found["kinds"])}  # fmt: skip


def sources_record(store: Store, days: int) -> dict[str, Any]:
    """Every source's record over the last ``days`` days, and all of them together."""
    period = record.period_days(days)
    documents = record.read_days(store.db, period, max_time_ms=remaining_ms())
    by_source: dict[str, list[dict[str, Any]]] = {}
    for doc in documents:
        by_source.setdefault(doc["source"], []).append(doc)
    found = _figures(documents)
    return {
        "days": days,
        "since": period[0],
        "until": period[-1],
        **found,
        "sources": [{"source": name, **_figures(docs)} for name, docs in sorted(by_source.items())],
        "charts": charts.charts(documents, period, found["kinds"]),
    }
