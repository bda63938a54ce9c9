"""Public tracking in the browser: one number, several, shared links, next steps, the second factor."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from backend.domain import tracking_number
from backend.services.demo_data import MEMBER_LOGIN, demo_tracking_numbers
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.pages import pay_on_provider_page, place_order, sign_in_member, wait_hydrated

# A new parcel is first polled 30 s after it is booked (the demo's 0.5 s unit), and the
# sandbox carrier moves it a step every 20 s: its first scan is on the page within a minute.
MOVES_WITHIN_MS = 120_000
NUMBERS = demo_tracking_numbers()
FAILED = NUMBERS["delivery_failed"]  # recipient Wong Tai Man, phone ending 5432
DELIVERED = NUMBERS["delivered"]
UNKNOWN = tracking_number.make("WB", 99_999_999)  # well-formed, nobody's parcel
MALFORMED = UNKNOWN[:-3] + str((int(UNKNOWN[-3]) + 1) % 10) + "HK"  # wrong check digit


def track(page: Page, text: str) -> None:
    page.goto("/track")
    wait_hydrated(page)
    page.fill("#numbers", text)
    page.get_by_test_id("track-submit").click()


def result(page: Page, number: str):
    return page.get_by_test_id("track-result").filter(has_text=number)


def test_one_number_shows_status_journey_and_carrier(page: Page):
    in_transit = NUMBERS["in_transit"]
    track(page, in_transit)
    card = result(page, in_transit)
    expect(card.get_by_test_id("status-badge")).to_have_text("In transit")
    expect(card.get_by_test_id("carrier")).to_have_text("Harbour Post (JSON API)")
    expect(card.get_by_test_id("timeline").locator("li")).to_have_count(3)
    expect(card.get_by_test_id("timeline")).to_contain_text("HKT")
    expect(card.get_by_test_id("eta")).to_have_text(re.compile(r"\d{4}-\d{2}-\d{2}"))


def test_several_numbers_tell_unknown_from_malformed(page: Page):
    track(page, f"{DELIVERED}, {UNKNOWN}\n{MALFORMED}")
    cards = page.get_by_test_id("track-result")
    expect(cards).to_have_count(3)
    expect(result(page, DELIVERED).get_by_test_id("status-badge")).to_have_text("Delivered")
    expect(result(page, UNKNOWN).get_by_test_id("result-unknown")).to_be_visible()
    expect(result(page, MALFORMED).get_by_test_id("result-malformed")).to_be_visible()


def test_the_home_page_box_tracks_numbers_and_the_address_can_be_shared(page: Page):
    page.goto("/")
    wait_hydrated(page)
    page.fill("#home-numbers", f"{DELIVERED} {UNKNOWN}")
    page.get_by_test_id("home-track-submit").click()
    expect(page).to_have_url(re.compile(r"/track\?numbers="))
    expect(page.get_by_test_id("track-result")).to_have_count(2)
    expect(result(page, DELIVERED).get_by_test_id("status-badge")).to_have_text("Delivered")
    expect(result(page, UNKNOWN).get_by_test_id("result-unknown")).to_be_visible()
    expect(page.locator("#numbers")).to_have_value(f"{DELIVERED} {UNKNOWN}")

    shared = page.url  # the same address in another browser shows the same parcels
    other = page.context.browser.new_page()
    try:
        other.goto(shared)
        expect(other.get_by_test_id("track-result")).to_have_count(2)
    finally:
        other.close()


def test_a_delivered_parcel_needs_nothing_from_the_customer(page: Page):
    page.goto(f"/track/{DELIVERED}")
    card = result(page, DELIVERED)
    expect(card.get_by_test_id("status-badge")).to_have_text("Delivered")
    expect(card.get_by_test_id("next-step")).to_have_count(0)
    expect(card.get_by_test_id("eta")).to_have_count(0)


def test_a_failed_delivery_says_why_and_what_to_do_next(page: Page):
    page.goto(f"/track/{FAILED}")
    card = result(page, FAILED)
    expect(card.get_by_test_id("status-badge")).to_have_text("Delivery attempt failed")
    expect(card.get_by_test_id("reason")).to_have_text(
        "Nobody was available to receive the parcel."
    )
    expect(card.get_by_test_id("next-step")).to_contain_text("Arrange another delivery")


def test_recipient_details_need_the_right_phone_digits(page: Page):
    page.goto(f"/track/{FAILED}")
    card = result(page, FAILED)
    expect(card).not_to_contain_text("Wong Tai Man")
    card.get_by_test_id("verify-input").fill("1111")
    card.get_by_test_id("verify-submit").click()
    expect(card.get_by_test_id("verify-error")).to_have_text(
        "That does not match this parcel's recipient."
    )
    expect(card).not_to_contain_text("Wong Tai Man")

    card.get_by_test_id("verify-input").fill("5432")
    card.get_by_test_id("verify-submit").click()
    expect(card.get_by_test_id("recipient-name")).to_contain_text("Wong Tai Man")
    expect(card.get_by_test_id("recipient-phone")).to_contain_text("+85298765432")
    expect(card.get_by_test_id("recipient-address")).to_contain_text("23 Nathan Road")


def test_a_shared_link_opened_after_a_search_shows_only_its_own_parcel(page: Page):
    # The tab keeps its state from page to page: the last search's cards, with a recipient
    # revealed, must not show on the next page while its own lookup is on its way.
    page.goto(f"/track/{FAILED}")
    card = result(page, FAILED)
    card.get_by_test_id("verify-input").fill("5432")
    card.get_by_test_id("verify-submit").click()
    expect(card.get_by_test_id("recipient-name")).to_contain_text("Wong Tai Man")
    track(page, f"{FAILED} {UNKNOWN} {MALFORMED}")
    expect(page.get_by_test_id("track-result")).to_have_count(3)

    page.goto(f"/track/{DELIVERED}")
    page.wait_for_selector("[data-testid=track-result]")
    # Read the moment the first card appears, before anything could replace it.
    shown = page.locator("[data-testid=track-result]").all_inner_texts()
    assert len(shown) == 1 and DELIVERED in shown[0], shown
    assert "Wong Tai Man" not in page.content()


def test_tracking_switches_language_statuses_and_next_steps_included(page: Page):
    page.goto(f"/track/{FAILED}")
    card = result(page, FAILED)
    expect(card.get_by_test_id("status-badge")).to_have_text("Delivery attempt failed")
    page.get_by_test_id("lang-zh-HK").click()
    expect(page.get_by_role("heading", name="追蹤您的包裹")).to_be_visible()
    expect(card.get_by_test_id("status-badge")).to_have_text("派送未成功")
    expect(card.get_by_test_id("next-step")).to_contain_text("安排再次派送")


def test_html_typed_into_the_search_box_is_shown_as_text(page: Page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    track(page, "<img/src=x/onerror=alert(1)> ';DROP/**/TABLE/**/shipment;--")
    expect(page.get_by_test_id("track-result").first).to_contain_text(
        "<IMG/SRC=X/ONERROR=ALERT(1)>"
    )
    # ";" separates numbers, so the SQL falls apart into pieces: every piece is malformed.
    expect(page.get_by_test_id("result-malformed")).to_have_count(4)
    expect(page.get_by_test_id("track-result")).to_have_count(4)
    assert dialogs == []
    assert page.locator("img[src=x]").count() == 0
    # The table is still there: a real number still answers.
    track(page, DELIVERED)
    expect(result(page, DELIVERED).get_by_test_id("status-badge")).to_have_text("Delivered")


def test_a_partner_carriers_own_number_is_accepted(page: Page):
    page.goto("/track/PR2026112201")
    card = result(page, "PR2026112201")
    expect(card.get_by_test_id("carrier")).to_have_text("Pearl River Logistics (XML API)")
    expect(card.get_by_test_id("timeline")).to_contain_text("CST")  # mainland clock


def test_tracking_fits_a_phone_screen(browser, base_url):
    context = browser.new_context(
        base_url=base_url, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"/track/{FAILED}")
    expect(result(page, FAILED).get_by_test_id("next-step")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_tracking_fits_a_phone_screen.png"), full_page=True)
    context.close()
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"


def test_members_see_their_shipments_and_filter_by_status(page: Page):
    sign_in_member(page, MEMBER_LOGIN.email, MEMBER_LOGIN.password)
    page.get_by_test_id("nav-my-shipments").click()
    table = page.get_by_test_id("my-shipments")
    expect(table).to_contain_text(DELIVERED)
    expect(table).to_contain_text("DG2000")  # the other tenant's parcels too
    page.get_by_test_id("status-filter").select_option("delivered")
    expect(table).not_to_contain_text(FAILED)
    # Demo parcels that move may have arrived by now too: every row left says delivered.
    badges = table.get_by_test_id("status-badge")
    expect(badges.first).to_be_visible()
    assert set(badges.all_inner_texts()) == {"Delivered"}
    expect(table).to_contain_text("DG2000")
    table.get_by_role("link", name=DELIVERED).click()
    expect(result(page, DELIVERED).get_by_test_id("status-badge")).to_have_text("Delivered")


def test_an_open_tracking_page_shows_the_parcel_moving_without_a_reload(page: Page):
    place_order(page, guest_email=f"watcher-{uuid.uuid4().hex[:8]}@example.com")
    pay_on_provider_page(page, "checkout")
    expect(page.get_by_test_id("order-status")).to_have_text("Paid", timeout=30_000)
    number = page.get_by_test_id("order-tracking-number").inner_text()

    page.goto(f"/track/{number}")
    card = result(page, number)
    expect(card.get_by_test_id("status-badge")).to_be_visible()
    steps = card.get_by_test_id("timeline").locator("li")
    before = steps.count()
    page.evaluate("window.__same_document = true")  # gone if the page were loaded again
    # The sandbox carrier scans it; the sync records it and pushes to this tab.
    expect(steps.nth(before)).to_be_attached(timeout=MOVES_WITHIN_MS)  # one step more, at least
    assert page.evaluate("window.__same_document === true")
