"""State of the shipping order form and its review: values, parcels, field errors and the quote.

Everything typed stays in this tab's state until the order is placed (public vars,
but they are the customer's own words in their own browser). The price shown is
computed by the service each time; the order is priced again when it is placed.
"""

from __future__ import annotations

import reflex as rx

from backend.domain.money import Money
from backend.domain.order_form import MAX_PARCELS
from backend.services import orders
from backend.services.errors import NotFound, ValidationFailed
from portal import routes
from portal.i18n import translate
from portal.state.portal import PortalState

ADDRESS_FIELDS = ("name", "phone", "line1", "line2", "district", "city", "postcode", "country")
PARCEL_FIELDS = ("weight_kg", "length_cm", "width_cm", "height_cm", "contents", "declared_value")
OTHER_FIELDS = ("service_level", "guest_email", "insured", "save_addresses")
FORM_FIELDS = (
    *[f"sender_{f}" for f in ADDRESS_FIELDS],
    *[f"recipient_{f}" for f in ADDRESS_FIELDS],
    *OTHER_FIELDS,
)
_MAX_CHARS = 500  # anything longer is cut before validation, which then refuses it as too long
_GUEST_COOKIE_MAX = 20  # orders remembered per browser


def blank_parcel() -> dict[str, str]:
    return dict.fromkeys(PARCEL_FIELDS, "")


def remember_guest_order(cookie: str, reference: str, token: str) -> str:
    """The guest cookie with this order added (newest first, bounded)."""
    kept = [item for item in cookie.split(",") if item and not item.startswith(reference + ":")]
    return ",".join([f"{reference}:{token}", *kept][:_GUEST_COOKIE_MAX])


def guest_tokens(cookie: str) -> tuple[str, ...]:
    return tuple(item.split(":", 1)[1] for item in cookie.split(",") if ":" in item)


class ShipState(PortalState):
    values: dict[str, str] = {
        "sender_country": "HK",
        "recipient_country": "HK",
        "service_level": "standard",
    }
    parcels: list[dict[str, str]] = [blank_parcel()]
    errors: dict[str, str] = {}
    form_error: str = ""
    quote_lines: list[dict[str, str]] = []
    quote_total: str = ""
    transit_days: int = -1
    address_book: list[dict[str, str]] = []
    # Bumped to re-mount a section's inputs with new default values (inputs are uncontrolled:
    # no round trip per keystroke).
    sender_version: int = 0
    recipient_version: int = 0
    parcels_version: int = 0
    placing: bool = False

    @rx.var
    def cross_border(self) -> bool:
        return self.values.get("sender_country", "HK") != self.values.get("recipient_country", "HK")

    @rx.var
    def parcel_count(self) -> int:
        return len(self.parcels)

    @rx.event
    def load_form(self):
        self.address_book = orders.saved_addresses(self._principal())

    def _read(self, form: dict) -> None:
        self.values = {name: str(form.get(name, ""))[:_MAX_CHARS] for name in FORM_FIELDS}
        self.parcels = [
            {f: str(form.get(f"parcel_{i}_{f}", ""))[:_MAX_CHARS] for f in PARCEL_FIELDS}
            for i in range(min(len(self.parcels), MAX_PARCELS))
        ]

    def _show_errors(self, fields: dict[str, str]) -> None:
        self.errors = {name: translate(code, self.locale) for name, code in fields.items()}

    @rx.event
    def add_parcel(self, form: dict | None = None):
        if len(self.parcels) < MAX_PARCELS:
            self.parcels = [*self.parcels, blank_parcel()]

    @rx.event
    def set_parcel_field(self, index: int, name: str, value: str):
        """Kept on blur, so that removing a parcel re-draws the others with what was typed."""
        if 0 <= index < len(self.parcels) and name in PARCEL_FIELDS:
            parcels = [dict(p) for p in self.parcels]
            parcels[index][name] = str(value)[:_MAX_CHARS]
            self.parcels = parcels

    @rx.event
    def remove_parcel(self, index: int):
        if len(self.parcels) > 1 and 0 <= index < len(self.parcels):
            self.parcels = [p for i, p in enumerate(self.parcels) if i != index]
            self.parcels_version += 1

    @rx.event
    def set_country(self, side: str, country: str):
        if side in ("sender", "recipient") and country in ("HK", "MO", "CN"):
            self.values = {**self.values, f"{side}_country": country}

    @rx.event
    def fill_address(self, side: str, address_id: str):
        """Put an address-book entry into the sender or recipient fields."""
        if side not in ("sender", "recipient"):
            return
        entry = next((a for a in self.address_book if a["id"] == address_id), None)
        if entry is None:
            return
        self.values = {**self.values, **{f"{side}_{f}": entry.get(f, "") for f in ADDRESS_FIELDS}}
        if side == "sender":
            self.sender_version += 1
        else:
            self.recipient_version += 1

    @rx.event
    def review(self, form: dict):
        """Check and price the form; on success go to the review page."""
        self._read(form)
        self.form_error = ""
        principal = self._principal()
        try:
            priced = orders.price(
                self.tenant_slug,
                self.values,
                self.parcels,
                guest=not (principal and principal.member_id),
            )
        except ValidationFailed as failure:
            self._show_errors(failure.fields)
            self.quote_lines, self.quote_total = [], ""
            return rx.scroll_to(next(iter(failure.fields)) if failure.fields else "main")
        except NotFound:
            self.form_error = translate("destination_not_served", self.locale)
            return
        self.errors = {}
        quote = priced.quote
        self.quote_lines = [
            {"code": line.code, "amount": Money(line.amount_minor, quote.currency).format()}
            for line in quote.lines
        ]
        self.quote_total = Money(quote.total_minor, quote.currency).format()
        self.transit_days = quote.transit_days
        return rx.redirect(routes.SHIP_REVIEW)

    @rx.event
    def load_review(self):
        if not self.quote_total:
            return rx.redirect(routes.SHIP)

    @rx.event
    def edit(self):
        return rx.redirect(routes.SHIP)

    @rx.event
    def place(self):
        """Create the order (priced again on the server) and go to its payment page."""
        if self.placing:
            return
        self.placing = True
        yield
        principal = self._principal()
        try:
            placed = orders.place(
                self.tenant_slug,
                self.values,
                self.parcels,
                principal,
                save_addresses=self.values.get("save_addresses") in ("on", "true", "1"),
            )
        except ValidationFailed as failure:
            # The rate card changed, or the session ended: back to the form with the reason.
            self._show_errors(failure.fields)
            self.placing = False
            yield rx.redirect(routes.SHIP)
            return
        if placed.guest_token:
            self.guest_orders = remember_guest_order(
                self.guest_orders, placed.reference, placed.guest_token
            )
        self.placing = False
        self.quote_total, self.quote_lines = "", []
        self.values = {
            "sender_country": "HK",
            "recipient_country": "HK",
            "service_level": "standard",
        }
        self.parcels = [blank_parcel()]
        yield rx.redirect(f"/orders/{placed.reference}")
