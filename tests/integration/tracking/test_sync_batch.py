"""One batch, in this process, against the sandbox: what a poll leaves behind for each parcel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.domain import poll_cadence, tracking_number
from backend.domain.statuses import ShipmentStatus as S
from backend.models.base import utcnow
from backend.services import tracking_sync
from tests.integration.tracking.conftest import (
    Stack,
    deactivate,
    make_account,
    make_tenant,
    new_numbers,
    seed_shipments,
    shipment_states,
)

pytestmark = pytest.mark.local_services


def test_parcels_the_carrier_does_not_know_wait_for_their_cadence_not_for_the_lease(
    tracking: Stack,
):
    """A number the carrier does not know (yet) came back when its lease ended, every two
    minutes, 30 times more often than a pending parcel is polled: unknown numbers ate the limit."""
    tenant = make_tenant()
    account = make_account(tenant, "harbour-post", tracking.sandbox)
    deactivate(account)  # beat's dispatch leaves it alone: this test polls it itself
    known = new_numbers(2, "SB")
    unknown = [tracking_number.make("SB", 99_000_000 + i) for i in range(3)]  # "not found"
    leased_until = utcnow() + tracking_sync.LEASE  # as dispatch_due leaves a batch
    ids = seed_shipments(account, known + unknown, next_poll_at=leased_until)

    started = utcnow()
    outcome = tracking_sync.sync_batch(account.id, ids)

    assert (outcome.outcome, outcome.polled) == ("ok", 5)
    states = shipment_states(ids)
    pending = poll_cadence.next_poll_at(S.PENDING.value, None, started)
    assert pending is not None and pending - started > 2 * tracking_sync.LEASE
    for shipment_id in ids[2:]:
        state = states[shipment_id]
        assert state.timeline == ()
        assert state.next_poll_at is not None
        assert abs(state.next_poll_at - pending) < timedelta(seconds=30), state
    for shipment_id in ids[:2]:  # the known ones got their first event and their cadence
        state = states[shipment_id]
        assert len(state.timeline) == 1
        assert state.next_poll_at is not None
        assert state.next_poll_at - started > 2 * tracking_sync.LEASE, state
