"""Every registered page builds its component tree (a bad prop fails here, not at `make run`)."""

from __future__ import annotations

import pytest

import portal.app as portal_app

PAGES = sorted(portal_app.app._unevaluated_pages.items())


@pytest.mark.parametrize(("route", "page"), PAGES, ids=[route for route, _ in PAGES])
def test_page_builds(route, page):
    component = page.component() if callable(page.component) else page.component
    rendered = component.render()
    assert rendered, f"{route} rendered nothing"


def test_every_portal_and_staff_route_is_registered():
    routes = {route for route, _ in PAGES}
    assert {
        "index",
        "signin",
        "signup",
        "track",
        "track/[number]",
        "shipments",
        "staff",
        "staff/signin",
        "staff/shipments",
        "staff/audit",
        "staff/carriers",
        "ship",
        "ship/review",
        "orders",
        "orders/[reference]",
        "checkout/card/[reference]",
        "staff/payments",
        "staff/payments/[payment_id]",
        "staff/webhooks",
    } <= routes
