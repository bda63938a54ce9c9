"""The shipment state machine: allowed steps, final states, and replay that ignores arrival order."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.shipment_lifecycle import ALLOWED, TimelineEvent, can_move, derive, is_final
from backend.domain.statuses import ShipmentStatus as S

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def stream(*steps: tuple[S, str] | S) -> list[TimelineEvent]:
    events = []
    for i, step in enumerate(steps):
        status, reason = step if isinstance(step, tuple) else (step, "")
        events.append(TimelineEvent(T0 + timedelta(hours=i), f"hp:{i}", status, reason))
    return events


FAILED_THEN_DELIVERED = stream(
    S.PENDING,
    S.PICKED_UP,
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    (S.DELIVERY_FAILED, "recipient_absent"),
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.DELIVERED,
)


def test_every_status_has_a_row_and_final_ones_lead_nowhere():
    assert set(ALLOWED) == set(S)
    for status in (S.DELIVERED, S.RETURNED, S.CANCELLED):
        assert ALLOWED[status] == frozenset()
        assert is_final(status)
    assert not is_final(S.OUT_FOR_DELIVERY)


def test_nothing_moves_a_parcel_to_unknown_or_back_to_pending():
    for allowed in ALLOWED.values():
        assert S.UNKNOWN not in allowed
    assert not can_move(S.IN_TRANSIT, S.PENDING)
    assert not can_move(S.OUT_FOR_DELIVERY, S.PICKED_UP)


def test_a_failed_attempt_can_go_out_again_and_be_delivered():
    derived = derive(FAILED_THEN_DELIVERED)
    assert derived.status is S.DELIVERED
    assert derived.last_event_at == T0 + timedelta(hours=7)


def test_the_latest_reason_is_kept_with_the_status():
    derived = derive(stream(S.PENDING, S.OUT_FOR_DELIVERY, (S.DELIVERY_FAILED, "bad_address")))
    assert (derived.status, derived.reason) == (S.DELIVERY_FAILED, "bad_address")


def test_a_late_older_scan_stays_in_the_timeline_but_never_moves_the_status_back():
    late = TimelineEvent(T0 + timedelta(hours=2, minutes=30), "hp:late", S.IN_TRANSIT)
    derived = derive([*FAILED_THEN_DELIVERED, late])
    assert derived.status is S.DELIVERED


def test_an_old_scan_arriving_after_delivery_changes_nothing():
    after = TimelineEvent(T0 + timedelta(hours=9), "hp:9", S.IN_TRANSIT)
    assert derive([*FAILED_THEN_DELIVERED, after]).status is S.DELIVERED


def test_unknown_codes_never_move_the_status_and_are_counted():
    derived = derive(stream(S.PENDING, S.PICKED_UP, S.UNKNOWN, S.UNKNOWN))
    assert derived.status is S.PICKED_UP
    assert derived.unknown_events == 2


@pytest.mark.parametrize("seed", range(40))
def test_any_shuffle_or_duplication_of_a_stream_ends_where_the_clean_one_does(seed):
    rng = random.Random(seed)
    noisy = FAILED_THEN_DELIVERED + rng.sample(FAILED_THEN_DELIVERED, k=4)  # re-sent events
    rng.shuffle(noisy)
    assert derive(noisy) == derive(FAILED_THEN_DELIVERED)


def test_every_order_of_a_short_stream_gives_one_answer():
    events = stream(
        S.PENDING, S.PICKED_UP, (S.CUSTOMS, "customs_documents"), S.IN_TRANSIT, S.DELIVERED
    )
    answers = {derive(list(order)) for order in itertools.permutations(events)}
    assert len(answers) == 1


def test_events_of_the_same_instant_are_ordered_by_their_key_every_time():
    a = TimelineEvent(T0, "a", S.PICKED_UP)
    b = TimelineEvent(T0, "b", S.CANCELLED)
    assert derive([a, b]) == derive([b, a])
