"""Pay by card on our page with the provider's own fields (Stripe.js): card data never reaches us."""

from __future__ import annotations

import reflex as rx

from backend.domain.money import Money
from backend.services import checkout
from backend.services.errors import NotFound
from backend.services.orders import Viewer
from portal.components.layout import portal_shell
from portal.components.stripe_card import stripe_card
from portal.i18n import t
from portal.pages.ship.state import guest_tokens
from portal.state.portal import PortalState


class CardPaymentState(PortalState):
    found: bool = True
    reference: str = ""
    amount: str = ""
    # The intent's client secret is meant for this browser (Stripe's design); it is not card data.
    publishable_key: str = ""
    client_secret: str = ""
    js_url: str = ""
    return_url: str = ""

    @rx.event
    def load_card(self):
        reference = str(self.router.page.params.get("reference", ""))
        payment_id = self.router.url.query_parameters.get("payment", "")
        try:
            fields = checkout.card_fields(
                reference, payment_id, Viewer(self._principal(), guest_tokens(self.guest_orders))
            )
        except NotFound:
            self.found = False
            return
        self.found, self.reference = True, reference
        self.amount = Money(int(fields["amount_minor"]), fields["currency"]).format()
        self.publishable_key = fields.get("publishable_key", "")
        self.client_secret = fields.get("client_secret", "")
        self.js_url = fields.get("js_url", "")
        self.return_url = fields["return_url"]


def card_page() -> rx.Component:
    return portal_shell(
        rx.cond(
            CardPaymentState.found,
            rx.card(
                rx.vstack(
                    rx.heading(t("card_title"), size="6", as_="h1"),
                    rx.text(t("order_reference"), " ", rx.code(CardPaymentState.reference)),
                    rx.text(
                        CardPaymentState.amount, size="6", weight="bold", data_testid="card-amount"
                    ),
                    rx.text(t("card_intro"), size="2", color_scheme="gray"),
                    stripe_card(
                        publishable_key=CardPaymentState.publishable_key,
                        client_secret=CardPaymentState.client_secret,
                        js_url=CardPaymentState.js_url,
                        return_url=CardPaymentState.return_url,
                        locale=rx.cond(CardPaymentState.locale == "zh-HK", "zh-HK", "en"),
                        pay_label=t("pay_now"),
                    ),
                    rx.link(
                        t("choose_payment"), href="/orders/" + CardPaymentState.reference, size="2"
                    ),
                    spacing="3",
                    width="100%",
                ),
                max_width="32rem",
                margin_x="auto",
            ),
            rx.callout(t("order_not_found"), icon="circle_help", data_testid="order-not-found"),
        )
    )
