"""Orders, checkout, payment webhooks and refunds on real PostgreSQL, with a fake provider.

The provider is a fake behind the real adapter interface (tests/support/fake_payments.py);
everything else is the product's own code and database: idempotency keys stored before
calls, the inbox, row locks, monotonic states, refunds and the shipment a payment creates.
"""

from __future__ import annotations

import itertools
import threading
from uuid import UUID

import pytest
from sqlmodel import select

from backend.db import session_scope
from backend.domain.roles import Role
from backend.domain.statuses import (
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    SessionAudience,
    WebhookState,
)
from backend.integrations.payments import registry
from backend.integrations.payments.base import ProviderPayment, RefundResult, WebhookRejected
from backend.models import Order, Payment, ReconciliationIssue, Refund, Shipment, WebhookInbox
from backend.services import (
    checkout,
    orders,
    payment_accounts,
    payment_sync,
    payment_webhooks,
    pricing,
    refunds,
    secrets,
)
from backend.services.demo_commerce import HARBOUR_RATES
from backend.services.errors import NotFound, PermissionDenied, ValidationFailed
from backend.services.orders import Viewer
from backend.services.payment_webhooks import Outcome
from tests.support import factories
from tests.support.fake_payments import FakeAdapter, FakeProvider, event_body, sign

pytestmark = pytest.mark.local_services
SECRET = "whsec-fake-a"


