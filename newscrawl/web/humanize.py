"""Times for people: "about 11 hours later", "3 days ago"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_MONTH = 30 * _DAY
_YEAR = 365 * _DAY


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def duration_in_words(delta: timedelta) -> str:
    """A duration rounded the way people say it (thresholds after Rails'
    ``distance_of_time_in_words``): "less than a minute", "about 11 hours", "3 days"."""
    seconds = abs(delta.total_seconds())
    if seconds < 45:
        return "less than a minute"
    if seconds < 90:
        return "about a minute"
    if seconds < 45 * _MINUTE:
        return _plural(round(seconds / _MINUTE), "minute")
    if seconds < 90 * _MINUTE:
        return "about an hour"
    if seconds < _DAY:
        return f"about {_plural(round(seconds / _HOUR), 'hour')}"
    if seconds < 42 * _HOUR:
        return "about a day"
    if seconds < _MONTH:
        return _plural(round(seconds / _DAY), "day")
    if seconds < 45 * _DAY:
        return "about a month"
    if seconds < _YEAR:
        return _plural(round(seconds / _MONTH), "month")
    return f"about {_plural(round(seconds / _YEAR), 'year')}"


def later(earlier: datetime, then: datetime) -> str:
    """How long after ``earlier`` ``then`` was: "about 11 hours later"."""
    return f"{duration_in_words(as_utc(then) - as_utc(earlier))} later"


def as_utc(moment: datetime | str) -> datetime:
    """The stored time as an aware UTC datetime (stores may hand back naive UTC times, and
    some MongoDB-compatible servers, nx-27017, ``$set`` dates as ISO strings)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def stamp(moment: datetime) -> str:
    """A compact UTC timestamp for pages and terminals: 2024-05-02 14:03 UTC."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, as Atom and JSON consumers expect."""
    if moment is None:
        return None
    return as_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def moment(value: Any) -> datetime | None:
    """A stored time (a datetime, or an ISO string from some wire servers), or None."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
