"""Checkout.com webhooks through the real route, applied by real Celery workers, under failure.

Everything is the product's own: the Starlette route (`build_api()`), the Checkout.com adapter
(Cko-Signature HMAC over the raw bytes), the inbox, the tasks and the reconciler, running in
`celery worker --concurrency 1` processes on a private redis-server (no persistence) and the
session's PostgreSQL. Orders are placed with `orders.place` and paid through
`checkout.start_checkout` against the Checkout.com sandbox (`python -m backend.sandbox`);
webhooks are signed with the sandbox's own `build_webhook`, or are the very deliveries the
sandbox sent when a hosted page was paid and a refund made.

The reconciler (`waybill.webhooks.reconcile_payment_inbox`) only takes rows received over a
minute ago; instead of waiting that minute the tests move `received_at` back (`_let_a_minute_pass`)
and then send the task through Redis, as beat would. Events are signed a few minutes before
they are posted so that their stored arrival stays after their `created_on`.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import psycopg
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api.app import build_api
from backend.db import session_scope
from backend.domain.statuses import OrderStatus, PaymentStatus, RefundStatus, WebhookState
from backend.jobs.celery_app import celery_app
from backend.models import (
    Order,
    Payment,
    ReconciliationIssue,
    Refund,
    Shipment,
    Tenant,
    WebhookInbox,
)
from backend.sandbox.payments.checkout import build_webhook
from backend.sandbox.payments.checkout import new_id as checkout_id
from backend.services import checkout, orders, payment_accounts, pricing
from backend.services.demo_commerce import HARBOUR_RATES
from backend.services.orders import Viewer
from backend.services.payment_demo import DemoProvision
from backend.services.payment_demo.checkout import provision
from tests.integration.payment_workers_support import (
    PrivateRedis,
    Worker,
    Workers,
    environment,
    wait_until,
)
from tests.integration.payments.conftest import Services, WebhookReceiver, start_provider_sandbox
from tests.support import factories

TENANT = "harbour-express"
HOOK_PATH = f"/webhooks/payments/checkout/{TENANT}"
APPLY_TASK = "waybill.webhooks.apply_payment"
RECONCILE_TASK = "waybill.webhooks.reconcile_payment_inbox"
SIGNED_BEFORE = timedelta(minutes=3)  # events were signed this long before they are posted
ORDER_VALUES = {
    "sender_name": "Mei Chan",
    "sender_phone": "9123 4567",
    "sender_line1": "12/F, 88 Container Port Road",
    "sender_city": "Kwai Chung",
    "sender_country": "HK",
    "recipient_name": "Wong Tai Man",
    "recipient_phone": "98765432",
    "recipient_line1": "Flat B, 5/F, 23 Nathan Road",
    "recipient_city": "Mong Kok",
    "recipient_country": "HK",
    "service_level": "standard",
    "guest_email": "guest@example.com",
}
PARCEL = {
    "weight_kg": "1.5",
    "length_cm": "30",
    "width_cm": "20",
    "height_cm": "10",
    "contents": "Books",
}


# --- processes --------------------------------------------------------------------------


@dataclass
class Stack:
    database_url: str
    redis: PrivateRedis
    workers: Workers


@pytest.fixture(scope="module")
def stack(
    test_urls: dict[str, str], migrated_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A private Redis, this process pointed at it, and a pool of workers the tests size."""
    redis = PrivateRedis(tmp_path_factory.mktemp("payment-redis"))
    redis.start()
    database_url = test_urls["database_url"]
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis.url}
    workers = Workers(tmp_path_factory.mktemp("payment-workers"), env)
    try:
        with environment(DATABASE_URL=database_url, REDIS_URL=redis.url):
            yield Stack(database_url, redis, workers)
    finally:
        workers.stop_all()
        redis.stop()