def order_values(**overrides: str) -> dict[str, str]:
    values = {
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
    values.update(overrides)
    return values


PARCEL = {
    "weight_kg": "1.5",
    "length_cm": "30",
    "width_cm": "20",
    "height_cm": "10",
    "contents": "Books",
}


@pytest.fixture
def shop(clean_db, redis_client, monkeypatch):
    """A tenant with the demo rate card and a fake provider in place of "adyen"."""
    tenant = factories.make_tenant()
    other = factories.make_tenant()
    provider = FakeProvider()
    fake = FakeAdapter("adyen", provider)
    monkeypatch.setattr(registry, "get_adapter", lambda slug: fake)
    monkeypatch.setattr(checkout, "registry", registry)
    with session_scope() as db:
        for t, secret in ((tenant, SECRET), (other, "whsec-other")):
            pricing.save_rate_card(db, t.id, HARBOUR_RATES)
            payment_accounts.save_provider_account(
                db,
                t.id,
                "adyen",
                api_base="http://fake.invalid",
                settings={},
                secret_values={"webhook_secret": secret},
            )
    monkeypatch.setattr("backend.services.task_queue.enqueue", lambda *a, **k: True)
    return tenant, other, provider


def place_guest_order(tenant) -> orders.Placed:
    return orders.place(tenant.slug, order_values(), [PARCEL], None)


def paid_checkout(tenant) -> tuple[orders.Placed, Payment]:
    placed = place_guest_order(tenant)
    viewer = Viewer(guest_tokens=(placed.guest_token,))
    checkout.start_checkout(placed.reference, "adyen", viewer)
    with session_scope() as db:
        payment = db.exec(
            select(Payment).join(Order).where(Order.reference == placed.reference)
        ).one()
    return placed, payment


def deliver(tenant_slug: str, body: bytes, secret: str = SECRET) -> payment_webhooks.Received:
    return payment_webhooks.receive(
        "adyen", tenant_slug, {"X-Fake-Signature": sign(secret, body)}, body
    )


def apply_all(received: payment_webhooks.Received) -> list[Outcome]:
    return [payment_webhooks.apply(i).outcome for i in received.new_inbox_ids]


def order_state(reference: str) -> tuple[str, list[str], int]:
    with session_scope() as db:
        order = db.exec(select(Order).where(Order.reference == reference)).one()
        payments = db.exec(select(Payment).where(Payment.order_id == order.id)).all()
        shipments = db.exec(select(Shipment).where(Shipment.order_id == order.id)).all()
        return order.status, [p.status for p in payments], len(shipments)


def test_an_order_is_priced_from_the_rate_card_and_awaits_payment(shop):
    tenant, _, _ = shop
    placed = place_guest_order(tenant)
    view = orders.order_view(placed.reference, Viewer(guest_tokens=(placed.guest_token,)))
    # 1.5 kg standard local: 45.00 freight (up to 3 kg) + 8.5 % fuel (3.83).
    assert [(line["code"], line["amount_minor"]) for line in view.quote["lines"]] == [
        ("freight", 4500),
        ("fuel", 383),
    ]
    assert view.total_minor == 4883
    assert view.status == OrderStatus.AWAITING_PAYMENT.value
    assert view.details["sender"]["phone"] == "+85291234567"


def test_the_price_is_never_taken_from_the_page(shop):
    tenant, _, _ = shop
    values = order_values(quote_minor="1", total_minor="1")
    placed = orders.place(tenant.slug, values, [PARCEL], None)
    assert (
        orders.order_view(placed.reference, Viewer(guest_tokens=(placed.guest_token,))).total_minor
        == 4883
    )


def test_a_bad_form_reports_every_field_and_stores_nothing(shop):
    tenant, _, _ = shop
    with pytest.raises(ValidationFailed) as failure:
        orders.place(
            tenant.slug,
            order_values(recipient_phone="12", sender_name=""),
            [{"weight_kg": "x"}],
            None,
        )
    assert {"recipient_phone", "sender_name", "parcel_0_weight_kg"} <= set(failure.value.fields)
    with session_scope() as db:
        assert db.exec(select(Order)).all() == []


def test_a_destination_the_tenant_does_not_serve_is_refused_next_to_the_city(shop):
    tenant, _, _ = shop
    values = order_values(
        recipient_country="CN",
        recipient_city="Guangzhou",
        recipient_postcode="510000",
        recipient_phone="13800138000",
    )
    parcel = {**PARCEL, "declared_value": "100"}
    with pytest.raises(ValidationFailed) as failure:
        orders.place(tenant.slug, values, [parcel], None)
    assert failure.value.fields == {"recipient_city": "destination_not_served"}


def test_only_the_guest_holding_the_token_or_the_owning_member_sees_an_order(shop):
    tenant, _, _ = shop
    placed = place_guest_order(tenant)
    assert (
        orders.order_view(
            placed.reference, Viewer(guest_tokens=("nope", placed.guest_token))
        ).reference
        == placed.reference
    )
    for viewer in (Viewer(), Viewer(guest_tokens=("x" * 43,))):
        with pytest.raises(NotFound):
            orders.order_view(placed.reference, viewer)
    member_user = factories.make_user()
    factories.make_member(user=member_user, tenants=(tenant,))
    member = factories.signed_in(member_user, SessionAudience.PORTAL)
    mine = orders.place(tenant.slug, order_values(guest_email=""), [PARCEL], member)
    assert mine.guest_token == ""
    assert orders.order_view(mine.reference, Viewer(principal=member)).reference == mine.reference
    stranger = factories.signed_in(
        factories.make_member(tenants=(tenant,)) and factories.make_user(), SessionAudience.PORTAL
    )
    with pytest.raises(NotFound):
        orders.order_view(mine.reference, Viewer(principal=stranger))


def test_checkout_twice_asks_the_provider_with_one_idempotency_key_and_keeps_one_payment(shop):
    tenant, _, provider = shop
    placed = place_guest_order(tenant)
    viewer = Viewer(guest_tokens=(placed.guest_token,))
    first = checkout.start_checkout(placed.reference, "adyen", viewer)
    second = checkout.start_checkout(placed.reference, "adyen", viewer)
    assert first.payment_id == second.payment_id and first.redirect_url == second.redirect_url
    with session_scope() as db:
        payments = db.exec(select(Payment)).all()
    assert len(payments) == 1 and payments[0].status == PaymentStatus.PENDING.value
    keys = {key for call, key in provider.calls if call == "create_checkout"}
    assert keys == {payments[0].idempotency_key}


def test_a_paid_webhook_turns_the_order_paid_once_and_creates_its_shipment(shop):
    tenant, _, _ = shop
    placed, payment = paid_checkout(tenant)
    body = event_body(
        "evt-1", ref=payment.provider_reference, merchant_ref=str(payment.id), status="succeeded"
    )
    first = deliver(tenant.slug, body)
    again = deliver(tenant.slug, body)
    assert len(first.new_inbox_ids) == 1 and again.new_inbox_ids == [] and again.duplicates == 1
    assert apply_all(first) == [Outcome.APPLIED]
    assert payment_webhooks.apply(first.new_inbox_ids[0]).outcome is Outcome.SKIPPED
    assert order_state(placed.reference) == (OrderStatus.PAID.value, ["succeeded"], 1)
    view = orders.order_view(placed.reference, Viewer(guest_tokens=(placed.guest_token,)))
    assert view.tracking_number.startswith("WB") and view.paid_at is not None


def test_a_forged_or_foreign_webhook_is_refused_and_nothing_is_stored(shop):
    tenant, other, _ = shop
    _, payment = paid_checkout(tenant)
    body = event_body("evt-forged", ref=payment.provider_reference, status="succeeded")
    for secret, slug in (("wrong", tenant.slug), ("whsec-other", tenant.slug)):
        with pytest.raises(WebhookRejected):
            deliver(slug, body, secret)
    with pytest.raises(WebhookRejected):
        payment_webhooks.receive("adyen", tenant.slug, {}, body)
    with pytest.raises(NotFound):
        deliver("no-such-tenant", body)
    with session_scope() as db:
        assert db.exec(select(WebhookInbox)).all() == []


def test_a_rotated_webhook_secret_works_at_once_in_a_process_that_kept_the_old_one(shop):
    tenant, _, _ = shop
    _, payment = paid_checkout(tenant)
    ref = payment.provider_reference
    assert deliver(tenant.slug, event_body("evt-old-key", ref=ref, status="pending")).new_inbox_ids
    # Rotated by another process: this one's kept account still holds the old secret.
    secrets.put_secret(
        tenant.id, payment_accounts.secret_scope("adyen"), "webhook_secret", "whsec-b"
    )
    rotated = deliver(tenant.slug, event_body("evt-new-key", ref=ref, status="pending"), "whsec-b")
    assert len(rotated.new_inbox_ids) == 1
    with pytest.raises(WebhookRejected):  # and the old secret stops working
        deliver(tenant.slug, event_body("evt-stale", ref=ref, status="pending"), SECRET)


def test_an_account_saved_here_is_read_afresh_once_the_change_is_committed(shop):
    tenant, _, _ = shop
    opened = payment_accounts.provider_account(tenant.id, "adyen", recent_ok=True)
    with session_scope() as db:
        payment_accounts.save_provider_account(
            db,
            tenant.id,
            "adyen",
            api_base="http://fake-moved.invalid",
            settings={},
            secret_values={"webhook_secret": "whsec-c"},
        )
        # Not committed yet: what a delivery opens meanwhile is the old account, kept as
        # before; forgetting it now would let that old account be kept once more.
        assert payment_accounts.provider_account(tenant.id, "adyen", recent_ok=True) is opened
    fresh = payment_accounts.provider_account(tenant.id, "adyen", recent_ok=True)
    assert fresh.api_base == "http://fake-moved.invalid"


def test_the_same_event_applied_by_many_workers_at_once_is_applied_once(shop):
    tenant, _, _ = shop
    placed, payment = paid_checkout(tenant)
    body = event_body("evt-race", ref=payment.provider_reference, status="succeeded")
    inbox_id = deliver(tenant.slug, body).new_inbox_ids[0]
    outcomes: list[Outcome] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(payment_webhooks.apply(inbox_id).outcome))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(Outcome.APPLIED) == 1
    assert order_state(placed.reference) == (OrderStatus.PAID.value, ["succeeded"], 1)


