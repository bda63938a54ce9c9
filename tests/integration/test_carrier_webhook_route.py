"""POST /webhooks/carriers/{carrier}/{tenant} on the real Starlette app: forged pushes change nothing.

The app is backend.api.app.build_api() under Starlette's TestClient, against the real
database; the broker is replaced by a recorder, so we see exactly what would be enqueued.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import carrier_webhooks
from backend.api.app import build_api
from backend.db import session_scope
from backend.domain.statuses import ShipmentStatus as S
from backend.domain.statuses import WebhookState
from backend.integrations.carriers.swiftlink.adapter import sign
from backend.jobs.celery_app import celery_app
from backend.models import Shipment, TrackingEvent, WebhookInbox
from backend.services import carrier_push
from backend.services.secrets import put_secret
from backend.services.tracking_sync import secret_scope
from tests.support import factories

pytestmark = pytest.mark.local_services

SECRET_A = "whsec-route-alpha"
SECRET_B = "whsec-route-bravo"
NUMBER = "SL7K2M9Q4P1A"


@dataclass
class World:
    client: TestClient
    url: str  # alpha's SwiftLink endpoint
    url_b: str  # bravo's
    shipment_id: object
    sent: list[tuple]  # what the route enqueued


@pytest.fixture
def world(clean_db, monkeypatch) -> Iterator[World]:
    alpha = factories.make_tenant(slug="alpha-route")
    bravo = factories.make_tenant(slug="bravo-route")
    account = factories.make_carrier_account(tenant=alpha, slug="swiftlink", api_style="push")
    with session_scope() as db:
        from backend.models import CarrierAccount

        other = CarrierAccount(
            tenant_id=bravo.id, carrier_id=account.carrier_id, name="main", base_url="http://x"
        )
        db.add(other)
        db.flush()
        put_secret(alpha.id, secret_scope(account.id), "webhook_secret", SECRET_A, db)
        put_secret(bravo.id, secret_scope(other.id), "webhook_secret", SECRET_B, db)
    hp = factories.make_carrier_account(tenant=alpha, slug="harbour-post")
    put_secret(alpha.id, secret_scope(hp.id), "webhook_secret", SECRET_A)
    shipment = factories.make_shipment(
        tenant=alpha,
        carrier_account_id=account.id,
        carrier_reference=NUMBER,
        status=S.IN_TRANSIT.value,
    )
    factories.make_tracking_events(shipment, [{"status": "picked_up"}, {"status": "in_transit"}])
    sent: list[tuple] = []
    monkeypatch.setattr(
        celery_app,
        "send_task",
        lambda name, args=None, **options: sent.append((name, args, options.get("queue"))),
    )
    with TestClient(build_api()) as client:
        yield World(
            client,
            "/webhooks/carriers/swiftlink/alpha-route",
            "/webhooks/carriers/swiftlink/bravo-route",
            shipment.id,
            sent,
        )


def _body(event_id: str = "sl_01HZXTESTEVENT0000000001", code: str = "OUT_FOR_DELIVERY") -> bytes:
    payload = {
        "event_id": event_id,
        "tracking_number": NUMBER,
        "code": code,
        "occurred_at": "2026-11-22T03:10:00Z",
        "city": "Mong Kok",
        "country": "HK",
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _headers(body: bytes, secret: str = SECRET_A, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-SwiftLink-Timestamp": stamp,
        "X-SwiftLink-Signature": sign(secret, stamp, body),
    }


def _snapshot(world: World) -> tuple:
    with session_scope() as db:
        shipment = db.get(Shipment, world.shipment_id)
        events = db.exec(
            select(TrackingEvent.dedupe_key).where(TrackingEvent.shipment_id == world.shipment_id)
        ).all()
        inbox = db.exec(select(WebhookInbox.id)).all()
    return (shipment.status, shipment.version, shipment.next_poll_at, sorted(events), len(inbox))


def _forgeries() -> dict[str, tuple[bytes, dict[str, str]]]:
    body = _body()
    now = int(time.time())
    good = _headers(body)
    return {
        "bad signature": (body, {**good, "X-SwiftLink-Signature": "v1=" + "0" * 64}),
        "another tenant's secret": (body, _headers(body, secret=SECRET_B)),
        "stale timestamp": (body, _headers(body, timestamp=now - 301)),
        "future timestamp": (body, _headers(body, timestamp=now + 301)),
        "body changed after signing": (_body(code="DELIVERED"), good),
        "signature of another timestamp": (
            body,
            {**good, "X-SwiftLink-Timestamp": str(now - 1)},
        ),
        "no timestamp header": (
            body,
            {k: v for k, v in good.items() if k != "X-SwiftLink-Timestamp"},
        ),
        "no signature header": (
            body,
            {k: v for k, v in good.items() if k != "X-SwiftLink-Signature"},
        ),
        "no headers at all": (body, {"Content-Type": "application/json"}),
        "garbled signature": (body, {**good, "X-SwiftLink-Signature": "sha256=deadbeef"}),
        "garbled timestamp": (body, {**good, "X-SwiftLink-Timestamp": "yesterday"}),
        "unsigned scheme": (body, {**good, "X-SwiftLink-Signature": "v0=" + "a" * 64}),
        "empty secret": (body, _headers(body, secret="")),
    }


@pytest.mark.parametrize("case", sorted(_forgeries()))
def test_a_forged_push_is_refused_and_changes_nothing(world, case):
    body, headers = _forgeries()[case]
    before = _snapshot(world)

    response = world.client.post(world.url, content=body, headers=headers)

    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert response.json()["error"] == "rejected"
    assert _snapshot(world) == before
    assert world.sent == []


def test_a_genuine_push_signed_for_one_tenant_is_refused_at_another(world):
    body = _body()
    before = _snapshot(world)

    response = world.client.post(world.url_b, content=body, headers=_headers(body))

    assert response.status_code == 401
    assert _snapshot(world) == before
    assert world.sent == []


def test_a_signed_body_that_is_no_push_is_refused_and_nothing_is_stored(world):
    before = _snapshot(world)
    for body in (b"not json", b"[]", b'{"event_id": "sl_x"}', _body().replace(b"Z", b"")):
        response = world.client.post(world.url, content=body, headers=_headers(body))
        assert response.status_code == 401, body
    assert _snapshot(world) == before
    assert world.sent == []


def test_unknown_carriers_tenants_and_carriers_that_never_push_are_refused(world):
    body = _body()
    before = _snapshot(world)
    for path, status in (
        ("/webhooks/carriers/nobody/alpha-route", 404),
        ("/webhooks/carriers/swiftlink/no-such-tenant", 404),
        ("/webhooks/carriers/harbour-post/alpha-route", 401),  # it has an account, but no pushes
    ):
        response = world.client.post(path, content=body, headers=_headers(body))
        assert response.status_code == status, (path, response.text)
    assert world.client.get(world.url).status_code == 405
    assert _snapshot(world) == before
    assert world.sent == []


def test_an_oversized_push_is_refused_before_it_is_read(world):
    body = b'{"pad": "' + b"x" * carrier_push.MAX_PUSH_BYTES + b'"}'
    before = _snapshot(world)

    response = world.client.post(world.url, content=body, headers=_headers(body))

    assert response.status_code == 413
    assert _snapshot(world) == before


def test_an_oversized_push_without_a_length_is_refused_too(world):
    """Chunked, no Content-Length: the route must not read an unbounded body into memory."""
    chunk = b"x" * 16384

    def stream() -> Iterator[bytes]:
        for _ in range(64):  # 1 MiB in all, 16 times the limit
            yield chunk

    before = _snapshot(world)
    response = world.client.post(world.url, content=stream(), headers=_headers(b""))

    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert _snapshot(world) == before


def test_a_genuine_push_is_stored_once_enqueued_once_and_applied_by_the_worker_task(world):
    body = _body()
    response = world.client.post(world.url, content=body, headers=_headers(body))

    assert response.status_code == 202, response.text
    assert response.json() == {"received": True, "duplicate": False}
    with session_scope() as db:
        row = db.exec(select(WebhookInbox)).one()
    assert (row.provider, row.kind, row.event_id) == (
        "swiftlink",
        "carrier",
        "sl_01HZXTESTEVENT0000000001",
    )
    assert bytes(row.body) == body  # the raw bytes, as signed
    assert row.state == WebhookState.RECEIVED.value
    assert row.headers["x-swiftlink-signature"].startswith("v1=")
    assert world.sent == [(carrier_webhooks.APPLY_TASK, [str(row.id)], "webhooks")]
    assert _snapshot(world)[0] == S.IN_TRANSIT.value  # stored first, applied later

    # The carrier delivers it again (a retry after a lost answer): stored once, not enqueued again.
    again = world.client.post(world.url, content=body, headers=_headers(body))
    assert again.status_code == 202
    assert again.json() == {"received": True, "duplicate": True}
    assert len(world.sent) == 1

    assert carrier_push.apply(row.id) is True  # what waybill.webhooks.apply_carrier_push runs
    assert carrier_push.apply(row.id) is False
    status, version, _, events, inbox = _snapshot(world)
    assert (status, inbox) == (S.OUT_FOR_DELIVERY.value, 1)
    assert "swiftlink:sl_01HZXTESTEVENT0000000001" in events