@dataclass
class Sandbox:
    provision: DemoProvision
    receiver: WebhookReceiver

    def delivered(self, event_type: str, **data: str) -> tuple[dict[str, str], bytes]:
        """The headers and raw body the sandbox sent for one event (waiting for it)."""
        hit = self.receiver.wait_for(
            lambda h: (
                h.json()["type"] == event_type
                and all(h.json()["data"].get(k) == v for k, v in data.items())
            )
        )
        kept = {
            k: v for k, v in hit.headers.items() if k.lower() in ("cko-signature", "content-type")
        }
        return kept, hit.body


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The Checkout.com sandbox, knowing one account whose webhooks go to a receiver of ours."""
    receiver = WebhookReceiver()
    services = Services(tmp_path_factory.mktemp("payment-sandbox"))
    try:
        _, provisions = start_provider_sandbox(
            services,
            receiver,
            tmp_path_factory.mktemp("checkout-accounts"),
            "checkout",
            provision,
            (TENANT,),
            lambda _slug: HOOK_PATH,
        )
        yield Sandbox(provisions[TENANT], receiver)
    finally:
        failures = services.stop_all()
        receiver.close()
    assert not failures, "\n".join(failures)


# --- the shop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Paying:
    reference: str
    payment_id: UUID
    amount_minor: int
    redirect_url: str
    pay_id: str  # Checkout.com's payment id (pay_...), as its webhooks name the payment


@dataclass
class Shop:
    tenant: Tenant
    sandbox: Sandbox

    def order_and_checkout(self) -> Paying:
        """A guest order, and its payment row made by checkout against the sandbox (hpp_...)."""
        placed = orders.place(self.tenant.slug, dict(ORDER_VALUES), [dict(PARCEL)], None)
        started = checkout.start_checkout(
            placed.reference, "checkout", Viewer(guest_tokens=(placed.guest_token,))
        )
        with session_scope() as db:
            payment = db.get(Payment, started.payment_id)
            assert payment is not None and payment.provider_reference.startswith("hpp_")
            assert payment.status == PaymentStatus.PENDING.value
            amount = payment.amount_minor
        return Paying(
            placed.reference, started.payment_id, amount, started.redirect_url, checkout_id("pay_")
        )

    def event(self, paying: Paying, event_type: str) -> tuple[dict[str, str], bytes]:
        """A Checkout.com webhook about `paying`, signed with the account's signature key."""
        data = {
            "id": paying.pay_id,
            "action_id": checkout_id("act_"),
            "amount": paying.amount_minor,
            "currency": "HKD",
            "reference": str(paying.payment_id),
            "processed_on": datetime.now(UTC).isoformat(),
            "response_code": "10000",
            "response_summary": "Approved",
            "payment_type": "Regular",
            "source": {"type": "card"},
        }
        created = datetime.now(UTC) - SIGNED_BEFORE
        return build_webhook(
            self.sandbox.provision.sandbox_record, event_type, data, created_on=created
        )


@pytest.fixture
def shop(clean_db, stack: Stack, sandbox: Sandbox) -> Shop:
    """A tenant with the demo rate card and a Checkout.com account as provision() makes it."""
    tenant = factories.make_tenant(slug=TENANT)
    demo = sandbox.provision
    with session_scope() as db:
        pricing.save_rate_card(db, tenant.id, HARBOUR_RATES)
        payment_accounts.save_provider_account(
            db,
            tenant.id,
            "checkout",
            api_base=demo.api_base,
            settings=demo.settings,
            secret_values=demo.secrets,
        )
    return Shop(tenant, sandbox)


_API = build_api()


def post(headers: dict[str, str], body: bytes) -> httpx.Response:
    """One delivery through the real route, as Checkout.com makes it."""
    return TestClient(_API).post(HOOK_PATH, content=body, headers=headers)


# --- what the database says -------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    id: UUID
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_error: str
    subject_id: UUID | None


def inbox() -> list[InboxRow]:
    with session_scope() as db:
        rows = db.exec(select(WebhookInbox).order_by(WebhookInbox.received_at)).all()
        return [
            InboxRow(
                r.id, r.event_id, r.event_type, r.state, r.attempts, r.last_error, r.subject_id
            )
            for r in rows
        ]


def processed(count: int) -> bool:
    rows = inbox()
    return len(rows) == count and all(r.state == WebhookState.PROCESSED.value for r in rows)


