"""WeChat Pay's request bodies and answers, built and read without any I/O."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from backend.integrations.payments.base import (
    CheckoutRequest,
    ProviderAccount,
    ProviderPayment,
    ProviderRejected,
    RefundResult,
)
from backend.integrations.payments.wechatpay import codes

SLUG = "wechatpay"
# WeChat's out_trade_no: 6 to 32 of these. Our payment ids are UUIDs (36 characters), so they
# travel as their 32 hex digits and are read back into the dashed form.
_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
_OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
MAX_DESCRIPTION = 127
# CheckoutRequest does not carry the payer's IP yet; WeChat wants it in scene_info.
UNKNOWN_PAYER_IP = "127.0.0.1"


def out_trade_no(payment_id: str) -> str:
    """Our payment id as WeChat's merchant order number."""
    try:
        candidate = uuid.UUID(payment_id).hex
    except ValueError:
        candidate = payment_id
    if not _OUT_TRADE_NO.fullmatch(candidate):
        raise ProviderRejected(f"{SLUG} cannot carry the payment id {payment_id!r} as out_trade_no")
    return candidate


def payment_id(out_trade_no_value: str) -> str:
    """The payment id an out_trade_no stands for (the inverse of out_trade_no())."""
    if _HEX32.fullmatch(out_trade_no_value):
        return str(uuid.UUID(out_trade_no_value))
    return out_trade_no_value


def refund_no(refund_id: str) -> str:
    if not _OUT_REFUND_NO.fullmatch(refund_id):
        raise ProviderRejected(f"{SLUG} cannot carry the refund id {refund_id!r} as out_refund_no")
    return refund_id


def _amount(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ProviderRejected(f"{SLUG} {what} must be a positive whole number of minor units")
    return value


def h5_payload(request: CheckoutRequest, account: ProviderAccount) -> dict[str, Any]:
    """The body of POST /v3/pay/transactions/h5 (amounts in minor units: fen, cents)."""
    return {
        "appid": account.setting("appid"),
        "mchid": account.setting("mchid"),
        "description": (request.description or request.order_reference)[:MAX_DESCRIPTION],
        "out_trade_no": out_trade_no(request.payment_id),
        "notify_url": request.notify_url,
        "amount": {
            "total": _amount(request.amount_minor, "amount"),
            "currency": request.currency.upper(),
        },
        "scene_info": {
            "payer_client_ip": request.customer_ip or UNKNOWN_PAYER_IP,
            "h5_info": {"type": "Wap"},
        },
    }


def redirect_url(h5_url: str, return_url: str) -> str:
    """Where the browser goes: h5_url with redirect_url appended, URL-encoded, as WeChat documents."""
    return f"{h5_url}&redirect_url={quote(return_url, safe='')}"


def read_h5(document: dict[str, Any]) -> str:
    h5_url = document.get("h5_url")
    if not isinstance(h5_url, str) or urlsplit(h5_url).scheme not in ("http", "https"):
        raise ProviderRejected(f"{SLUG} answered no usable h5_url")
    return h5_url


def _int(document: dict[str, Any], name: str) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProviderRejected(f"{SLUG} answer has no {name}")
    return value


def _text(document: dict[str, Any], name: str, required: bool = True) -> str:
    value = document.get(name, "")
    if not isinstance(value, str) or len(value) > 256 or (required and not value):
        raise ProviderRejected(f"{SLUG} answer has no usable {name}")
    return value


def _object(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise ProviderRejected(f"{SLUG} answer has no {name}")
    return value


def read_transaction(document: dict[str, Any], account: ProviderAccount) -> ProviderPayment:
    """A transaction (the query answer, or a TRANSACTION.* resource) as a ProviderPayment."""
    if _text(document, "mchid") != account.setting("mchid"):
        raise ProviderRejected(f"{SLUG} transaction belongs to another merchant")
    state = _text(document, "trade_state")
    status = codes.payment_status(state)
    if status is None:
        raise ProviderRejected(f"{SLUG} trade_state {state!r} is not in our table")
    amount = _object(document, "amount")
    return ProviderPayment(
        provider_reference=_text(document, "out_trade_no"),
        status=status,
        amount_minor=_int(amount, "total"),
        currency=_text(amount, "currency", required=False) or "CNY",
    )


def refund_payload(
    out_trade_no_value: str, refund_id: str, amount_minor: int, total_minor: int, currency: str
) -> dict[str, Any]:
    """The body of POST /v3/refund/domestic/refunds; no notify_url: the merchant's configured one."""
    return {
        "out_trade_no": out_trade_no_value,
        "out_refund_no": refund_no(refund_id),
        "amount": {
            "refund": _amount(amount_minor, "refund amount"),
            "total": _amount(total_minor, "order total"),
            "currency": currency.upper(),
        },
    }


def read_refund(document: dict[str, Any]) -> RefundResult:
    state = _text(document, "status")
    status = codes.refund_status(state)
    if status is None:
        raise ProviderRejected(f"{SLUG} refund status {state!r} is not in our table")
    return RefundResult(
        refund_reference=_text(document, "refund_id"),
        status=status,
        amount_minor=_int(_object(document, "amount"), "refund"),
        merchant_reference=_text(document, "out_refund_no"),
    )


def parse_time(value: str) -> datetime:
    """WeChat's RFC 3339 times ("2026-11-22T11:10:30+08:00"); ValueError without an offset."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("time without an offset")
    return parsed
