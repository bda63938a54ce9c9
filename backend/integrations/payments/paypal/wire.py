"""PayPal's JSON, built and read without I/O: amounts, the order we create, orders and refunds we get back."""

from __future__ import annotations

import re
from typing import Any

from backend.domain.money import MINOR_UNIT_EXPONENT
from backend.domain.statuses import PaymentStatus
from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderPayment,
    ProviderRejected,
    RefundResult,
)
from backend.integrations.payments.paypal import codes

MAX_CUSTOM_ID = 127  # custom_id and invoice_id; reference_id allows 256
MAX_DESCRIPTION = 127
MAX_REQUEST_ID = 108  # PayPal-Request-Id
_ID = re.compile(r"[A-Z0-9]{1,36}")  # order, capture and refund ids: upper-case letters and digits
_VALUE = re.compile(r"([0-9]{1,20})(?:\.([0-9]{1,10}))?")
_CURRENCY = re.compile(r"[A-Z]{3}")
LOCALES = {"en": "en-US", "zh-HK": "zh-HK"}


# --- amounts: integer minor units <-> PayPal's decimal strings, exactly ----------------


def _exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENT.get(currency, 2)


def _paypal_decimals(currency: str) -> int:
    return 0 if currency in codes.NO_DECIMALS else 2


def to_value(amount_minor: int, currency: str) -> str:
    """1234, "HKD" -> "12.34"; 500, "JPY" -> "500". ValueError when PayPal cannot express it."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise ValueError("amounts are positive whole minor units")
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"not a currency code: {currency!r}")
    exponent, decimals = _exponent(currency), _paypal_decimals(currency)
    whole, fraction = divmod(amount_minor, 10**exponent)
    if decimals < exponent:
        fraction, dropped = divmod(fraction, 10 ** (exponent - decimals))
        if dropped:
            raise ValueError(f"PayPal takes no fraction of {currency} below {decimals} decimals")
    else:
        fraction *= 10 ** (decimals - exponent)
    return f"{whole}.{fraction:0{decimals}d}" if decimals else str(whole)


def to_minor(value: Any, currency: Any) -> int:
    """ "12.34", "HKD" -> 1234. ValueError for anything that is not an exact amount in minor units."""
    if not isinstance(value, str) or not isinstance(currency, str):
        raise ValueError("amount value and currency must be strings")
    match = _VALUE.fullmatch(value)
    if match is None or not _CURRENCY.fullmatch(currency):
        raise ValueError(f"not an amount: {value!r} {currency!r}")
    exponent = _exponent(currency)
    whole, fraction = match.group(1), match.group(2) or ""
    if fraction[exponent:].strip("0"):
        raise ValueError(f"{value} {currency} has more decimals than its minor unit")
    fraction = fraction[:exponent].ljust(exponent, "0")
    return int(whole) * 10**exponent + (int(fraction) if fraction else 0)


def money(amount_minor: int, currency: str) -> dict[str, str]:
    try:
        return {"currency_code": currency, "value": to_value(amount_minor, currency)}
    except ValueError as exc:
        raise ProviderRejected(str(exc)) from exc


def _amount(document: Any) -> tuple[int, str]:
    if not isinstance(document, dict):
        raise ProviderRejected("paypal's answer has no amount")
    try:
        currency = document.get("currency_code")
        return to_minor(document.get("value"), currency), currency
    except ValueError as exc:
        raise ProviderRejected(f"paypal's amount is unreadable: {exc}") from exc


# --- requests --------------------------------------------------------------------------


def check_request_id(key: str) -> str:
    if not key or len(key) > MAX_REQUEST_ID or not key.isprintable():
        raise ProviderRejected(f"PayPal-Request-Id must be 1-{MAX_REQUEST_ID} printable characters")
    return key


def check_id(value: Any, what: str) -> str:
    """An id that goes into a URL path: PayPal's own alphabet only, so it can never change the path."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ProviderRejected(f"not a PayPal {what} id: {str(value)[:40]!r}")
    return value


