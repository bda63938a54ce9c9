"""Small page helpers so tests read as what a person does."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


def wait_hydrated(page: Page) -> None:
    """Reflex pages render before their WebSocket connects; events need the connection."""
    page.wait_for_load_state("networkidle")


def sign_in(page: Page, path: str, email: str, password: str) -> None:
    page.goto(path)
    wait_hydrated(page)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("[data-testid=submit]")


def sign_in_member(page: Page, email: str, password: str) -> None:
    sign_in(page, "/signin", email, password)
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()


def sign_up_member(page: Page, email: str, display_name: str, password: str) -> None:
    """Open an account at /signup; the new member is signed in afterwards."""
    page.goto("/signup")
    wait_hydrated(page)
    page.fill("#email", email)
    page.fill("#display_name", display_name)
    page.fill("#phone", "9876 5432")
    page.fill("#password", password)
    page.fill("#password_confirm", password)
    page.click("[data-testid=submit]")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text(display_name)


def sign_in_staff(page: Page, email: str, password: str) -> None:
    sign_in(page, "/staff/signin", email, password)
    expect(page.get_by_test_id("staff-identity")).to_be_visible()


HONG_KONG_ORDER = {
    "sender_name": "Mei Chan",
    "sender_phone": "9123 4567",
    "sender_line1": "12/F, 88 Container Port Road",
    "sender_city": "Kwai Chung",
    "recipient_name": "Wong Tai Man",
    "recipient_phone": "9876 5432",
    "recipient_line1": "Flat B, 5/F, 23 Nathan Road",
    "recipient_city": "Mong Kok",
}
ONE_PARCEL = {"weight_kg": "1.5", "length_cm": "30", "width_cm": "20", "height_cm": "10"}


def fill_order(
    page: Page, fields: dict[str, str], parcel: dict[str, str], guest_email: str = ""
) -> None:
    """Fill the order form at /ship (the page must be open), then go to the review."""
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    for name, value in parcel.items():
        page.fill(f"#parcel_0_{name}", value)
    if guest_email:
        page.fill("#guest_email", guest_email)
    page.click("[data-testid=review-order]")


def place_order(page: Page, tenant: str = "harbour-express", guest_email: str = "") -> str:
    """Order one parcel across Hong Kong; returns the order page's URL once it offers payment."""
    page.goto(f"/ship?tenant={tenant}")
    wait_hydrated(page)
    fill_order(page, HONG_KONG_ORDER, ONE_PARCEL, guest_email)
    expect(page.get_by_test_id("quote-total")).to_be_visible()
    page.click("[data-testid=confirm-order]")
    expect(page.get_by_test_id("providers")).to_be_visible()
    return page.url


def pay_on_provider_page(page: Page, provider: str, action: str = "pay") -> None:
    """Click the provider's button on our order page, then act on the provider's own page."""
    page.click(f"[data-testid=pay-{provider}]")
    if provider == "stripe":  # Stripe.js fields on our card page
        field = page.locator("#wb-stripe-card-field")
        number = "4242424242424242" if action == "pay" else "4000000000000002"
        field.locator("input[placeholder=number]").fill(number)
        field.locator("input[placeholder=exp_month]").fill("12")
        field.locator("input[placeholder=exp_year]").fill("30")
        field.locator("input[placeholder=cvc]").fill("123")
        field.locator("input[placeholder=postal_code]").fill("00000")
        page.click("#wb-stripe-card-pay")
        return
    page.locator(f"[data-testid=psp-{action}]").click()


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_contrast(locator: Locator) -> float:
    """WCAG contrast ratio of an element's text against its own (opaque) background."""
    colours = locator.evaluate(
        "el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }"
    )
    text, background = (tuple(float(v) for v in re.findall(r"[\d.]+", c)[:3]) for c in colours)
    lighter, darker = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
