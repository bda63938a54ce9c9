"""State of one order's page: pay it while it awaits payment, then its receipt, updated live.

Access is checked on load (the member who owns it, or the guest browser holding its
token); only then is the order's id kept, in a private var, so that pushes from the
worker (after a webhook) can refresh the page without asking the browser again.
"""

from __future__ import annotations

from uuid import UUID

import reflex as rx

from backend.domain.money import Money
from backend.domain.statuses import OrderStatus
from backend.services import checkout, live_updates, orders, payment_accounts
from backend.services.checkout import CheckoutUnavailable
from backend.services.errors import NotFound
from portal.i18n import translate
from portal.pages.ship.state import guest_tokens
from portal.state.portal import PortalState, navigate_to


def _money(amount_minor: int, currency: str) -> str:
    return Money(amount_minor, currency).format()


def _address_text(a: dict) -> str:
    place = " ".join(
        x for x in (a.get("district", ""), a.get("city", ""), a.get("postcode", "")) if x
    )
    return ", ".join(x for x in (a.get("line1", ""), a.get("line2", ""), place) if x)


class OrderState(PortalState):
    found: bool = True
    reference: str = ""
    status: str = ""
    total: str = ""
    quote_lines: list[dict[str, str]] = []
    sender: dict[str, str] = {}
    recipient: dict[str, str] = {}
    parcels: list[str] = []
    service_level: str = ""
    tracking_number: str = ""
    paid_at: str = ""
    payments: list[dict[str, str]] = []
    providers: list[dict[str, str]] = []
    notice: str = ""  # cancelled | failed | ""
    error: str = ""
    paying: str = ""
    _order_id: str = ""

    def _viewer(self) -> orders.Viewer:
        return orders.Viewer(self._principal(), guest_tokens(self.guest_orders))

    def _show(self, view: orders.OrderView) -> None:
        self.found = True
        self._order_id = str(view.id)
        self.reference, self.status = view.reference, view.status
        self.total = _money(view.total_minor, view.currency)
        self.quote_lines = [
            {"code": line["code"], "amount": _money(line["amount_minor"], view.currency)}
            for line in view.quote.get("lines", [])
        ]
        d = view.details
        self.sender = {
            "name": d["sender"]["name"],
            "address": _address_text(d["sender"]),
            "phone": d["sender"]["phone"],
        }
        self.recipient = {
            "name": d["recipient"]["name"],
            "address": _address_text(d["recipient"]),
            "phone": d["recipient"]["phone"],
        }
        self.parcels = [
            f"{p['weight_grams'] / 1000:g} kg · {p['length_mm'] / 10:g}×{p['width_mm'] / 10:g}×{p['height_mm'] / 10:g} cm"
            + (f" · {p['contents']}" if p.get("contents") else "")
            for p in d.get("parcels", [])
        ]
        self.service_level = view.service_level
        self.tracking_number = view.tracking_number
        self.paid_at = view.paid_at.strftime("%Y-%m-%d %H:%M UTC") if view.paid_at else ""
        self.payments = [
            {
                "provider": p.provider_name,
                "status": p.status,
                "amount": _money(p.amount_minor, p.currency),
                "refunded": _money(p.refunded_minor, p.currency) if p.refunded_minor else "",
            }
            for p in view.payments
        ]
        latest = view.payments[-1].status if view.payments else ""
        if view.status == OrderStatus.AWAITING_PAYMENT.value and latest == "failed":
            self.notice = "failed"
        if view.status == OrderStatus.AWAITING_PAYMENT.value:
            self.providers = [
                {"slug": c.provider, "name": c.display_name, "methods": ",".join(c.methods)}
                for c in payment_accounts.enabled_providers(view.tenant_id)
            ]
        else:
            self.providers, self.notice = [], ""

    @rx.event
    def load_order(self):
        reference = self.router.page.params.get("reference", "")
        self.error, self.paying = "", ""
        self.notice = "cancelled" if self.router.url.query_parameters.get("cancelled") else ""
        try:
            view = orders.order_view(str(reference), self._viewer())
        except NotFound:
            self.found, self._order_id = False, ""
            return
        self._show(view)
        if view.tenant_slug != self.tenant_slug:
            self._apply_brand(view.tenant_slug)  # the order's brand, whatever tenant was picked
        live_updates.watch(f"order:{view.id}", self.router.session.client_token)

    def _reload(self) -> None:
        """Called on a push from a worker: the order was already shown to this tab."""
        if self._order_id:
            self._show(orders.order_view_by_id(UUID(self._order_id)))

    @rx.event
    def refresh(self, _value: str = ""):
        if self._order_id and self.status == OrderStatus.AWAITING_PAYMENT.value:
            self._reload()

    @rx.event
    def pay(self, provider: str):
        if self.paying:
            return
        if provider not in {p["slug"] for p in self.providers}:
            return
        self.paying, self.error = provider, ""
        yield
        try:
            start = checkout.start_checkout(
                self.reference, provider, self._viewer(), self.locale or "en", self._client_ip()
            )
        except CheckoutUnavailable as refused:
            self.paying, self.error = "", translate(refused.code, self.locale)
            return
        except NotFound:
            self.paying, self.error = "", translate("provider_refused", self.locale)
            return
        yield navigate_to(start.redirect_url)
