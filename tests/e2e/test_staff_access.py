"""Staff sign in and see only what their role allows; members and strangers stay out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from backend.services.demo_data import MEMBER_LOGIN, STAFF_LOGINS
from tests.e2e.pages import sign_in, sign_in_staff, text_contrast, wait_hydrated

LOGIN = {login.email.split("@")[0]: login for login in STAFF_LOGINS}


def test_agent_sees_shipments_but_no_money_and_no_audit(page: Page):
    agent = LOGIN["agent"]
    sign_in_staff(page, agent.email, agent.password)
    expect(page.get_by_test_id("staff-identity")).to_contain_text("Agent")
    expect(page.get_by_test_id("card-shipments")).to_be_visible()
    expect(page.get_by_test_id("card-quarantine")).to_be_visible()
    expect(page.get_by_test_id("card-payments")).to_have_count(0)
    expect(page.get_by_test_id("card-staff")).to_have_count(0)
    expect(page.get_by_test_id("nav-shipments")).to_be_visible()
    expect(page.get_by_test_id("nav-audit")).to_have_count(0)

    page.get_by_test_id("nav-shipments").click()
    expect(page.get_by_test_id("shipments-table")).to_contain_text("WB100000105HK")

    # Typing the address of an admin page does not help: the service refuses.
    page.goto("/staff/audit")
    wait_hydrated(page)
    expect(page.get_by_test_id("not-allowed")).to_be_visible()
    expect(page.get_by_test_id("audit-table")).to_have_count(0)


def test_finance_sees_payments_and_webhooks(page: Page):
    finance = LOGIN["finance"]
    sign_in_staff(page, finance.email, finance.password)
    expect(page.get_by_test_id("card-payments")).to_be_visible()
    expect(page.get_by_test_id("card-webhooks")).to_be_visible()
    expect(page.get_by_test_id("card-quarantine")).to_have_count(0)
    expect(page.get_by_test_id("nav-audit")).to_have_count(0)


def test_tenant_admin_sees_the_audit_log_of_each_tenant(page: Page):
    admin = LOGIN["admin"]
    sign_in_staff(page, admin.email, admin.password)
    expect(page.get_by_test_id("card-staff")).to_be_visible()
    page.get_by_test_id("nav-audit").click()
    expect(page.get_by_test_id("audit-table")).to_contain_text("auth.sign_in")

    page.get_by_test_id("tenant-switch").select_option("dragon-gate")
    expect(page.get_by_test_id("tenant-switch")).to_have_value("dragon-gate")
    page.get_by_test_id("nav-shipments").click()
    expect(page.get_by_test_id("shipments-table")).to_contain_text("DG")
    expect(page.get_by_test_id("shipments-table")).not_to_contain_text("WB1000")


def test_member_cannot_sign_in_to_the_staff_portal(page: Page):
    sign_in(page, "/staff/signin", MEMBER_LOGIN.email, MEMBER_LOGIN.password)
    expect(page.get_by_test_id("form-error")).to_contain_text("no staff access")
    expect(page.get_by_test_id("staff-identity")).to_have_count(0)


def test_strangers_are_sent_to_the_staff_sign_in(page: Page):
    page.goto("/staff/shipments")
    expect(page).to_have_url(re.compile(r".*/staff/signin$"))
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()


def test_staff_sign_out_ends_the_session(page: Page):
    agent = LOGIN["agent"]
    sign_in_staff(page, agent.email, agent.password)
    assert text_contrast(page.get_by_test_id("sign-out")) >= 4.5  # WCAG AA on the dark bar
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("signed-out")).to_be_visible()
    page.goto("/staff")
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()
