"""Alipay's async notifies (and the browser's return parameters): RSA2 over the sorted fields, then read.

A notify is believed only when `sign` is Alipay's RSA2 signature (with this account's
Alipay public key) over every other field but `sign_type`, sorted; its `app_id` is this
account's; and its signed `notify_time` is within 300 s of arrival. Alipay signs fields, not
bytes: a body re-encoded with the same fields is the same notify (by design), while any
changed field breaks the signature. The event id is `notify_id`, the same on each resend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from backend.integrations.payments.alipay import codes, signing, wire
from backend.integrations.payments.base import (
    MAX_WEBHOOK_BYTES,
    PaymentEvent,
    ProviderAccount,
    ProviderRejected,
    WebhookRejected,
)

TOLERANCE_SECONDS = 300
MAX_FIELDS = 100
MAX_FIELD = 1024
MAX_ID = 128


def parse_form(body: bytes) -> dict[str, str]:
    """The fields of an x-www-form-urlencoded body; a repeated or undecodable field is refused."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected("body too large")
    try:
        pairs = parse_qsl(
            body.decode("ascii"),  # percent-encoded: raw non-ASCII bytes have no place here
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError included
        raise WebhookRejected("body is not a UTF-8 form") from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise WebhookRejected(f"field {name} sent twice")  # which one was signed?
        if len(value) > MAX_FIELD or "\x00" in value or "\x00" in name:
            raise WebhookRejected(f"bad field {name[:40]}")
        fields[name] = value
    return fields


def check_signature(fields: Mapping[str, str], account: ProviderAccount) -> None:
    """Raise WebhookRejected unless `sign` is Alipay's RSA2 over the other fields."""
    signature = fields.get("sign", "")
    if not signature:
        raise WebhookRejected("no sign")
    if fields.get("sign_type", signing.SIGN_TYPE) != signing.SIGN_TYPE:
        raise WebhookRejected("only RSA2 signatures are accepted")
    try:
        key = signing.public_key(account.secret("alipay_public_key"))
    except (ValueError, ProviderRejected) as exc:
        raise WebhookRejected(f"no usable alipay_public_key: {exc}") from exc
    if not signing.verify(key, signing.content(fields, exclude=("sign", "sign_type")), signature):
        raise WebhookRejected("bad sign")


def _check_owner(fields: Mapping[str, str], account: ProviderAccount) -> None:
    try:
        app_id = account.setting("app_id")
    except ProviderRejected as exc:
        raise WebhookRejected(str(exc)) from exc
    if fields.get("app_id") != app_id:
        raise WebhookRejected("the notify is for another app_id")
    seller_id = account.settings.get("seller_id", "")
    if seller_id and fields.get("seller_id", seller_id) != seller_id:
        raise WebhookRejected("the notify is for another seller")


def _time(fields: Mapping[str, str], name: str) -> datetime | None:
    text = fields.get(name, "")
    if not text:
        return None
    try:
        return wire.parse_beijing_time(text)
    except ValueError:
        raise WebhookRejected(f"{name} is not yyyy-MM-dd HH:mm:ss") from None


def _amount(fields: Mapping[str, str], name: str, currency: str) -> int | None:
    if not fields.get(name):
        return None
    try:
        return wire.amount_minor(fields[name], currency)
    except ValueError:
        raise WebhookRejected(f"{name} is not an amount") from None


def read_event(fields: Mapping[str, str]) -> PaymentEvent:
    """The event of an already verified notify."""
    notify_id, out_trade_no = fields.get("notify_id", ""), fields.get("out_trade_no", "")
    notify_type, trade_status = fields.get("notify_type", ""), fields.get("trade_status", "")
    if not notify_id or len(notify_id) > MAX_ID or len(out_trade_no) > MAX_ID:
        raise WebhookRejected("no usable notify_id")
    event = PaymentEvent(
        event_id=notify_id,
        event_type=f"{notify_type}.{trade_status}" if trade_status else notify_type,
        provider_reference=out_trade_no,
        merchant_reference=out_trade_no,
        occurred_at=_time(fields, "notify_time"),
    )
    if notify_type not in codes.NOTIFY_TYPES:
        return event  # recorded, changes nothing
    refund_id = fields.get("out_biz_no", "")
    if refund_id and fields.get("gmt_refund"):
        # A status change caused by a refund (the sandbox sends none; see the docs): refund_fee
        # is the trade's refunded total, not this refund's amount, so no amount is claimed.
        return replace(
            event,
            merchant_reference=refund_id,
            refund_reference=refund_id,
            refund_status=codes.refund_status("REFUND_SUCCESS"),
            occurred_at=_time(fields, "gmt_refund") or event.occurred_at,
        )
    currency = fields.get("trans_currency", "") or "CNY"
    paid_at = _time(fields, "gmt_payment")
    status = codes.payment_status(trade_status, fields.get("gmt_payment", ""))
    closed_unpaid = trade_status == "TRADE_CLOSED" and paid_at is None
    return replace(
        event,
        payment_status=status,
        amount_minor=_amount(fields, "total_amount", currency),
        currency=currency,
        occurred_at=paid_at or _time(fields, "gmt_close") or event.occurred_at,
        failure_reason="closed without payment" if closed_unpaid else "",
    )


def verify(
    body: bytes, account: ProviderAccount, now: datetime, tolerance: int = TOLERANCE_SECONDS
) -> list[PaymentEvent]:
    """Check a notify body's sign, owner and freshness, then read it."""
    fields = parse_form(body)
    check_signature(fields, account)
    _check_owner(fields, account)
    sent = _time(fields, "notify_time")
    if sent is None:
        raise WebhookRejected("no notify_time")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if abs((now - sent).total_seconds()) > tolerance:
        raise WebhookRejected("stale or future notify_time")
    return [read_event(fields)]


def verify_return(params: Mapping[str, str], account: ProviderAccount) -> dict[str, str]:
    """The browser's return parameters (out_trade_no, trade_no, total_amount...) once signed by Alipay.

    They only tell the receipt page what to show while the notify is on its way: the
    payment's state comes from the notify or a query, never from the browser.
    """
    fields = dict(params)
    check_signature(fields, account)
    _check_owner(fields, account)
    return fields
