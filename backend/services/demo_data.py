"""Demo data for the run command: two tenants, staff of every role, a member with points, shipments.

Idempotent: running it again changes nothing. Logins and tracking numbers are listed in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from backend.config import get_settings
from backend.db import session_scope
from backend.domain import tracking_number
from backend.domain.roles import Role
from backend.domain.statuses import FINAL_SHIPMENT_STATUSES, LedgerKind, ShipmentStatus
from backend.models import (
    Carrier,
    CarrierAccount,
    CarrierCapability,
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyProgramme,
    Member,
    MemberTenant,
    Parcel,
    Shipment,
    StaffRole,
    Tenant,
    TrackingEvent,
    UserAccount,
)
from backend.models.base import utcnow
from backend.services.demo_commerce import seed_commerce
from backend.services.passwords import hash_password
from backend.services.secrets import put_secret


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


STAFF_LOGINS = [
    DemoLogin("agent@waybill.demo", "agent-demo-2026", "agent (Harbour Express)"),
    DemoLogin("finance@waybill.demo", "finance-demo-2026", "finance (Harbour Express)"),
    DemoLogin("admin@waybill.demo", "admin-demo-2026", "tenant admin (both tenants)"),
    DemoLogin("platform@waybill.demo", "platform-demo-2026", "platform admin"),
]
MEMBER_LOGIN = DemoLogin("member@waybill.demo", "member-demo-2026", "member")
MEMBER_PHONE = "+85291234567"
PARTNER_DEMO_NUMBER = "PR2026112201"  # Pearl River's own layout, claimed by its pattern

TENANTS = [
    dict(
        slug="harbour-express",
        name="Harbour Express",
        name_zh="海港速遞",
        tagline="Same-day parcels across Hong Kong",
        tagline_zh="全港即日送達",
        primary_color="#0b5394",
        accent_color="#f1c232",
        logo_path="/brands/harbour-express.svg",
        tracking_prefix="WB",
    ),
    dict(
        slug="dragon-gate",
        name="Dragon Gate Cross-Border",
        name_zh="龍門跨境",
        tagline="Hong Kong to the Greater Bay Area and beyond",
        tagline_zh="由香港直達大灣區及更遠",
        primary_color="#a61c00",
        accent_color="#ffd966",
        logo_path="/brands/dragon-gate.svg",
        default_locale="zh-HK",
        tracking_prefix="DG",
    ),
]

# (serial, status, reason, recipient is the demo member?) per tenant prefix; serials are fixed so
# the README can list the numbers.
_JOURNEY = {
    ShipmentStatus.PENDING: [],
    ShipmentStatus.PICKED_UP: [ShipmentStatus.PICKED_UP],
    ShipmentStatus.IN_TRANSIT: [ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT],
    ShipmentStatus.CUSTOMS: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.CUSTOMS,
    ],
    ShipmentStatus.OUT_FOR_DELIVERY: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
    ],
    ShipmentStatus.READY_FOR_PICKUP: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.READY_FOR_PICKUP,
    ],
    ShipmentStatus.DELIVERY_FAILED: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
    ],
    ShipmentStatus.EXCEPTION: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.EXCEPTION,
    ],
    ShipmentStatus.RETURNING: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.RETURNING,
    ],
    ShipmentStatus.RETURNED: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.RETURNING,
        ShipmentStatus.RETURNED,
    ],
    ShipmentStatus.DELIVERED: [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ],
    ShipmentStatus.CANCELLED: [ShipmentStatus.CANCELLED],
    ShipmentStatus.UNKNOWN: [ShipmentStatus.PICKED_UP, ShipmentStatus.UNKNOWN],
}
_REASONS = {
    ShipmentStatus.DELIVERY_FAILED: "recipient_absent",
    ShipmentStatus.EXCEPTION: "damaged",
    ShipmentStatus.CUSTOMS: "customs_documents",
    ShipmentStatus.RETURNING: "recipient_absent",
}
_CITIES = ["Kwai Chung", "Tsuen Wan", "Kowloon Bay", "Mong Kok", "Central"]
_DG_CITIES = ["Kwai Chung", "Lok Ma Chau", "Shenzhen", "Guangzhou", "Guangzhou"]


def sandbox_url() -> str:
    """Where `make run` starts the offline carriers and payment providers (backend/sandbox)."""
    return f"http://127.0.0.1:{get_settings().sandbox_port}"


def demo_tracking_numbers() -> dict[str, str]:
    """status -> tracking number, for the README and tests."""
    return {
        status.value: tracking_number.make("WB", 10_000_000 + i)
        for i, status in enumerate(ShipmentStatus)
    }


def seed_demo_data() -> bool:
    """Load the demo once; return False when it was already there.

    Prices and payment accounts are checked every time: an older demo database gets them,
    and a lost sandbox accounts file is provisioned again.
    """
    with session_scope() as db:
        present = db.exec(select(Tenant.id).where(Tenant.slug == TENANTS[0]["slug"])).first()
        if not present:
            tenants = [Tenant(**fields) for fields in TENANTS]
            db.add_all(tenants)
            db.flush()
            _seed_people(db, tenants)
            _seed_carriers(db, tenants)
            _seed_shipments(db, tenants)
        seed_commerce(db, sandbox_url())
    return not present


def _seed_people(db: Session, tenants: list[Tenant]) -> None:
    harbour, dragon = tenants
    grants = {
        "agent@waybill.demo": [(harbour, Role.AGENT)],
        "finance@waybill.demo": [(harbour, Role.FINANCE)],
        "admin@waybill.demo": [(harbour, Role.TENANT_ADMIN), (dragon, Role.TENANT_ADMIN)],
        "platform@waybill.demo": [],
    }
    names = {
        "agent": "Alex Agent",
        "finance": "Fiona Finance",
        "admin": "Ada Admin",
        "platform": "Pat Platform",
    }
    for login in STAFF_LOGINS:
        user = UserAccount(
            email=login.email,
            display_name=names[login.email.split("@")[0]],
            password_hash=hash_password(login.password),
            is_platform_admin=login.email.startswith("platform@"),
        )
        db.add(user)
        db.flush()
        for tenant, role in grants[login.email]:
            db.add(StaffRole(user_id=user.id, tenant_id=tenant.id, role=role.value))

    user = UserAccount(
        email=MEMBER_LOGIN.email,
        display_name="Mei Chan",
        password_hash=hash_password(MEMBER_LOGIN.password),
    )
    db.add(user)
    db.flush()
    member = Member(user_id=user.id, phone=MEMBER_PHONE)
    db.add(member)
    db.flush()
    for tenant, points in ((harbour, 1250), (dragon, 300)):
        db.add(MemberTenant(member_id=member.id, tenant_id=tenant.id))
        db.add(LoyaltyProgramme(tenant_id=tenant.id, tiers={"silver": 1000, "gold": 5000}))
        account = LoyaltyAccount(
            member_id=member.id,
            tenant_id=tenant.id,
            balance=points,
            lifetime_points=points,
            tier="silver" if points >= 1000 else "member",
        )
        db.add(account)
        db.flush()
        # The balance is the ledger's sum: the opening balance is one adjustment entry.
        db.add(
            LoyaltyEntry(
                account_id=account.id,
                kind=LedgerKind.ADJUST.value,
                points=points,
                cause_type="staff_adjustment",
                cause_id=f"demo-opening-{tenant.slug}",
                note="Demo opening balance",
            )
        )


def _seed_carriers(db: Session, tenants: list[Tenant]) -> None:
    carriers = [
        Carrier(slug="harbour-post", name="Harbour Post (JSON API)", api_style="rest_json"),
        Carrier(
            slug="pearl-river",
            name="Pearl River Logistics (XML API)",
            api_style="xml",
            tracking_number_pattern=r"^PR\d{10}$",
        ),
        Carrier(
            slug="swiftlink",
            name="SwiftLink (push webhooks)",
            api_style="push",
            tracking_number_pattern=r"^SL[A-Z0-9]{10}$",
        ),
    ]
    db.add_all(carriers)
    db.flush()
    limits = {"harbour-post": 10.0, "pearl-river": 2.0, "swiftlink": 5.0}
    prefixes = {"harbour-post": "hp", "pearl-river": "pr", "swiftlink": "sl"}
    for tenant in tenants:
        for carrier in carriers:
            account = CarrierAccount(
                tenant_id=tenant.id,
                carrier_id=carrier.id,
                name="main",
                base_url=f"{sandbox_url()}/{carrier.slug}",
                rate_limit_per_second=limits[carrier.slug],
            )
            db.add(account)
            db.flush()
            # The sandbox carriers know these demo keys (backend/sandbox/carriers/accounts.py).
            scope = f"carrier_account:{account.id}"
            prefix = prefixes[carrier.slug]
            put_secret(tenant.id, scope, "api_key", f"{prefix}-demo-{tenant.slug}", db)
            if carrier.api_style == "push":
                put_secret(tenant.id, scope, "webhook_secret", f"whsec-{prefix}-{tenant.slug}", db)
    lanes = [
        ("harbour-post", "HK", "HK", "standard", 2000, 3500, 1),
        ("harbour-post", "HK", "HK", "express", 3500, 5000, 0),
        ("pearl-river", "HK", "CN", "standard", 6000, 2500, 3),
        ("pearl-river", "HK", "CN", "express", 9000, 3000, 2),
        ("pearl-river", "HK", "MO", "standard", 5000, 2000, 2),
        ("swiftlink", "HK", "HK", "economy", 1500, 2000, 3),
    ]
    by_slug = {c.slug: c for c in carriers}
    for slug, origin, dest, level, base, per_kg, days in lanes:
        db.add(
            CarrierCapability(
                carrier_id=by_slug[slug].id,
                service_level=level,
                origin_region=origin,
                destination_region=dest,
                max_weight_grams=30_000,
                max_length_mm=1200,
                base_price_minor=base,
                per_kg_minor=per_kg,
                transit_days=days,
            )
        )


def _carrier_account(db: Session, tenant: Tenant, slug: str):
    return db.exec(
        select(CarrierAccount.id)
        .join(Carrier, Carrier.id == CarrierAccount.carrier_id)
        .where(CarrierAccount.tenant_id == tenant.id, Carrier.slug == slug)
    ).one()


def _seed_shipments(db: Session, tenants: list[Tenant]) -> None:
    harbour, dragon = tenants
    member = db.exec(select(Member)).one()
    now = utcnow()
    numbers = demo_tracking_numbers()
    harbour_post = _carrier_account(db, harbour, "harbour-post")
    for i, status in enumerate(ShipmentStatus):
        _shipment(
            db,
            harbour,
            numbers[status.value],
            status,
            now - timedelta(days=13 - i),
            member_id=member.id,
            member_is_sender=i % 2 == 0,
            cities=_CITIES,
            carrier_account_id=harbour_post,
        )
    pearl_river = _carrier_account(db, dragon, "pearl-river")
    for i, status in enumerate(
        [ShipmentStatus.IN_TRANSIT, ShipmentStatus.CUSTOMS, ShipmentStatus.DELIVERED]
    ):
        _shipment(
            db,
            dragon,
            tracking_number.make("DG", 20_000_000 + i),
            status,
            now - timedelta(days=5 - i),
            member_id=member.id,
            member_is_sender=True,
            cities=_DG_CITIES,
            country="CN",
            carrier_account_id=pearl_river,
        )
    # A partner carrier's own number layout (not S10), which the tracking page accepts.
    _shipment(
        db,
        dragon,
        PARTNER_DEMO_NUMBER,
        ShipmentStatus.IN_TRANSIT,
        now - timedelta(days=2),
        member_id=member.id,
        member_is_sender=True,
        cities=_DG_CITIES,
        country="CN",
        carrier_account_id=pearl_river,
    )
    # Parcels just handed over, one per carrier style: the sandbox carriers move them along
    # while the demo runs (polled for Harbour Post and Pearl River, pushed by SwiftLink).
    swiftlink = _carrier_account(db, harbour, "swiftlink")
    fresh = [
        (harbour, tracking_number.make("WB", 10_000_100), harbour_post, _CITIES, "HK"),
        (harbour, tracking_number.make("WB", 10_000_101), harbour_post, _CITIES, "HK"),
        (dragon, "PR2026112202", pearl_river, _DG_CITIES, "CN"),
        (harbour, "SL7K2M9Q4P1A", swiftlink, _CITIES, "HK"),
        (harbour, "SL3H8D2W6N5B", swiftlink, _CITIES, "HK"),
    ]
    for tenant, number, account_id, cities, country in fresh:
        _shipment(
            db,
            tenant,
            number,
            ShipmentStatus.PENDING,
            now - timedelta(minutes=30),
            member_id=member.id,
            member_is_sender=True,
            cities=cities,
            country=country,
            carrier_account_id=account_id,
            next_poll_at=now,
        )


def _shipment(
    db: Session,
    tenant: Tenant,
    number: str,
    status: ShipmentStatus,
    created,
    *,
    member_id,
    member_is_sender: bool,
    cities: list[str],
    country: str = "HK",
    carrier_account_id=None,
    next_poll_at=None,
) -> None:
    # The showcase parcels (README's numbers) have no poll scheduled, so they keep the status
    # the README promises; only the fresh ones are handed to the tracking sync.
    shipment = Shipment(
        tenant_id=tenant.id,
        carrier_account_id=carrier_account_id,
        tracking_number=number,
        status=status.value,
        status_reason=_REASONS.get(status, ""),
        sender_member_id=member_id if member_is_sender else None,
        recipient_member_id=None if member_is_sender else member_id,
        sender_name="Mei Chan" if member_is_sender else "Kowloon Books Ltd",
        sender_phone=MEMBER_PHONE if member_is_sender else "+85223456789",
        sender_address="12/F, 88 Container Port Road",
        sender_city="Kwai Chung",
        recipient_name="Wong Tai Man" if member_is_sender else "Mei Chan",
        recipient_phone="+85298765432" if member_is_sender else MEMBER_PHONE,
        recipient_address="Flat B, 5/F, 23 Nathan Road",
        recipient_city=cities[-1],
        recipient_postcode="" if country == "HK" else "510000",
        recipient_country=country,
        service_level="express" if status is ShipmentStatus.OUT_FOR_DELIVERY else "standard",
        created_at=created,
        updated_at=created,
        # Parcels still on their way are due soon after the demo starts; the rest have no ETA.
        eta=None if status in FINAL_SHIPMENT_STATUSES else (utcnow() + timedelta(days=1)).date(),
        raw_payload={"source": "demo"},
        next_poll_at=next_poll_at,
    )
    db.add(shipment)
    db.flush()
    db.add(
        Parcel(
            shipment_id=shipment.id,
            weight_grams=1200,
            length_mm=300,
            width_mm=200,
            height_mm=100,
            contents="Books",
        )
    )
    events = [ShipmentStatus.PENDING, *_JOURNEY[status]]
    for step, event_status in enumerate(events):
        at = created + timedelta(hours=6 * step)
        db.add(
            TrackingEvent(
                tenant_id=tenant.id,
                shipment_id=shipment.id,
                occurred_at=at,
                recorded_at=at,
                status=event_status.value,
                reason=_REASONS.get(event_status, ""),
                raw_code="X99"
                if event_status is ShipmentStatus.UNKNOWN
                else event_status.value.upper(),
                description=event_status.value.replace("_", " ").capitalize(),
                city=cities[min(step, len(cities) - 1)],
                # Cross-border parcels leave Hong Kong at the third scan (Lok Ma Chau -> Shenzhen).
                country=country if step >= 2 else "HK",
                source="manual",
                dedupe_key=f"demo-{number}-{step}",
            )
        )
    shipment.last_event_at = created + timedelta(hours=6 * (len(events) - 1))
    db.add(shipment)
