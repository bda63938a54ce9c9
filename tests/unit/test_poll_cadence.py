"""Polling cadence: often when delivery is close, rarely for parcels that have not moved, never when final."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain.poll_cadence import next_poll_at
from backend.domain.statuses import ShipmentStatus as S

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def delay(status: S, quiet_for: timedelta = timedelta(hours=1), unit: float = 60.0) -> timedelta:
    at = next_poll_at(status.value, NOW - quiet_for, NOW, unit)
    assert at is not None
    return at - NOW


def test_final_parcels_are_never_polled_again():
    for status in (S.DELIVERED, S.RETURNED, S.CANCELLED):
        assert next_poll_at(status.value, NOW, NOW) is None


def test_out_for_delivery_is_polled_more_often_than_in_transit():
    assert delay(S.OUT_FOR_DELIVERY) < delay(S.IN_TRANSIT) < delay(S.PENDING)
    assert delay(S.OUT_FOR_DELIVERY) == timedelta(minutes=5)


def test_exceptions_are_watched_closely():
    assert delay(S.EXCEPTION) <= timedelta(minutes=10)
    assert delay(S.DELIVERY_FAILED) <= timedelta(minutes=10)


def test_a_parcel_quiet_for_days_is_polled_less():
    assert delay(S.IN_TRANSIT, quiet_for=timedelta(days=4)) == 4 * delay(S.IN_TRANSIT)


def test_urgent_parcels_stay_urgent_even_when_quiet():
    assert delay(S.OUT_FOR_DELIVERY, quiet_for=timedelta(days=4)) == timedelta(minutes=5)


def test_one_unit_scales_the_whole_table():
    assert delay(S.OUT_FOR_DELIVERY, unit=2.0) == timedelta(seconds=10)