def order_state(reference: str) -> dict:
    """Everything a paid order leaves behind, in a form that compares across runs."""
    with session_scope() as db:
        order = db.exec(select(Order).where(Order.reference == reference)).one()
        payments = db.exec(select(Payment).where(Payment.order_id == order.id)).all()
        payment_ids = [p.id for p in payments]
        refunds = db.exec(select(Refund).where(Refund.payment_id.in_(payment_ids))).all()  # type: ignore[attr-defined]
        issues = db.exec(
            select(ReconciliationIssue).where(ReconciliationIssue.payment_id.in_(payment_ids))  # type: ignore[attr-defined]
        ).all()
        shipments = db.exec(select(Shipment).where(Shipment.order_id == order.id)).all()
        return {
            "order": order.status,
            "paid": order.paid_at is not None,
            "payments": [(p.status, p.amount_minor, p.refunded_minor) for p in payments],
            "refunds": sorted((r.amount_minor, r.status) for r in refunds),
            "issues": sorted(i.kind for i in issues),
            "shipments": len(shipments),
        }


def paid_once(paying: Paying) -> dict:
    return {
        "order": OrderStatus.PAID.value,
        "paid": True,
        "payments": [(PaymentStatus.SUCCEEDED.value, paying.amount_minor, 0)],
        "refunds": [],
        "issues": [],
        "shipments": 1,
    }


def unpaid(paying: Paying) -> dict:
    return {
        "order": OrderStatus.AWAITING_PAYMENT.value,
        "paid": False,
        "payments": [(PaymentStatus.PENDING.value, paying.amount_minor, 0)],
        "refunds": [],
        "issues": [],
        "shipments": 0,
    }


@contextmanager
def payment_row_locked(stack: Stack, payment_id: UUID) -> Iterator[None]:
    """Hold the payment's row lock in a connection of our own: apply waits in match_payment."""
    with psycopg.connect(stack.database_url) as conn:
        conn.execute("SELECT id FROM payment WHERE id = %s FOR UPDATE", (payment_id,))
        try:
            yield
        finally:
            conn.rollback()


def waiting_for_payment_lock(stack: Stack) -> int:
    """Sessions (workers) blocked on a payment row lock right now."""
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE '%FROM payment%FOR UPDATE%'"
        ).fetchone()
        assert row is not None
        return row[0]


def _let_a_minute_pass(stack: Stack) -> None:
    """The reconciler takes rows received over a minute ago: make the stored arrivals that old."""
    with psycopg.connect(stack.database_url) as conn:
        conn.execute("UPDATE webhook_inbox SET received_at = received_at - interval '90 seconds'")


def reconcile_as_beat() -> None:
    """What beat does every minute: send the reconciler task through Redis to a worker."""
    celery_app.send_task(RECONCILE_TASK, expires=60)


def applies(*workers: Worker) -> list[str]:
    return [outcome for w in workers for outcome in w.results(APPLY_TASK)]


# --- 1. the same event twice at once ----------------------------------------------------


def test_the_same_event_posted_twice_at_once_and_run_by_two_workers_is_applied_once(
    shop: Shop, stack: Stack
):
    first, second = stack.workers.exactly(2)
    paying = shop.order_and_checkout()
    headers, body = shop.event(paying, "payment_captured")

    with payment_row_locked(stack, paying.payment_id):
        # Two deliveries of the same signed bytes, at the same moment, through the route.
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def deliver() -> None:
            barrier.wait()
            answers.append(post(headers, body).status_code)

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert answers == [200, 200]
        (row,) = inbox()  # one row: the second delivery found the first
        wait_until(
            lambda: waiting_for_payment_lock(stack) == 1 and inbox()[0].attempts == 1,
            "one worker to claim the event and wait for the payment's row lock",
        )
        # While it waits, the reconciler hands the same row to the other worker (the row is still
        # unapplied and a minute old), so two worker processes hold the same event at once.
        _let_a_minute_pass(stack)
        reconcile_as_beat()
        wait_until(
            lambda: waiting_for_payment_lock(stack) == 2 and inbox()[0].attempts == 2,
            "the second worker to claim the same event and wait for the same lock",
        )
        assert order_state(paying.reference) == unpaid(paying)

    wait_until(lambda: len(applies(first, second)) == 2, "both workers to finish the event")
    # One worker applied it; the other found it already applied, each in its own process.
    assert sorted(applies(first, second)) == ["applied", "unchanged"]
    assert len(first.results(APPLY_TASK)) == len(second.results(APPLY_TASK)) == 1
    (row,) = inbox()
    assert (row.state, row.attempts, row.last_error) == (WebhookState.PROCESSED.value, 2, "")
    assert row.subject_id == paying.payment_id
    assert order_state(paying.reference) == paid_once(paying)


