"""Customers' shipping orders: check and quote the form, place the order, show it to its owner.

The price is always computed here from the tenant's rate card, never taken from the
page. A member owns their orders; a guest reaches theirs with a secret token kept in
their browser (only its SHA-256 is stored). Anyone else, or another tenant's
reference, gets NotFound.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.db import session_scope
from backend.domain.order_form import Address, OrderForm, read_order_form
from backend.domain.pricing import NotServed, Quote
from backend.domain.statuses import OrderStatus
from backend.integrations.payments import registry
from backend.models import MemberTenant, Order, Payment, SavedAddress, Shipment, Tenant
from backend.services import pricing
from backend.services.access import Principal
from backend.services.errors import NotFound, ValidationFailed

# Where a NotServed code is shown on the form.
_NOT_SERVED_FIELD = {
    "destination_not_served": "recipient_city",
    "service_not_offered": "service_level",
    "parcel_too_heavy": "parcels",
    "parcels_required": "parcels",
}
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


@dataclass(frozen=True)
class Viewer:
    """Who is looking at an order: a signed-in member, or a guest holding order tokens."""

    principal: Principal | None = None
    guest_tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class Priced:
    form: OrderForm
    quote: Quote


@dataclass(frozen=True)
class Placed:
    reference: str
    guest_token: str  # "" for members; shown to nobody, kept by the guest's browser


@dataclass(frozen=True)
class PaymentLine:
    id: UUID
    provider: str
    provider_name: str  # as customers know it ("WeChat Pay")
    status: str
    amount_minor: int
    refunded_minor: int
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class OrderView:
    id: UUID
    tenant_id: UUID
    tenant_slug: str
    reference: str
    status: str
    currency: str
    quote: dict
    total_minor: int
    service_level: str
    details: dict
    created_at: datetime
    paid_at: datetime | None
    tracking_number: str
    payments: list[PaymentLine] = field(default_factory=list)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _tenant(db: Session, slug: str) -> Tenant:
    tenant = db.exec(select(Tenant).where(Tenant.slug == slug, Tenant.is_active)).first()
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}")
    return tenant


def price(
    tenant_slug: str, values: dict[str, str], parcels: list[dict[str, str]], *, guest: bool
) -> Priced:
    """Check the form and price it; ValidationFailed carries every field's problem at once."""
    with session_scope() as db:
        tenant_id = _tenant(db, tenant_slug).id
    form = read_order_form(values, parcels, guest=guest)
    if form.errors:
        raise ValidationFailed(dict(form.errors))
    try:
        quote = pricing.quote_form(tenant_id, form)
    except NotServed as refused:
        raise ValidationFailed(
            {_NOT_SERVED_FIELD.get(refused.code, "parcels"): refused.code}
        ) from None
    return Priced(form, quote)


def _address_dict(address: Address) -> dict[str, str]:
    return {
        "name": address.name,
        "phone": address.phone,
        "line1": address.line1,
        "line2": address.line2,
        "district": address.district,
        "city": address.city,
        "postcode": address.postcode,
        "country": address.country,
    }


def _new_reference(prefix: str) -> str:
    return prefix + "-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def place(
    tenant_slug: str,
    values: dict[str, str],
    parcels: list[dict[str, str]],
    principal: Principal | None,
    *,
    save_addresses: bool = False,
) -> Placed:
    """Create the order awaiting payment, priced again here; a member's addresses may be saved."""
    member_id = principal.member_id if principal else None
    priced = price(tenant_slug, values, parcels, guest=member_id is None)
    form, quote = priced.form, priced.quote
    assert form.sender and form.recipient
    guest_token = "" if member_id else secrets.token_urlsafe(32)
    details = {
        "sender": _address_dict(form.sender),
        "recipient": _address_dict(form.recipient),
        "parcels": [
            {
                "weight_grams": p.weight_grams,
                "length_mm": p.length_mm,
                "width_mm": p.width_mm,
                "height_mm": p.height_mm,
                "contents": p.contents,
                "declared_value_minor": p.declared_value_minor,
            }
            for p in form.parcels
        ],
        "insured": form.insured,
        "cross_border": form.cross_border,
    }
    for _ in range(5):  # a reference collision is a 1-in-10^12 event; try again quietly
        try:
            with session_scope() as db:
                tenant = _tenant(db, tenant_slug)
                if member_id:
                    _ensure_membership(db, member_id, tenant.id)
                order = Order(
                    tenant_id=tenant.id,
                    reference=_new_reference(tenant.tracking_prefix),
                    member_id=member_id,
                    guest_email=form.guest_email,
                    status=OrderStatus.AWAITING_PAYMENT.value,
                    currency=quote.currency,
                    quote_minor=quote.total_minor,
                    # The loyalty programme's points discount plugs in here (discount_minor).
                    discount_minor=0,
                    total_minor=quote.total_minor,
                    service_level=quote.service_level,
                    quote_breakdown=quote.as_dict(),
                    details=details,
                    access_token_hash=token_hash(guest_token) if guest_token else "",
                )
                db.add(order)
                if member_id and save_addresses:
                    _save_addresses(db, member_id, form)
            return Placed(order.reference, guest_token)
        except IntegrityError as clash:
            if "order_reference" not in str(clash.orig):
                raise
    raise RuntimeError("could not find a free order reference")


