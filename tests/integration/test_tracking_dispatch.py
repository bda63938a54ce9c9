"""Dispatch: due parcels are leased once, grouped per carrier account in batches each carrier takes.

tracking_sync.dispatch_due() is what beat's `waybill.tracking.dispatch` runs every 5 s; these
tests call it directly (in threads, for the concurrent cases) against the real PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from uuid import UUID

import pytest
from sqlmodel import select

from backend.db import session_scope
from backend.domain.statuses import FINAL_SHIPMENT_STATUSES
from backend.domain.statuses import ShipmentStatus as S
from backend.models import CarrierAccount, Shipment
from backend.models.base import utcnow
from backend.services import tracking_sync
from tests.support import factories

pytestmark = pytest.mark.local_services

BATCH_SIZES = {"harbour-post": 40, "pearl-river": 10, "swiftlink": 50}  # swiftlink: subscriptions


@pytest.fixture
def tenant(clean_db):
    return factories.make_tenant()


def _account(tenant, slug: str, api_style: str = "rest_json", carrier=None) -> CarrierAccount:
    if carrier is None:
        return factories.make_carrier_account(tenant=tenant, slug=slug, api_style=api_style)
    with session_scope() as db:  # a second account at a carrier that already exists
        account = CarrierAccount(
            tenant_id=tenant.id, carrier_id=carrier, name="second", base_url="http://x.invalid"
        )
        db.add(account)
    return account


def _due(tenant, account: CarrierAccount, count: int, **overrides) -> list[UUID]:
    overrides.setdefault("next_poll_at", utcnow() - timedelta(seconds=5))
    overrides.setdefault("status", S.IN_TRANSIT.value)
    return [
        factories.make_shipment(tenant=tenant, carrier_account_id=account.id, **overrides).id
        for _ in range(count)
    ]


def _handed_out(batches: list[tracking_sync.Batch]) -> list[UUID]:
    return [shipment_id for batch in batches for shipment_id in batch.shipment_ids]


def _next_poll(ids: list[UUID]) -> dict[UUID, object]:
    with session_scope() as db:
        rows = db.exec(select(Shipment.id, Shipment.next_poll_at).where(Shipment.id.in_(ids))).all()  # type: ignore[attr-defined]
    return dict(rows)


def test_batches_respect_each_carriers_batch_size_and_never_mix_accounts(tenant):
    hp = _account(tenant, "harbour-post")
    hp_second = _account(tenant, "harbour-post", carrier=hp.carrier_id)
    pr = _account(tenant, "pearl-river", "xml")
    sl = _account(tenant, "swiftlink", "push")
    wanted = {hp.id: _due(tenant, hp, 95), hp_second.id: _due(tenant, hp_second, 3)}
    wanted[pr.id] = _due(tenant, pr, 23)
    wanted[sl.id] = _due(tenant, sl, 61)
    slug = {hp.id: "harbour-post", hp_second.id: "harbour-post", pr.id: "pearl-river"}
    slug[sl.id] = "swiftlink"

    batches = tracking_sync.dispatch_due()

    sizes: dict[UUID, list[int]] = {}
    for batch in batches:
        assert set(batch.shipment_ids) <= set(wanted[batch.account_id]), "a batch mixed accounts"
        sizes.setdefault(batch.account_id, []).append(len(batch.shipment_ids))
    assert sorted(sizes[hp.id]) == [15, 40, 40]
    assert sizes[hp_second.id] == [3]
    assert sorted(sizes[pr.id]) == [3, 10, 10]
    assert sorted(sizes[sl.id]) == [11, 50]
    for account_id, account_sizes in sizes.items():
        assert max(account_sizes) <= BATCH_SIZES[slug[account_id]]
    assert sorted(_handed_out(batches)) == sorted(i for ids in wanted.values() for i in ids)


def test_final_unscheduled_future_and_inactive_parcels_are_never_handed_out(tenant):
    hp = _account(tenant, "harbour-post")
    due = _due(tenant, hp, 4)
    final = [
        _due(tenant, hp, 1, status=status.value)[0] for status in sorted(FINAL_SHIPMENT_STATUSES)
    ]
    unscheduled = _due(tenant, hp, 3, next_poll_at=None)
    later = _due(tenant, hp, 2, next_poll_at=utcnow() + timedelta(minutes=5))
    paused = _account(tenant, "pearl-river", "xml")
    with session_scope() as db:
        row = db.get(CarrierAccount, paused.id)
        row.is_active = False
        db.add(row)
    inactive = _due(tenant, paused, 2)
    no_carrier = [
        factories.make_shipment(tenant=tenant, next_poll_at=utcnow() - timedelta(minutes=1)).id
    ]
    untouched = final + unscheduled + later + inactive + no_carrier
    before = _next_poll(untouched)

    for _ in range(3):
        handed = _handed_out(tracking_sync.dispatch_due())
        assert not set(handed) & set(untouched)
        if handed:
            assert sorted(handed) == sorted(due)

    assert _next_poll(untouched) == before, "dispatch moved a parcel it must not hand out"


def test_a_leased_parcel_is_not_handed_out_again_until_its_lease_ends(tenant):
    hp = _account(tenant, "harbour-post")
    ids = _due(tenant, hp, 5)

    first = _handed_out(tracking_sync.dispatch_due())
    again = _handed_out(tracking_sync.dispatch_due())

    assert sorted(first) == sorted(ids)
    assert again == []
    now = utcnow()
    for leased_until in _next_poll(ids).values():
        assert (
            now + tracking_sync.LEASE - timedelta(seconds=5)
            < leased_until
            <= now + tracking_sync.LEASE
        )
    # The worker that held the batch died: once the lease is over, the parcels go out again.
    with session_scope() as db:
        for shipment in db.exec(select(Shipment).where(Shipment.id.in_(ids))):  # type: ignore[attr-defined]
            shipment.next_poll_at = utcnow() - timedelta(seconds=1)
            db.add(shipment)
    assert sorted(_handed_out(tracking_sync.dispatch_due())) == sorted(ids)


def test_the_limit_hands_out_the_longest_overdue_first(tenant):
    hp = _account(tenant, "harbour-post")
    now = utcnow()
    ids = [
        _due(tenant, hp, 1, next_poll_at=now - timedelta(minutes=minutes))[0]
        for minutes in range(1, 11)
    ]  # ids[9] is the most overdue

    handed = _handed_out(tracking_sync.dispatch_due(limit=3))

    assert sorted(handed) == sorted(ids[7:])


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_dispatches_never_hand_out_the_same_parcel(tenant, round_):
    hp = _account(tenant, "harbour-post")
    pr = _account(tenant, "pearl-river", "xml")
    ids = _due(tenant, hp, 150) + _due(tenant, pr, 50)
    dispatchers = 4
    barrier = threading.Barrier(dispatchers)
    handed: list[list[UUID]] = [[] for _ in range(dispatchers)]
    errors: list[BaseException] = []

    def dispatch(slot: int) -> None:
        try:
            barrier.wait(timeout=30)
            while batches := tracking_sync.dispatch_due(limit=15):
                handed[slot] += _handed_out(batches)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=dispatch, args=(i,)) for i in range(dispatchers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    counts = Counter(i for slot in handed for i in slot)
    assert [i for i, n in counts.items() if n > 1] == [], "a parcel was handed out twice"
    assert sorted(counts) == sorted(ids), "a due parcel was never handed out"


def test_a_dispatch_skips_parcels_another_dispatch_holds_and_they_stay_its_own(tenant):
    """The row lock at work: one dispatch (here held open by hand) has leased some parcels but
    not committed; a second one neither waits for them nor hands them out, before or after."""
    hp = _account(tenant, "harbour-post")
    held = _due(tenant, hp, 6)
    free = _due(tenant, hp, 4)
    with session_scope() as db:
        rows = db.exec(
            select(Shipment)
            .where(Shipment.id.in_(held))  # type: ignore[attr-defined]
            .with_for_update()
        ).all()
        for shipment in rows:
            shipment.next_poll_at = utcnow() + tracking_sync.LEASE
            db.add(shipment)
        db.flush()  # the first dispatch's lease is written, not yet committed

        result: list[list[UUID]] = []
        thread = threading.Thread(
            target=lambda: result.append(_handed_out(tracking_sync.dispatch_due()))
        )
        thread.start()
        thread.join(timeout=20)
        assert not thread.is_alive(), "a dispatch waited for rows another dispatch holds"
        assert sorted(result[0]) == sorted(free)
    # Committed: the held parcels are leased, so the next dispatch has nothing to hand out.
    assert tracking_sync.dispatch_due() == []