# --- 2. a worker killed with SIGKILL mid-apply ------------------------------------------


def test_a_worker_killed_mid_apply_loses_nothing_and_applies_nothing_twice(
    shop: Shop, stack: Stack
):
    (doomed,) = stack.workers.exactly(1)
    paying = shop.order_and_checkout()
    headers, body = shop.event(paying, "payment_captured")

    with payment_row_locked(stack, paying.payment_id):
        assert post(headers, body).status_code == 200
        (row,) = inbox()
        wait_until(
            lambda: waiting_for_payment_lock(stack) == 1 and inbox()[0].attempts == 1,
            "the worker to claim the event and block inside apply (match_payment)",
        )
        stack.workers.kill(doomed)
        assert not doomed.alive
        # acks_late: the killed worker never acknowledged its message; Redis still holds it.
        assert [str(row.id)] in stack.redis.unacked_args()
    # Our lock is gone; the dead worker's session ends with its connection, having done nothing.
    wait_until(lambda: waiting_for_payment_lock(stack) == 0, "the dead worker's session to end")
    (row,) = inbox()
    assert (row.state, row.attempts) == (WebhookState.RECEIVED.value, 1)
    assert order_state(paying.reference) == unpaid(paying)
    assert doomed.results(APPLY_TASK) == []

    (replacement,) = stack.workers.start()
    # Redis gives an unacked message back only after the visibility timeout (an hour): the
    # reconciler is what applies the event now.
    _let_a_minute_pass(stack)
    reconcile_as_beat()
    wait_until(lambda: processed(1), "the reconciler's run to apply the event")
    (row,) = inbox()
    assert (row.state, row.attempts, row.last_error) == (WebhookState.PROCESSED.value, 2, "")
    assert replacement.results(APPLY_TASK) == ["applied"]
    assert order_state(paying.reference) == paid_once(paying)

    # When the killed worker's message does come back, it changes nothing and counts no attempt.
    assert [str(row.id)] in stack.redis.unacked_args()
    celery_app.send_task(APPLY_TASK, args=[str(row.id)], queue="webhooks")
    wait_until(lambda: len(replacement.results(APPLY_TASK)) == 2, "the redelivered message to run")
    assert replacement.results(APPLY_TASK) == ["applied", "skipped"]
    assert inbox()[0].attempts == 2
    assert order_state(paying.reference) == paid_once(paying)


# --- a delivery while Redis is down ----------------------------------------------------


def test_a_delivery_while_redis_is_down_is_stored_and_answered_within_seconds(
    shop: Shop, stack: Stack
):
    # Regression: task_queue.enqueue let Celery subscribe to the task's result channel before
    # publishing; with Redis down that subscription retried 20 times a second apart, so each
    # delivery hung ~19 s (on the app's event loop, which calls enqueue) before the 200.
    stack.workers.exactly(0)
    paying = shop.order_and_checkout()
    stack.redis.stop()
    try:
        started = time.monotonic()
        answer = post(*shop.event(paying, "payment_captured"))
        elapsed = time.monotonic() - started
    finally:
        stack.redis.start()
    assert answer.status_code == 200
    assert elapsed < 10, f"the delivery took {elapsed:.1f} s with Redis down"
    # Stored for the reconciler (test below shows it applies such rows); no message anywhere.
    assert [(r.event_type, r.state, r.attempts) for r in inbox()] == [
        ("payment_captured", "received", 0)
    ]
    assert stack.redis.queued("webhooks") == 0


