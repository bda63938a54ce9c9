"""Ordering and paying in Chromium: a guest and a member pay with each of the six providers
through their sandboxes, the order turns paid when the webhook lands, and finance refunds part."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.services.demo_data import STAFF_LOGINS
from tests.e2e.pages import (
    HONG_KONG_ORDER,
    ONE_PARCEL,
    fill_order,
    pay_on_provider_page,
    place_order,
    sign_in_staff,
    sign_up_member,
    wait_hydrated,
)

PROVIDERS = ["stripe", "adyen", "checkout", "paypal", "wechatpay", "alipay"]
FINANCE = next(login for login in STAFF_LOGINS if login.email.startswith("finance@"))
PAID_WITHIN_MS = 30_000  # webhook, worker and the push to this page; far less in practice


def expect_paid(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"/orders/[A-Z]{2}-[0-9A-Z]{8}"), timeout=PAID_WITHIN_MS)
    expect(page.get_by_test_id("order-status")).to_have_text("Paid", timeout=PAID_WITHIN_MS)
    number = page.get_by_test_id("order-tracking-number").inner_text()
    assert re.fullmatch(r"WB[0-9]{9}HK", number)
    return number


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_guest_orders_and_pays(page: Page, provider: str):
    place_order(page, guest_email=f"guest-{provider}@example.com")
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    pay_on_provider_page(page, provider)
    number = expect_paid(page)
    expect(page.get_by_test_id("payment-status")).to_have_text("Paid")
    # The parcel it became can be tracked by anyone with the number.
    page.goto(f"/track/{number}")
    expect(page.get_by_test_id("track-result")).to_contain_text(number)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_member_orders_and_pays_and_sees_it_in_my_orders(page: Page, provider: str):
    # A member of its own: the demo member's shipments are what the tracking tests expect.
    sign_up_member(
        page,
        f"shopper-{provider}-{uuid.uuid4().hex[:6]}@example.com",
        "Lee Ka Yan",
        "harbour-lights-42",
    )
    place_order(page)
    reference = page.get_by_test_id("order-reference").inner_text()
    pay_on_provider_page(page, provider)
    expect_paid(page)
    page.get_by_test_id("nav-my-orders").click()
    expect(page.get_by_test_id("my-orders")).to_contain_text(reference)


def test_the_order_page_of_a_guest_is_not_for_another_browser(page: Page, browser):
    url = place_order(page, guest_email="private@example.com")
    stranger = browser.new_context(base_url=page.url.split("/orders")[0])
    try:
        other = stranger.new_page()
        other.goto(url)
        expect(other.get_by_test_id("order-not-found")).to_be_visible()
        expect(other.get_by_text("Wong Tai Man")).to_have_count(0)
    finally:
        stranger.close()


def test_a_declined_payment_says_so_and_another_provider_can_be_tried(page: Page):
    place_order(page, guest_email="declined@example.com")
    pay_on_provider_page(page, "checkout", action="decline")
    expect(page.get_by_test_id("notice")).to_contain_text("declined", timeout=PAID_WITHIN_MS)
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    pay_on_provider_page(page, "adyen")
    expect_paid(page)


def test_leaving_the_provider_page_charges_nothing(page: Page):
    place_order(page, guest_email="cancel@example.com")
    pay_on_provider_page(page, "paypal", action="cancel")
    expect(page.get_by_test_id("notice")).to_contain_text("Nothing was charged")
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")


def test_form_mistakes_are_shown_next_to_their_fields_and_nothing_is_ordered(page: Page):
    page.goto("/ship?tenant=harbour-express")
    wait_hydrated(page)
    fill_order(
        page,
        {**HONG_KONG_ORDER, "recipient_phone": "12345", "sender_name": ""},
        {**ONE_PARCEL, "weight_kg": "heavy"},
    )
    expect(page.locator("#recipient_phone-error")).to_contain_text("8-digit Hong Kong number")
    expect(page.locator("#sender_name-error")).to_contain_text("fill this in")
    expect(page.locator("#parcel_0_weight_kg-error")).to_contain_text("weight in kg")
    expect(page.locator("#guest_email-error")).not_to_be_empty()
    expect(page).to_have_url(re.compile(r"/ship/?(\?|$)"))  # still the form: nothing placed


def test_a_cross_border_order_needs_customs_details_and_is_priced_for_the_greater_bay(page: Page):
    page.goto("/ship?tenant=dragon-gate")
    wait_hydrated(page)
    page.select_option("#recipient_country", "CN")
    expect(page.locator("#recipient_postcode")).to_be_visible()
    fields = {
        **HONG_KONG_ORDER,
        "recipient_phone": "138 0013 8000",
        "recipient_city": "Guangzhou",
        "recipient_postcode": "510000",
        "recipient_line1": "88 Tianhe Road",
    }
    fill_order(page, fields, ONE_PARCEL, "border@example.com")
    # Dragon Gate speaks Traditional Chinese first.
    expect(page.locator("#parcel_0_contents-error")).to_have_text("報關須列明內容物。")
    expect(page.locator("#parcel_0_declared_value-error")).to_have_text("報關須填寫申報價值。")
    page.fill("#parcel_0_contents", "Books")
    page.fill("#parcel_0_declared_value", "300")
    page.click("[data-testid=review-order]")
    # 1.5 kg to the Greater Bay, standard: HKD 85.00 and 12 % fuel (10.20).
    expect(page.get_by_test_id("quote-total")).to_have_text("HKD 95.20")
    page.click("[data-testid=confirm-order]")
    pay_on_provider_page(page, "alipay")
    expect(page.get_by_test_id("order-status")).to_have_text("已付款", timeout=PAID_WITHIN_MS)
    expect(page.get_by_test_id("order-tracking-number")).to_have_text(re.compile(r"DG[0-9]{9}HK"))


def test_finance_refunds_part_of_a_payment(page: Page, browser):
    place_order(page, guest_email="refund-me@example.com")
    reference = page.get_by_test_id("order-reference").inner_text()
    pay_on_provider_page(page, "checkout")
    expect_paid(page)

    staff = browser.new_context(base_url=page.url.split("/orders")[0])
    try:
        desk = staff.new_page()
        sign_in_staff(desk, FINANCE.email, FINANCE.password)
        desk.get_by_test_id("nav-payments").click()
        row = desk.get_by_test_id("payments-table").locator("tr", has_text=reference)
        row.get_by_test_id("open-payment").click()
        expect(desk.get_by_test_id("staff-payment-status")).to_have_text("Paid")
        desk.fill("#refund_amount", "10.00")
        desk.fill("#refund_reason", "Box arrived dented")
        desk.click("[data-testid=refund-submit]")
        expect(desk.get_by_test_id("notice")).to_contain_text("HKD 10.00")
        for _ in range(
            30
        ):  # the provider confirms by webhook; staff press reload like a person would
            if desk.get_by_test_id("refund-status").first.inner_text() == "Refunded":
                break
            desk.wait_for_timeout(1000)
            desk.reload()
            wait_hydrated(desk)
        expect(desk.get_by_test_id("refund-status").first).to_have_text("Refunded")
        expect(desk.get_by_test_id("staff-refunded")).to_have_text("HKD 10.00")
        # Over what is left is refused next to the field.
        desk.fill("#refund_amount", "1000")
        desk.click("[data-testid=refund-submit]")
        expect(desk.locator("#refund_amount-error")).to_contain_text("more than is left")
    finally:
        staff.close()
    page.reload()
    expect(page.get_by_test_id("order-status")).to_have_text("Partly refunded")