def build_order(request: CheckoutRequest) -> dict[str, Any]:
    """The body of POST /v2/checkout/orders: one purchase unit that carries our payment id."""
    if not request.payment_id or len(request.payment_id) > MAX_CUSTOM_ID:
        raise ProviderRejected(f"the payment id must be 1-{MAX_CUSTOM_ID} characters for PayPal")
    for url in (request.return_url, request.cancel_url):
        if not url.startswith(("http://", "https://")) or len(url) > 4000:
            raise ProviderRejected(
                "return and cancel URLs must be http(s) URLs up to 4000 characters"
            )
    description = f"{request.order_reference} {request.description}".strip()
    experience = {
        "return_url": request.return_url,
        "cancel_url": request.cancel_url,
        "user_action": "PAY_NOW",  # the buyer pays on PayPal's page; we capture on return
        "shipping_preference": "NO_SHIPPING",  # a courier's invoice ships nothing itself
        "locale": LOCALES.get(request.locale, "en-US"),
    }
    paypal: dict[str, Any] = {"experience_context": experience}
    if request.customer_email:
        paypal["email_address"] = request.customer_email
    return {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "reference_id": request.payment_id,
                "custom_id": request.payment_id,  # echoed in every capture: how events find us
                "invoice_id": request.payment_id,  # unique per payment, as PayPal requires
                "description": description[:MAX_DESCRIPTION],
                "amount": money(request.amount_minor, request.currency),
            }
        ],
        "payment_source": {"paypal": paypal},
    }


def build_refund(amount_minor: int, currency: str, refund_id: str) -> dict[str, Any]:
    """The body of POST /v2/payments/captures/{id}/refund; our refund id comes back in its events."""
    if not refund_id or len(refund_id) > MAX_CUSTOM_ID:
        raise ProviderRejected(f"the refund id must be 1-{MAX_CUSTOM_ID} characters for PayPal")
    return {
        "amount": money(amount_minor, currency),
        "invoice_id": refund_id,
        "custom_id": refund_id,
    }


# --- answers ---------------------------------------------------------------------------


def link(document: dict[str, Any], *rels: str) -> str:
    """The href of the first HATEOAS link with one of `rels` ("" when there is none)."""
    links = document.get("links")
    for rel in rels:
        for item in links if isinstance(links, list) else []:
            if (
                isinstance(item, dict)
                and item.get("rel") == rel
                and isinstance(item.get("href"), str)
            ):
                return item["href"]
    return ""


def purchase_unit(order: dict[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units")
    if not isinstance(units, list) or not units or not isinstance(units[0], dict):
        raise ProviderRejected("paypal's order has no purchase unit")
    return units[0]


def _payments(unit: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    payments = unit.get("payments")
    items = payments.get(kind) if isinstance(payments, dict) else None
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProviderRejected(f"paypal's order has unreadable {kind}")
    return items


def refundable_capture(order: dict[str, Any]) -> tuple[str, str] | None:
    """(id, currency) of the capture a refund goes against: the latest one that took money."""
    captures = _payments(purchase_unit(order), "captures")
    settled = [
        c for c in captures if codes.CAPTURE_STATUS.get(c.get("status")) is PaymentStatus.SUCCEEDED
    ]
    if not settled:
        return None
    _, currency = _amount(settled[-1].get("amount"))
    return check_id(settled[-1].get("id"), "capture"), currency


def parse_refund(refund: dict[str, Any]) -> RefundResult:
    status = codes.REFUND_STATUS.get(refund.get("status"))  # type: ignore[arg-type]
    refund_id = refund.get("id")
    if status is None or not isinstance(refund_id, str) or not refund_id:
        raise ProviderRejected("paypal's refund has no id or an unknown status")
    amount_minor, _ = _amount(refund.get("amount"))
    invoice = refund.get("invoice_id")
    return RefundResult(
        refund_reference=refund_id,
        status=status,
        amount_minor=amount_minor,
        merchant_reference=invoice if isinstance(invoice, str) else "",
    )


def parse_order(order: dict[str, Any]) -> ProviderPayment:
    """An order (GET, or the answer of a capture) as our ProviderPayment, refunds included."""
    order_id, state = order.get("id"), order.get("status")
    if not isinstance(order_id, str) or not order_id or not isinstance(state, str):
        raise ProviderRejected("paypal's order has no id or status")
    unit = purchase_unit(order)
    captures = _payments(unit, "captures")
    latest = captures[-1].get("status") if captures else None
    status = codes.order_status(state, latest if isinstance(latest, str) else None)
    if status is None:
        raise ProviderRejected(f"paypal's order is in an unknown state: {state} / {latest}")
    amount_minor, currency = _amount(unit.get("amount"))
    capture_id = captures[-1].get("id") if captures else ""
    return ProviderPayment(
        provider_reference=order_id,
        status=status,
        amount_minor=amount_minor,
        currency=currency,
        refunds=[parse_refund(r) for r in _payments(unit, "refunds")],
        capture_reference=capture_id if isinstance(capture_id, str) else "",
    )