# --- 3. Redis restarted with events queued ----------------------------------------------


def test_events_queued_in_redis_survive_a_redis_restart(shop: Shop, stack: Stack):
    stack.workers.exactly(0)
    payings = [shop.order_and_checkout() for _ in range(4)]
    for paying in payings:
        for event_type in ("payment_approved", "payment_captured"):
            assert post(*shop.event(paying, event_type)).status_code == 200
    rows = inbox()
    assert len(rows) == 8 and {(r.state, r.attempts) for r in rows} == {("received", 0)}
    assert stack.redis.queued("webhooks") == 8  # every message is in Redis, nobody took one

    stack.redis.restart_empty()
    assert stack.redis.queued("webhooks") == 0 and stack.redis.client().dbsize() == 0

    (worker,) = stack.workers.start()
    assert [(r.state, r.attempts) for r in inbox()] == [("received", 0)] * 8
    _let_a_minute_pass(stack)
    reconcile_as_beat()
    wait_until(lambda: processed(8), "every stored event to be applied", timeout=60)
    assert [(r.state, r.attempts, r.last_error) for r in inbox()] == [("processed", 1, "")] * 8
    assert len(worker.results(APPLY_TASK)) == 8
    for paying in payings:
        assert order_state(paying.reference) == paid_once(paying)


# --- 4. one payment's events in every order ---------------------------------------------

REFUNDED_MINOR = 1000


@pytest.mark.parametrize(
    "arrival",
    list(itertools.permutations(["payment_approved", "payment_captured", "payment_refunded"])),
    ids=lambda order: "-".join(e.removeprefix("payment_") for e in order),
)
def test_a_payments_events_in_any_order_end_in_the_same_state(
    shop: Shop, stack: Stack, sandbox: Sandbox, arrival: tuple[str, ...]
):
    stack.workers.exactly(1)
    paying = shop.order_and_checkout()
    demo = sandbox.provision
    with httpx.Client(timeout=10, trust_env=False) as http:
        # The customer pays on the hosted page: the sandbox sends payment_approved, _captured.
        paid = http.post(paying.redirect_url, data={"action": "pay", "method": "card"})
        assert paid.status_code == 303
        reference = str(paying.payment_id)
        deliveries = {
            kind: sandbox.delivered(kind, reference=reference)
            for kind in ("payment_approved", "payment_captured")
        }
        pay_id = json.loads(deliveries["payment_captured"][1])["data"]["id"]
        # Part of it is refunded in Checkout.com's dashboard: payment_refunded follows.
        refunded = http.post(
            f"{demo.api_base}/payments/{pay_id}/refunds",
            json={"amount": REFUNDED_MINOR},
            headers={"Authorization": f"Bearer {demo.secrets['secret_key']}"},
        )
        assert refunded.status_code == 202, refunded.text
        deliveries["payment_refunded"] = sandbox.delivered("payment_refunded", id=pay_id)

    for count, kind in enumerate(arrival, start=1):
        assert post(*deliveries[kind]).status_code == 200
        wait_until(lambda n=count: processed(n), f"{kind} to be applied")
    # Checkout.com re-sends an event it thinks we missed: the same bytes change nothing.
    assert post(*deliveries[arrival[0]]).status_code == 200

    rows = inbox()
    assert [r.event_type for r in rows] == list(arrival)
    assert {(r.state, r.attempts, r.last_error) for r in rows} == {("processed", 1, "")}
    assert order_state(paying.reference) == {
        "order": OrderStatus.PARTIALLY_REFUNDED.value,
        "paid": True,
        "payments": [(PaymentStatus.SUCCEEDED.value, paying.amount_minor, REFUNDED_MINOR)],
        "refunds": [(REFUNDED_MINOR, RefundStatus.SUCCEEDED.value)],
        "issues": ["refund_outside_waybill"],  # staff are told of a refund made elsewhere
        "shipments": 1,
    }
