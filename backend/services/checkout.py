"""Checkout: a payment row with its idempotency key first, then the provider's hosted payment.

The payment row and its idempotency key are committed before the provider is
called, so a retry after a timeout (a double click, a reload) asks the provider with
the same key and gets the same payment back instead of a second charge. An open
payment with the same provider is reused; one with another provider stays, and
whichever the customer completes wins (a second success is flagged for a refund).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import httpx
from sqlmodel import select

from backend.config import get_settings
from backend.db import session_scope
from backend.domain.ids import new_id
from backend.domain.statuses import OrderStatus, PaymentStatus
from backend.integrations.payments import registry
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderRejected,
    ProviderUnavailable,
)
from backend.models import Order, Payment, Tenant
from backend.models.base import utcnow
from backend.services import payment_accounts
from backend.services.errors import NotFound, ServiceError
from backend.services.orders import Viewer, load_order

_OPEN = (PaymentStatus.CREATED.value, PaymentStatus.PENDING.value, PaymentStatus.FAILED.value)
CARD_PAGE = "/checkout/card"  # our page hosting a provider's own card fields (Stripe.js)


class CheckoutUnavailable(ServiceError):
    """The provider could not be reached or refused: the customer may try again or pick another."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code  # provider_unavailable | provider_refused | order_not_payable


@dataclass(frozen=True)
class CheckoutStart:
    payment_id: UUID
    redirect_url: str
    client_fields: dict[str, str] = field(default_factory=dict)


def webhook_url(provider: str, tenant_slug: str) -> str:
    return f"{get_settings().base_url}/webhooks/payments/{provider}/{tenant_slug}"


def receipt_url(reference: str) -> str:
    return f"{get_settings().base_url}/orders/{reference}"


def _open_payment(
    reference: str, provider: str, viewer: Viewer, locale: str, customer_ip: str
) -> tuple[UUID, CheckoutRequest, dict]:
    """Reuse or create the payment row (committed on return); its id, the request, its data."""
    with session_scope() as db:
        found = load_order(db, reference, viewer)
        # Lock the order first, so that two clicks at once see one state and share one payment.
        order = db.exec(select(Order).where(Order.id == found.id).with_for_update()).one()
        if order.status != OrderStatus.AWAITING_PAYMENT.value:
            raise CheckoutUnavailable("order_not_payable")
        tenant = db.get(Tenant, order.tenant_id)
        assert tenant is not None
        payment = db.exec(
            select(Payment).where(
                Payment.order_id == order.id,
                Payment.provider == provider,
                Payment.status.in_(_OPEN),  # type: ignore[attr-defined]
            )
        ).first()
        if payment is None:
            payment = Payment(
                tenant_id=order.tenant_id,
                order_id=order.id,
                provider=provider,
                idempotency_key=f"wb-pay-{new_id()}",
                amount_minor=order.total_minor,
                currency=order.currency,
            )
            db.add(payment)
            db.flush()
        request = CheckoutRequest(
            payment_id=str(payment.id),
            idempotency_key=payment.idempotency_key,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            description=f"{tenant.name} shipping order {order.reference}",
            order_reference=order.reference,
            customer_email=order.guest_email,
            locale=locale,
            return_url=receipt_url(order.reference),
            cancel_url=receipt_url(order.reference) + "?cancelled=1",
            notify_url=webhook_url(provider, tenant.slug),
            customer_ip=customer_ip[:45],
        )
        return payment.id, request, dict(payment.provider_data or {})


def start_checkout(
    reference: str, provider: str, viewer: Viewer, locale: str = "en", customer_ip: str = ""
) -> CheckoutStart:
    """Where to send the customer to pay `reference` with `provider`."""
    with session_scope() as db:
        tenant_id = load_order(db, reference, viewer).tenant_id
    try:
        account = payment_accounts.provider_account(tenant_id, provider, enabled_only=True)
        adapter = registry.get_adapter(provider)
    except (NotFound, KeyError):
        raise NotFound(f"{provider} is not offered here") from None
    payment_id, request, data = _open_payment(reference, provider, viewer, locale, customer_ip)
    if data.get("redirect_url") and data.get("provider_reference"):
        return _start(payment_id, reference, adapter, data)
    try:
        with httpx.Client(trust_env=False) as client:
            checkout = adapter.create_checkout(request, account, client)
    except ProviderUnavailable:
        raise CheckoutUnavailable("provider_unavailable") from None
    except ProviderRejected:
        raise CheckoutUnavailable("provider_refused") from None
    data = {
        "provider_reference": checkout.provider_reference,
        "redirect_url": checkout.redirect_url,
        "client_fields": dict(checkout.client_fields),
        "locale": locale,
    }
    with session_scope() as db:
        payment = db.exec(select(Payment).where(Payment.id == payment_id).with_for_update()).one()
        payment.provider_reference = checkout.provider_reference
        payment.provider_data = {**(payment.provider_data or {}), **data}
        if payment.status == PaymentStatus.CREATED.value:
            payment.status = PaymentStatus.PENDING.value
        payment.updated_at = utcnow()
        db.add(payment)
    return _start(payment_id, reference, adapter, data)


def _start(payment_id: UUID, reference: str, adapter, data: dict) -> CheckoutStart:
    if adapter.capabilities.fields_on_our_page:
        return CheckoutStart(
            payment_id,
            f"{CARD_PAGE}/{reference}?payment={payment_id}",
            dict(data.get("client_fields", {})),
        )
    return CheckoutStart(payment_id, data["redirect_url"], {})


def card_fields(reference: str, payment_id: str, viewer: Viewer) -> dict[str, str]:
    """What our card page needs for a provider's own fields (Stripe.js), for this viewer's order."""
    with session_scope() as db:
        order = load_order(db, reference, viewer)
        try:
            wanted = UUID(payment_id)
        except ValueError:
            raise NotFound("no such payment") from None
        payment = db.exec(
            select(Payment).where(Payment.id == wanted, Payment.order_id == order.id)
        ).first()
        if (
            payment is None
            or not registry.get_adapter(payment.provider).capabilities.fields_on_our_page
        ):
            raise NotFound("no such payment")
        fields = dict((payment.provider_data or {}).get("client_fields", {}))
        fields["return_url"] = receipt_url(order.reference)
        fields["amount_minor"] = str(payment.amount_minor)
        fields["currency"] = payment.currency
        fields["status"] = payment.status
        return fields
