"""The demo data the run command loads: once only, coherent, and usable with the README's logins."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, or_
from sqlmodel import SQLModel, select

from backend.db import get_engine, session_scope
from backend.domain import tracking_number
from backend.domain.roles import Role
from backend.domain.statuses import SessionAudience, ShipmentStatus
from backend.models import (
    Carrier,
    CarrierAccount,
    LoyaltyAccount,
    LoyaltyEntry,
    Shipment,
    Tenant,
    TrackingEvent,
)
from backend.services import accounts, demo_data, members, sessions, tenants
from backend.services.errors import AuthFailed, PermissionDenied
from tests.support import factories

pytestmark = pytest.mark.local_services

HARBOUR, DRAGON = "harbour-express", "dragon-gate"


@pytest.fixture
def fast_hashing(monkeypatch):
    # Still real Argon2id hashes of the README passwords, computed once per password per run.
    monkeypatch.setattr(demo_data, "hash_password", factories.password_hash)


@pytest.fixture
def demo(clean_db, redis_client, fast_hashing) -> None:
    assert demo_data.seed_demo_data() is True


def _row_counts() -> dict[str, int]:
    with get_engine().connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def _tenant_ids() -> dict[str, object]:
    with session_scope() as db:
        return {t.slug: t.id for t in db.exec(select(Tenant))}


# -- loading ----------------------------------------------------------------------------------


def test_seeding_a_clean_database_loads_the_demo_and_a_second_run_changes_nothing(
    clean_db, fast_hashing
):
    assert set(_row_counts().values()) == {0}

    assert demo_data.seed_demo_data() is True
    loaded = _row_counts()
    assert demo_data.seed_demo_data() is False

    assert _row_counts() == loaded
    assert loaded["tenant"] == 2
    assert loaded["user_account"] == len(demo_data.STAFF_LOGINS) + 1
    assert loaded["shipment"] >= len(ShipmentStatus)
    for table in ("staff_role", "member", "loyalty_entry", "carrier", "parcel", "tracking_event"):
        assert loaded[table] > 0, table


def test_the_two_tenants_have_their_own_branding(demo):
    brands = {brand.slug: brand for brand in tenants.list_branding()}

    assert set(brands) == {HARBOUR, DRAGON}
    harbour, dragon = brands[HARBOUR], brands[DRAGON]
    for attribute in ("name", "name_zh", "tagline", "primary_color", "accent_color", "logo_path"):
        assert getattr(harbour, attribute) != getattr(dragon, attribute), attribute
        assert getattr(harbour, attribute) and getattr(dragon, attribute), attribute
    assert (harbour.default_locale, dragon.default_locale) == ("en", "zh-HK")
    assert tenants.branding_for(DRAGON) == dragon
    assert tenants.branding_for(None) == harbour  # the first tenant is the default


# -- logins -----------------------------------------------------------------------------------


def _expected_roles(ids: dict) -> dict[str, dict]:
    return {
        "agent@waybill.demo": {ids[HARBOUR]: frozenset({Role.AGENT})},
        "finance@waybill.demo": {ids[HARBOUR]: frozenset({Role.FINANCE})},
        "admin@waybill.demo": {
            ids[HARBOUR]: frozenset({Role.TENANT_ADMIN}),
            ids[DRAGON]: frozenset({Role.TENANT_ADMIN}),
        },
        "platform@waybill.demo": {},
    }


@pytest.mark.parametrize("login", demo_data.STAFF_LOGINS, ids=lambda login: login.email)
def test_each_readme_staff_login_opens_the_staff_portal_with_its_role(demo, login):
    signed_in = accounts.sign_in(login.email, login.password, SessionAudience.STAFF)

    principal = sessions.resolve_session(signed_in.token, SessionAudience.STAFF)
    assert principal is not None
    assert principal.email == login.email
    assert principal.roles == _expected_roles(_tenant_ids())[login.email]
    assert principal.is_platform_admin is (login.email == "platform@waybill.demo")
    assert principal.is_staff


def test_the_readme_member_login_opens_the_portal_but_not_the_staff_portal(demo):
    login = demo_data.MEMBER_LOGIN
    signed_in = accounts.sign_in(login.email, login.password, SessionAudience.PORTAL)

    principal = sessions.resolve_session(signed_in.token, SessionAudience.PORTAL)
    assert principal is not None
    assert principal.member_id is not None
    assert not principal.is_staff
    with pytest.raises(AuthFailed) as refused:
        accounts.sign_in(login.email, login.password, SessionAudience.STAFF)
    assert refused.value.code == "not_staff"


# -- shipments --------------------------------------------------------------------------------


def test_harbour_has_a_shipment_in_every_status_under_the_readme_numbers(demo):
    numbers = demo_data.demo_tracking_numbers()
    assert set(numbers) == {status.value for status in ShipmentStatus}
    with session_scope() as db:
        by_number = {
            s.tracking_number: s
            for s in db.exec(select(Shipment).where(Shipment.tenant_id == _tenant_ids()[HARBOUR]))
        }
    assert {s.status for s in by_number.values()} == {status.value for status in ShipmentStatus}
    for status, number in numbers.items():
        assert by_number[number].status == status


def test_every_demo_tracking_number_of_ours_is_a_valid_s10_number(demo):
    listed = list(demo_data.demo_tracking_numbers().values())
    with session_scope() as db:
        stored = db.exec(
            select(Shipment.tracking_number, Carrier.tracking_number_pattern)
            .join(CarrierAccount, CarrierAccount.id == Shipment.carrier_account_id, isouter=True)
            .join(Carrier, Carrier.id == CarrierAccount.carrier_id, isouter=True)
        ).all()

    assert set(listed) <= {number for number, _ in stored}
    for number in listed:
        assert tracking_number.check(number) is tracking_number.NumberCheck.VALID, number
    for number, carrier_pattern in stored:
        # Ours are S10; a partner carrier's own layout must be one its carrier claims.
        if tracking_number.check(number) is not tracking_number.NumberCheck.VALID:
            assert carrier_pattern and re.fullmatch(carrier_pattern, number), number
    s10 = [n for n, _ in stored if tracking_number.check(n) is tracking_number.NumberCheck.VALID]
    assert len(s10) >= len(ShipmentStatus) + 3  # every status at Harbour, three at Dragon Gate


def test_each_shipments_timeline_starts_pending_and_ends_in_its_status(demo):
    with session_scope() as db:
        shipments = db.exec(select(Shipment)).all()
        for shipment in shipments:
            events = db.exec(
                select(TrackingEvent)
                .where(TrackingEvent.shipment_id == shipment.id)
                .order_by(TrackingEvent.occurred_at)
            ).all()
            assert events[0].status == ShipmentStatus.PENDING.value
            assert events[-1].status == shipment.status
            assert shipment.last_event_at == events[-1].occurred_at
            assert all(e.tenant_id == shipment.tenant_id for e in events)


# -- loyalty ----------------------------------------------------------------------------------


def test_each_loyalty_balance_equals_the_sum_of_its_ledger(demo):
    with session_scope() as db:
        accounts_found = db.exec(select(LoyaltyAccount)).all()
        sums = dict(
            db.exec(
                select(LoyaltyEntry.account_id, func.sum(LoyaltyEntry.points)).group_by(
                    LoyaltyEntry.account_id
                )
            ).all()
        )

    assert len(accounts_found) == 2
    for account in accounts_found:
        assert account.balance == sums[account.id]
        assert account.balance >= 0
    assert sorted(a.balance for a in accounts_found) == [300, 1250]


def test_the_demo_member_sees_points_in_both_tenants_and_their_shipments(demo):
    login = demo_data.MEMBER_LOGIN
    token = accounts.sign_in(login.email, login.password, SessionAudience.PORTAL).token
    principal = sessions.resolve_session(token, SessionAudience.PORTAL)

    overview = members.overview(principal, shipments_limit=50)

    assert overview.email == login.email
    assert {(p.tenant_name, p.balance, p.tier) for p in overview.points} == {
        ("Harbour Express", 1250, "silver"),
        ("Dragon Gate Cross-Border", 300, "member"),
    }
    with session_scope() as db:
        theirs = db.exec(
            select(func.count()).where(
                or_(
                    Shipment.sender_member_id == principal.member_id,
                    Shipment.recipient_member_id == principal.member_id,
                )
            )
        ).one()
    assert len(overview.shipments) == theirs >= len(ShipmentStatus)
    assert {line.direction for line in overview.shipments} == {"sent", "received"}
    created = [line.created_at for line in overview.shipments]
    assert created == sorted(created, reverse=True)


def test_a_member_overview_needs_a_signed_in_member(demo):
    login = demo_data.STAFF_LOGINS[0]
    token = accounts.sign_in(login.email, login.password, SessionAudience.STAFF).token
    staff_only = sessions.resolve_session(token, SessionAudience.STAFF)

    with pytest.raises(PermissionDenied):
        members.overview(None)
    with pytest.raises(PermissionDenied):
        members.overview(staff_only)
