"""Carrier events reach a shipment once, in any order, from polls and pushes alike."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from backend.config import get_settings
from backend.db import session_scope
from backend.domain.statuses import ShipmentStatus as S
from backend.integrations.carriers.base import CarrierEvent
from backend.models import Shipment, TrackingEvent
from backend.services import live_updates, shipment_events
from tests.support import factories

pytestmark = pytest.mark.local_services
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def journey(number: str) -> list[CarrierEvent]:
    steps = [
        (S.PICKED_UP, "PU", ""),
        (S.IN_TRANSIT, "AH", ""),
        (S.OUT_FOR_DELIVERY, "OD", ""),
        (S.DELIVERY_FAILED, "NA", "recipient_absent"),
        (S.OUT_FOR_DELIVERY, "OD", ""),
        (S.DELIVERED, "DL", ""),
    ]
    return [
        CarrierEvent(
            tracking_number=number,
            event_id=f"hp-{i}",
            occurred_at=T0 + timedelta(hours=i),
            raw_code=code,
            status=status,
            reason=reason,
            city="Mong Kok",
            country="HK",
        )
        for i, (status, code, reason) in enumerate(steps)
    ]


@pytest.fixture
def parcel(clean_db):
    tenant = factories.make_tenant()
    shipment = factories.make_shipment(tenant=tenant, status=S.PENDING.value)
    return tenant, shipment


def _state(shipment_id):
    with session_scope() as db:
        shipment = db.get(Shipment, shipment_id)
        timeline = db.exec(
            select(TrackingEvent.dedupe_key, TrackingEvent.status)
            .where(TrackingEvent.shipment_id == shipment_id)
            .order_by(TrackingEvent.occurred_at)
        ).all()
        return shipment.status, shipment.status_reason, list(timeline), shipment.next_poll_at


def test_a_clean_journey_ends_delivered_and_is_not_polled_again(parcel):
    tenant, shipment = parcel
    outcome = shipment_events.apply_events(
        tenant.id, "harbour-post", journey(shipment.tracking_number), source="poll"
    )
    status, _, timeline, next_poll = _state(shipment.id)
    assert (outcome.added, outcome.duplicates) == (6, 0)
    assert status == S.DELIVERED.value
    assert len(timeline) == 6
    assert next_poll is None


@pytest.mark.parametrize("seed", range(5))
def test_a_duplicated_and_shuffled_stream_gives_the_clean_timeline_and_status(clean_db, seed):
    tenant = factories.make_tenant()
    clean = factories.make_shipment(tenant=tenant, status=S.PENDING.value)
    noisy = factories.make_shipment(tenant=tenant, status=S.PENDING.value)
    shipment_events.apply_events(tenant.id, "hp", journey(clean.tracking_number), source="poll")

    rng = random.Random(seed)
    events = journey(noisy.tracking_number)
    stream = events + rng.sample(events, k=3)
    rng.shuffle(stream)
    for start in range(0, len(stream), 2):  # delivered in small, out-of-order batches
        shipment_events.apply_events(tenant.id, "hp", stream[start : start + 2], source="push")

    clean_state, noisy_state = _state(clean.id), _state(noisy.id)
    assert noisy_state[:2] == clean_state[:2]
    assert [status for _, status in noisy_state[2]] == [status for _, status in clean_state[2]]


def test_a_resent_event_adds_nothing(parcel):
    tenant, shipment = parcel
    events = journey(shipment.tracking_number)[:3]
    shipment_events.apply_events(tenant.id, "hp", events, source="poll")
    again = shipment_events.apply_events(tenant.id, "hp", events, source="push")
    assert (again.added, again.duplicates, again.status_changes) == (0, 3, 0)


def test_concurrent_poll_and_push_of_the_same_events_apply_once(parcel):
    tenant, shipment = parcel
    events = journey(shipment.tracking_number)
    barrier = threading.Barrier(4)
    outcomes = []

    def apply(source: str) -> None:
        barrier.wait()
        outcomes.append(shipment_events.apply_events(tenant.id, "hp", events, source=source))

    threads = [threading.Thread(target=apply, args=(s,)) for s in ("poll", "push", "poll", "push")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(o.added for o in outcomes) == 6
    assert _state(shipment.id)[0] == S.DELIVERED.value
    assert len(_state(shipment.id)[2]) == 6


def test_events_for_numbers_we_do_not_have_are_counted_not_stored(parcel):
    tenant, _ = parcel
    outcome = shipment_events.apply_events(tenant.id, "hp", journey("WB999999995HK"), source="poll")
    assert outcome.unknown_shipments == 6
    assert outcome.added == 0


def test_another_tenants_shipment_is_never_touched(parcel):
    tenant, shipment = parcel
    other = factories.make_tenant()
    outcome = shipment_events.apply_events(
        other.id, "hp", journey(shipment.tracking_number), source="push"
    )
    assert outcome.added == 0
    assert _state(shipment.id)[0] == S.PENDING.value


def test_an_unknown_code_is_stored_raw_and_does_not_move_the_status(parcel):
    tenant, shipment = parcel
    odd = CarrierEvent(
        tracking_number=shipment.tracking_number,
        event_id="hp-odd",
        occurred_at=T0,
        raw_code="ZZ",
        status=S.UNKNOWN,
        raw={"code": "ZZ"},
    )
    outcome = shipment_events.apply_events(tenant.id, "hp", [odd], source="poll")
    assert outcome.unknown_codes == 1
    with session_scope() as db:
        stored = db.exec(
            select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id)
        ).one()
    assert (stored.status, stored.raw_code, stored.raw) == ("unknown", "ZZ", {"code": "ZZ"})
    assert _state(shipment.id)[0] == S.PENDING.value


def test_pages_watching_a_parcel_are_told_once_its_new_events_are_in(
    parcel, redis_client, monkeypatch
):
    tenant, shipment = parcel
    other = factories.make_shipment(tenant=tenant, status=S.PENDING.value)
    monkeypatch.setenv("INTERNAL_TOKEN", "test-internal-token")
    get_settings.cache_clear()
    told: list[str] = []
    monkeypatch.setattr(live_updates, "_post", lambda topic, *_: told.append(topic) or True)
    live_updates.watch(f"shipment:{shipment.tracking_number}", "tab-1")

    both = journey(shipment.tracking_number)[:2] + journey(other.tracking_number)[:2]
    outcome = shipment_events.apply_events(tenant.id, "harbour-post", both, source="poll")
    assert sorted(outcome.changed_numbers) == sorted(
        [shipment.tracking_number, other.tracking_number]
    )
    assert told == [f"shipment:{shipment.tracking_number}"]  # nobody watches the other

    told.clear()  # the same events again: nothing new, nobody is told
    again = shipment_events.apply_events(tenant.id, "harbour-post", both, source="poll")
    assert again.changed_numbers == [] and told == []
    get_settings.cache_clear()