def _ensure_membership(db: Session, member_id: UUID, tenant_id: UUID) -> None:
    # Ordering from a tenant makes the member one of its customers (points, My shipments).
    exists = db.exec(
        select(MemberTenant).where(
            MemberTenant.member_id == member_id, MemberTenant.tenant_id == tenant_id
        )
    ).first()
    if exists is None:
        db.add(MemberTenant(member_id=member_id, tenant_id=tenant_id))


def _save_addresses(db: Session, member_id: UUID, form: OrderForm) -> None:
    known = {
        (a.name, a.line1, a.city)
        for a in db.exec(select(SavedAddress).where(SavedAddress.member_id == member_id))
    }
    for address in (form.sender, form.recipient):
        if address is None or (address.name, address.line1, address.city) in known:
            continue
        db.add(
            SavedAddress(
                member_id=member_id,
                label=f"{address.name} · {address.city}"[:40],
                name=address.name,
                phone=address.phone,
                line1=address.line1,
                line2=address.line2,
                city=address.city,
                district=address.district,
                postcode=address.postcode,
                country=address.country,
            )
        )


def may_view(order: Order, viewer: Viewer) -> bool:
    principal = viewer.principal
    if principal and principal.member_id and order.member_id == principal.member_id:
        return True
    if order.member_id is None and order.access_token_hash:
        return any(
            hmac.compare_digest(token_hash(t), order.access_token_hash)
            for t in viewer.guest_tokens
            if t
        )
    return False


def _view(db: Session, order: Order) -> OrderView:
    tenant = db.get(Tenant, order.tenant_id)
    assert tenant is not None
    payments = db.exec(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.created_at)
    ).all()
    shipment = db.exec(
        select(Shipment.tracking_number).where(Shipment.order_id == order.id)
    ).first()
    return OrderView(
        id=order.id,
        tenant_id=order.tenant_id,
        tenant_slug=tenant.slug,
        reference=order.reference,
        status=order.status,
        currency=order.currency,
        quote=dict(order.quote_breakdown),
        total_minor=order.total_minor,
        service_level=order.service_level,
        details=dict(order.details),
        created_at=order.created_at,
        paid_at=order.paid_at,
        tracking_number=shipment or "",
        payments=[
            PaymentLine(
                p.id,
                p.provider,
                registry.get_adapter(p.provider).display_name,
                p.status,
                p.amount_minor,
                p.refunded_minor,
                p.currency,
                p.created_at,
            )
            for p in payments
        ],
    )


def load_order(db: Session, reference: str, viewer: Viewer) -> Order:
    """The order behind a reference, if this viewer may see it; NotFound otherwise (no hint why)."""
    if not reference or len(reference) > 20:
        raise NotFound("no such order")
    order = db.exec(select(Order).where(Order.reference == reference.strip().upper())).first()
    if order is None or not may_view(order, viewer):
        raise NotFound("no such order")
    return order


def order_view(reference: str, viewer: Viewer) -> OrderView:
    with session_scope() as db:
        return _view(db, load_order(db, reference, viewer))


def order_view_by_id(order_id: UUID) -> OrderView:
    """For code that already proved access (workers, staff services)."""
    with session_scope() as db:
        order = db.get(Order, order_id)
        if order is None:
            raise NotFound("no such order")
        return _view(db, order)


def member_orders(principal: Principal | None, limit: int = 100) -> list[OrderView]:
    if principal is None or principal.member_id is None:
        raise NotFound("sign in as a member first")
    with session_scope() as db:
        orders = db.exec(
            select(Order)
            .where(Order.member_id == principal.member_id)
            .order_by(Order.created_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
        return [_view(db, o) for o in orders]


def saved_addresses(principal: Principal | None) -> list[dict[str, str]]:
    """The member's address book, for filling in the form."""
    if principal is None or principal.member_id is None:
        return []
    with session_scope() as db:
        rows = db.exec(
            select(SavedAddress)
            .where(SavedAddress.member_id == principal.member_id)
            .order_by(SavedAddress.created_at)
        ).all()
        return [
            {
                "id": str(a.id),
                "label": a.label,
                "name": a.name,
                "phone": a.phone,
                "line1": a.line1,
                "line2": a.line2,
                "district": a.district,
                "city": a.city,
                "postcode": a.postcode,
                "country": a.country,
            }
            for a in rows
        ]
