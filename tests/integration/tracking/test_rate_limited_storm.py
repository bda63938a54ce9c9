"""A 429 storm: someone else spends the key's tokens at the carrier; no parcel loses an update."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
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

PARCELS = 120  # three batches of 40
# The storm lasts until the workers have been refused (at most STORM_REACHES_WORKERS_WITHIN)
# and STORM_AFTER_FIRST_REFUSAL longer: well within sync_batch's retries (8, each after the
# carrier's Retry-After). A storm of fixed length sometimes passed between the workers'
# polls, and then proved nothing.
STORM_REACHES_WORKERS_WITHIN = 30.0
STORM_AFTER_FIRST_REFUSAL = 3.0
RIVALS = 2
RIVAL_INTERVAL = 0.02  # 2 x 50 attempts a second at a 10/s key: they take nearly every token
FINAL = {s.value for s in FINAL_SHIPMENT_STATUSES}


class Rival(threading.Thread):
    """Another client with the same Harbour Post key (a second system of the tenant's, say),
    calling an endpoint of its own so that the sandbox's log tells its requests from ours."""

    def __init__(self, base_url: str, api_key: str):
        super().__init__(daemon=True)
        self.base_url, self.api_key = base_url, api_key
        self.stop = threading.Event()
        self.statuses: Counter[int] = Counter()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=5, trust_env=False) as http:
            while not self.stop.is_set():
                # An empty quote request spends a token (then gets 400) unless it is refused first.
                answer = http.post(
                    "/harbour-post/v1/quotes", json={}, headers={"X-Api-Key": self.api_key}
                )
                self.statuses[answer.status_code] += 1
                self.stop.wait(RIVAL_INTERVAL)


def test_a_429_storm_is_ridden_out_and_every_parcel_gets_all_its_events(tracking: Stack):
    sandbox = tracking.sandbox
    tenant = make_tenant()
    account = make_account(tenant, "harbour-post", sandbox)
    numbers = new_numbers(PARCELS, "ST")
    ids = seed_shipments(account, numbers)
    journeys = {n: sandbox.journey("harbour-post", n)["codes"] for n in numbers}

    # The storm starts once the workers are polling: journeys have begun at the carrier.
    wait_until(
        lambda: len(sandbox.requests("harbour-post", account.api_key)) >= 2,
        30,
        lambda: "the workers never polled:\n" + tracking.logs(),
    )
    rivals = [Rival(sandbox.url, account.api_key) for _ in range(RIVALS)]
    storm_began = time.time()
    for rival in rivals:
        rival.start()

    def workers_refused() -> bool:
        return any(
            r["status"] == 429 and r["at"] >= storm_began and r["path"].endswith("/v1/track")
            for r in sandbox.requests("harbour-post", account.api_key)
        )

    wait_until(
        workers_refused,
        STORM_REACHES_WORKERS_WITHIN,
        lambda: "the storm never reached the workers:\n" + tracking.logs(),
    )
    time.sleep(STORM_AFTER_FIRST_REFUSAL)
    during = carrier_status.carrier_overview(staff_principal(tenant.id), tenant.slug)
    for rival in rivals:
        rival.stop.set()
        rival.join(timeout=10)
    storm_ended = time.time()
    rivals_got = sum((rival.statuses for rival in rivals), Counter())

    def all_delivered() -> bool:
        states = shipment_states(ids)
        return all(s.status in FINAL for s in states.values())

    wait_until(
        all_delivered,
        90,
        lambda: (
            f"parcels still moving after the storm: "
            f"{Counter(s.status for s in shipment_states(ids).values())}\n{tracking.logs()}"
        ),
        interval=1,
    )

    ours = [
        r
        for r in sandbox.requests("harbour-post", account.api_key)
        if r["path"].endswith("/v1/track")
    ]
    in_storm = Counter(r["status"] for r in ours if storm_began <= r["at"] <= storm_ended)
    print(f"storm: the rivals got {dict(rivals_got)}, the workers {dict(in_storm)}")
    assert rivals_got[429] > 0 and rivals_got[400] > 0, rivals_got
    assert in_storm[429] > 0, f"the storm never reached the workers: {in_storm}"
    hp = next(a for a in during if a.carrier_slug == "harbour-post")
    assert hp.rate_limited > 0, hp  # staff saw it
    # Nothing lost, nothing twice: each parcel's timeline is its whole journey, in order.
    for number, shipment_id in zip(numbers, ids, strict=True):
        state = shipment_states([shipment_id])[shipment_id]
        assert [code for _, code, *_ in state.timeline] == journeys[number], number
        assert state.next_poll_at is None  # final: never polled again