def test_an_event_for_a_payment_we_have_not_seen_waits_then_applies(shop):
    tenant, _, _ = shop
    placed = place_guest_order(tenant)
    body = event_body(
        "evt-early", ref="fake_1", status="succeeded"
    )  # the provider's ref, before we store it
    inbox_id = deliver(tenant.slug, body).new_inbox_ids[0]
    assert payment_webhooks.apply(inbox_id).outcome is Outcome.WAITING
    with session_scope() as db:
        assert db.get(WebhookInbox, inbox_id).state == WebhookState.WAITING.value
    checkout.start_checkout(placed.reference, "adyen", Viewer(guest_tokens=(placed.guest_token,)))
    assert payment_webhooks.apply(inbox_id).outcome is Outcome.APPLIED
    assert order_state(placed.reference)[0] == OrderStatus.PAID.value


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["pending", "failed", "authorized", "succeeded"]))
)
def test_events_in_any_order_end_in_the_same_state(shop, order):
    tenant, _, _ = shop
    placed, payment = paid_checkout(tenant)
    for i, status in enumerate(order):
        received = deliver(
            tenant.slug, event_body(f"evt-{i}", ref=payment.provider_reference, status=status)
        )
        apply_all(received)
    assert order_state(placed.reference) == (OrderStatus.PAID.value, ["succeeded"], 1)


