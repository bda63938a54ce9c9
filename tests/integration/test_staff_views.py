"""What staff see: tenant isolation, role-dependent dashboard figures, the audit log, keyset paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from backend.db import session_scope
from backend.domain.money import Money
from backend.domain.roles import Role
from backend.domain.statuses import (
    PaymentStatus,
    QuarantineStatus,
    SessionAudience,
    ShipmentStatus,
    WebhookState,
)
from backend.models import QuarantinedRecord, Refund, Tenant, UpstreamSource, WebhookInbox
from backend.models.base import utcnow
from backend.services import audit, dashboard, shipment_queries, tenants
from backend.services.access import Principal
from backend.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests.support import factories


@dataclass
class World:
    a: Tenant
    b: Tenant
    agent: Principal  # agent of A
    finance: Principal  # finance of A
    admin: Principal  # tenant admin of A
    admin_b: Principal  # tenant admin of B only
    platform: Principal
    member: Principal  # a customer, signed in to the portal


_signed_in = factories.signed_in


@pytest.fixture
def world(clean_db) -> World:
    a = factories.make_tenant(slug="alpha-express", name="Alpha Express")
    b = factories.make_tenant(slug="bravo-cargo", name="Bravo Cargo")
    admin_user = factories.make_staff(a, Role.TENANT_ADMIN)
    factories.grant_role(admin_user, a, Role.FINANCE)  # two roles, still one staff member
    member_user = factories.make_user()
    factories.make_member(user=member_user, tenants=(a,))
    return World(
        a=a,
        b=b,
        agent=_signed_in(factories.make_staff(a, Role.AGENT)),
        finance=_signed_in(factories.make_staff(a, Role.FINANCE)),
        admin=_signed_in(admin_user),
        admin_b=_signed_in(factories.make_staff(b, Role.TENANT_ADMIN)),
        platform=_signed_in(factories.make_user(is_platform_admin=True)),
        member=_signed_in(member_user, SessionAudience.PORTAL),
    )


# -- tenant isolation -------------------------------------------------------------------------


def test_an_agent_lists_only_their_own_tenants_shipments(world):
    ours = {factories.make_shipment(tenant=world.a).tracking_number for _ in range(3)}
    factories.make_shipment(tenant=world.b)
    factories.make_shipment(tenant=world.b)

    page = shipment_queries.list_shipments(world.agent, world.a.slug)

    assert {row.tracking_number for row in page.rows} == ours
    assert page.next_cursor is None


def test_an_agent_is_denied_another_tenants_shipments_dashboard_and_audit(world):
    factories.make_shipment(tenant=world.b)
    with pytest.raises(PermissionDenied):
        shipment_queries.list_shipments(world.agent, world.b.slug)
    with pytest.raises(PermissionDenied):
        dashboard.staff_dashboard(world.agent, world.b.slug)
    with pytest.raises(PermissionDenied):
        audit.list_recent(world.agent, world.b.slug)


def test_a_tenant_admin_of_one_tenant_is_denied_the_other(world):
    with pytest.raises(PermissionDenied):
        shipment_queries.list_shipments(world.admin_b, world.a.slug)
    with pytest.raises(PermissionDenied):
        audit.list_recent(world.admin_b, world.a.slug)


def test_nobody_signed_in_and_a_portal_session_are_denied_staff_lists(world):
    factories.make_shipment(tenant=world.a)
    with pytest.raises(PermissionDenied):
        shipment_queries.list_shipments(None, world.a.slug)
    with pytest.raises(PermissionDenied):
        shipment_queries.list_shipments(world.member, world.a.slug)
    with pytest.raises(PermissionDenied):
        dashboard.staff_dashboard(world.member, world.a.slug)


def test_an_unknown_or_deactivated_tenant_is_not_found(world):
    with pytest.raises(NotFound):
        shipment_queries.list_shipments(world.platform, "no-such-tenant")
    _deactivate(world.b)
    with pytest.raises(NotFound):
        dashboard.staff_dashboard(world.platform, world.b.slug)


def test_a_platform_admin_may_look_into_every_tenant(world):
    factories.make_shipment(tenant=world.b, status=ShipmentStatus.DELIVERED.value)
    assert len(shipment_queries.list_shipments(world.platform, world.b.slug).rows) == 1
    board = dashboard.staff_dashboard(world.platform, world.b.slug)
    assert board.shipments_by_status == {"delivered": 1}
    assert audit.list_recent(world.platform, world.b.slug) == []


# -- staff tenants ----------------------------------------------------------------------------


def test_a_platform_admin_sees_all_active_tenants(world):
    c = factories.make_tenant(slug="charlie-post")
    factories.make_tenant(slug="dormant-line", is_active=False)

    slugs = [brand.slug for brand in tenants.staff_tenants(world.platform)]

    assert slugs == [world.a.slug, world.b.slug, c.slug]


def test_staff_see_only_the_tenants_where_they_hold_a_role(world):
    assert [t.slug for t in tenants.staff_tenants(world.agent)] == [world.a.slug]
    assert [t.slug for t in tenants.staff_tenants(world.admin_b)] == [world.b.slug]


# -- dashboard --------------------------------------------------------------------------------


def _payments_and_refunds(world: World) -> None:
    recent = factories.make_payment(tenant=world.a, amount_minor=12_000)
    factories.make_payment(tenant=world.a, amount_minor=3_050)
    factories.make_payment(tenant=world.a, amount_minor=999, status=PaymentStatus.FAILED)
    factories.make_payment(
        tenant=world.a, amount_minor=70_000, created_at=utcnow() - timedelta(days=8)
    )
    factories.make_payment(tenant=world.b, amount_minor=55_500)
    with session_scope() as db:
        db.add(
            Refund(
                tenant_id=world.a.id,
                payment_id=recent.id,
                amount_minor=2_000,
                currency="HKD",
                idempotency_key="refund-1",
            )
        )


def _failed_webhook_and_open_quarantine(tenant: Tenant) -> None:
    with session_scope() as db:
        source = UpstreamSource(tenant_id=tenant.id, name="csv-drop", format="csv")
        db.add(source)
        db.flush()
        db.add(QuarantinedRecord(tenant_id=tenant.id, source_id=source.id, raw="x", reason="bad"))
        db.add(
            QuarantinedRecord(
                tenant_id=tenant.id,
                source_id=source.id,
                raw="y",
                reason="bad",
                status=QuarantineStatus.FIXED.value,
            )
        )
        db.add(
            WebhookInbox(
                tenant_id=tenant.id,
                kind="payment",
                provider="stripe",
                event_id="evt_1",
                body=b"{}",
                state=WebhookState.FAILED.value,
            )
        )


def test_finance_sees_the_last_weeks_payments_revenue_and_refunds(world):
    _payments_and_refunds(world)
    _failed_webhook_and_open_quarantine(world.a)

    board = dashboard.staff_dashboard(world.finance, world.a.slug)

    assert board.payments_last_7_days == 2  # succeeded, this week, this tenant
    assert board.revenue_last_7_days == [Money(15_050, "HKD")]
    assert board.refunds_last_7_days == 1
    assert board.failed_webhooks == 1
    assert board.open_quarantine is None  # finance does not fix quarantined orders
    assert board.staff_count is None
    assert board.visible == ["shipments", "payments", "webhooks"]


def test_revenue_is_reported_per_currency_never_summed_across_them(world):
    factories.make_payment(tenant=world.a, amount_minor=10_000)
    factories.make_payment(tenant=world.a, amount_minor=2_500, currency="CNY")
    factories.make_payment(tenant=world.a, amount_minor=500, currency="CNY")

    board = dashboard.staff_dashboard(world.finance, world.a.slug)

    assert board.payments_last_7_days == 3
    assert board.revenue_last_7_days == [Money(3_000, "CNY"), Money(10_000, "HKD")]


def test_an_agent_sees_shipments_and_quarantine_but_no_payment_figures(world):
    _payments_and_refunds(world)
    _failed_webhook_and_open_quarantine(world.a)
    factories.make_shipment(tenant=world.a, status=ShipmentStatus.IN_TRANSIT.value)
    factories.make_shipment(tenant=world.a, status=ShipmentStatus.IN_TRANSIT.value)
    factories.make_shipment(tenant=world.a, status=ShipmentStatus.EXCEPTION.value)
    factories.make_shipment(tenant=world.b, status=ShipmentStatus.DELIVERED.value)

    board = dashboard.staff_dashboard(world.agent, world.a.slug)

    assert board.shipments_by_status == {"in_transit": 2, "exception": 1}
    assert board.open_quarantine == 1
    assert board.payments_last_7_days is None
    assert board.revenue_last_7_days is None
    assert board.refunds_last_7_days is None
    assert board.failed_webhooks is None
    assert board.staff_count is None
    assert board.audit_events_today is None
    assert board.visible == ["shipments", "quarantine"]


def test_a_tenant_admin_sees_every_figure_including_staff_and_todays_audit(world):
    _payments_and_refunds(world)
    factories.make_audit_entry(tenant=world.a, actor=None, action="tenant.configure")
    factories.make_audit_entry(tenant=world.a, actor=None, action="refund.request")
    factories.make_audit_entry(tenant=world.b, actor=None, action="tenant.configure")

    board = dashboard.staff_dashboard(world.admin, world.a.slug)

    assert board.staff_count == 3  # agent, finance, and the admin (who holds two roles)
    assert board.audit_events_today == 2
    assert board.payments_last_7_days == 2
    assert board.open_quarantine == 0
    assert board.visible == ["shipments", "quarantine", "payments", "webhooks", "staff"]


# -- audit log --------------------------------------------------------------------------------


def test_the_audit_log_is_for_tenant_admins_only(world):
    with pytest.raises(PermissionDenied, match="view_audit"):
        audit.list_recent(world.agent, world.a.slug)
    with pytest.raises(PermissionDenied, match="view_audit"):
        audit.list_recent(world.finance, world.a.slug)


def test_a_tenant_admin_sees_the_tenants_actions_and_its_staffs_sign_ins_newest_first(world):
    agent_user = _user_of(world.agent)
    b_admin_user = _user_of(world.admin_b)
    factories.make_audit_entry(tenant=world.a, actor=agent_user, action="quarantine.fix")
    factories.make_audit_entry(tenant=None, actor=agent_user, action="auth.sign_in")
    factories.make_audit_entry(tenant=world.b, actor=b_admin_user, action="tenant.configure")
    factories.make_audit_entry(tenant=None, actor=b_admin_user, action="auth.sign_in")
    factories.make_audit_entry(tenant=world.a, actor=None, action="webhook.replay")

    rows = audit.list_recent(world.admin, world.a.slug)

    assert [(row.action, row.actor) for row in rows] == [
        ("webhook.replay", "system"),
        ("auth.sign_in", agent_user.email),
        ("quarantine.fix", agent_user.email),
    ]
    assert all(row.target.startswith("test:") for row in rows)
    assert [row.created_at for row in rows] == sorted((r.created_at for r in rows), reverse=True)


def test_the_audit_list_is_capped_by_its_limit(world):
    for n in range(5):
        factories.make_audit_entry(tenant=world.a, actor=None, action=f"action.{n}")
    rows = audit.list_recent(world.admin, world.a.slug, limit=3)
    assert [row.action for row in rows] == ["action.4", "action.3", "action.2"]


# -- keyset paging ----------------------------------------------------------------------------


def test_keyset_paging_returns_every_shipment_once_newest_first(world):
    start = utcnow()
    made = [
        # Three shipments share each timestamp, so ties straddle the page boundaries.
        factories.make_shipment(tenant=world.a, created_at=start - timedelta(minutes=n // 3))
        for n in range(60)
    ]
    factories.make_shipment(tenant=world.b, created_at=start)
    expected = [
        s.tracking_number for s in sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)
    ]

    pages, after = [], None
    while True:
        page = shipment_queries.list_shipments(world.agent, world.a.slug, after=after, limit=25)
        pages.append([row.tracking_number for row in page.rows])
        after = page.next_cursor
        if after is None:
            break
        assert len(pages) < 10, "paging does not end"

    assert [len(p) for p in pages] == [25, 25, 10]
    assert [number for p in pages for number in p] == expected


def test_a_page_exactly_filling_the_last_rows_has_no_next_cursor(world):
    for n in range(4):
        factories.make_shipment(tenant=world.a, created_at=utcnow() - timedelta(minutes=n))
    first = shipment_queries.list_shipments(world.agent, world.a.slug, limit=2)
    second = shipment_queries.list_shipments(
        world.agent, world.a.slug, limit=2, after=first.next_cursor
    )
    assert first.next_cursor is not None
    assert len(second.rows) == 2
    assert second.next_cursor is None


def test_the_status_filter_lists_only_that_status(world):
    delivered = {
        factories.make_shipment(tenant=world.a, status="delivered").tracking_number
        for _ in range(2)
    }
    factories.make_shipment(tenant=world.a, status="in_transit")

    page = shipment_queries.list_shipments(world.agent, world.a.slug, status="delivered")

    assert {row.tracking_number for row in page.rows} == delivered
    assert {row.status for row in page.rows} == {"delivered"}


@pytest.mark.parametrize("status", ["lost", "DELIVERED", "delivered; drop table shipment"])
def test_an_unknown_status_filter_is_refused(world, status):
    with pytest.raises(ValidationFailed) as refused:
        shipment_queries.list_shipments(world.agent, world.a.slug, status=status)
    assert refused.value.fields == {"status": "status_invalid"}


@pytest.mark.parametrize("cursor", ["garbage", "2026-01-01T00:00:00+00:00|not-a-uuid", "|"])
def test_a_tampered_cursor_is_refused(world, cursor):
    with pytest.raises(ValidationFailed) as refused:
        shipment_queries.list_shipments(world.agent, world.a.slug, after=cursor)
    assert refused.value.fields == {"cursor": "cursor_invalid"}


def test_page_size_is_kept_between_one_and_the_maximum(world):
    for _ in range(3):
        factories.make_shipment(tenant=world.a)
    assert len(shipment_queries.list_shipments(world.agent, world.a.slug, limit=0).rows) == 1
    assert len(shipment_queries.list_shipments(world.agent, world.a.slug, limit=-5).rows) == 1
    assert len(shipment_queries.list_shipments(world.agent, world.a.slug, limit=10_000).rows) == 3


def test_a_cursor_from_another_tenant_still_lists_only_this_tenants_rows(world):
    ours = factories.make_shipment(tenant=world.a, created_at=utcnow() - timedelta(hours=1))
    for n in range(3):
        factories.make_shipment(tenant=world.b, created_at=utcnow() - timedelta(minutes=n))
    b_page = shipment_queries.list_shipments(world.admin_b, world.b.slug, limit=1)
    assert b_page.next_cursor is not None

    a_page = shipment_queries.list_shipments(world.agent, world.a.slug, after=b_page.next_cursor)

    assert [row.tracking_number for row in a_page.rows] == [ours.tracking_number]


# -- helpers ----------------------------------------------------------------------------------


def _deactivate(tenant: Tenant) -> None:
    with session_scope() as db:
        row = db.get(Tenant, tenant.id)
        row.is_active = False
        db.add(row)


def _user_of(principal: Principal):
    from backend.models import UserAccount

    with session_scope() as db:
        return db.get(UserAccount, principal.user_id)
