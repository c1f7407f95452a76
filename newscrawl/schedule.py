"""Revisit schedule: re-check fresh articles often, and less often while they stay unchanged."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class RevisitPolicy:
    """NewsSniffer's schedule by default: 30 min, x1.2 per unchanged check, stop after 40 days."""

    initial: float = 30 * 60
    factor: float = 1.2
    max: float = 24 * 60 * 60
    stop_after: float = 40 * 24 * 60 * 60

    @classmethod
    def from_settings(cls, settings: Any) -> RevisitPolicy:
        return cls(
            initial=settings.getfloat("NEWSCRAWL_REVISIT_INITIAL", cls.initial),
            factor=settings.getfloat("NEWSCRAWL_REVISIT_FACTOR", cls.factor),
            max=settings.getfloat("NEWSCRAWL_REVISIT_MAX", cls.max),
            stop_after=settings.getfloat("NEWSCRAWL_REVISIT_STOP_AFTER", cls.stop_after),
        )

    def overridden(self, overrides: dict[str, float]) -> RevisitPolicy:
        """This policy with a source's ``revisit`` table applied."""
        return replace(self, **overrides) if overrides else self

    def after_change(self, now: datetime) -> tuple[float, datetime]:
        """Interval and next check time after a new article or a new version."""
        return self.initial, now + timedelta(seconds=self.initial)

    def after_unchanged(
        self, now: datetime, interval: float, last_changed: datetime
    ) -> tuple[float, datetime | None]:
        """Grown interval and next check time; None once the article has been still too long."""
        if (now - last_changed).total_seconds() >= self.stop_after:
            return interval, None
        interval = min(max(interval, self.initial) * self.factor, self.max)
        return interval, now + timedelta(seconds=interval)