def test_succeeded_then_cancelled_asks_the_provider_and_tells_staff(shop):
    tenant, _, provider = shop
    placed, payment = paid_checkout(tenant)
    apply_all(
        deliver(tenant.slug, event_body("e1", ref=payment.provider_reference, status="succeeded"))
    )
    provider.payments[payment.provider_reference] = ProviderPayment(
        payment.provider_reference, PaymentStatus.SUCCEEDED, 4883, "HKD"
    )
    apply_all(
        deliver(tenant.slug, event_body("e2", ref=payment.provider_reference, status="cancelled"))
    )
    assert ("fetch_payment", payment.provider_reference) in provider.calls
    assert order_state(placed.reference)[:2] == (OrderStatus.PAID.value, ["succeeded"])


def _finance(tenant):
    return factories.signed_in(factories.make_staff(tenant, Role.FINANCE))


def test_finance_refunds_part_of_a_payment_and_the_refund_settles_by_webhook(shop):
    tenant, _, provider = shop
    placed, payment = paid_checkout(tenant)
    apply_all(
        deliver(tenant.slug, event_body("e1", ref=payment.provider_reference, status="succeeded"))
    )
    requested = refunds.request_refund(
        _finance(tenant), tenant.slug, payment.id, 1000, "damaged box"
    )
    assert refunds.submit(requested.refund_id) == "sent"
    assert refunds.submit(requested.refund_id) == "already_sent"
    assert [c for c in provider.calls if c[0] == "refund"] and len(
        {k for c, k in provider.calls if c == "refund"}
    ) == 1
    with session_scope() as db:
        refund = db.get(Refund, requested.refund_id)
        assert refund.status == RefundStatus.PENDING.value and refund.provider_reference == "re_1"
    body = event_body(
        "r1",
        ref=payment.provider_reference,
        refund_ref="re_1",
        refund_status="succeeded",
        amount=1000,
    )
    apply_all(deliver(tenant.slug, body))
    with session_scope() as db:
        assert db.get(Payment, payment.id).refunded_minor == 1000
    assert order_state(placed.reference)[0] == OrderStatus.PARTIALLY_REFUNDED.value


