"""SwiftLink pushes through the real route (granian) and the workers: duplicated, re-sent and
shuffled streams end with the timeline and status of the clean one.

Alpha's parcels are subscribed by the workers and pushed in order by the sandbox: the clean
run. The sandbox is then asked to re-send everything (/v1/resend): nothing changes. Bravo holds
parcels with the same SwiftLink numbers (the same journeys), never subscribed; it gets the very
same event bodies, some twice, in a shuffled order, signed with Bravo's own secret, posted to
Bravo's endpoint: its parcels must end exactly where Alpha's did.
"""

from __future__ import annotations

import json
import random
import time
from uuid import uuid4

import httpx
import pytest
from sqlmodel import select

from backend.db import session_scope
from backend.domain.statuses import FINAL_SHIPMENT_STATUSES, WebhookState
from backend.integrations.carriers.swiftlink.adapter import sign
from backend.models import WebhookInbox
from backend.sandbox.carriers.stats import key_id
from tests.integration.tracking.conftest import (
    Stack,
    make_account,
    make_tenant,
    new_numbers,
    seed_shipments,
    shipment_states,
    wait_until,
)

pytestmark = pytest.mark.local_services

PARCELS = 6
FINAL = {s.value for s in FINAL_SHIPMENT_STATUSES}


def _inbox(tenant_id) -> list[WebhookInbox]:
    with session_scope() as db:
        return list(
            db.exec(
                select(WebhookInbox)
                .where(WebhookInbox.tenant_id == tenant_id)
                .order_by(WebhookInbox.received_at)
            )
        )


def _post(http: httpx.Client, path: str, body: bytes, secret: str) -> httpx.Response:
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-SwiftLink-Timestamp": stamp,
        "X-SwiftLink-Signature": sign(secret, stamp, body),
    }
    return http.post(path, content=body, headers=headers)


def _comparable(states: dict, ids: list) -> list[tuple]:
    return [(states[i].status, states[i].reason, states[i].timeline) for i in ids]


def test_resent_duplicated_and_shuffled_pushes_end_like_the_clean_stream(tracking: Stack):
    sandbox = tracking.sandbox
    alpha, bravo = make_tenant("alpha-push"), make_tenant("bravo-push")
    account_a = make_account(alpha, "swiftlink", sandbox)
    account_b = make_account(bravo, "swiftlink", sandbox)
    refs = [f"SL{uuid4().hex[:10].upper()}" for _ in range(PARCELS)]
    ids_a = seed_shipments(account_a, new_numbers(PARCELS, "PA"), carrier_references=refs)
    ids_b = seed_shipments(
        account_b, new_numbers(PARCELS, "PB"), carrier_references=refs, next_poll_at=None
    )
    journeys = {ref: sandbox.journey("swiftlink", ref)["codes"] for ref in refs}
    events_in_all = sum(len(codes) for codes in journeys.values())

    # The clean run: subscribed by a worker, pushed in order, applied by the workers.
    def clean_done() -> bool:
        states = shipment_states(ids_a)
        return all(
            states[i].status in FINAL and len(states[i].timeline) == len(journeys[ref])
            for i, ref in zip(ids_a, refs, strict=True)
        )

    wait_until(
        clean_done,
        60,
        lambda: f"alpha's parcels never finished: {shipment_states(ids_a)}\n{tracking.logs()}",
        interval=0.5,
    )
    clean = shipment_states(ids_a)
    for shipment_id, ref in zip(ids_a, refs, strict=True):
        assert [code for _, code, *_ in clean[shipment_id].timeline] == journeys[ref]
    inbox_a = _inbox(alpha.id)
    assert len(inbox_a) == events_in_all
    wait_until(
        lambda: all(row.state == WebhookState.PROCESSED.value for row in _inbox(alpha.id)),
        30,
        "alpha's pushes were stored but not all applied",
    )

    # The carrier sends it all again: the same event ids, nothing new anywhere.
    with sandbox.client() as http:
        answer = http.post(
            "/swiftlink/v1/resend",
            json={"since": "2000-01-01T00:00:00Z"},
            headers={"X-Api-Key": account_a.api_key},
        )
    assert answer.status_code == 202
    assert answer.json()["queued"] >= events_in_all  # subscriptions refreshed may queue more

    def resent() -> list[dict]:
        return [
            p
            for p in sandbox.pushes()
            if p["resend"] and p["key_id"] == key_id(account_a.api_key) and p["status"] == 202
        ]

    wait_until(
        lambda: len({p["event_id"] for p in resent()}) >= events_in_all,
        30,
        lambda: f"the resend did not arrive: {len(resent())} of {events_in_all}",
        interval=0.5,
    )
    time.sleep(1)  # anything a re-delivery wrongly enqueued would have been applied by now
    assert shipment_states(ids_a) == clean  # versions included: not even a rewrite
    assert len(_inbox(alpha.id)) == events_in_all

    # Bravo: the same bodies, duplicated and shuffled, through the real route to the workers.
    bodies = [bytes(row.body) for row in inbox_a]
    rng = random.Random(20261202)
    stream = bodies + rng.sample(bodies, k=len(bodies) // 2)
    rng.shuffle(stream)
    bravo_path = "/webhooks/carriers/swiftlink/bravo-push"
    with httpx.Client(base_url=tracking.api_url, timeout=10, trust_env=False) as http:
        forged = _post(http, bravo_path, stream[0], account_a.webhook_secret or "")
        assert forged.status_code == 401  # alpha's secret does not open bravo's door
        answers = [_post(http, bravo_path, body, account_b.webhook_secret or "") for body in stream]
    assert [a.status_code for a in answers] == [202] * len(stream)
    assert sum(a.json()["duplicate"] for a in answers) == len(stream) - len(bodies)

    def bravo_applied() -> bool:
        rows = _inbox(bravo.id)
        return len(rows) == len(bodies) and all(
            row.state == WebhookState.PROCESSED.value for row in rows
        )

    wait_until(
        bravo_applied,
        30,
        lambda: (
            f"bravo's pushes were not all applied: {[r.state for r in _inbox(bravo.id)]}\n"
            + tracking.logs()
        ),
        interval=0.5,
    )
    dirty = shipment_states(ids_b)
    assert _comparable(dirty, ids_b) == _comparable(clean, ids_a)
    for shipment_id in ids_b:
        assert dirty[shipment_id].next_poll_at is None  # final, like alpha's
    # Bravo's parcels were never subscribed: everything it has came through the shuffled stream.
    assert not [p for p in sandbox.pushes() if "bravo-push" in p["url"]]
    assert {json.loads(b)["tracking_number"] for b in bodies} == set(refs)
