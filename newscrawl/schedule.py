"""Revisit schedule: re-check fresh articles often, and less often while they stay unchanged,
keep changing at nearly every check (volatile), or keep failing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

DAY = 24 * 60 * 60


@dataclass(frozen=True)
class RevisitPolicy:
    """NewsSniffer's schedule by default: 30 min, x1.2 per unchanged check, stop after 40 days.

    Failed checks are retried after ``initial``, then twice as long each time (capped at
    ``max``), and no longer once every check has failed for ``error_stop_after``.
    An article that changed at ``volatile_changes`` or more of its last ``volatile_checks``
    checks is *volatile* (a live blog, rotating content) until fewer than half of them changed:
    its interval grows at every check, changed or not, and at most
    ``volatile_versions_per_day`` versions are stored per 24 hours.
    """

    initial: float = 30 * 60
    factor: float = 1.2
    max: float = DAY
    stop_after: float = 40 * DAY
    error_stop_after: float = 7 * DAY
    volatile_checks: int = 10
    volatile_changes: int = 8
    volatile_versions_per_day: int = 6

    @classmethod
    def from_settings(cls, settings: Any) -> RevisitPolicy:
        return cls(
            initial=settings.getfloat("NEWSCRAWL_REVISIT_INITIAL", cls.initial),
            factor=settings.getfloat("NEWSCRAWL_REVISIT_FACTOR", cls.factor),
            max=settings.getfloat("NEWSCRAWL_REVISIT_MAX", cls.max),
            stop_after=settings.getfloat("NEWSCRAWL_REVISIT_STOP_AFTER", cls.stop_after),
            error_stop_after=settings.getfloat(
                "NEWSCRAWL_REVISIT_ERROR_STOP_AFTER", cls.error_stop_after
            ),
            volatile_checks=settings.getint("NEWSCRAWL_VOLATILE_CHECKS", cls.volatile_checks),
            volatile_changes=settings.getint("NEWSCRAWL_VOLATILE_CHANGES", cls.volatile_changes),
            volatile_versions_per_day=settings.getint(
                "NEWSCRAWL_VOLATILE_MAX_VERSIONS_PER_DAY", cls.volatile_versions_per_day
            ),
        )

    def overridden(self, overrides: dict[str, Any]) -> RevisitPolicy:
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
        return self.after_volatile_change(now, interval)

    def after_volatile_change(self, now: datetime, interval: float) -> tuple[float, datetime]:
        """A volatile article's change does not reset its interval: it grows as if unchanged."""
        interval = min(max(interval, self.initial) * self.factor, self.max)
        return interval, now + timedelta(seconds=interval)

    def after_error(
        self, now: datetime, errors: int, failing_since: datetime
    ) -> tuple[float, datetime | None]:
        """Retry delay after the ``errors``-th failed check in a row (exponential, capped at
        ``max``) and the retry time; None once every check since ``failing_since`` failed for
        ``error_stop_after``."""
        delay = min(self.initial * 2.0 ** min(max(errors - 1, 0), 64), self.max)
        if (now - failing_since).total_seconds() >= self.error_stop_after:
            return delay, None
        return delay, now + timedelta(seconds=delay)

    def is_volatile(self, changes: list[int], was_volatile: bool) -> bool:
        """Whether an article is volatile, given whether each of its recent checks changed
        (1) or not (0), oldest first."""
        changed = sum(changes[-self.volatile_checks :])
        if was_volatile:
            return 2 * changed >= self.volatile_checks
        return changed >= self.volatile_changes