def test_a_refund_over_what_is_left_and_a_refund_by_an_agent_are_refused(shop):
    tenant, other, _ = shop
    _, payment = paid_checkout(tenant)
    apply_all(
        deliver(tenant.slug, event_body("e1", ref=payment.provider_reference, status="succeeded"))
    )
    finance = _finance(tenant)
    refunds.request_refund(finance, tenant.slug, payment.id, 4000, "")
    with pytest.raises(ValidationFailed) as failure:
        refunds.request_refund(
            finance, tenant.slug, payment.id, 884, ""
        )  # 4000 in flight + 884 > 4883
    assert failure.value.fields == {"amount": "amount_over_refundable"}
    agent = factories.signed_in(factories.make_staff(tenant, Role.AGENT))
    with pytest.raises(PermissionDenied):
        refunds.request_refund(agent, tenant.slug, payment.id, 100, "")
    with pytest.raises(NotFound):  # another tenant's finance cannot even find it
        refunds.request_refund(_finance(other), other.slug, payment.id, 100, "")


def test_concurrent_refund_requests_never_refund_more_than_was_paid(shop):
    tenant, _, _ = shop
    _, payment = paid_checkout(tenant)
    apply_all(
        deliver(tenant.slug, event_body("e1", ref=payment.provider_reference, status="succeeded"))
    )
    finance = _finance(tenant)
    results: list[str] = []

    def ask():
        try:
            refunds.request_refund(finance, tenant.slug, payment.id, 3000, "")
            results.append("ok")
        except ValidationFailed:
            results.append("refused")

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "refused", "refused", "refused", "refused"]


def test_the_reconciler_adopts_what_the_provider_says_and_records_refunds_made_elsewhere(shop):
    tenant, _, provider = shop
    placed, payment = paid_checkout(tenant)
    provider.payments[payment.provider_reference] = ProviderPayment(
        payment.provider_reference,
        PaymentStatus.SUCCEEDED,
        4883,
        "HKD",
        refunds=[RefundResult("re_dash", RefundStatus.SUCCEEDED, 500)],
    )
    assert payment_sync.reread(payment.id) is True
    assert order_state(placed.reference)[0] == OrderStatus.PARTIALLY_REFUNDED.value
    with session_scope() as db:
        kinds = {i.kind for i in db.exec(select(ReconciliationIssue))}
    assert kinds == {"refund_outside_waybill"}
    assert payment_sync.reread(payment.id) is False  # nothing new the second time


def test_a_provider_that_captures_after_approval_is_captured_once(shop, monkeypatch):
    tenant, _, provider = shop
    capturing = FakeAdapter("adyen", provider, capture_after_approval=True)
    monkeypatch.setattr(registry, "get_adapter", lambda slug: capturing)
    placed, payment = paid_checkout(tenant)
    result = payment_webhooks.apply(
        deliver(
            tenant.slug, event_body("ap", ref=payment.provider_reference, status="authorized")
        ).new_inbox_ids[0]
    )
    assert result.needs_capture and result.payment_id == payment.id
    assert payment_sync.capture(payment.id) is True
    assert payment_sync.capture(payment.id) is False  # already captured: no second call
    assert [c for c in provider.calls if c[0] == "capture"] == [
        ("capture", f"{payment.idempotency_key}-capture")
    ]
    assert order_state(placed.reference)[0] == OrderStatus.PAID.value


def test_staff_replay_applies_a_failed_event_again(shop):
    tenant, _, _ = shop
    placed, payment = paid_checkout(tenant)
    inbox_id = deliver(
        tenant.slug, event_body("e1", ref=payment.provider_reference, status="succeeded")
    ).new_inbox_ids[0]
    with session_scope() as db:
        row = db.get(WebhookInbox, inbox_id)
        row.state, row.attempts = WebhookState.FAILED.value, 10
        db.add(row)
    from backend.services import transactions

    assert transactions.replay_webhook(_finance(tenant), tenant.slug, inbox_id) == "payment"
    assert payment_webhooks.apply(inbox_id).outcome is Outcome.APPLIED
    assert order_state(placed.reference)[0] == OrderStatus.PAID.value
    assert UUID(str(inbox_id))
