"""Dates read back from a store, as aware UTC (the store and the due buckets both read them)."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime | str) -> datetime:
    """A datetime read back from the store, as aware UTC.

    MongoDB returns BSON dates; some MongoDB-compatible servers (nx-27017, used in the wire
    tests) hand back ``$set`` dates as ISO strings, so both are accepted.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
