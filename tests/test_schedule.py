from datetime import UTC, datetime, timedelta

import pytest

from newscrawl.schedule import RevisitPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_interval_grows_by_factor_and_is_capped():
    policy = RevisitPolicy(initial=1800, factor=1.2, max=3000)
    interval, when = policy.after_unchanged(T0, 1800, last_changed=T0)
    assert interval == pytest.approx(2160) and when == T0 + timedelta(seconds=2160)
    interval, _ = policy.after_unchanged(T0, 2900, last_changed=T0)
    assert interval == 3000


def test_change_resets_interval():
    assert RevisitPolicy().after_change(T0) == (1800, T0 + timedelta(minutes=30))


def test_stops_after_long_quiet_period():
    policy = RevisitPolicy(stop_after=40 * 86400)
    assert policy.after_unchanged(T0 + timedelta(days=40), 3600, last_changed=T0)[1] is None
    assert policy.after_unchanged(T0 + timedelta(days=39), 3600, last_changed=T0)[1] is not None


def test_source_overrides_apply():
    policy = RevisitPolicy().overridden({"initial": 60.0})
    assert policy.initial == 60 and policy.factor == 1.2
