"""Small page helpers so tests read as what a person does."""

from __future__ import annotations

from playwright.sync_api import Page, expect


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


def sign_in_staff(page: Page, email: str, password: str) -> None:
    sign_in(page, "/staff/signin", email, password)
    expect(page.get_by_test_id("staff-identity")).to_be_visible()
