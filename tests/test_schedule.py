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


def test_failed_checks_back_off_exponentially_up_to_max_then_stop():
    policy = RevisitPolicy(initial=1800, max=86400, error_stop_after=7 * 86400)
    delays = [policy.after_error(T0, n, failing_since=T0)[0] for n in range(1, 10)]
    assert delays == [1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400, 86400]
    assert policy.after_error(T0, 10_000, failing_since=T0)[0] == 86400  # no overflow
    assert policy.after_error(T0 + timedelta(days=7), 12, failing_since=T0)[1] is None
    assert policy.after_error(T0 + timedelta(days=6), 12, failing_since=T0)[1] is not None


def test_volatile_needs_most_recent_checks_changed_and_ends_when_under_half():
    policy = RevisitPolicy(volatile_checks=10, volatile_changes=8)
    assert not policy.is_volatile([1] * 7 + [0] * 3, was_volatile=False)
    assert policy.is_volatile([0, 1] + [1] * 8, was_volatile=False)
    assert policy.is_volatile([0] * 5 + [1] * 5, was_volatile=True)
    assert not policy.is_volatile([0] * 6 + [1] * 4, was_volatile=True)


def test_a_volatile_change_grows_the_interval_instead_of_resetting_it():
    policy = RevisitPolicy(initial=1800, factor=1.2, max=3000)
    assert policy.after_volatile_change(T0, 1800) == (2160, T0 + timedelta(seconds=2160))
    assert policy.after_volatile_change(T0, 2900)[0] == 3000
