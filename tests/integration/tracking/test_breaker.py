"""A carrier that hangs trips the account's breaker; staff see it open; it closes and parcels move.

Slow by nature (about a minute): every call waits for the adapters' 10 s read timeout, the
breaker opens after 5 of them in a row and stays open for 30 s before one trial call.
"""

from __future__ import annotations

import time

import pytest

from backend.domain.statuses import FINAL_SHIPMENT_STATUSES
from backend.services import carrier_status
from tests.integration.tracking.conftest import (
    Stack,
    make_account,
    make_tenant,
    new_numbers,
    seed_shipments,
    shipment_states,
    staff_principal,
    wait_until,
)

pytestmark = pytest.mark.local_services

HANG_SECONDS = 15  # longer than the adapters' 10 s read timeout
PARCELS = 200  # five batches: more calls at once than the two workers have processes
FINAL = {s.value for s in FINAL_SHIPMENT_STATUSES}


def test_a_hanging_carrier_trips_the_breaker_and_it_recovers(tracking: Stack):
    sandbox = tracking.sandbox
    tenant = make_tenant()
    account = make_account(tenant, "harbour-post", sandbox)
    principal = staff_principal(tenant.id)

    def harbour_post():
        overview = carrier_status.carrier_overview(principal, tenant.slug)
        return next(a for a in overview if a.carrier_slug == "harbour-post")

    sandbox.faults(carrier="harbour-post", hang_rate=1.0, hang_seconds=HANG_SECONDS)
    ids = seed_shipments(account, new_numbers(PARCELS, "BK"))
    assert harbour_post().breaker == "closed"

    opened = wait_until(
        lambda: harbour_post() if harbour_post().breaker == "open" else None,
        90,
        lambda: f"the breaker never opened: {harbour_post()}\n{tracking.logs()}",
        interval=0.5,
    )
    tripped_at = time.time()
    assert opened.timeouts >= 5, opened  # staff see why
    assert opened.ok == 0

    # While it is open, not one call goes to the carrier (the ones already hanging aside).
    sandbox.faults(carrier="harbour-post", reset=True)
    time.sleep(10)
    assert harbour_post().breaker == "open"
    calls = sandbox.requests("harbour-post", account.api_key, since=tripped_at + 1.0)
    assert calls == [], calls

    closed = wait_until(
        lambda: harbour_post() if harbour_post().breaker == "closed" else None,
        60,
        lambda: f"the breaker never closed: {harbour_post()}\n{tracking.logs()}",
        interval=0.5,
    )
    assert closed.ok >= 1
    # Parcels move again: the trial's batch and the ones after it. A batch that came while the
    # trial was out was put back for 30 s (BREAKER_RETRY); none is dropped.
    wait_until(
        lambda: sum(1 for state in shipment_states(ids).values() if state.timeline) >= 80,
        30,
        lambda: (
            "parcels did not move after the carrier came back: "
            f"{sum(1 for s in shipment_states(ids).values() if s.timeline)} with events\n"
            + tracking.logs()
        ),
        interval=0.5,
    )
    for state in shipment_states(ids).values():
        # each one delivered already, or due to be polled again
        assert state.status in FINAL or state.next_poll_at is not None, state
    assert harbour_post().breaker == "closed"
