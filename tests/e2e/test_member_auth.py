"""A member signs up, signs out and signs in again; bad input gets a clear message."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from backend.services.demo_data import MEMBER_LOGIN
from tests.e2e.pages import (
    sign_in,
    sign_in_member,
    sign_up_member,
    text_contrast,
    wait_hydrated,
)


def test_member_signs_up_signs_out_and_signs_in_again(page: Page):
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_member(page, email, "Chan Siu Ming", "harbour-lights-42")
    expect(page.get_by_test_id("welcome")).to_contain_text("Chan Siu Ming")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session_cookie = cookies["wb_portal_session"]
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Lax"

    assert text_contrast(page.get_by_test_id("sign-out")) >= 4.5  # WCAG AA on the brand bar
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("signed-out")).to_be_visible()
    assert "wb_portal_session" not in {c["name"] for c in page.context.cookies()}

    sign_in_member(page, email, "harbour-lights-42")
    expect(page.get_by_test_id("welcome")).to_contain_text("Chan Siu Ming")


def test_signed_in_member_sees_points_and_shipments(page: Page):
    sign_in_member(page, MEMBER_LOGIN.email, MEMBER_LOGIN.password)
    balances = page.get_by_test_id("points-balance")
    expect(balances.first).to_contain_text("1,250")
    expect(page.get_by_text("WB100000105HK")).to_be_visible()


def test_wrong_password_shows_a_clear_message(page: Page):
    sign_in(page, "/signin", MEMBER_LOGIN.email, "not-the-password")
    expect(page.get_by_test_id("form-error")).to_contain_text(
        "That email and password do not match an account."
    )
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def test_sign_up_errors_appear_next_to_each_field(page: Page):
    page.goto("/signup")
    wait_hydrated(page)
    page.fill("#email", "not-an-email")
    page.fill("#display_name", "N" * 200)
    page.fill("#phone", "12")
    page.fill("#password", "short")
    page.fill("#password_confirm", "different")
    page.click("[data-testid=submit]")

    expect(page.locator("#email-error")).to_contain_text("does not look like an email")
    expect(page.locator("#display_name-error")).to_contain_text("at most 80 characters")
    expect(page.locator("#phone-error")).to_contain_text("mobile number")
    expect(page.locator("#password-error")).to_contain_text("at least 10 characters")
    expect(page.locator("#display_name")).to_have_attribute("aria-invalid", "true")
    # Nothing was created: the page still offers to sign in.
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)


def test_sign_up_with_an_existing_email_says_so(page: Page):
    page.goto("/signup")
    wait_hydrated(page)
    page.fill("#email", MEMBER_LOGIN.email.upper())
    page.fill("#display_name", "Someone Else")
    page.fill("#password", "another-password-9")
    page.fill("#password_confirm", "another-password-9")
    page.click("[data-testid=submit]")
    expect(page.locator("#email-error")).to_contain_text("already exists")


def test_language_switch_translates_the_page_and_is_remembered(page: Page):
    page.goto("/signin")
    wait_hydrated(page)
    expect(page.get_by_role("heading", name="Sign in to your account")).to_be_visible()
    page.get_by_test_id("lang-zh-HK").click()
    expect(page.get_by_role("heading", name="登入您的帳戶")).to_be_visible()
    expect(page.locator("label[for=email]")).to_have_text("電郵")

    page.goto("/signup")
    wait_hydrated(page)
    expect(page.get_by_role("heading", name="建立您的帳戶")).to_be_visible()
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()


def test_tenant_branding_follows_the_chosen_business_line(page: Page):
    page.goto("/?tenant=dragon-gate")
    wait_hydrated(page)
    # Dragon Gate's default language is Traditional Chinese for a first visit.
    expect(page.get_by_test_id("brand-name")).to_have_text("龍門跨境")
    header = page.locator("header").first
    expect(header).to_have_css("background-color", re.compile(r"rgb\(166, 28, 0\)"))


def test_repeated_wrong_passwords_are_throttled_with_a_clear_message(page: Page):
    email = f"target-{uuid.uuid4().hex[:8]}@example.com"  # its own account: no other test waits
    for _ in range(5):
        sign_in(page, "/signin", email, "guessing-wrong-1")
    expect(page.get_by_test_id("form-error")).to_contain_text(
        re.compile(r"Too many attempts\. Try again in \d+ seconds\.")
    )
